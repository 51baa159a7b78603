// Package helper is vkc-credential's logic: profiles, the token cache and
// its lock, and the get, store, erase and list operations, with the
// keychain, Keystone and the clock passed in.
package helper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// Helper carries what the operations need. The zero value is not usable:
// set every field but Debugf.
type Helper struct {
	Paths   Paths
	Keyring keyring.Store
	// Keystone builds the Keystone client when one is needed; a cached get
	// never calls it, so TLS roots are never loaded on that path.
	Keystone       func() (*keystone.Client, error)
	Now            func() time.Time
	Timeout        time.Duration // the whole Keystone exchange
	KeyringTimeout time.Duration // each keychain call; used to bound lock waits
	Debugf         func(format string, args ...any)
	Warnf          func(format string, args ...any) // things the user should fix

	warned map[string]bool // warnings already given in this process
}

func (h *Helper) debugf(format string, args ...any) {
	if h.Debugf != nil {
		h.Debugf(format, args...)
	}
}

// warnf tells the user something to fix, once per process.
func (h *Helper) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if h.Warnf == nil || h.warned[msg] {
		return
	}
	if h.warned == nil {
		h.warned = map[string]bool{}
	}
	h.warned[msg] = true
	h.Warnf("%s", msg)
}

func (h *Helper) note(n string) {
	if n != "" {
		h.warnf("%s", n)
	}
}

// Token is the result of Get.
type Token struct {
	Profile  string
	Settings Settings
	entry    *cacheEntry
	Cached   bool
}

// ID returns the token itself.
func (t *Token) ID() string { return t.entry.Token }

// IssuedAt and ExpiresAt are Keystone's times of the token.
func (t *Token) IssuedAt() time.Time { return t.entry.IssuedAt }

// ExpiresAt is when Keystone says the token expires.
func (t *Token) ExpiresAt() time.Time { return t.entry.ExpiresAt }

// Body is Keystone's whole token body.
func (t *Token) Body() ([]byte, error) { return t.entry.body() }

// GetOptions select the token Get returns.
type GetOptions struct {
	Profile  string
	Settings Settings // resolved and checked
	MinTTL   time.Duration
	Refresh  bool
}

// Get returns a token for the profile that stays valid at least MinTTL:
// from the cache when it holds one (no keychain, no network), otherwise a
// new one from Keystone, cached for the next caller. Concurrent callers of
// the same identity share one issuance through a lock on the cache file.
func (h *Helper) Get(ctx context.Context, o GetOptions) (*Token, error) {
	start := h.Now()
	if !o.Refresh {
		if e := h.readCache(o.Settings); e.validFor(start, o.MinTTL) {
			h.debugf("cache: hit, valid until %s", e.ValidUntil.Format(time.RFC3339))
			return &Token{Profile: o.Profile, Settings: o.Settings, entry: e, Cached: true}, nil
		}
		h.debugf("cache: miss")
	}
	unlock, err := h.lock(ctx, o.Settings)
	if err != nil {
		return nil, err
	}
	defer unlock()

	// Another process may have issued a token while we waited.
	now := h.Now()
	if e := h.readCache(o.Settings); e != nil {
		if !o.Refresh && e.validFor(now, o.MinTTL) {
			h.debugf("cache: hit after the lock wait")
			return &Token{Profile: o.Profile, Settings: o.Settings, entry: e, Cached: true}, nil
		}
		if e.ReceivedAt.After(start) && e.validFor(now, 0) {
			h.debugf("cache: a token issued after this call started; taking it")
			return &Token{Profile: o.Profile, Settings: o.Settings, entry: e, Cached: true}, nil
		}
	}
	e, err := h.issue(ctx, o.Profile, o.Settings, "")
	if err != nil {
		return nil, err
	}
	return &Token{Profile: o.Profile, Settings: o.Settings, entry: e, Cached: false}, nil
}

// readCache reads the cached token of s; a cache file others could read
// is not used, and the user is told, since the token in it may have leaked.
func (h *Helper) readCache(s Settings) *cacheEntry {
	e, err := h.Paths.readCache(s)
	switch {
	case errors.Is(err, errLooseMode):
		h.warnf("%v, which lets others read the token in it; not using it (a new token replaces it with mode 0600)", err)
	case err != nil:
		h.debugf("cache: not used: %v", err)
	}
	return e
}

