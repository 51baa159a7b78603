package helper

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vkc-credential/keystone"
)

var testSettings = Settings{AuthURL: "http://127.0.0.1:5000/v3", ProjectID: "p1", Username: "u@example.com",
	UserDomainName: "users", Region: "RegionOne", Interface: "public"}

func TestCacheValidityBoundaries(t *testing.T) {
	recv := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	tok := &keystone.Token{ID: "t", IssuedAt: recv, ExpiresAt: recv.Add(time.Hour), ReceivedAt: recv}
	e := newCacheEntry("p", testSettings, tok)
	minTTL := 5 * time.Minute
	boundary := recv.Add(time.Hour - minTTL)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"just received", recv, true},
		{"one second before the boundary", boundary.Add(-time.Second), true},
		{"at the boundary (inclusive)", boundary, true},
		{"one nanosecond after", boundary.Add(time.Nanosecond), false},
		{"after expiry", recv.Add(2 * time.Hour), false},
		{"clock went back before receipt", recv.Add(-time.Second), false},
	}
	for _, tt := range tests {
		if got := e.validFor(tt.now, minTTL); got != tt.want {
			t.Errorf("%s: validFor = %t, want %t", tt.name, got, tt.want)
		}
	}
	if !e.validFor(recv.Add(time.Hour), 0) || e.validFor(recv.Add(time.Hour+time.Nanosecond), 0) {
		t.Error("min-ttl 0 must accept a token up to and including its last instant")
	}
	var none *cacheEntry
	if none.validFor(recv, 0) {
		t.Error("a nil entry is never valid")
	}
}

func TestCacheValidityUnderClockSkew(t *testing.T) {
	server := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		skew      time.Duration // local clock minus Keystone's
		wantUntil time.Time     // on the local clock
	}{
		// Local clock behind: expires_at (server time) looks an hour and
		// ten minutes away; trust the lifetime instead.
		{"local clock 10m behind", -10 * time.Minute, server.Add(-10 * time.Minute).Add(time.Hour)},
		// Local clock ahead: expires_at is earlier on our clock than
		// receipt + lifetime; take the earlier.
		{"local clock 10m ahead", 10 * time.Minute, server.Add(time.Hour)},
		{"no skew", 0, server.Add(time.Hour)},
	}
	for _, tt := range tests {
		recv := server.Add(tt.skew)
		e := newCacheEntry("p", testSettings, &keystone.Token{ID: "t", IssuedAt: server, ExpiresAt: server.Add(time.Hour), ReceivedAt: recv})
		if !e.ValidUntil.Equal(tt.wantUntil) {
			t.Errorf("%s: ValidUntil = %s, want %s", tt.name, e.ValidUntil, tt.wantUntil)
		}
		if !e.validFor(tt.wantUntil, 0) || e.validFor(tt.wantUntil.Add(time.Second), 0) {
			t.Errorf("%s: validity does not end at %s", tt.name, tt.wantUntil)
		}
	}
}

