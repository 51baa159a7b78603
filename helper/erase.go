package helper

import (
	"context"
	"errors"
	"fmt"

	"vkc-credential/keystone"
)

// EraseOptions select what Erase does.
type EraseOptions struct {
	Profile string
	// Revoke: also revoke the profile's cached token in Keystone, unless
	// another profile of the same identity still uses it, and, with the
	// identity's last profile, its identity token.
	Revoke bool
	// Force: when the secret cannot be deleted (a keychain gone for good),
	// erase the rest anyway and say which secret is left.
	Force bool
}

// EraseResult tells what Erase did.
type EraseResult struct {
	PasswordRemoved bool
	TokensRemoved   int
	// Revoked: the profile's cached token or its identity's TOTP sign-in
	// was revoked in Keystone.
	Revoked bool
	// SharedTokenKept: another profile of the same identity and project
	// still uses the cached token, so it was neither removed nor revoked.
	SharedTokenKept bool
	// SharedPasswordKept: another profile of the same identity still uses
	// the password in this backend, so it stays.
	SharedPasswordKept bool
	// SecretLeft, after a forced erase, names the secret that could not be
	// deleted and where it may be; nil when nothing was left.
	SecretLeft *SecretLeft
}

// Erase removes a profile, its password (unless another profile of the
// same identity uses it in the same backend) and the cached tokens no
// other profile uses. With Revoke, it also revokes the profile's cached
// token in Keystone, unless another profile of the same identity still
// uses it. When revoking fails the local data is erased anyway, and the
// error is a *RevokeError. When the password cannot be deleted, nothing is
// erased and the error is a *SecretLeft, unless Force says to erase the
// rest anyway. A profile that is not stored is ErrProfileNotFound whatever
// the keychain answers (a 1.0 item left under its name is deleted when the
// OS keychain answers).
func (h *Helper) Erase(ctx context.Context, o EraseOptions) (*EraseResult, error) {
	profile := o.Profile
	res := &EraseResult{}
	settings, err := h.eraseSecretOf(res, o)
	if err != nil {
		return nil, err
	}
	// The keys of the identities that other profiles still use.
	inUse, err := h.otherProfilesKeys(profile)
	if err != nil {
		return res, err
	}
	if settings != nil && inUse[cacheKey(*settings)] {
		res.SharedTokenKept = true
	}

	var revokeErr error
	if o.Revoke && settings != nil && !res.SharedTokenKept {
		if e := h.readCache(*settings); e.validFor(h.Now(), 0) {
			revokeErr = h.revoke(ctx, e)
			res.Revoked = revokeErr == nil
		}
	}
	var own []string
	if settings != nil {
		var revoked bool
		var err error
		own, revoked, err = h.ownTokens(ctx, *settings, inUse, o.Revoke)
		res.Revoked = res.Revoked || revoked
		revokeErr = bothErrors(revokeErr, err)
	}
	n, err := h.Paths.removeCache(profile, own, inUse)
	res.TokensRemoved = n
	if err != nil {
		return res, fmt.Errorf("cannot remove cached tokens: %w", err)
	}
	if err := h.Paths.deleteProfile(profile); err != nil {
		return res, fmt.Errorf("cannot remove profile %q: %w", profile, err)
	}
	if revokeErr != nil {
		return res, &RevokeError{Profile: profile, Err: revokeErr}
	}
	return res, nil
}

// ownTokens returns the cache keys of the tokens that go with the profile
// of s: its project's, and its identity token's when no other profile of
// the identity is left (inUse holds the keys the others use). With revoke,
// it revokes that identity token in Keystone first; revoked says whether
// it did.
func (h *Helper) ownTokens(ctx context.Context, s Settings, inUse map[string]bool, revoke bool) (keys []string, revoked bool, err error) {
	keys = []string{cacheKey(s)}
	if key := identityKey(s); key != "" && !inUse[key] {
		keys = append(keys, key)
		if revoke {
			revoked, err = h.revokeIdentityToken(ctx, s)
		}
	}
	return keys, revoked, err
}

// eraseSecretOf deletes the secret of the profile o names (see
// eraseSecret) and returns the profile's settings: nil when its file is
// missing (then, unless a 1.0 item of its name was deleted, the error is
// ErrProfileNotFound) or damaged (its backend is unknown; it may have a 1.0
// item).
func (h *Helper) eraseSecretOf(res *EraseResult, o EraseOptions) (*Settings, error) {
	prof, err := h.Paths.LoadProfile(o.Profile)
	switch {
	case err == nil:
		return &prof.Settings, h.eraseSecret(res, prof.Keyring, &prof.Settings, o.Profile, prof.v10, o.Force)
	case errors.Is(err, ErrProfileNotFound):
		// Perhaps a 1.0 item left by a store that failed half-way.
		removed, _, derr := h.dropSecret(DefaultKeyring, nil, o.Profile, true)
		if !removed {
			if derr != nil {
				h.debugf("keychain: no 1.0 item of %s deleted: %v", o.Profile, derr)
			}
			return nil, err
		}
		res.PasswordRemoved = true
		return nil, nil
	}
	h.warnf("%v", err)
	return nil, h.eraseSecret(res, DefaultKeyring, nil, o.Profile, true, o.Force)
}

// eraseSecret deletes what profile kept in backend (see dropSecret) and
// records it in res; with force, a secret that cannot be deleted is
// recorded too, and erasing goes on.
func (h *Helper) eraseSecret(res *EraseResult, backend string, s *Settings, profile string, v10, force bool) error {
	removed, kept, err := h.dropSecret(backend, s, profile, v10)
	var left *SecretLeft
	switch {
	case err == nil:
	case force && errors.As(err, &left):
		res.SecretLeft = left
	default:
		return err
	}
	res.PasswordRemoved, res.SharedPasswordKept = removed, kept
	return nil
}

// otherProfilesKeys returns the cache keys of every stored profile but
// skip, and those of their identity tokens.
func (h *Helper) otherProfilesKeys(skip string) (map[string]bool, error) {
	names, err := h.Paths.profileNames()
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for _, name := range names {
		if name == skip {
			continue
		}
		if p, err := h.Paths.LoadProfile(name); err == nil {
			keys[cacheKey(p.Settings)] = true
			if key := identityKey(p.Settings); key != "" {
				keys[key] = true
			}
		}
	}
	return keys, nil
}

func (h *Helper) revoke(ctx context.Context, e *cacheEntry) error {
	return h.exchange(ctx, func(ctx context.Context, kc *keystone.Client) error { return kc.Revoke(ctx, e.AuthURL, e.Token) })
}

// bothErrors joins two errors, either of which may be nil, into one line.
func bothErrors(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return fmt.Errorf("%w; %w", a, b)
}

// revokeIdentityToken revokes the identity token of s in Keystone, when it
// has a good one; revoked says whether it did.
func (h *Helper) revokeIdentityToken(ctx context.Context, s Settings) (revoked bool, err error) {
	if s.ApplicationCredentialID != "" {
		return false, nil
	}
	e := h.readCache(identityScope(s))
	if !e.validFor(h.Now(), 0) {
		return false, nil
	}
	if err := h.revoke(ctx, e); err != nil {
		return false, fmt.Errorf("the identity token: %w", err)
	}
	return true, nil
}
