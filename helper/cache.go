package helper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// cacheEntry is a cached token, one file per identity.
type cacheEntry struct {
	Version        int    `json:"version"`
	Profile        string `json:"profile"`
	AuthURL        string `json:"auth_url"`
	UserDomainName string `json:"user_domain_name"`
	Username       string `json:"username"`
	ProjectID      string `json:"project_id"`
	// ApplicationCredentialID is set for a token of an application
	// credential, whose project is the token's.
	ApplicationCredentialID string    `json:"application_credential_id,omitempty"`
	Token                   string    `json:"token"`
	IssuedAt                time.Time `json:"issued_at"`   // Keystone's clock
	ExpiresAt               time.Time `json:"expires_at"`  // Keystone's clock
	ReceivedAt              time.Time `json:"received_at"` // our clock
	// ValidUntil is on our clock: the earlier of Keystone's expires_at and
	// ReceivedAt plus the token's lifetime, so that a local clock that is
	// behind Keystone's does not keep a dead token alive.
	ValidUntil time.Time `json:"valid_until"`
	// BodyLen is len(Body): with it a reader that skips the body still
	// knows the file is whole.
	BodyLen int `json:"body_len"`
	// Body is Keystone's whole token body. It stays the last field: a
	// reader that needs only the token decodes what stands before it (see
	// decodeCacheEntry), since a catalog can be tens of kilobytes.
	Body json.RawMessage `json:"body"`

	raw []byte // the file as read, for a Body decoded on demand
}

// bodyKey marks the start of the body in a cache file. No string before
// it can hold it (quotes in JSON strings are escaped), and no object stands
// before it, so its first occurrence is the top-level key.
var bodyKey = []byte(`,"body":`)

// decodeCacheEntry decodes a cache file without its body, which body()
// decodes when it is asked for. The head is decoded without reflection on
// cacheEntry (see flatjson.go).
func decodeCacheEntry(data []byte) (*cacheEntry, error) {
	i := bytes.Index(data, bodyKey)
	if i <= 0 {
		return nil, errors.New("the cache file has no token body")
	}
	o, err := decodeFlat(append(data[:i:i], '}'))
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{raw: data}
	type str = field[string]
	type tm = field[time.Time]
	if err := o.strings(str{"profile", &e.Profile}, str{"auth_url", &e.AuthURL}, str{"user_domain_name", &e.UserDomainName},
		str{"username", &e.Username}, str{"project_id", &e.ProjectID}, str{"application_credential_id", &e.ApplicationCredentialID},
		str{"token", &e.Token}); err != nil {
		return nil, err
	}
	if err := o.times(tm{"issued_at", &e.IssuedAt}, tm{"expires_at", &e.ExpiresAt}, tm{"received_at", &e.ReceivedAt}, tm{"valid_until", &e.ValidUntil}); err != nil {
		return nil, err
	}
	if e.Version, err = o.num("version"); err != nil {
		return nil, err
	}
	if e.BodyLen, err = o.num("body_len"); err != nil {
		return nil, err
	}
	if i+len(bodyKey)+e.BodyLen+1 != len(data) || data[len(data)-1] != '}' {
		return nil, errors.New("the cache file is truncated or padded")
	}
	return e, nil
}

