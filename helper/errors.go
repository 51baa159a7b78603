package helper

import (
	"errors"
	"fmt"
	"strings"

	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// Errors of the operations. Each knows its class (protocol.CodeOf), named
// below; the command line tells them apart with errors.Is and errors.As
// to add its hints. Errors from the keychain (keyring.ErrNotFound,
// keyring.ErrUnavailable) and from Keystone (keystone.ErrAuthFailed,
// keystone.ErrUnavailable...) come through wrapped, with their class.
// Messages say what happened, never which of our flags or commands mends
// it: that is the command line's to say.
var (
	// ErrProfileNotFound means no profile of that name is stored;
	// protocol.CodeNotFound.
	ErrProfileNotFound = protocol.NewError(protocol.CodeNotFound, "profile not found")
	// ErrDamaged means a file of ours cannot be used as it stands;
	// protocol.CodeInternal.
	ErrDamaged = protocol.NewError(protocol.CodeInternal, "damaged file")
	// ErrIdentityChanged means a request asked to use a stored secret for
	// another auth URL, user or user domain; protocol.CodeUsage.
	ErrIdentityChanged = protocol.NewError(protocol.CodeUsage, "identity changed")
	// ErrEmptyPassword means store was given an empty password;
	// protocol.CodeUsage.
	ErrEmptyPassword = protocol.NewError(protocol.CodeUsage, "the password is empty; nothing was stored")
	// ErrUnsafeFile means a profile file others could read (the error
	// wraps ErrLooseMode too) or that is not this user's own (ErrNotOurs);
	// it is not used. protocol.CodeUsage.
	ErrUnsafeFile = protocol.NewError(protocol.CodeUsage, "unsafe file")
	// ErrClock means Keystone issued a token that had already expired by
	// this machine's clock; protocol.CodeKeystoneUnavailable.
	ErrClock = protocol.NewError(protocol.CodeKeystoneUnavailable, "clocks disagree")
)

// What is wrong with a file or directory of ours, for the caller's hint.
// Neither has a class of its own: a profile file's error is ErrUnsafeFile
// too, a cache or lock file's is not classified.
var (
	// ErrLooseMode means a file of ours that others may read. Its contents
	// may have leaked, so it is not used.
	ErrLooseMode = errors.New("file readable by others")
	// ErrNotOurs means a path where we expect a file or directory of our
	// own holds something else: a symbolic link, a named pipe or other
	// special file, or a file or directory owned by another user. It is
	// never read, written through or repaired.
	ErrNotOurs = errors.New("not ours to use")
)

// tagged is an error whose message is its own, and that wraps kind (first)
// and the error it formats: the sentinel classifies without adding its
// words.
type tagged struct {
	kind error
	err  error
}

func (t *tagged) Error() string { return t.err.Error() }

// Unwrap returns the kind, then the formatted error.
func (t *tagged) Unwrap() []error { return []error{t.kind, t.err} }

// tag returns a formatted error that matches kind; %w wraps as with
// fmt.Errorf.
func tag(kind error, format string, args ...any) error {
	return &tagged{kind: kind, err: fmt.Errorf(format, args...)}
}

// MissingSettingError means a required setting was given by no source.
type MissingSettingError struct {
	Field string // the wire name: auth_url, project_id or username
}

func (e *MissingSettingError) Error() string {
	return fmt.Sprintf("%s is not set", e.Field)
}

// Code returns protocol.CodeUsage.
func (e *MissingSettingError) Code() protocol.Code { return protocol.CodeUsage }

// RevokeError means a profile was erased here but revoking its token in
// Keystone failed; Err is why. It is protocol.CodeKeystoneUnavailable
// whatever Err is (a CA file that cannot be read included): the erase is
// done, the revocation is what failed.
type RevokeError struct {
	Profile string
	Err     error
}

func (e *RevokeError) Error() string {
	return fmt.Sprintf("profile %q was erased here, but revoking its token failed: %v; the token stays usable until it expires", e.Profile, e.Err)
}

// Unwrap returns why revoking failed.
func (e *RevokeError) Unwrap() error { return e.Err }

// Code returns protocol.CodeKeystoneUnavailable.
func (e *RevokeError) Code() protocol.Code { return protocol.CodeKeystoneUnavailable }

// NoSecretError means a profile's identity has no secret stored in the
// profile's backend: Err, which wraps keyring.ErrNotFound (and so is
// protocol.CodeNotFound), is the backend's answer.
type NoSecretError struct {
	Profile  string
	Settings Settings
	Keyring  string // the backend asked
	Err      error
}

func (e *NoSecretError) Error() string {
	msg := fmt.Sprintf("no %s is stored for profile %q", SecretNoun(e.Settings), e.Profile)
	if e.Err != keyring.ErrNotFound {
		msg += fmt.Sprintf(" (%v)", e.Err)
	}
	return msg
}

// Unwrap returns the backend's answer.
func (e *NoSecretError) Unwrap() error { return e.Err }

// SecretLeft means a secret could not be deleted from a keychain backend:
// it may still be under any of Items there (the item of each scheme that
// may hold it, the identity's current item first). Err is why, and gives
// the error its class.
type SecretLeft struct {
	Keyring string
	Items   []string
	Err     error
}

func (e *SecretLeft) Error() string {
	return fmt.Sprintf("cannot delete the secret from %s: %v", e.Keyring, e.Err)
}

// Unwrap returns why the delete failed.
func (e *SecretLeft) Unwrap() error { return e.Err }

// ErrNoProject means a store of all projects found no enabled project of
// the user to store a profile for; protocol.CodeUsage.
var ErrNoProject = protocol.NewError(protocol.CodeUsage, "the user has no enabled project to store a profile for")

// RejectCause tells what Keystone refused, as far as can be told.
type RejectCause int

const (
	// RejectUnknown: the secret, or the project (Keystone answers both
	// alike).
	RejectUnknown RejectCause = iota
	// RejectSecret: the secret, or the user name or domain: Keystone
	// refused it without a project too (for an application credential: it
	// is wrong, has expired or was deleted).
	RejectSecret
	// RejectProject: the secret is right (Keystone accepted it without a
	// project), but the user has no role on the project, or there is no
	// such project.
	RejectProject
	// RejectAfterPasscode: Keystone accepted the password, then refused
	// the TOTP passcode (or, when one was asked for, the project).
	RejectAfterPasscode
)

// RejectedError means Keystone refused a secret; it wraps the error of
// package keystone (keystone.ErrAuthFailed) and carries what the caller
// needs to say what to do about it.
type RejectedError struct {
	Profile  string   // "" for a store of all projects
	Settings Settings // the identity and the project the secret was sent for
	Cause    RejectCause
	// Projects, for RejectProject, are the projects the user can use,
	// when they could be listed.
	Projects []keystone.Project
	// FirstStore: the profile was not stored before, and nothing was
	// saved. NewSecret: the secret was supplied or typed for this store,
	// not the identity's stored one. Both are false for a get.
	FirstStore, NewSecret bool
	// FromCommand: the secret is what the profile's secret command
	// printed.
	FromCommand bool
	Err         error
}

func (e *RejectedError) Error() string { return e.Err.Error() }

// Unwrap returns the error of package keystone.
func (e *RejectedError) Unwrap() error { return e.Err }

// Code returns protocol.CodeAuthFailed.
func (e *RejectedError) Code() protocol.Code { return protocol.CodeAuthFailed }

// rejected makes err a *RejectedError when it says Keystone refused the
// credentials; other errors are returned as they are.
func rejected(err error, profile string, s Settings, cause RejectCause) error {
	if !errors.Is(err, keystone.ErrAuthFailed) {
		return err
	}
	return &RejectedError{Profile: profile, Settings: s, Cause: cause, Err: err}
}

// ProjectNameError means a project name matched none of the user's
// projects, or more than one (in different domains).
type ProjectNameError struct {
	Name     string
	Projects []keystone.Project // every project of the user
	Matches  []string           // the IDs of the projects called Name
}

func (e *ProjectNameError) Error() string {
	if len(e.Matches) == 0 {
		names := make([]string, len(e.Projects))
		for i, p := range e.Projects {
			names[i] = p.Name
		}
		return fmt.Sprintf("the user has no project called %q (it has: %s)", e.Name, strings.Join(names, ", "))
	}
	return fmt.Sprintf("%d projects are called %q (in different domains): %s", len(e.Matches), e.Name, strings.Join(e.Matches, ", "))
}

// Code returns protocol.CodeUsage.
func (e *ProjectNameError) Code() protocol.Code { return protocol.CodeUsage }
