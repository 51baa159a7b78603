// Package helper is vkc-credential's logic: profiles, the token cache and
// its lock, and the get, store, erase and list operations, with the
// keychain, Keystone and the clock passed in. It knows nothing of the
// command line: its errors are plain, and the caller maps them.
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
// set every field but Debugf and Warnf (and AutoKeyring, when nothing
// stores a new profile with the auto choice).
type Helper struct {
	Paths Paths
	// Keyring opens the keychain backend called name (see keyring.Open).
	Keyring func(name string) (keyring.Store, error)
	// AutoKeyring chooses the backend of a new profile's secret, proven to
	// take one with a round trip, and says why it passed over the others
	// (see keyring.Auto); only Store calls it.
	AutoKeyring func() (name string, passedOver []error, err error)
	// Keystone builds the Keystone client when one is needed; a cached get
	// never calls it, so TLS roots are never loaded on that path.
	Keystone       func() (*keystone.Client, error)
	Now            func() time.Time
	Timeout        time.Duration // the whole Keystone exchange
	KeyringTimeout time.Duration // each keychain call; used to bound lock waits
	Debugf         func(format string, args ...any)
	Warnf          func(format string, args ...any) // things the user should know or fix

	warned map[string]bool // warnings already given in this process
}

// exchange runs one exchange with Keystone: do, with the client and ctx
// bounded by h.Timeout (the whole exchange, retries included).
func (h *Helper) exchange(ctx context.Context, do func(ctx context.Context, kc *keystone.Client) error) error {
	kc, err := h.Keystone()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	return do(ctx, kc)
}

func (h *Helper) debugf(format string, args ...any) {
	if h.Debugf != nil {
		h.Debugf(format, args...)
	}
}

// warnf tells the user something, once per process.
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
	Cached   bool
	entry    *cacheEntry
}

// ID returns the token itself.
func (t *Token) ID() string { return t.entry.Token }

// IssuedAt is when Keystone says it issued the token.
func (t *Token) IssuedAt() time.Time { return t.entry.IssuedAt }

// ExpiresAt is when Keystone says the token expires.
func (t *Token) ExpiresAt() time.Time { return t.entry.ExpiresAt }

// Body is Keystone's whole token body.
func (t *Token) Body() ([]byte, error) { return t.entry.body() }

// GetOptions select the token Get returns.
type GetOptions struct {
	Profile  string
	Settings Settings // as Resolve returns them
	Keyring  string   // the backend the profile's secret is kept in
	// SecretCommand, when set, prints the profile's secret instead (see
	// Profile.SecretCommand); it runs only when a token must be issued
	// with the secret, while the lock is held.
	SecretCommand string
	MinTTL        time.Duration
	Refresh       bool
	// Passcode gives a TOTP passcode when Keystone asks for a second
	// factor; nil means none can be had (the error is then
	// keystone.ErrMFARequired's). It runs while the lock is held, so
	// concurrent callers ask once.
	Passcode func() (string, error)
	// TOTP says that Keystone is known to want a passcode for the
	// profile (it has a passcode command): the identity then signs in
	// under its own lock from the first request, so that the first callers
	// of several projects at once send the password once. Without it, that
	// is learnt from the identity token's file or from Keystone's answer.
	TOTP bool
}

// Get returns a token for the profile that stays valid at least MinTTL:
// from the cache when it holds one (no keychain, no network), otherwise a
// new one from Keystone, cached for the next caller: re-scoped from the
// identity's TOTP sign-in while that lasts (see identityScope), else signed
// in with the profile's secret (from its backend, or its secret command).
// Concurrent callers of the same identity and project share one issuance
// through a lock on the cache file, and those of an identity's projects
// one TOTP sign-in. When even a fresh token
// cannot meet MinTTL it is returned, with a warning that names its
// lifetime.
func (h *Helper) Get(ctx context.Context, o GetOptions) (*Token, error) {
	start := h.Now()
	tok := func(e *cacheEntry, cached bool) *Token {
		s := o.Settings
		s.ProjectID = e.ProjectID // an application credential's token names its project
		return &Token{Profile: o.Profile, Settings: s, entry: e, Cached: cached}
	}
	if !o.Refresh {
		if e := h.readCache(o.Settings); e.validFor(start, o.MinTTL) {
			h.debugf("cache: hit, valid until %s", e.ValidUntil.Format(time.RFC3339))
			return tok(e, true), nil
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
			return tok(e, true), nil
		}
		if e.ReceivedAt.After(start) && e.validFor(now, 0) {
			h.debugf("cache: a token issued after this call started; taking it")
			h.warnShortLifetime(e, o.MinTTL)
			return tok(e, true), nil
		}
	}
	e, err := h.obtain(ctx, o, start)
	if err != nil {
		return nil, err
	}
	h.warnShortLifetime(e, o.MinTTL)
	return tok(e, false), nil
}

// warnShortLifetime says when a fresh token cannot meet minTTL, which
// would otherwise make every call issue a token again.
func (h *Helper) warnShortLifetime(e *cacheEntry, minTTL time.Duration) {
	if !e.validFor(h.Now(), minTTL) {
		h.warnf("keystone issues tokens that live %s, less than the %s asked for; returning it anyway (ask for a shorter minimum TTL to use the cache)",
			e.ExpiresAt.Sub(e.IssuedAt).Round(time.Second), minTTL)
	}
}

// readCache reads the cached token of s; a cache file others could read
// is not used, and the user is told, since the token in it may have leaked.
func (h *Helper) readCache(s Settings) *cacheEntry {
	e, err := h.Paths.readCache(s)
	switch {
	case errors.Is(err, ErrLooseMode):
		h.warnf("%v, which lets others read the token in it; not using it (a new token replaces it with mode 0600)", err)
	case err != nil:
		h.debugf("cache: not used: %v", err)
	}
	return e
}

// afterPerson bounds the exchanges that follow a person's answer (a TOTP
// passcode typed, or given in an askpass dialog) by Timeout of their own:
// the time the person took is not Keystone's.
func (h *Helper) afterPerson(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, h.Timeout)
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

// List returns the stored profiles with their cached tokens' expiry.
func (h *Helper) List() ([]protocol.ProfileInfo, error) {
	names, err := h.Paths.profileNames()
	if err != nil {
		return nil, err
	}
	out := []protocol.ProfileInfo{}
	now := h.Now()
	for _, name := range names {
		p, err := h.Paths.LoadProfile(name)
		if err != nil {
			h.warnf("%v", err)
			continue
		}
		info := protocol.ProfileInfo{Profile: name, Settings: p.Settings, Identity: Identity(p.Settings), Keyring: p.Keyring, SecretCommand: p.SecretCommand}
		if p.Keyring != "" {
			info.KeyringItem = secretItem(p.Settings)
		}
		if e := h.readCache(p.Settings); e.validFor(now, 0) {
			exp := e.ExpiresAt
			info.ExpiresAt = &exp
		}
		out = append(out, info)
	}
	return out, nil
}
