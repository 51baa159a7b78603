package helper

import (
	"errors"
	"fmt"
)

// Errors of the operations, for the command line to map to exit codes
// and hints with errors.Is and errors.As. Errors from the keychain
// (keyring.ErrNotFound, keyring.ErrUnavailable) and from Keystone
// (keystone.ErrAuthFailed, keystone.ErrUnavailable...) come through
// wrapped, unchanged.
var (
	// ErrProfileNotFound means no profile of that name is stored.
	ErrProfileNotFound = errors.New("profile not found")
	// ErrDamaged means a file of ours cannot be used as it stands.
	ErrDamaged = errors.New("damaged file")
	// ErrIdentityChanged means a request asked to use a stored secret for
	// another auth URL, user or user domain.
	ErrIdentityChanged = errors.New("identity changed")
	// ErrEmptyPassword means store was given an empty password.
	ErrEmptyPassword = errors.New("the password is empty; nothing was stored")
	// ErrUnsafeFile means a profile file others could read or that is
	// not this user's own; it is not used.
	ErrUnsafeFile = errors.New("unsafe file")
	// ErrClock means Keystone issued a token that had already expired by
	// this machine's clock.
	ErrClock = errors.New("clocks disagree")
)

// tagged is an error whose message is its own, and that matches kind
// through errors.Is: the sentinel classifies without adding its words.
type tagged struct {
	kind error
	err  error
}

func (t *tagged) Error() string        { return t.err.Error() }
func (t *tagged) Unwrap() error        { return t.err }
func (t *tagged) Is(target error) bool { return target == t.kind }

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

// RevokeError means a profile was erased here but revoking its token in
// Keystone failed; Err is why.
type RevokeError struct {
	Profile string
	Err     error
}

func (e *RevokeError) Error() string {
	return fmt.Sprintf("profile %q was erased here, but revoking its token failed: %v; the token stays usable until it expires", e.Profile, e.Err)
}

// Unwrap returns why revoking failed.
func (e *RevokeError) Unwrap() error { return e.Err }

// SecretLeft means a secret could not be deleted from a keychain backend:
// it may still be under any of Items there (the item of each scheme that
// may hold it, the identity's current item first). Err is why.
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
