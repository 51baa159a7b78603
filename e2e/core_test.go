package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeOpenRC writes VK Cloud's openrc v3 file, as downloaded, with the
// e2e user's settings in it.
func writeOpenRC(t *testing.T, dir string) string {
	t.Helper()
	tmpl, err := os.ReadFile("../helper/testdata/vk-openrc-v3.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := string(tmpl)
	s = strings.ReplaceAll(s, "https://infra.mail.ru:35357/v3/", ks.AuthURL)
	s = strings.ReplaceAll(s, "b5b7ffd4ef0547e5b222f44500000000", ks.ProjectID)
	s = strings.ReplaceAll(s, "user@example.com", ks.Username)
	path := filepath.Join(dir, "prod-openrc.sh")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOpenRCStoreGetEraseLifecycle(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("life")
	openrc := writeOpenRC(t, t.TempDir())

	posts0 := tokenPosts(t)
	r := s.must(ks.Password, "store", "--profile", profile, "--openrc", openrc, "--password-stdin")
	var stored struct {
		Profile, AuthURL, ProjectID, Username, UserDomainName string
		Stored, Verified                                      bool
	}
	json.Unmarshal([]byte(strings.ReplaceAll(r.stdout, "_", "")), &stored)
	if !stored.Stored || !stored.Verified || stored.ProjectID != ks.ProjectID || stored.Username != ks.Username || stored.UserDomainName != "users" {
		t.Fatalf("store answer: %s", r.stdout)
	}
	if got := tokenPosts(t) - posts0; got != 1 {
		t.Fatalf("store made %d token requests, want 1 (the verification)", got)
	}
	if pw, ok := secretToolLookup(t, e2eItem()); !ok || pw != ks.Password {
		t.Fatalf("the Secret Service does not hold the password (found=%t)", ok)
	}
	if hits := filesContaining(t, s.home, ks.Password); len(hits) > 0 {
		t.Fatalf("the password is on disk: %v", hits)
	}

	// A forced fresh token, then the same token from the cache.
	posts1 := tokenPosts(t)
	fresh := decodeToken(t, s.must("", "get", "--profile", profile, "--refresh"))
	if fresh.Cached || fresh.Profile != profile || fresh.ProjectID != ks.ProjectID || fresh.Region != "RegionOne" {
		t.Fatalf("fresh answer: %+v", fresh)
	}
	if got := tokenPosts(t) - posts1; got != 1 {
		t.Fatalf("get --refresh made %d token requests, want 1", got)
	}
	if life := fresh.ExpiresAt.Sub(fresh.IssuedAt); life != time.Hour {
		t.Fatalf("token lifetime %s, want 1h (Keystone's default)", life)
	}
	cached := decodeToken(t, s.must("", "get", "--profile", profile))
	if !cached.Cached || cached.Token != fresh.Token || !cached.ExpiresAt.Equal(fresh.ExpiresAt) {
		t.Fatalf("second get: cached=%t same=%t", cached.Cached, cached.Token == fresh.Token)
	}
	bare := s.must("", "get", "--profile", profile, "--format", "token")
	if bare.stdout != fresh.Token+"\n" {
		t.Fatalf("--format token printed %q", bare.stdout)
	}
	if got := tokenPosts(t) - posts1; got != 1 {
		t.Fatalf("cached gets reached Keystone: %d token requests, want 1", got)
	}
	if code := validate(t, cached.Token); code != 200 {
		t.Fatalf("Keystone says the token is not valid: HTTP %d", code)
	}

	// list shows the profile and its token's expiry, and no secret.
	l := s.must("", "list")
	var list []map[string]any
	if err := json.Unmarshal([]byte(l.stdout), &list); err != nil || len(list) != 1 || list[0]["profile"] != profile || list[0]["expires_at"] == nil {
		t.Fatalf("list: %s", l.stdout)
	}
	if strings.Contains(l.stdout, cached.Token) || strings.Contains(l.stdout, ks.Password) {
		t.Fatal("list shows a secret")
	}

	// The cache file and its directory are private.
	cacheDir := filepath.Join(s.home, ".cache", "vkc-credential")
	for _, p := range append(glob(t, cacheDir, "*.json"), glob(t, filepath.Join(s.home, ".config", "vkc-credential", "profiles"), "*.json")...) {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", p, fi.Mode().Perm())
		}
	}
	for _, d := range []string{cacheDir, filepath.Join(s.home, ".config", "vkc-credential")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700 (%v)", d, fi.Mode().Perm(), err)
		}
	}

	e := s.must("", "erase", "--profile", profile)
	if !strings.Contains(e.stdout, `"password_removed":true`) || !strings.Contains(e.stdout, `"tokens_removed":1`) {
		t.Fatalf("erase answer: %s", e.stdout)
	}
	if _, ok := secretToolLookup(t, e2eItem()); ok {
		t.Fatal("the password is still in the Secret Service")
	}
	if left := glob(t, cacheDir, "*.json"); len(left) > 0 {
		t.Fatalf("cached tokens left after erase: %v", left)
	}
	wantError(t, s.run(nil, "", "get", "--profile", profile), 3, "not_found", true, "store")
	wantError(t, s.run(nil, "", "erase", "--profile", profile), 3, "not_found", true, profile)
}

