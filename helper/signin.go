package helper

import (
	"context"
	"errors"
	"os"
	"time"

	"vkc-credential/keystone"
)

// One second factor for every project. After a password+TOTP sign-in, the
// identity's unscoped token — the identity token, the cache entry of the
// identity without a project (identityScope) — is kept in the cache
// directory beside the project tokens, and the tokens of the identity's
// projects are issued by re-scoping it with Keystone's token method until
// it expires: one passcode serves every project of the user, and no
// password is read from the keychain meanwhile. Keystone gives a re-scoped
// token the methods (password, totp) and the expires_at of the token it
// re-scoped, so the user's rules stay met and no project's token outlives
// the sign-in. An identity that never met a second factor has no identity
// token and never takes the identity's lock.
//
// Locks are taken in one order: a project's, then its identity's.

// identityScope returns the settings that name the identity token of s:
// its identity without a project, whose cache key is no project's.
func identityScope(s Settings) Settings {
	return Settings{AuthURL: identityURL(s.AuthURL), UserDomainName: s.UserDomainName, Username: s.Username}
}

// identityKey is the cache key of the identity token of s; "" for an
// application credential, which has no second factor.
func identityKey(s Settings) string {
	if s.ApplicationCredentialID != "" {
		return ""
	}
	return cacheKey(identityScope(s))
}

// secondFactor is the identity token's part in one issuance of a password
// identity's token. A nil *secondFactor does nothing (and completes no
// sign-in).
type secondFactor struct {
	h       *Helper
	id      Settings      // identityScope of the caller's settings
	minTTL  time.Duration // what the caller needs of a token
	start   time.Time     // when the caller started: an identity token received since serves whatever its TTL
	refused string        // an identity token Keystone refused; never sent again
	short   *cacheEntry   // a good identity token passed over for minTTL
	unlock  func()        // releases the identity's lock; nil while it is not held
}

// secondFactor returns the identity token's part in an issuance for s;
// nil for an application credential, and for settings without a project
// (whose cache key, and lock, would be the identity token's).
func (h *Helper) secondFactor(s Settings, minTTL time.Duration, start time.Time) *secondFactor {
	if s.ApplicationCredentialID != "" || s.ProjectID == "" {
		return nil
	}
	return &secondFactor{h: h, id: identityScope(s), minTTL: minTTL, start: start}
}

// lock takes the identity's lock, unless it is held already.
func (f *secondFactor) lock(ctx context.Context) error {
	if f.unlock != nil {
		return nil
	}
	unlock, err := f.h.lock(ctx, f.id)
	if err != nil {
		return err
	}
	f.unlock = unlock
	return nil
}

// release lets the identity's lock go, when it is held.
func (f *secondFactor) release() {
	if f != nil && f.unlock != nil {
		f.unlock()
		f.unlock = nil
	}
}

// usable reports whether e, an identity token, can be re-scoped for the
// caller: good for minTTL, or received since the caller started (then a
// fresh sign-in could not do better).
func (f *secondFactor) usable(e *cacheEntry) bool {
	if e == nil || e.Token == f.refused {
		return false
	}
	now := f.h.Now()
	return e.validFor(now, f.minTTL) || (e.ReceivedAt.After(f.start) && e.validFor(now, 0))
}

// fromFile re-scopes the identity token on file to the project of s, when
// it can serve the caller; tok is nil when it cannot, or when Keystone
// refused it (then it is not sent again, and the caller signs in). found
// says whether the identity has a token file at all, which tells that it
// met a second factor before.
func (f *secondFactor) fromFile(ctx context.Context, kc *keystone.Client, s Settings) (tok *keystone.Token, found bool, err error) {
	e := f.h.readCache(f.id)
	if e == nil {
		return nil, false, nil
	}
	if !f.usable(e) {
		if e.Token != f.refused && e.validFor(f.h.Now(), 0) {
			f.short = e
		}
		return nil, true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.h.Timeout)
	defer cancel()
	tok, err = f.rescope(ctx, kc, s, e.Token)
	if errors.Is(err, keystone.ErrAuthFailed) {
		f.h.debugf("identity token: refused, signing in again: %v", err)
		f.refused = e.Token
		return nil, true, nil
	}
	return tok, true, err
}

