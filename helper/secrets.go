package helper

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"vkc-credential/keyring"
)

// A secret is kept once per identity — the Keystone (its normalised auth
// URL), the user's domain and the user — and every profile of that
// identity uses it: one password for all of a user's projects. In a
// backend, the identity's item is secretItem; a profile stored by
// vkc-credential 1.0 has its secret under the profile's name instead (its
// legacy item), which keeps working until the next store moves it.

// secretItem names the keychain item of the identity of s.
func secretItem(s Settings) string {
	parts := []string{s.AuthURL, s.UserDomainName, s.Username}
	if s.ApplicationCredentialID != "" {
		parts = []string{s.AuthURL, "application credential", s.ApplicationCredentialID}
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "identity-" + hex.EncodeToString(sum[:12])
}

// Identity names the identity of s for a person: user, domain, Keystone
// (or the application credential and its Keystone).
func Identity(s Settings) string {
	if s.ApplicationCredentialID != "" {
		return fmt.Sprintf("application credential %s at %s", s.ApplicationCredentialID, s.AuthURL)
	}
	return fmt.Sprintf("%s (domain %s) at %s", s.Username, s.UserDomainName, s.AuthURL)
}

// namedProfile is a stored profile and its name.
type namedProfile struct {
	name string
	Profile
}

// profilesOf returns the stored profiles of the identity of s, but skip.
func (h *Helper) profilesOf(s Settings, skip string) ([]namedProfile, error) {
	names, err := h.Paths.profileNames()
	if err != nil {
		return nil, err
	}
	var out []namedProfile
	for _, name := range names {
		if name == skip {
			continue
		}
		if p, err := h.Paths.LoadProfile(name); err == nil && SameIdentity(p.Settings, s) {
			out = append(out, namedProfile{name, p})
		}
	}
	return out, nil
}

// FindSecret looks for the secret of the identity of s in the backends
// named, in order: the identity's item, then (when legacyOf is not empty)
// the 1.0 item of the profile legacyOf, which the caller vouches is of the
// same identity. It returns the secret and the backend it was found in.
// A backend that fails is passed over; when no backend has the secret,
// the error is the first failure, or keyring.ErrNotFound.
func (h *Helper) FindSecret(s Settings, legacyOf string, backends ...string) (secret, foundIn string, err error) {
	items := []string{secretItem(s)}
	if legacyOf != "" {
		items = append(items, legacyOf)
	}
	var failure error
	for _, b := range backends {
		secret, err := h.findIn(b, items)
		switch {
		case err == nil:
			h.debugf("keychain: the secret found in %s", b)
			return secret, b, nil
		case !errors.Is(err, keyring.ErrNotFound) && failure == nil:
			failure = err
		}
	}
	if failure != nil {
		return "", "", failure
	}
	return "", "", keyring.ErrNotFound
}

// findIn reads the first of items that backend holds.
func (h *Helper) findIn(backend string, items []string) (string, error) {
	kr, err := h.Keyring(backend)
	if err != nil {
		return "", err
	}
	for _, item := range items {
		secret, err := kr.Get(item)
		if !errors.Is(err, keyring.ErrNotFound) {
			return secret, err
		}
	}
	return "", keyring.ErrNotFound
}

// BackendsOf lists the backends that profiles of the identity of s use,
// first the one named first (when not empty), without repeats.
func (h *Helper) BackendsOf(s Settings, first string) []string {
	var out []string
	add := func(b string) {
		for _, o := range out {
			if o == b {
				return
			}
		}
		out = append(out, b)
	}
	if first != "" {
		add(first)
	}
	others, _ := h.profilesOf(s, "")
	for _, p := range others {
		add(p.Keyring)
	}
	return out
}

// keepSecret writes secret as the identity's item in backend, unless it
// is there already; moving says to read it back and compare.
func (h *Helper) keepSecret(backend string, s Settings, secret string, moving bool) error {
	kr, err := h.Keyring(backend)
	if err != nil {
		return err
	}
	item := secretItem(s)
	if got, err := kr.Get(item); err == nil && got == secret {
		return nil
	}
	if err := kr.Set(item, secret); err != nil {
		return err
	}
	if moving {
		if got, err := kr.Get(item); err != nil || got != secret {
			if err == nil {
				err = fmt.Errorf("%w: the password read back from %s differs from the one written", keyring.ErrUnavailable, backend)
			}
			return fmt.Errorf("the password was not moved to %s: %w", backend, err)
		}
	}
	return nil
}

// dropSecret deletes, from backend, the item of the identity of s unless
// a profile other than skip of that identity still uses backend, and the
// 1.0 item of profile skip. It reports whether it deleted the identity's
// item, and whether it kept it for another profile.
func (h *Helper) dropSecret(backend string, s *Settings, skip string) (removed, kept bool, err error) {
	kr, err := h.Keyring(backend)
	if err != nil {
		return false, false, err
	}
	del := func(item string) (bool, error) {
		err := kr.Delete(item)
		if err == nil {
			return true, nil
		}
		if errors.Is(err, keyring.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	if removed, err = del(skip); err != nil {
		return false, false, err
	}
	if s == nil {
		return removed, false, nil
	}
	others, err := h.profilesOf(*s, skip)
	if err != nil {
		return removed, false, err
	}
	for _, p := range others {
		if p.Keyring == backend {
			return removed, true, nil
		}
	}
	gone, err := del(secretItem(*s))
	return removed || gone, false, err
}
