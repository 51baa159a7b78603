package helper

import (
	"context"
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
		return fmt.Errorf("%w: %s has mode %04o", ErrLooseMode, dir, perm)
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
	return h.exchange(ctx, func(ctx context.Context, kc *keystone.Client) error { return kc.Reachable(ctx, authURL) })
}

// TokenProjects lists the projects the user of tok can scope a token to,
// asking with tok itself.
func (h *Helper) TokenProjects(ctx context.Context, tok *Token) (projects []keystone.Project, err error) {
	err = h.exchange(ctx, func(ctx context.Context, kc *keystone.Client) error {
		projects, err = kc.Projects(ctx, tok.Settings.AuthURL, tok.ID())
		return err
	})
	return projects, err
}