// rescope issues the token of the project of s from the identity token.
func (f *secondFactor) rescope(ctx context.Context, kc *keystone.Client, s Settings, token string) (*keystone.Token, error) {
	t0 := time.Now()
	tok, err := kc.IssueToken(ctx, keystone.TokenAuth{AuthURL: s.AuthURL, Token: token, ProjectID: s.ProjectID})
	if err == nil {
		f.h.debugf("identity token: re-scoped to the project in %s", time.Since(t0).Round(time.Millisecond))
	}
	return tok, err
}

// complete finishes a sign-in whose password Keystone accepted with an
// auth receipt. Under the identity's lock, it re-scopes the identity token
// when one can serve (another caller may have made it meanwhile); else it
// gets a passcode (none when passcode is nil: the receipt's error), makes
// a new identity token with it and the receipt, keeps it, and re-scopes
// that. ctx bounds the wait for the lock and the re-scope of a token
// found after it; the exchanges after the passcode have a bound of their
// own (afterPerson).
func (f *secondFactor) complete(ctx context.Context, kc *keystone.Client, profile string, s Settings,
	receipt *keystone.ReceiptError, passcode func() (string, error)) (*keystone.Token, error) {
	if f == nil {
		return nil, receipt
	}
	if err := f.lock(ctx); err != nil {
		return nil, err
	}
	if tok, _, err := f.fromFile(ctx, kc, s); tok != nil || err != nil {
		return tok, err
	}
	if passcode == nil {
		return nil, receipt
	}
	f.h.debugf("keystone: a TOTP passcode is wanted")
	if e := f.short; e != nil {
		// Say why, while the token of every project still looks good.
		f.h.warnf("the TOTP sign-in of %s, which every project's token comes from, expires at %s, in %s: sooner than the %s asked for, so a new passcode is needed",
			Identity(s), e.ExpiresAt.Format(time.RFC3339), e.ValidUntil.Sub(f.h.Now()).Round(time.Second), f.minTTL)
	}
	code, err := passcode()
	if err != nil {
		return nil, err
	}
	kctx, cancel := f.h.afterPerson(ctx)
	defer cancel()
	id, err := kc.IssueWithReceipt(kctx, keystone.ReceiptAuth{AuthURL: s.AuthURL, Receipt: receipt.Receipt, UserID: receipt.UserID, Passcode: code})
	if err != nil {
		return nil, err
	}
	if _, err := f.h.cacheToken(profile, f.id, id); err != nil {
		return nil, err
	}
	f.release()
	return f.rescope(kctx, kc, s, id.ID)
}

// forget removes the identity token's file after a sign-in that needed no
// second factor (the user's rules changed), while the identity's lock is
// held: the identity goes back to taking no lock of its own.
func (f *secondFactor) forget() {
	if f == nil || f.unlock == nil {
		return
	}
	if err := os.Remove(f.h.Paths.cachePath(cacheKey(f.id))); err == nil {
		f.h.debugf("identity token: removed, as keystone wanted no second factor")
	}
}

