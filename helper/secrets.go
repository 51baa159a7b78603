package helper

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// A secret is kept once per identity — the Keystone (its auth URL,
// normalised, with or without its trailing slash), the user's domain and
// the user, or an application credential — and every profile of that
// identity uses it: one password for all of a user's projects. In a
// backend, the identity's item is secretItem. Items of two earlier schemes
// keep working until the next store moves the secret:
//   - vkc-credential 1.1 named the item by a hash of the fields alone
//     (oldSecretItems), which gave an application credential and a user of
//     a domain called "application credential" one item, and an auth URL
//     with and without its trailing slash two;
//   - 1.0 kept it under the profile's name (the profile's 1.0 item), which
//     only a profile whose file records no backend can have.

// identityURL is an auth URL as identities compare it: "…/v3/" and "…/v3"
// name one Keystone. u is normalised already (see Resolve).
func identityURL(u string) string { return strings.TrimSuffix(u, "/") }

// identityParts lists what names the identity of s, its kind first.
func identityParts(s Settings) []string {
	if s.ApplicationCredentialID != "" {
		return []string{"application credential", identityURL(s.AuthURL), s.ApplicationCredentialID}
	}
	return []string{"password", identityURL(s.AuthURL), s.UserDomainName, s.Username}
}

// secretItem names the keychain item of the identity of s: "identity-"
// and a hash of its kind and fields, each preceded by its length, so that
// no two identities share an item.
func secretItem(s Settings) string {
	var data []byte
	for _, part := range identityParts(s) {
		data = binary.BigEndian.AppendUint32(data, uint32(len(part)))
		data = append(data, part...)
	}
	return itemName(sha256.Sum256(data))
}

func itemName(sum [sha256.Size]byte) string { return "identity-" + hex.EncodeToString(sum[:12]) }

// oldSecretItems names the items vkc-credential 1.1 may have kept the
// secret of the identity of s in: a hash of the fields joined by NUL, with
// the auth URL as it was stored, s's own form first, then the other (with
// or without the trailing slash).
func oldSecretItems(s Settings) []string {
	other := identityURL(s.AuthURL)
	if other == s.AuthURL {
		other += "/"
	}
	var items []string
	for _, u := range []string{s.AuthURL, other} {
		parts := []string{u, s.UserDomainName, s.Username}
		if s.ApplicationCredentialID != "" {
			parts = []string{u, "application credential", s.ApplicationCredentialID}
		}
		items = append(items, itemName(sha256.Sum256([]byte(strings.Join(parts, "\x00")))))
	}
	return items
}

// identityItems lists every item that may hold the secret of the identity
// of s, in the order they are read: its item, then its 1.1 items.
func identityItems(s Settings) []string {
	return append([]string{secretItem(s)}, oldSecretItems(s)...)
}

// legacyItem is the 1.0 item of profile: its name, unless the name is one
// no profile may have. A name of an identity's item shape is such a name,
// so a profile can never read or delete another identity's secret through
// its 1.0 item.
func legacyItem(profile string) string {
	if protocol.CheckProfileName(profile) != nil {
		return ""
	}
	return profile
}

