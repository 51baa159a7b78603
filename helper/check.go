package helper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"vkc-credential/keyring"
	"vkc-credential/keystone"
)

// CheckDir checks one of our directories without creating it: an error
// matching fs.ErrNotExist when it is not there yet; otherwise it must be a
// directory of this user's (not a link), that others cannot read, and that
// a file can be created in.
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if err := checkOurs(dir, fi, true); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && !windows {
		return fmt.Errorf("%w: %s has mode %04o", errLooseMode, dir, perm)
	}
	f, err := os.CreateTemp(dir, ".doctor-*.tmp")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// ProveKeyring makes a round trip of a throwaway secret in the backend
// called name (see keyring.RoundTrip).
func (h *Helper) ProveKeyring(name string) error {
	kr, err := h.Keyring(name)
	if err != nil {
		return err
	}
	t0 := time.Now()
	err = keyring.RoundTrip(kr)
	h.debugf("keychain: %s round trip in %s", name, time.Since(t0).Round(time.Microsecond))
	return err
}

// TokenState tells what the cache holds for a profile's settings: the
// expiry of a usable token, or nil.
func (h *Helper) TokenState(s Settings) *time.Time {
	if e := h.readCache(s); e.validFor(h.Now(), 0) {
		exp := e.ExpiresAt
		return &exp
	}
	return nil
}

// ProfileNames lists the stored profiles, sorted.
func (h *Helper) ProfileNames() ([]string, error) { return h.Paths.profileNames() }

// Reachable checks, without any credential, that Keystone answers at
// authURL.
func (h *Helper) Reachable(ctx context.Context, authURL string) error {
	kc, err := h.Keystone()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	return kc.Reachable(ctx, authURL)
}

// Projects lists the projects the user of s can scope a token to, proving
// secret with an unscoped token. When Keystone wants a TOTP passcode too,
// the identity token serves when it is good; otherwise passcode gives one,
// and the unscoped token it buys is kept as the identity token, so that
// the projects' tokens need no passcode of their own.
func (h *Helper) Projects(ctx context.Context, s Settings, secret string, passcode func() (string, error)) ([]keystone.Project, error) {
	if s.ApplicationCredentialID != "" {
		return nil, tag(ErrIdentityChanged, "an application credential is bound to one project; there is nothing to choose")
	}
	kc, err := h.Keystone()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	tok, err := kc.IssuePasswordUnscoped(ctx, keystone.PasswordAuth{AuthURL: s.AuthURL, Username: s.Username,
		UserDomainName: s.UserDomainName, Password: secret})
	var receipt *keystone.ReceiptError
	if errors.As(err, &receipt) {
		f := h.secondFactor(s, 0, h.Now())
		if e := h.readCache(f.id); f.usable(e) {
			projects, err := kc.Projects(ctx, s.AuthURL, e.Token)
			if !errors.Is(err, keystone.ErrAuthFailed) {
				return projects, err
			}
		}
		if passcode == nil {
			return nil, receipt
		}
		code, perr := passcode()
		if perr != nil {
			return nil, perr
		}
		if tok, err = kc.IssueWithReceipt(ctx, keystone.ReceiptAuth{AuthURL: s.AuthURL, Receipt: receipt.Receipt, UserID: receipt.UserID, Passcode: code}); err == nil {
			if _, err = h.cacheToken("", f.id, tok); err != nil {
				return nil, err
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return kc.Projects(ctx, s.AuthURL, tok.ID)
}

// TokenProjects lists the projects the user of tok can scope a token to,
// asking with tok itself.
func (h *Helper) TokenProjects(ctx context.Context, tok *Token) ([]keystone.Project, error) {
	kc, err := h.Keystone()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	return kc.Projects(ctx, tok.Settings.AuthURL, tok.ID())
}