// obtain issues a new token for o, whose project's lock the caller holds:
// for a password identity, by re-scoping its identity token when that can
// serve (no keychain, no passcode, no secret command); otherwise by
// signing in with the profile's secret (secretOf). An identity known to
// want a second factor (it has an identity token, or o.TOTP says so) signs
// in under the identity's lock, so that callers of its other projects wait
// for the identity token rather than send the password too.
func (h *Helper) obtain(ctx context.Context, o GetOptions, start time.Time) (*cacheEntry, error) {
	kc, err := h.Keystone()
	if err != nil {
		return nil, err
	}
	f := h.secondFactor(o.Settings, o.MinTTL, start)
	defer f.release()
	if f != nil {
		tok, found, err := f.fromFile(ctx, kc, o.Settings)
		if tok == nil && err == nil && (found || o.TOTP) {
			if err := f.lock(ctx); err != nil {
				return nil, err
			}
			tok, _, err = f.fromFile(ctx, kc, o.Settings)
		}
		if err != nil {
			return nil, err
		}
		if tok != nil {
			f.release()
			return h.cacheToken(o.Profile, o.Settings, tok)
		}
	}
	secret, err := h.secretOf(ctx, o)
	if err != nil {
		return nil, err
	}
	e, err := h.signIn(ctx, kc, o.Profile, o.Settings, secret, o.Passcode, f)
	if rej := (*RejectedError)(nil); errors.As(err, &rej) {
		rej.FromCommand = o.SecretCommand != ""
	}
	return e, err
}

// issue gets a new token with secret — a password, or an application
// credential's secret — and caches it. When Keystone wants a TOTP passcode
// too, the identity token serves when it can, else passcode gives one.
// The caller holds the project's lock.
func (h *Helper) issue(ctx context.Context, profile string, s Settings, secret string, passcode func() (string, error)) (*cacheEntry, error) {
	kc, err := h.Keystone()
	if err != nil {
		return nil, err
	}
	f := h.secondFactor(s, 0, h.Now())
	defer f.release()
	return h.signIn(ctx, kc, profile, s, secret, passcode, f)
}

// signIn issues a token for s with secret and caches it; f completes a
// password sign-in that Keystone wants a second factor for.
func (h *Helper) signIn(ctx context.Context, kc *keystone.Client, profile string, s Settings, secret string,
	passcode func() (string, error), f *secondFactor) (*cacheEntry, error) {
	kctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	t0 := time.Now()
	var tok *keystone.Token
	var err error
	cause := RejectUnknown
	if s.ApplicationCredentialID != "" {
		cause = RejectSecret // no project is sent: the credential fixes it
		tok, err = kc.IssueApplicationCredential(kctx, keystone.ApplicationCredentialAuth{AuthURL: s.AuthURL, ID: s.ApplicationCredentialID, Secret: secret})
	} else {
		tok, err = kc.IssuePassword(kctx, keystone.PasswordAuth{
			AuthURL: s.AuthURL, Username: s.Username, UserDomainName: s.UserDomainName,
			Password: secret, ProjectID: s.ProjectID,
		})
		var receipt *keystone.ReceiptError
		if errors.As(err, &receipt) {
			cause = RejectAfterPasscode
			tok, err = f.complete(ctx, kc, profile, s, receipt, passcode)
		} else if err == nil {
			f.forget()
		}
	}
	if err != nil {
		return nil, rejected(err, profile, s, cause)
	}
	h.debugf("keystone: token issued in %s, expires %s", time.Since(t0).Round(time.Millisecond), tok.ExpiresAt.Format(time.RFC3339))
	return h.cacheToken(profile, s, tok)
}

// cacheToken caches tok, Keystone's token for s, and returns its entry. A
// token that has expired already is ErrClock; one that cannot be cached is
// returned with a warning (only the next caller pays for the lost cache).
func (h *Helper) cacheToken(profile string, s Settings, tok *keystone.Token) (*cacheEntry, error) {
	e := newCacheEntry(profile, s, tok)
	if !e.validFor(h.Now(), 0) {
		return nil, tag(ErrClock, "keystone issued a token that has already expired (expires_at %s, local time %s)",
			tok.ExpiresAt.Format(time.RFC3339), h.Now().UTC().Format(time.RFC3339))
	}
	note, err := h.Paths.writeCache(e)
	h.note(note)
	if err != nil {
		h.warnf("cannot cache the token: %v", err)
	}
	return e, nil
}