func TestCacheRoundTripAndCorruption(t *testing.T) {
	dir := t.TempDir()
	p := Paths{ConfigDir: filepath.Join(dir, "config"), CacheDir: filepath.Join(dir, "cache")}
	recv := time.Now().UTC().Truncate(time.Second)
	tok := &keystone.Token{ID: "tok-1", IssuedAt: recv, ExpiresAt: recv.Add(time.Hour), ReceivedAt: recv,
		Body: json.RawMessage(`{"token":{"catalog":[]}}`)}
	// A body as Keystone might send it: white space, and characters
	// encoding/json escapes, which change its length when written.
	spaced := *tok
	spaced.Body = json.RawMessage("{ \"token\" : {\"catalog\": [], \"note\": \"<a&b>\"} }")
	if _, err := p.writeCache(newCacheEntry("p", testSettings, &spaced)); err != nil {
		t.Fatal(err)
	}
	if e := p.readCacheOnly(testSettings); e == nil {
		t.Fatal("a body that encoding/json rewrites made the file unreadable")
	} else if b, err := e.body(); err != nil || !json.Valid(b) {
		t.Fatalf("body %q, %v", b, err)
	}
	if _, err := p.writeCache(newCacheEntry("p", testSettings, tok)); err != nil {
		t.Fatal(err)
	}
	path := p.cachePath(cacheKey(testSettings))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode %04o, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(p.CacheDir)
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode %04o, want 0700", di.Mode().Perm())
	}
	e := p.readCacheOnly(testSettings)
	if e == nil || e.Token != "tok-1" {
		t.Fatalf("read back %+v", e)
	}
	if e.Body != nil {
		t.Fatal("the body was decoded although nobody asked for it")
	}
	if body, err := e.body(); err != nil || string(body) != `{"token":{"catalog":[]}}` {
		t.Fatalf("body %q, %v", body, err)
	}
	other := testSettings
	other.ProjectID = "p2"
	if p.readCacheOnly(other) != nil {
		t.Fatal("another project's settings must not find this token")
	}
	good, _ := os.ReadFile(path)
	truncated := string(good[:len(good)-5])
	padded := string(good[:len(good)-1]) + ` }`
	for _, junk := range []string{"", "{", "not json", `{"version":99}`, `{"version":1,"token":""}`, truncated, padded} {
		if err := os.WriteFile(path, []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		if e := p.readCacheOnly(testSettings); e != nil {
			t.Fatalf("corrupt cache %q was used: %+v", junk, e)
		}
	}
	// A token file others can read is not used.
	if _, err := p.writeCache(newCacheEntry("p", testSettings, tok)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	if e := p.readCacheOnly(testSettings); e != nil {
		t.Fatal("a cache file with mode 0644 was used")
	}
}

func TestCacheKeySeparatesIdentities(t *testing.T) {
	a := testSettings
	seen := map[string]bool{cacheKey(a): true}
	for _, mutate := range []func(*Settings){
		func(s *Settings) { s.AuthURL += "x" }, func(s *Settings) { s.ProjectID += "x" },
		func(s *Settings) { s.Username += "x" }, func(s *Settings) { s.UserDomainName += "x" },
	} {
		b := a
		mutate(&b)
		k := cacheKey(b)
		if seen[k] {
			t.Fatalf("key collision for %+v", b)
		}
		seen[k] = true
	}
	b := a
	b.Region = "other"
	if cacheKey(b) != cacheKey(a) {
		t.Fatal("region is not part of a token's identity")
	}
}

// readCacheOnly is readCache without its reason.
func (p Paths) readCacheOnly(s Settings) *cacheEntry {
	e, _ := p.readCache(s)
	return e
}

func TestLooseDirectoryIsNarrowedAndSaid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vkc-credential")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // whatever the umask
	note, err := ensureDir(dir)
	if err != nil || !strings.Contains(note, "0755") || !strings.Contains(note, "0700") {
		t.Fatalf("note %q, err %v", note, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %04o after repair", fi.Mode().Perm())
	}
	if note, err := ensureDir(dir); note != "" || err != nil {
		t.Fatalf("second call: %q, %v", note, err)
	}
}

// TestStaleTemporariesAreSwept: a temporary file left by a process killed
// before its rename goes at the next caching; a fresh one (a write in
// progress) stays.
func TestStaleTemporariesAreSwept(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	f.get(t, 0, false)
	stale := filepath.Join(f.h.Paths.CacheDir, ".0123.json.42.tmp")
	fresh := filepath.Join(f.h.Paths.CacheDir, ".0123.json.43.tmp")
	for _, path := range []string{stale, fresh} {
		if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	f.get(t, 0, true)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the stale temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a fresh temporary file was removed: %v", err)
	}
}

// TestFlatDecodingRefusesWrongTypes: the reflection-free decoding of the
// profile and the cache head refuses what json.Unmarshal into the structs
// refused, naming the first bad member in file order.
func TestFlatDecodingRefusesWrongTypes(t *testing.T) {
	for in, want := range map[string]string{
		`{"version":"1","profile":"p"}`:            `"version"`,
		`{"version":1,"profile":"p","auth_url":5}`: `"auth_url"`,
		`{"version":1.5}`:                          `"version"`,
		`{"version":1,"username":{},"region":[]}`:  `"username"`,
		`[]`:   "array",
		`null`: "not a JSON object",
		`{"version":1,"profile":"p","keyring":true}`:        `"keyring"`,
		`{"version":1,"auth_url":"a","totp_command":false}`: `"totp_command"`,
	} {
		_, err := decodeProfileFile([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeProfileFile(%s) = %v, want it to name %s", in, err, want)
		}
	}
	for in, want := range map[string]string{
		`{"version":1,"token":7,"body_len":0,"body":null}`:                               `"token"`,
		`{"version":1,"token":"t","expires_at":"soon","body_len":4,"body":null}`:         `"expires_at"`,
		`{"version":1,"token":"t","body_len":"4","body":null}`:                           `"body_len"`,
		`{"version":1,"token":"t","issued_at":1,"expires_at":"x","body_len":4,"body":1}`: `"issued_at"`,
	} {
		_, err := decodeCacheEntry([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeCacheEntry(%s) = %v, want it to name %s", in, err, want)
		}
	}
}