// body returns Keystone's token body, decoding it from the file on first
// use.
func (e *cacheEntry) body() (json.RawMessage, error) {
	if e.Body == nil && e.raw != nil {
		var full struct {
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(e.raw, &full); err != nil {
			return nil, fmt.Errorf("the cached token body is damaged: %w", err)
		}
		e.Body = full.Body
	}
	return e.Body, nil
}

func newCacheEntry(profile string, s Settings, t *keystone.Token) *cacheEntry {
	until := t.ReceivedAt.Add(t.ExpiresAt.Sub(t.IssuedAt))
	if t.ExpiresAt.Before(until) {
		until = t.ExpiresAt
	}
	if s.ApplicationCredentialID != "" {
		s.ProjectID = t.ProjectID // the credential chose it
	}
	return &cacheEntry{
		Version: protocol.Version, Profile: profile,
		AuthURL: s.AuthURL, UserDomainName: s.UserDomainName, Username: s.Username, ProjectID: s.ProjectID,
		ApplicationCredentialID: s.ApplicationCredentialID,
		Token:                   t.ID, IssuedAt: t.IssuedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(), ReceivedAt: t.ReceivedAt,
		ValidUntil: until, Body: t.Body,
	}
}

// validFor reports whether the token is still good for at least minTTL at
// now. The bound is inclusive. A token received "in the future" means the
// local clock went back since; it is not trusted.
func (e *cacheEntry) validFor(now time.Time, minTTL time.Duration) bool {
	if e == nil || now.Before(e.ReceivedAt) {
		return false
	}
	return !now.Add(minTTL).After(e.ValidUntil)
}

// matches reports whether e was issued for the identity of s (for an
// application credential, the credential: it fixes the project).
func (e *cacheEntry) matches(s Settings) bool {
	if e == nil || e.Token == "" || identityURL(e.AuthURL) != identityURL(s.AuthURL) || e.ApplicationCredentialID != s.ApplicationCredentialID {
		return false
	}
	return s.ApplicationCredentialID != "" ||
		(e.UserDomainName == s.UserDomainName && e.Username == s.Username && e.ProjectID == s.ProjectID)
}

// cacheKey names the cache file (and the lock file) of an identity: a
// token is shared by every profile with the same auth URL (with or
// without its trailing slash), user and project, or the same application
// credential.
func cacheKey(s Settings) string { return keyFor(identityURL(s.AuthURL), s) }

// oldCacheKey is the key vkc-credential 1.1 gave the cache file of s: the
// same, but with the auth URL as stored, trailing slash included. ok is
// false when it is cacheKey's.
func oldCacheKey(s Settings) (key string, ok bool) {
	if !strings.HasSuffix(s.AuthURL, "/") {
		return "", false
	}
	return keyFor(s.AuthURL, s), true
}

func keyFor(authURL string, s Settings) string {
	parts := []string{authURL, s.UserDomainName, s.Username, s.ProjectID}
	if s.ApplicationCredentialID != "" {
		parts = []string{authURL, "application credential", s.ApplicationCredentialID}
	}
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

func (p Paths) cachePath(key string) string { return filepath.Join(p.CacheDir, key+".json") }
func (p Paths) lockPath(key string) string  { return filepath.Join(p.CacheDir, key+".lock") }

// readCache returns the entry for s, or nil when there is none that can be
// used. A missing file is no error; a file that is unparsable, for another
// identity, or readable by others is reported and left for the next writer
// to replace. Without a file of its key, the file vkc-credential 1.1 wrote
// (oldCacheKey) serves until the next token replaces it.
func (p Paths) readCache(s Settings) (*cacheEntry, error) {
	path := p.cachePath(cacheKey(s))
	data, err := readPrivateFile(path)
	if old, ok := oldCacheKey(s); ok && errors.Is(err, fs.ErrNotExist) {
		path = p.cachePath(old)
		data, err = readPrivateFile(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e, err := decodeCacheEntry(data)
	if err != nil || e.Version != protocol.Version {
		return nil, fmt.Errorf("discarding unparsable cache file %s", path)
	}
	if !e.matches(s) {
		return nil, fmt.Errorf("%s belongs to another identity; ignoring it", path)
	}
	return e, nil
}

// writeCache stores e atomically, 0600, in a 0700 directory.
func (p Paths) writeCache(e *cacheEntry) (note string, err error) {
	note, err = ensureDir(p.CacheDir)
	if err != nil {
		return note, err
	}
	// BodyLen is the body's length as encoding/json writes it (compacted,
	// HTML-escaped), which only a first encoding tells.
	var data []byte
	for range 2 {
		if data, err = json.Marshal(e); err != nil {
			return note, err
		}
		n := len(data) - bytes.Index(data, bodyKey) - len(bodyKey) - 1
		if n == e.BodyLen {
			break
		}
		e.BodyLen = n
	}
	s := Settings{AuthURL: e.AuthURL, UserDomainName: e.UserDomainName, Username: e.Username, ProjectID: e.ProjectID,
		ApplicationCredentialID: e.ApplicationCredentialID}
	if err := writeFileAtomic(p.cachePath(cacheKey(s)), data); err != nil {
		return note, err
	}
	if old, ok := oldCacheKey(s); ok {
		os.Remove(p.cachePath(old)) // replaced; its lock goes with the next erase's sweep
	}
	p.sweepTemporaries(time.Now())
	return note, nil
}

// staleTemporary is how old a temporary file of writeFileAtomic must be
// before it counts as left by a process that died before its rename: far
// longer than any write takes.
const staleTemporary = 10 * time.Minute

// sweepTemporaries removes the temporary files (".NAME.*.tmp") that
// processes killed between writing and renaming left in the cache
// directory. It runs after a token is cached, never on a cached get; a
// file it cannot remove is left for the next sweep.
func (p Paths) sweepTemporaries(now time.Time) {
	entries, err := os.ReadDir(p.CacheDir)
	if err != nil {
		return
	}
	for _, de := range entries {
		name := de.Name()
		if !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".tmp") || !de.Type().IsRegular() {
			continue
		}
		if fi, err := de.Info(); err == nil && now.Sub(fi.ModTime()) > staleTemporary {
			os.Remove(filepath.Join(p.CacheDir, name))
		}
	}
}

// lockCache takes the cross-process lock of s's cache file, waiting at
// most until ctx is done (then the error wraps ErrLockBusy).
func (p Paths) lockCache(ctx context.Context, s Settings) (unlock func(), err error) {
	if _, err := ensureDir(p.CacheDir); err != nil {
		return nil, err
	}
	return lockFile(ctx, p.lockPath(cacheKey(s)))
}

// removeCache deletes the cache files of the keys own and those recorded
// for profile, but none whose key is in keep (identities other profiles
// still use); then the lock files of keys in neither keep nor the cache,
// so that lock files do not pile up. It returns how many tokens it
// removed.
func (p Paths) removeCache(profile string, own []string, keep map[string]bool) (int, error) {
	entries, err := os.ReadDir(p.CacheDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	removed, live, err := p.removeTokens(entries, profile, own, keep)
	if err != nil {
		return removed, err
	}
	return removed, p.removeLocks(entries, keep, live)
}

// removeTokens is removeCache's first half: it deletes the cache files
// (of entries, the cache directory's) of the keys own and those recorded
// for profile, but none whose key is in keep. It returns how many it
// removed and the keys whose cache file stays (live).
func (p Paths) removeTokens(entries []fs.DirEntry, profile string, own []string, keep map[string]bool) (removed int, live map[string]bool, err error) {
	live = map[string]bool{}
	for _, de := range entries {
		key, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok {
			continue
		}
		if keep[key] || (!slices.Contains(own, key) && p.recordedProfile(key) != profile) {
			live[key] = true
			continue
		}
		if err := os.Remove(p.cachePath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, live, err
		}
		removed++
	}
	return removed, live, nil
}

// recordedProfile is the profile recorded in key's cache file; "" when
// the file cannot be read or decoded.
func (p Paths) recordedProfile(key string) string {
	data, err := readPrivateFile(p.cachePath(key))
	if err != nil {
		return ""
	}
	e, err := decodeCacheEntry(data)
	if err != nil {
		return ""
	}
	return e.Profile
}

// removeLocks is removeCache's second half: it deletes the lock files (of
// entries) of keys in neither keep nor live, so that lock files do not
// pile up. A lock another process holds stays; it serves the next caller.
func (p Paths) removeLocks(entries []fs.DirEntry, keep, live map[string]bool) error {
	for _, de := range entries {
		key, ok := strings.CutSuffix(de.Name(), ".lock")
		if !ok || keep[key] || live[key] {
			continue
		}
		if err := removeLockFile(p.lockPath(key)); err != nil && !errors.Is(err, ErrLockBusy) {
			return err
		}
	}
	return nil
}