func glob(t *testing.T, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWrongPasswordIsNotStored(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("wrongpw")
	wrong := ks.Password + "-not"
	r := s.run(nil, wrong, "store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--password-stdin")
	wantError(t, r, 4, "auth_failed", true, "store")
	if strings.Contains(r.stdout+r.stderr, wrong) {
		t.Fatal("the password appears in the output")
	}
	if _, ok := secretToolLookup(t, e2eItem()); ok {
		t.Fatal("a rejected password was stored")
	}
	if _, err := os.Stat(filepath.Join(s.home, ".config", "vkc-credential", "profiles", profile+".json")); !os.IsNotExist(err) {
		t.Fatalf("a profile was saved for a rejected password: %v", err)
	}
	wantError(t, s.run(nil, "", "get", "--profile", profile), 3, "not_found", true, "store")

	// A good password stored before is kept when a wrong one is offered.
	s.store(profile)
	r = s.run(nil, wrong, "store", "--profile", profile, "--password-stdin")
	wantError(t, r, 4, "auth_failed", true, "store")
	if pw, ok := secretToolLookup(t, e2eItem()); !ok || pw != ks.Password {
		t.Fatal("a rejected password replaced the good one")
	}
}

func TestParallelColdGetsShareOneIssuance(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("par")
	s.store(profile, "--no-verify")
	const n = 20
	before := tokenPosts(t)
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.run(nil, "", "get", "--profile", profile, "--format", "token")
		}()
	}
	wg.Wait()
	if got := tokenPosts(t) - before; got != 1 {
		t.Fatalf("%d parallel cold gets made %d token requests, want 1", n, got)
	}
	for i, r := range results {
		if r.code != 0 || r.stdout != results[0].stdout {
			t.Fatalf("caller %d: %s (first: %q)", i, r, results[0].stdout)
		}
	}
	if validate(t, strings.TrimSpace(results[0].stdout)) != 200 {
		t.Fatal("the shared token is not valid")
	}
}

func TestRequestOnStdin(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("req")
	// store entirely from a JSON request, password included.
	req, _ := json.Marshal(map[string]any{"version": 1, "profile": profile, "auth_url": ks.AuthURL,
		"project_id": ks.ProjectID, "username": ks.Username, "user_domain_name": ks.Domain, "password": ks.Password})
	s.must(string(req), "store")
	r := s.must(fmt.Sprintf(`{"version":1,"profile":%q,"min_ttl_seconds":60}`, profile), "get")
	if a := decodeToken(t, r); !a.Cached || a.Profile != profile {
		t.Fatalf("get from a request: %+v", a)
	}
	// A password in a get request is refused before anything else.
	wantError(t, s.run(nil, fmt.Sprintf(`{"profile":%q,"password":"x"}`, profile), "get"), 2, "usage", true, "password")
	// The flag wins over the request's profile.
	wantError(t, s.run(nil, `{"profile":"nobody-here"}`, "get", "--profile", "also-nobody"), 3, "not_found", true, "also-nobody")
}

