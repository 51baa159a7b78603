package helper

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"vkc-credential/internal/shellcmd"
	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// A secret command stands where a keychain would: a profile stored with
// one (Profile.SecretCommand) keeps its password, or its application
// credential's secret, in no keychain of ours; the command prints it each
// time a token must be issued — `pass show`, `gopass show -o`, `age -d`,
// `sops -d --extract`, `op read`, `vault kv get -field`. It runs under the
// token lock (concurrent callers run it once), through shellcmd (`sh -c`,
// stdin /dev/null, its process group killed at KeyringTimeout, no OS_*
// variables), and what it prints is kept in memory only, for the one
// sign-in it is read for.

// maxSecretBytes bounds what a secret command may print, as a password
// piped to store is bounded.
const maxSecretBytes = 64 << 10

// errNoSecretPrinted and errSecretLines say what is wrong with what a
// secret command printed.
var (
	errNoSecretPrinted = errors.New("it printed nothing on stdout")
	errSecretLines     = errors.New("it printed more than one line, and a password has one")
)

// SecretCommandError means a profile's secret command gave no secret: it
// could not start, failed, outlived KeyringTimeout, printed too much,
// nothing, or more than one line. It stands for a keychain that does not
// answer, so it matches keyring.ErrUnavailable, and keyring.ErrTimeout
// too when the command outlived its bound.
type SecretCommandError struct {
	Profile string // "" for a store of all projects
	// Err is a *shellcmd.Error, or errNoSecretPrinted or errSecretLines.
	Err error
}

func (e *SecretCommandError) Error() string {
	if e.Profile == "" {
		return fmt.Sprintf("the secret command gave no secret: %v", e.Err)
	}
	return fmt.Sprintf("the secret command of profile %s gave no secret: %v", e.Profile, e.Err)
}

// Unwrap returns what went wrong.
func (e *SecretCommandError) Unwrap() error { return e.Err }

// Code returns protocol.CodeKeyringUnavailable: the command stands for
// a keychain.
func (e *SecretCommandError) Code() protocol.Code { return protocol.CodeKeyringUnavailable }

// Is makes the error a keychain's that is unavailable (or timed out).
func (e *SecretCommandError) Is(target error) bool {
	return target == keyring.ErrUnavailable || (target == keyring.ErrTimeout && errors.Is(e.Err, shellcmd.ErrTimeout))
}

// Said is the first line the command wrote to its stderr, as it was (the
// caller escapes it before it reaches a terminal); "" when there is none.
func (e *SecretCommandError) Said() string {
	var se *shellcmd.Error
	if errors.As(e.Err, &se) {
		return se.FirstStderrLine()
	}
	return ""
}

// PrintedLines reports whether the command printed more than one line.
func (e *SecretCommandError) PrintedLines() bool { return errors.Is(e.Err, errSecretLines) }

// runSecretCommand runs the secret command of profile and returns the
// secret it printed: its stdout, less one trailing newline ("\n" or
// "\r\n"). Nothing, or more than one line, is a *SecretCommandError, as
// is a command that fails or outlives h.KeyringTimeout (its process
// group is killed then). The secret is never logged.
func (h *Helper) runSecretCommand(ctx context.Context, profile, command string) (string, error) {
	t0 := time.Now()
	out, err := shellcmd.Run(ctx, shellcmd.Command{Line: command, Timeout: h.KeyringTimeout, MaxStdout: maxSecretBytes})
	if err != nil {
		return "", &SecretCommandError{Profile: profile, Err: err}
	}
	secret := string(out)
	if s, ok := strings.CutSuffix(secret, "\n"); ok {
		secret = strings.TrimSuffix(s, "\r")
	}
	switch {
	case secret == "":
		return "", &SecretCommandError{Profile: profile, Err: errNoSecretPrinted}
	case strings.ContainsAny(secret, "\r\n"):
		return "", &SecretCommandError{Profile: profile, Err: errSecretLines}
	}
	h.debugf("secret command: ran in %s", time.Since(t0).Round(time.Millisecond))
	return secret, nil
}

// CheckSecretCommand runs the secret command of profile, as a token's
// issuance would, and forgets what it printed: nil when it printed a
// secret, else the *SecretCommandError a get would fail with.
func (h *Helper) CheckSecretCommand(ctx context.Context, profile, command string) error {
	_, err := h.runSecretCommand(ctx, profile, command)
	return err
}

// secretOf returns the secret a sign-in for o sends: the secret command's
// output when the profile has one, else the identity's secret from the
// profile's backend. The request cannot change the identity (Resolve), so
// the profile's 1.0 item is this identity's too.
func (h *Helper) secretOf(ctx context.Context, o GetOptions) (string, error) {
	if o.SecretCommand != "" {
		return h.runSecretCommand(ctx, o.Profile, o.SecretCommand)
	}
	secret, _, err := h.FindSecret(o.Settings, o.Profile, o.Keyring)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", &NoSecretError{Profile: o.Profile, Settings: o.Settings, Keyring: o.Keyring, Err: err}
	}
	return secret, err
}

// secretCommandFor returns the secret command the profile takes its secret
// from after this store, for settings s: the request's; else the stored
// profile's, when it is of the same identity and the request neither
// supplies a secret nor names a backend; else none.
func (run *storeRun) secretCommandFor(s Settings, stored *Profile) string {
	switch {
	case run.r.SecretCommand != "":
		return run.r.SecretCommand
	case stored == nil || stored.SecretCommand == "" || !SameIdentity(s, stored.Settings):
		return ""
	case run.r.Secret != "" || run.r.namesKeyring():
		return ""
	}
	return stored.SecretCommand
}

// namesKeyring reports whether the request names a backend (not auto).
func (r *StoreRequest) namesKeyring() bool { return r.Keyring != "" && r.Keyring != AutoKeyring }

// source gets the secret of a store of s for profile ("" for all
// projects; stored is the profile as stored, or nil): with command, what
// it prints, when the secret is needed (to verify it, or, with lookUp, to
// look a project up); otherwise the secret to keep (secretFor) and the
// backend to keep it in.
func (run *storeRun) source(ctx context.Context, profile string, s Settings, stored *Profile, command string, lookUp bool) (backend string, sec secret, err error) {
	if command != "" {
		if run.r.Secret != "" || run.r.namesKeyring() {
			return "", secret{}, errors.New("a secret command goes with neither a supplied secret nor a keychain backend")
		}
		if !run.r.Verify && !lookUp {
			return "", secret{command: true}, nil
		}
		v, err := run.h.runSecretCommand(ctx, profile, command)
		return "", secret{value: v, command: true}, err
	}
	backend, previous, err := run.keyringFor(stored)
	if err != nil {
		return "", secret{}, err
	}
	legacy := "" // a 1.0 item under the profile's name holds this identity's secret
	if stored != nil && SameIdentity(s, stored.Settings) {
		legacy = profile
	}
	sec, err = run.secretFor(profile, s, legacy, backend, previous)
	return backend, sec, err
}