// Identity names the identity of s for a person: user, domain, Keystone
// (or the application credential and its Keystone), the same for every
// profile of the identity.
func Identity(s Settings) string {
	if s.ApplicationCredentialID != "" {
		return fmt.Sprintf("application credential %s at %s", s.ApplicationCredentialID, identityURL(s.AuthURL))
	}
	return fmt.Sprintf("%s (domain %s) at %s", s.Username, s.UserDomainName, identityURL(s.AuthURL))
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
// named, in order: in each, the identity's item, its items of 1.1, then
// (when legacyOf is not empty) the 1.0 item of the profile legacyOf, which
// the caller vouches is of the same identity. It returns the secret and the
// backend it was found in. A backend that fails is passed over; when no
// backend has the secret, the error is the first failure, or
// keyring.ErrNotFound.
func (h *Helper) FindSecret(s Settings, legacyOf string, backends ...string) (secret, foundIn string, err error) {
	items := identityItems(s)
	if item := legacyItem(legacyOf); item != "" {
		items = append(items, item)
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

// backendsOf lists the backends that profiles of the identity of s use,
// first the one named first (when not empty), without repeats. A profile
// with a secret command uses none.
func (h *Helper) backendsOf(s Settings, first string) []string {
	var out []string
	add := func(b string) {
		if b == "" || slices.Contains(out, b) {
			return
		}
		out = append(out, b)
	}
	add(first)
	others, _ := h.profilesOf(s, "")
	for _, p := range others {
		add(p.Keyring)
	}
	return out
}

// keepSecret writes secret as the identity's item in backend, unless it
// is there already; moving says to read it back and compare. Once it has
// written the item, the identity's items of 1.1 there are deleted (see
// retireOldItems).
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
	if err := h.retireOldItems(kr, backend, s); err != nil {
		h.warnf("the password is stored as %s in %s, but a copy under an older name could not be deleted (%v); delete it by hand", item, backend, err)
	}
	return nil
}

// retireOldItems deletes from backend (kr) the identity's items of 1.1,
// now that its item holds the secret; one that a profile of another
// identity kept there may read too (the collision of 1.1) stays.
func (h *Helper) retireOldItems(kr keyring.Store, backend string, s Settings) error {
	_, foreign, err := h.othersIn(backend, s, "")
	if err != nil {
		return err
	}
	for _, item := range oldSecretItems(s) {
		if foreign[item] {
			continue
		}
		if err := kr.Delete(item); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	return nil
}

// othersIn looks at the stored profiles, but skip, whose secret is kept in
// backend: same says whether one is of the identity of s; foreign holds
// the 1.1 items that profiles of other identities may read there.
func (h *Helper) othersIn(backend string, s Settings, skip string) (same bool, foreign map[string]bool, err error) {
	names, err := h.Paths.profileNames()
	if err != nil {
		return false, nil, err
	}
	foreign = map[string]bool{}
	for _, name := range names {
		p, err := h.Paths.LoadProfile(name)
		if name == skip || err != nil || p.Keyring != backend {
			continue
		}
		if SameIdentity(p.Settings, s) {
			same = true
			continue
		}
		for _, item := range oldSecretItems(p.Settings) {
			foreign[item] = true
		}
	}
	return same, foreign, nil
}

// dropSecret deletes from backend what profile kept there and no other
// profile needs: unless a profile other than profile of the identity of s
// uses backend (kept), the identity's items (none when s is nil), and its
// 1.0 item when v10 says it may have one. It reports whether it deleted
// anything. When a delete fails, the error is a *SecretLeft naming the
// items not deleted yet; it stops there, so that a keychain that does not
// answer costs one timeout, not one per item. A profile with a secret
// command (backend "") kept nothing.
func (h *Helper) dropSecret(backend string, s *Settings, profile string, v10 bool) (removed, kept bool, err error) {
	if backend == "" {
		return false, false, nil
	}
	var items []string
	if s != nil {
		var foreign map[string]bool
		if kept, foreign, err = h.othersIn(backend, *s, profile); err != nil {
			return false, false, err
		}
		for _, item := range identityItems(*s) {
			if !kept && !foreign[item] {
				items = append(items, item)
			}
		}
	}
	if item := legacyItem(profile); v10 && item != "" {
		items = append(items, item)
	}
	if len(items) == 0 {
		return false, kept, nil
	}
	kr, err := h.Keyring(backend)
	if err != nil {
		return false, kept, &SecretLeft{Keyring: backend, Items: items, Err: err}
	}
	for i, item := range items {
		switch err := kr.Delete(item); {
		case err == nil:
			removed = true
		case !errors.Is(err, keyring.ErrNotFound):
			return removed, kept, &SecretLeft{Keyring: backend, Items: items[i:], Err: err}
		}
	}
	return removed, kept, nil
}
