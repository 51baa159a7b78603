package helper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keyring"
	"vkc-credential/keyring/keyringtest"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// testUser is the fixture's user on its fake Keystone.
const testUser = "u@example.com"

// newKeystone is the fixture's fake Keystone: testUser signs in with
// password to any project, and Keystone's clock stands at issuedAt, so
// every token it issues is issued then and lives an hour; its token IDs
// are "token-N".
func newKeystone(t testing.TB, password string, issuedAt time.Time) *keystonetest.Server {
	ks := keystonetest.New(t)
	ks.AddUser(keystonetest.User{Name: testUser, Password: password, AnyProject: true})
	ks.SetClock(func() time.Time { return issuedAt })
	ks.SetTokenPrefix("")
	return ks
}

// refuse makes ks answer status to every request of method to its
// auth/tokens until ks.ClearFaults.
func refuse(ks *keystonetest.Server, method string, status int) {
	ks.Fail(keystonetest.Fault{Method: method, Path: "/v3/auth/tokens", Status: status})
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

type fixture struct {
	h     *Helper
	kr    *keyringtest.Memory
	ks    *keystonetest.Server
	clock *clock
	s     Settings
	warns []string
}

const goodPassword = `pä ss "wörd' 1`

func newFixture(t testing.TB) *fixture {
	t.Helper()
	start := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	f := &fixture{kr: keyringtest.New(), clock: &clock{now: start}}
	f.ks = newKeystone(t, goodPassword, start)
	dir := t.TempDir()
	f.h = &Helper{
		Paths:   Paths{ConfigDir: filepath.Join(dir, "config"), CacheDir: filepath.Join(dir, "cache")},
		Keyring: func(name string) (keyring.Store, error) { return f.kr, nil },
		Keystone: func() (*keystone.Client, error) {
			return &keystone.Client{HTTP: f.ks.Client(), Now: f.clock.Now, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, nil
		},
		Now: f.clock.Now, Timeout: 5 * time.Second, KeyringTimeout: time.Second,
		Warnf: func(format string, args ...any) { f.warns = append(f.warns, fmt.Sprintf(format, args...)) },
	}
	f.s = Settings{AuthURL: f.ks.URL + "/v3", ProjectID: "p1", Username: testUser, UserDomainName: "users", Region: "RegionOne", Interface: "public"}
	return f
}

func (f *fixture) store(t *testing.T, profile string) {
	t.Helper()
	if _, err := f.h.storeProfile(context.Background(), storeOptions{Profile: profile, Settings: f.s, Secret: goodPassword, Verify: false}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) get(t *testing.T, minTTL time.Duration, refresh bool) *Token {
	t.Helper()
	tok, err := f.h.Get(context.Background(), GetOptions{Profile: "p", Settings: f.s, MinTTL: minTTL, Refresh: refresh})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestGetCachesAndRenewsAtMinTTL(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	reads := f.kr.Gets
	first := f.get(t, 5*time.Minute, false)
	if first.Cached || first.ID() != "token-1" || f.kr.Gets != reads+1 {
		t.Fatalf("first get: cached=%t id=%s keychain reads=%d", first.Cached, first.ID(), f.kr.Gets-reads)
	}
	second := f.get(t, 5*time.Minute, false)
	if !second.Cached || second.ID() != "token-1" || len(f.ks.Issued()) != 1 || f.kr.Gets != reads+1 {
		t.Fatal("a cached get must touch neither Keystone nor the keychain")
	}
	// 55 minutes on, exactly 5 minutes are left: still good (inclusive).
	f.clock.Advance(55 * time.Minute)
	if tok := f.get(t, 5*time.Minute, false); !tok.Cached {
		t.Fatal("a token with exactly --min-ttl left must be served")
	}
	f.clock.Advance(time.Second)
	if tok := f.get(t, 5*time.Minute, false); tok.Cached || tok.ID() != "token-2" {
		t.Fatalf("a token with less than --min-ttl left was served: cached=%t id=%s", tok.Cached, tok.ID())
	}
	if tok := f.get(t, 0, true); tok.Cached || tok.ID() != "token-3" {
		t.Fatal("--refresh must issue a new token")
	}
}

func TestGetMinTTLBeyondLifetimeIssuesOnce(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	tok := f.get(t, 2*time.Hour, false)
	if tok.Cached || len(f.ks.Issued()) != 1 {
		t.Fatalf("want one fresh token, got cached=%t issued=%d", tok.Cached, len(f.ks.Issued()))
	}
}

func TestGetCorruptCacheIsReplaced(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	f.get(t, 0, false)
	path := f.h.Paths.cachePath(cacheKey(f.s))
	if err := os.WriteFile(path, []byte(`{"version":1,"token":"x",`), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := f.get(t, 0, false)
	if tok.Cached || tok.ID() != "token-2" {
		t.Fatal("a corrupt cache file must lead to a fresh token")
	}
	if again := f.get(t, 0, false); !again.Cached || again.ID() != "token-2" {
		t.Fatal("the fresh token must replace the corrupt file")
	}
}

func TestGetErrorsKeepTheCache(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	good := f.get(t, 0, false)
	goodFile, _ := os.ReadFile(f.h.Paths.cachePath(cacheKey(f.s)))
	cases := []struct {
		name  string
		setup func()
		want  error
	}{
		{"keystone 401", func() { refuse(f.ks, http.MethodPost, 401) }, keystone.ErrAuthFailed},
		{"keystone 503", func() { refuse(f.ks, http.MethodPost, 503) }, keystone.ErrUnavailable},
		{"keychain locked", func() { f.kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable) }, keyring.ErrUnavailable},
		{"no password", func() { clear(f.kr.Items) }, keyring.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.ks.ClearFaults()
			f.kr.Err = nil
			f.kr.Items = map[string]string{secretItem(f.s): goodPassword}
			c.setup()
			_, err := f.h.Get(context.Background(), GetOptions{Profile: "p", Settings: f.s, Refresh: true})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want it to wrap %v", err, c.want)
			}
			if strings.Contains(err.Error(), goodPassword) {
				t.Fatal("the error shows the password")
			}
			if now, _ := os.ReadFile(f.h.Paths.cachePath(cacheKey(f.s))); string(now) != string(goodFile) {
				t.Fatal("a failed refresh changed the cache")
			}
		})
	}
	f.ks.ClearFaults()
	f.kr.Err = nil
	if tok := f.get(t, 0, false); !tok.Cached || tok.ID() != good.ID() {
		t.Fatal("the good token was lost")
	}
}

func TestStoreVerifiesBeforeStoring(t *testing.T) {
	f := newFixture(t)
	_, err := f.h.storeProfile(context.Background(), storeOptions{Profile: "p", Settings: f.s, Secret: "wrong", Verify: true})
	if !errors.Is(err, keystone.ErrAuthFailed) {
		t.Fatalf("err = %v, want keystone.ErrAuthFailed", err)
	}
	if len(f.kr.Items) != 0 {
		t.Fatal("a rejected password was stored")
	}
	if _, err := f.h.Paths.LoadProfile("p"); !errors.Is(err, ErrProfileNotFound) {
		t.Fatalf("a profile was saved for a rejected password: %v", err)
	}
	res, err := f.h.storeProfile(context.Background(), storeOptions{Profile: "p", Settings: f.s, Secret: goodPassword, Verify: true})
	if err != nil || !res.Verified || res.ExpiresAt == nil {
		t.Fatalf("store: %+v, %v", res, err)
	}
	if f.kr.Items[secretItem(f.s)] != goodPassword || len(f.kr.Items) != 1 {
		t.Fatal("the password is not in the keychain")
	}
	got, err := f.h.Paths.LoadProfile("p")
	if err != nil || got.Settings != f.s || got.Keyring != "os" {
		t.Fatalf("profile read back %+v, %v", got, err)
	}
	data, _ := os.ReadFile(f.h.Paths.profilePath("p"))
	if strings.Contains(string(data), goodPassword) {
		t.Fatal("the profile file holds the password")
	}
	// The verification's token is cached: the next get needs nothing else.
	if tok := f.get(t, 0, false); !tok.Cached {
		t.Fatal("the token issued by store was not cached")
	}
	if _, err := f.h.storeProfile(context.Background(), storeOptions{Profile: "p", Settings: f.s, Secret: "", Verify: false}); !errors.Is(err, ErrEmptyPassword) {
		t.Fatal("an empty password must be refused")
	}
}

func TestEraseAndRevoke(t *testing.T) {
	f := newFixture(t)
	if _, err := f.h.Erase(context.Background(), EraseOptions{Profile: "p"}); !errors.Is(err, ErrProfileNotFound) {
		t.Fatalf("erase of an unknown profile: %v", err)
	}
	f.store(t, "p")
	f.get(t, 0, false)
	res, err := f.h.Erase(context.Background(), EraseOptions{Profile: "p", Revoke: true})
	if err != nil || !res.Revoked || !res.PasswordRemoved || res.TokensRemoved != 1 || f.ks.Count(http.MethodDelete, "/v3/auth/tokens") != 1 {
		t.Fatalf("erase --revoke: %+v, %v", res, err)
	}
	// A failed revoke still erases, and says so with exit 5.
	f.store(t, "p")
	f.get(t, 0, true)
	refuse(f.ks, http.MethodDelete, 500)
	res, err = f.h.Erase(context.Background(), EraseOptions{Profile: "p", Revoke: true})
	var revokeErr *RevokeError
	if !errors.As(err, &revokeErr) || !errors.Is(err, keystone.ErrUnavailable) || res == nil || res.Revoked || !strings.Contains(err.Error(), "erased") {
		t.Fatalf("erase with a failing revoke: %+v, %v", res, err)
	}
	if len(f.kr.Items) != 0 {
		t.Fatal("the password survived erase")
	}
	if names, _ := f.h.Paths.profileNames(); len(names) != 0 {
		t.Fatalf("profiles left: %v", names)
	}
	if f.h.Paths.readCacheOnly(f.s) != nil {
		t.Fatal("the cached token survived erase")
	}
}

func TestEraseKeychainUnavailableKeepsEverything(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	f.get(t, 0, false)
	f.kr.Err = fmt.Errorf("%w: no secret service", keyring.ErrUnavailable)
	if _, err := f.h.Erase(context.Background(), EraseOptions{Profile: "p"}); !errors.Is(err, keyring.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if _, err := f.h.Paths.LoadProfile("p"); err != nil {
		t.Fatal("the profile was removed although the password could not be")
	}
}

func TestListShowsExpiryOnly(t *testing.T) {
	f := newFixture(t)
	f.store(t, "b")
	f.store(t, "a")
	f.h.Get(context.Background(), GetOptions{Profile: "a", Settings: f.s})
	list, err := f.h.List()
	if err != nil || len(list) != 2 || list[0].Profile != "a" || list[1].Profile != "b" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	// a and b share one identity, so one token.
	if list[0].ExpiresAt == nil || list[1].ExpiresAt == nil {
		t.Fatalf("expiry missing: %+v", list)
	}
	f.clock.Advance(2 * time.Hour)
	list, _ = f.h.List()
	if list[0].ExpiresAt != nil {
		t.Fatal("an expired token's expiry is listed")
	}
}

func TestResolve(t *testing.T) {
	stored := Settings{AuthURL: "https://k.example/v3/", ProjectID: "p", Username: "u", UserDomainName: "users", Region: "RegionOne", Interface: "public"}
	tests := []struct {
		name    string
		src     Sources
		want    Settings
		wantErr error
	}{
		{"defaults fill the rest", Sources{Flags: Settings{AuthURL: "https://k.example:5000", ProjectID: "p", Username: "u"}},
			Settings{AuthURL: "https://k.example:5000/v3", ProjectID: "p", Username: "u", UserDomainName: "users", Region: "RegionOne", Interface: "public"}, nil},
		{"precedence flags > request > openrc > stored > env",
			Sources{Flags: Settings{Region: "F"}, Request: Settings{Region: "R", Interface: "R"}, OpenRC: Settings{Interface: "O", ProjectID: "O"},
				Stored: &stored, Env: Settings{ProjectID: "E", UserDomainName: "E"}},
			Settings{AuthURL: stored.AuthURL, ProjectID: "O", Username: "u", UserDomainName: "users", Region: "F", Interface: "R"}, nil},
		{"no default auth URL", Sources{Flags: Settings{ProjectID: "p", Username: "u"}}, Settings{}, &MissingSettingError{Field: "auth_url"}},
		{"no project", Sources{Env: Settings{AuthURL: "https://k.example/v3", Username: "u"}}, Settings{}, &MissingSettingError{Field: "project_id"}},
		{"no user", Sources{OpenRC: Settings{AuthURL: "https://k.example/v3", ProjectID: "p"}}, Settings{}, &MissingSettingError{Field: "username"}},
		{"request may change the project", Sources{Request: Settings{ProjectID: "p2", Region: "R2"}, Stored: &stored},
			Settings{AuthURL: stored.AuthURL, ProjectID: "p2", Username: "u", UserDomainName: "users", Region: "R2", Interface: "public"}, nil},
		{"request may not change the auth URL", Sources{Request: Settings{AuthURL: "http://127.0.0.1:18402/v3"}, Stored: &stored}, Settings{}, ErrIdentityChanged},
		{"request may not change the user", Sources{Request: Settings{Username: "mallory"}, Stored: &stored}, Settings{}, ErrIdentityChanged},
		{"request may not change the domain", Sources{Request: Settings{UserDomainName: "other"}, Stored: &stored}, Settings{}, ErrIdentityChanged},
		{"request naming the same identity is fine", Sources{Request: Settings{AuthURL: "https://K.EXAMPLE/v3/", Username: "u"}, Stored: &stored}, stored, nil},
		{"env never overrides the stored identity", Sources{Env: Settings{AuthURL: "https://evil.example/v3", Username: "mallory"}, Stored: &stored}, stored, nil},
		{"env never fills a stored password profile's identity", Sources{Env: Settings{ApplicationCredentialID: "ac1"}, Stored: &stored}, stored, nil},
		{"env never fills a stored application credential's identity",
			Sources{Env: Settings{Username: "mallory", UserDomainName: "E"}, Stored: &Settings{AuthURL: "https://k.example/v3", ApplicationCredentialID: "ac1", ProjectID: "p"}},
			Settings{AuthURL: "https://k.example/v3", ApplicationCredentialID: "ac1", ProjectID: "p", UserDomainName: "users", Region: "RegionOne", Interface: "public"}, nil},
		{"env fills a stored profile's project, region and interface where nothing higher does",
			Sources{Request: Settings{Region: "R"}, Env: Settings{ProjectID: "E", Region: "E", Interface: "E"}, Stored: &Settings{AuthURL: "https://k.example/v3", Username: "u", UserDomainName: "d"}},
			Settings{AuthURL: "https://k.example/v3", ProjectID: "E", Username: "u", UserDomainName: "d", Region: "R", Interface: "E"}, nil},
		{"env fills a new profile's identity", Sources{Flags: Settings{ProjectID: "p"}, Env: Settings{AuthURL: "https://k.example/v3", Username: "u", UserDomainName: "E"}},
			Settings{AuthURL: "https://k.example/v3", ProjectID: "p", Username: "u", UserDomainName: "E", Region: "RegionOne", Interface: "public"}, nil},
		{"a request's auth URL without the trailing slash is the stored one", Sources{Request: Settings{AuthURL: "https://k.example/v3"}, Stored: &stored},
			Settings{AuthURL: "https://k.example/v3", ProjectID: "p", Username: "u", UserDomainName: "users", Region: "RegionOne", Interface: "public"}, nil},
		{"http to a remote host", Sources{Flags: Settings{AuthURL: "http://k.example/v3", ProjectID: "p", Username: "u"}}, Settings{}, protocol.ErrInvalidAuthURL},
		{"non-ASCII region", Sources{Flags: Settings{AuthURL: "https://k.example/v3", ProjectID: "p", Username: "u", Region: "R’"}}, Settings{}, protocol.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.src)
			var missing *MissingSettingError
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil || got != tt.want {
					t.Fatalf("Resolve = %+v, %v; want %+v", got, err, tt.want)
				}
			case *MissingSettingError:
				if !errors.As(err, &missing) || missing.Field != want.Field {
					t.Fatalf("err = %v, want %s missing", err, want.Field)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
		})
	}
}

// TestCachedGetNeverBuildsAKeystoneClient counts the calls of the
// Keystone factory: a cached get makes none (no TLS roots, no network).
func TestCachedGetNeverBuildsAKeystoneClient(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	f.get(t, 0, false)
	build := f.h.Keystone
	calls, reads := 0, f.kr.Gets
	f.h.Keystone = func() (*keystone.Client, error) { calls++; return build() }
	for range 3 {
		if tok := f.get(t, 0, false); !tok.Cached {
			t.Fatal("not served from the cache")
		}
	}
	if calls != 0 || f.kr.Gets != reads {
		t.Fatalf("a cached get built %d Keystone clients and read the keychain %d times", calls, f.kr.Gets-reads)
	}
	f.get(t, 0, true)
	if calls != 1 {
		t.Fatalf("a refresh built %d Keystone clients, want 1", calls)
	}
}

func TestEraseLeavesASharedTokenAlone(t *testing.T) {
	f := newFixture(t)
	f.store(t, "a")
	f.store(t, "b") // the same identity and project: one cached token
	tok, err := f.h.Get(context.Background(), GetOptions{Profile: "a", Settings: f.s})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.h.Erase(context.Background(), EraseOptions{Profile: "b", Revoke: true})
	if err != nil || !res.SharedTokenKept || res.Revoked || res.TokensRemoved != 0 || f.ks.Count(http.MethodDelete, "/v3/auth/tokens") != 0 {
		t.Fatalf("erase b: %+v, %v (revocations %d)", res, err, f.ks.Count(http.MethodDelete, "/v3/auth/tokens"))
	}
	again, err := f.h.Get(context.Background(), GetOptions{Profile: "a", Settings: f.s})
	if err != nil || !again.Cached || again.ID() != tok.ID() {
		t.Fatalf("a's token was lost: %+v, %v", again, err)
	}
	// The last profile of the identity takes the token and its lock along.
	res, err = f.h.Erase(context.Background(), EraseOptions{Profile: "a", Revoke: true})
	if err != nil || res.SharedTokenKept || !res.Revoked || res.TokensRemoved != 1 {
		t.Fatalf("erase a: %+v, %v", res, err)
	}
	left, _ := os.ReadDir(f.h.Paths.CacheDir)
	if len(left) != 0 {
		t.Fatalf("files left in the cache: %v", left)
	}
}

func TestEraseSweepsLockFiles(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		name := fmt.Sprintf("p%d", i)
		s := f.s
		s.ProjectID = name
		if _, err := f.h.storeProfile(context.Background(), storeOptions{Profile: name, Settings: s, Secret: goodPassword, Verify: true}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if _, err := f.h.Erase(context.Background(), EraseOptions{Profile: fmt.Sprintf("p%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	locks, _ := filepath.Glob(filepath.Join(f.h.Paths.CacheDir, "*.lock"))
	s := f.s
	s.ProjectID = "p4"
	if len(locks) != 1 || filepath.Base(locks[0]) != cacheKey(s)+".lock" {
		t.Fatalf("lock files left: %v, want only p4's", locks)
	}
}

func TestGetWarnsWhenMinTTLExceedsTheLifetime(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	f.get(t, 2*time.Hour, false)
	if len(f.warns) != 1 || !strings.Contains(f.warns[0], "live 1h0m0s") {
		t.Fatalf("warnings %q", f.warns)
	}
}

func TestGetLooseCacheFileIsReplacedWithWarning(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	f.get(t, 0, false)
	path := f.h.Paths.cachePath(cacheKey(f.s))
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	tok := f.get(t, 0, false)
	if tok.Cached || len(f.warns) != 1 || !strings.Contains(f.warns[0], "lets others read") {
		t.Fatalf("cached=%t warnings=%q", tok.Cached, f.warns)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("replacement has mode %04o", fi.Mode().Perm())
	}
}

func TestGetRefusesAnAlreadyExpiredToken(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	skewed := f.clock.Now().Add(-2 * time.Hour) // Keystone's clock, or the token, is off
	f.ks.SetClock(func() time.Time { return skewed })
	_, err := f.h.Get(context.Background(), GetOptions{Profile: "p", Settings: f.s})
	if !errors.Is(err, ErrClock) || !strings.Contains(err.Error(), "already expired") {
		t.Fatalf("err = %v", err)
	}
	if f.h.Paths.readCacheOnly(f.s) != nil {
		t.Fatal("an expired token was cached")
	}
}

// TestLooseProfileFileIsRefused: a profile file others may read is not
// used; the error says what is wrong (ErrUnsafeFile and ErrLooseMode, the
// file and its mode), and leaves how to mend it to the command line.
func TestLooseProfileFileIsRefused(t *testing.T) {
	f := newFixture(t)
	f.store(t, "p")
	path := f.h.Paths.profilePath("p")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.h.Paths.LoadProfile("p")
	if !errors.Is(err, ErrUnsafeFile) || !errors.Is(err, ErrLooseMode) || !strings.Contains(err.Error(), path+" has mode 0644") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "chmod") {
		t.Errorf("error %q says how to mend it below the edge", err)
	}
}

// TestOneSecretPerIdentity: profiles of one user on different projects
// share one keychain item; a new password replaces it for all; it goes
// with the identity's last profile; a 1.0 item (account = profile name)
// keeps working and moves at the next store.
func TestOneSecretPerIdentity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	store := func(profile, project, password string, replace bool) {
		t.Helper()
		s := f.s
		s.ProjectID = project
		if _, err := f.h.storeProfile(ctx, storeOptions{Profile: profile, Settings: s, Secret: password, Replace: replace, Verify: true}); err != nil {
			t.Fatal(err)
		}
	}
	store("dev", "p1", goodPassword, true)
	store("stage", "p2", goodPassword, false)
	store("prod", "p3", goodPassword, false)
	if len(f.kr.Items) != 1 || f.kr.Items[secretItem(f.s)] != goodPassword {
		t.Fatalf("three profiles of one identity keep %d items", len(f.kr.Items))
	}
	// The password changes: one store with the new one mends every profile.
	f.ks.SetPassword(testUser, "new password")
	store("stage", "p2", "new password", true)
	for _, p := range []string{"dev", "prod"} {
		prof, _ := f.h.Paths.LoadProfile(p)
		if _, err := f.h.Get(ctx, GetOptions{Profile: p, Settings: prof.Settings, Keyring: prof.Keyring, Refresh: true}); err != nil {
			t.Fatalf("%s after the new password: %v", p, err)
		}
	}
	for i, p := range []string{"dev", "stage", "prod"} {
		res, err := f.h.Erase(ctx, EraseOptions{Profile: p})
		last := i == 2
		if err != nil || res.PasswordRemoved != last || res.SharedPasswordKept == last {
			t.Fatalf("erase %s: %+v, %v", p, res, err)
		}
	}
	if len(f.kr.Items) != 0 {
		t.Fatalf("items left: %v", f.kr.Items)
	}

	// A 1.0 profile: its password under the profile's name.
	if _, err := f.h.Paths.saveProfile("old", Profile{Settings: f.s}); err != nil {
		t.Fatal(err)
	}
	f.kr.Items["old"] = "new password"
	prof, _ := f.h.Paths.LoadProfile("old")
	if prof.Keyring != DefaultKeyring {
		t.Fatalf("a 1.0 profile's backend: %q", prof.Keyring)
	}
	if _, err := f.h.Get(ctx, GetOptions{Profile: "old", Settings: prof.Settings, Keyring: prof.Keyring, Refresh: true}); err != nil {
		t.Fatalf("get of a 1.0 profile: %v", err)
	}
	pw, _, err := f.h.FindSecret(f.s, "old", DefaultKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.storeProfile(ctx, storeOptions{Profile: "old", Settings: f.s, Secret: pw, Verify: false, Stored: &prof}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.kr.Items["old"]; ok || len(f.kr.Items) != 1 || f.kr.Items[secretItem(f.s)] != "new password" {
		t.Fatalf("the 1.0 item was not moved: %v", f.kr.Items)
	}
}