func TestStoreWithoutPasswordSourceFails(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("notty")
	r := s.run(nil, "", "store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID, "--username", ks.Username)
	wantError(t, r, 2, "usage", true, "--password-stdin")
	if _, ok := secretToolLookup(t, e2eItem()); ok {
		t.Fatal("something was stored")
	}
}

func TestRevokeOnErase(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("revoke")
	s.store(profile)
	tok := decodeToken(t, s.must("", "get", "--profile", profile)).Token
	if validate(t, tok) != 200 {
		t.Fatal("token not valid before revoke")
	}
	r := s.must("", "erase", "--profile", profile, "--revoke")
	if !strings.Contains(r.stdout, `"revoked":true`) {
		t.Fatalf("erase --revoke: %s", r.stdout)
	}
	// Checked with itself as the caller's token, a revoked token is
	// refused outright (401); 404 would mean "unknown subject".
	if code := validate(t, tok); code != 401 && code != 404 {
		t.Fatalf("revoked token validates with HTTP %d, want 401 or 404", code)
	}
}

// TestRevokeWithUnreadableCACert (issue 15): erase --revoke whose
// revocation fails because the --cacert file cannot be read still erases
// the profile, and exits 5 (keystone_unavailable) like every failed
// revocation, with the CA file's hint; it exited 2 before.
func TestRevokeWithUnreadableCACert(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("revoke-ca")
	s.store(profile)
	tok := decodeToken(t, s.must("", "get", "--profile", profile)).Token
	r := s.run(nil, "", "erase", "--profile", profile, "--revoke", "--cacert", filepath.Join(t.TempDir(), "missing.pem"))
	if r.code != 5 || !strings.Contains(r.stdout, `"erased":true`) || !strings.Contains(r.stdout, `"revoked":false`) ||
		!strings.Contains(r.stderr, "erased here") || strings.Count(r.stderr, "--cacert") != 1 {
		t.Fatalf("want exit 5, the erase's answer, and the CA file's hint:\n%s", r)
	}
	if validate(t, tok) != 200 {
		t.Fatal("the token was revoked, or is gone")
	}
	if r := s.run(nil, "", "get", "--profile", profile); r.code != 3 {
		t.Fatalf("the profile is still there:\n%s", r)
	}
}

func TestMinTTLBeyondTokenLifetimeReturnsFreshToken(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("minttl")
	s.store(profile)
	before := tokenPosts(t)
	a := decodeToken(t, s.must("", "get", "--profile", profile, "--min-ttl", "2h"))
	if a.Cached || tokenPosts(t)-before != 1 {
		t.Fatalf("want exactly one fresh token, got cached=%t posts=%d", a.Cached, tokenPosts(t)-before)
	}
	// At the boundary: the cached token's whole life is an hour, so a
	// min-ttl of 50m is met by the token just issued.
	b := decodeToken(t, s.must("", "get", "--profile", profile, "--min-ttl", "50m"))
	if !b.Cached || b.Token != a.Token {
		t.Fatal("a token with ~1h left must satisfy --min-ttl 50m from the cache")
	}
}

// TestCachedGetNeedsNeitherKeychainNorNetwork: with a token cached, get
// answers from the cache while its Keystone counts every TCP connection
// (none may come) and then while nothing listens on its port at all, with
// a D-Bus address that leads nowhere and with none (any keychain call
// would exit 6). The same get forced past the cache fails with the right
// codes, and the cached token survives.
func TestCachedGetNeedsNeitherKeychainNorNetwork(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	f := newFakeKeystone(t, false)
	profile := s.profileName("offline")
	s.must(ks.Password, "store", "--profile", profile, "--auth-url", f.URL+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify")
	want := decodeToken(t, s.must("", "get", "--profile", profile)).Token
	if f.Hits() != 1 {
		t.Fatalf("the first get made %d token requests, want 1", f.Hits())
	}
	noKeychain := map[string][]string{
		"a bus address that leads nowhere": {"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus"},
		"no bus at all":                    nil,
	}
	withoutBus := func(extra []string) []string {
		var environ []string
		for _, kv := range s.env {
			if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
				environ = append(environ, kv)
			}
		}
		return append(environ, extra...)
	}
	cachedGet := func(state string) {
		t.Helper()
		for name, extra := range noKeychain {
			for _, format := range []string{"token", "json"} {
				r := runProcess(t, exec.Command(binary, "get", "--profile", profile, "--format", format), withoutBus(extra), "", time.Minute)
				if r.code != 0 {
					t.Fatalf("cached get (%s, %s, --format %s): %s", state, name, format, r)
				}
				got := strings.TrimSpace(r.stdout)
				if format == "json" {
					a := decodeToken(t, r)
					if !a.Cached {
						t.Fatalf("cached get (%s, %s): not from the cache: %s", state, name, r.stdout)
					}
					got = a.Token
				}
				if got != want {
					t.Fatalf("cached get (%s, %s): token %q, want %q", state, name, got, want)
				}
			}
		}
	}
	// Keystone listening and counting connections: none come.
	conns, hits := f.Conns(), f.Hits()
	cachedGet("Keystone listening")
	if f.Conns() != conns || f.Hits() != hits {
		t.Fatalf("cached gets opened %d connections to Keystone (%d requests)", f.Conns()-conns, f.Hits()-hits)
	}
	// Keystone gone: nothing listens on its port.
	f.Close()
	cachedGet("Keystone stopped")

	// Forced past the cache, the same calls fail: no network, exit 5;
	// no keychain, exit 6.
	r := s.run(nil, "", "get", "--profile", profile, "--refresh", "--timeout", "3s")
	wantError(t, r, 5, "keystone_unavailable", true, "127.0.0.1")
	r = s.run([]string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus"}, "", "get", "--profile", profile, "--refresh", "--keyring-timeout", "3s")
	wantError(t, r, 6, "keyring_unavailable", true, "Secret Service")
	// And the good cached token survived both failures.
	if got := decodeToken(t, s.must("", "get", "--profile", profile)); !got.Cached || got.Token != want {
		t.Fatal("a failed refresh damaged the cached token")
	}
}

func TestVersionAndUsage(t *testing.T) {
	s := newSandbox(t)
	r := s.must("", "version")
	var v struct {
		Version         int    `json:"version"`
		ProtocolVersion int    `json:"protocol_version"`
		ProgramVersion  string `json:"program_version"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ProtocolVersion != 1 || v.ProgramVersion == "" {
		t.Fatalf("version: %s", r.stdout)
	}
	wantError(t, s.run(nil, "", "get", "--bogus"), 2, "usage", true, "bogus")
	wantError(t, s.run(nil, "", "get", "--format", "token", "--profile", "../x"), 2, "", false, "invalid profile name")
	wantError(t, s.run(nil, "{", "get"), 2, "usage", true, "truncated")
	wantError(t, s.run(nil, "", "nosuchcommand"), 2, "", false, "nosuchcommand")
	// Flags before the command work like flags after it.
	wantError(t, s.run(nil, "", "--profile", "absent", "get"), 3, "not_found", true, "absent")
}