func (h *Helper) lock(ctx context.Context, s Settings) (func(), error) {
	t0 := time.Now()
	// A holder may spend a keychain call and a whole Keystone exchange.
	ctx, cancel := context.WithTimeout(ctx, h.Timeout+h.KeyringTimeout+5*time.Second)
	defer cancel()
	unlock, err := h.Paths.lockCache(ctx, s)
	if err == nil {
		h.debugf("lock: held after %s", time.Since(t0).Round(time.Microsecond))
	}
	return unlock, err
}

// issue gets a new token with the stored password (or password, when not
// empty) and caches it. The caller holds the lock.
func (h *Helper) issue(ctx context.Context, profile string, s Settings, password string) (*cacheEntry, error) {
	if password == "" {
		t0 := time.Now()
		pw, err := h.Keyring.Get(profile)
		h.debugf("keychain: read in %s", time.Since(t0).Round(time.Microsecond))
		if err != nil {
			return nil, keyringError(profile, err)
		}
		password = pw
	}
	kc, err := h.Keystone()
	if err != nil {
		return nil, protocol.Errorf(protocol.CodeUsage, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	t0 := time.Now()
	tok, err := kc.IssuePassword(ctx, keystone.PasswordAuth{
		AuthURL: s.AuthURL, Username: s.Username, UserDomainName: s.UserDomainName,
		Password: password, ProjectID: s.ProjectID,
	})
	if err != nil {
		return nil, keystoneError(profile, err)
	}
	h.debugf("keystone: token issued in %s, expires %s", time.Since(t0).Round(time.Millisecond), tok.ExpiresAt.Format(time.RFC3339))
	e := newCacheEntry(profile, s, tok)
	if !e.validFor(h.Now(), 0) {
		return nil, protocol.Errorf(protocol.CodeKeystoneUnavailable,
			"keystone issued a token that has already expired (expires_at %s, local time %s); check this machine's clock and Keystone's",
			tok.ExpiresAt.Format(time.RFC3339), h.Now().UTC().Format(time.RFC3339))
	}
	note, err := h.Paths.writeCache(e)
	h.note(note)
	if err != nil {
		// The token is good; only the next caller pays for the lost cache.
		h.warnf("cannot cache the token: %v", err)
	}
	return e, nil
}

func keyringError(profile string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return protocol.Errorf(protocol.CodeNotFound, "no password is stored for profile %q; run `vkc-credential store --profile %s`", profile, profile)
	case errors.Is(err, keyring.ErrUnavailable):
		return protocol.Errorf(protocol.CodeKeyringUnavailable, "%w", err)
	}
	return protocol.Errorf(protocol.CodeInternal, "keychain: %w", err)
}

func keystoneError(profile string, err error) error {
	switch {
	case errors.Is(err, keystone.ErrAuthFailed):
		return protocol.Errorf(protocol.CodeAuthFailed, "%w; if the password changed, run `vkc-credential store --profile %s` again", err, profile)
	case errors.Is(err, keystone.ErrUnavailable):
		return protocol.Errorf(protocol.CodeKeystoneUnavailable, "%w", err)
	case errors.Is(err, keystone.ErrInvalidURL):
		return protocol.Errorf(protocol.CodeUsage, "%w", err)
	}
	return protocol.Errorf(protocol.CodeInternal, "keystone: %w", err)
}

// StoreOptions are the inputs of Store.
type StoreOptions struct {
	Profile  string
	Settings Settings // resolved and checked
	Password string
	Verify   bool
}

// StoreResult tells what Store did.
type StoreResult struct {
	Verified  bool
	ExpiresAt *time.Time
}

// Store saves a profile's settings and its password. Unless told not to,
// it first proves the password by issuing a token (and caches it); a
// password Keystone rejects is not stored.
func (h *Helper) Store(ctx context.Context, o StoreOptions) (*StoreResult, error) {
	if o.Password == "" {
		return nil, protocol.Errorf(protocol.CodeUsage, "the password is empty; nothing was stored")
	}
	res := &StoreResult{}
	if o.Verify {
		unlock, err := h.lock(ctx, o.Settings)
		if err != nil {
			return nil, err
		}
		e, err := h.issue(ctx, o.Profile, o.Settings, o.Password)
		unlock()
		if err != nil {
			return nil, err
		}
		res.Verified = true
		exp := e.ExpiresAt
		res.ExpiresAt = &exp
	}
	if err := h.Keyring.Set(o.Profile, o.Password); err != nil {
		return nil, keyringError(o.Profile, err)
	}
	note, err := h.Paths.SaveProfile(o.Profile, o.Settings)
	h.note(note)
	if err != nil {
		return nil, protocol.Errorf(protocol.CodeInternal, "the password is in the keychain, but the profile could not be saved: %w", err)
	}
	return res, nil
}

// EraseResult tells what Erase did.
type EraseResult struct {
	PasswordRemoved bool
	TokensRemoved   int
	Revoked         bool
}

// Erase removes a profile, its password and its cached tokens; with
// revoke, it first revokes the cached token in Keystone. When revoking
// fails the local data is erased anyway, and the error says so.
func (h *Helper) Erase(ctx context.Context, profile string, revoke bool) (*EraseResult, error) {
	s, loadErr := h.Paths.LoadProfile(profile)
	var settings *Settings
	if loadErr == nil {
		settings = &s
	} else if protocol.CodeOf(loadErr) != protocol.CodeNotFound {
		h.warnf("%v", loadErr)
	}
	res := &EraseResult{}
	err := h.Keyring.Delete(profile)
	switch {
	case err == nil:
		res.PasswordRemoved = true
	case errors.Is(err, keyring.ErrNotFound):
	default:
		return nil, keyringError(profile, err)
	}
	if settings == nil && !res.PasswordRemoved && protocol.CodeOf(loadErr) == protocol.CodeNotFound {
		return nil, protocol.Errorf(protocol.CodeNotFound, "no profile %q is stored", profile)
	}

	var revokeErr error
	if revoke && settings != nil {
		if e := h.readCache(*settings); e.validFor(h.Now(), 0) {
			revokeErr = h.revoke(ctx, e)
			res.Revoked = revokeErr == nil
		}
	}
	removed, err := h.Paths.removeCache(profile, settings)
	res.TokensRemoved = len(removed)
	if err != nil {
		return res, protocol.Errorf(protocol.CodeInternal, "cannot remove cached tokens: %w", err)
	}
	if _, err := h.Paths.DeleteProfile(profile); err != nil {
		return res, protocol.Errorf(protocol.CodeInternal, "cannot remove profile %q: %w", profile, err)
	}
	if revokeErr != nil {
		return res, protocol.Errorf(protocol.CodeKeystoneUnavailable, "profile %q was erased here, but revoking its token failed: %v; the token stays usable until it expires", profile, revokeErr)
	}
	return res, nil
}

func (h *Helper) revoke(ctx context.Context, e *cacheEntry) error {
	kc, err := h.Keystone()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	return kc.Revoke(ctx, e.AuthURL, e.Token)
}

// List returns the stored profiles with their cached tokens' expiry.
func (h *Helper) List() ([]protocol.ProfileInfo, error) {
	names, err := h.Paths.ProfileNames()
	if err != nil {
		return nil, protocol.Errorf(protocol.CodeInternal, "%w", err)
	}
	out := []protocol.ProfileInfo{}
	now := h.Now()
	for _, name := range names {
		s, err := h.Paths.LoadProfile(name)
		if err != nil {
			h.warnf("%v", err)
			continue
		}
		info := protocol.ProfileInfo{Profile: name, AuthURL: s.AuthURL, ProjectID: s.ProjectID, Username: s.Username,
			UserDomainName: s.UserDomainName, Region: s.Region, Interface: s.Interface}
		if e := h.readCache(s); e.validFor(now, 0) {
			exp := e.ExpiresAt
			info.ExpiresAt = &exp
		}
		out = append(out, info)
	}
	return out, nil
}
