package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests follow what a first-time user and a security review
// tripped over, against the real Keystone and Secret Service.

// TestEraseOfOneProfileKeepsTheSharedToken: two profiles of one identity
// share one token; erasing one (even with --revoke) leaves it working for
// the other, and the last one takes it along.
func TestEraseOfOneProfileKeepsTheSharedToken(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	a, b := s.profileName("shared-a"), s.profileName("shared-b")
	s.store(a)
	s.store(b)
	tok := decodeToken(t, s.must("", "get", "--profile", a)).Token
	r := s.must("", "erase", "--profile", b, "--revoke")
	if !strings.Contains(r.stdout, `"shared_token_kept":true`) || !strings.Contains(r.stdout, `"revoked":false`) || !strings.Contains(r.stderr, "still uses the cached token") {
		t.Fatalf("erase of b: %s", r)
	}
	if code := validate(t, tok); code != 200 {
		t.Fatalf("a's token no longer validates in Keystone: %d", code)
	}
	if got := decodeToken(t, s.must("", "get", "--profile", a)); !got.Cached || got.Token != tok {
		t.Fatalf("a lost its cached token: %+v", got)
	}
	r = s.must("", "erase", "--profile", a, "--revoke")
	// A revoked token is its own caller too: Keystone answers 401 or 404.
	if code := validate(t, tok); !strings.Contains(r.stdout, `"revoked":true`) || (code != 401 && code != 404) {
		t.Fatalf("the last profile must revoke the token (validate: %d): %s", code, r)
	}
}

// countingListener listens on a loopback port and counts the
// connections it gets (closing each at once) until the test ends.
func countingListener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), conns
}

// TestRequestCannotRedirectTheStoredPassword: a request naming another
// auth URL or user for a stored profile is refused before anything is
// sent: the listener it names sees no connection.
func TestRequestCannotRedirectTheStoredPassword(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("redirect")
	s.store(p)
	addr, conns := countingListener(t)
	for _, req := range []string{
		`{"auth_url":"http://` + addr + `/v3","username":"mallory"}`,
		`{"auth_url":"http://` + addr + `/v3"}`,
		`{"username":"mallory"}`,
	} {
		r := s.run(nil, req, "get", "--profile", p, "--refresh")
		wantError(t, r, 2, "usage", true, "differs from the stored profile")
	}
	if conns.Load() != 0 {
		t.Fatalf("the other host got %d connections", conns.Load())
	}
}

// TestLoopbackKeystoneIsNeverProxied: with HTTP_PROXY set, a loopback
// http:// auth URL (however its host is spelled) is reached directly.
func TestLoopbackKeystoneIsNeverProxied(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	addr, conns := countingListener(t)
	u, _ := url.Parse(ks.AuthURL)
	proxy := []string{"HTTP_PROXY=http://" + addr, "http_proxy=http://" + addr, "NO_PROXY=", "no_proxy="}
	for _, host := range []string{"LOCALHOST", "localhost."} {
		p := s.profileName("proxy")
		authURL := "http://" + host + ":" + u.Port() + u.Path
		r := s.run(proxy, ks.Password, "store", "--profile", p, "--auth-url", authURL, "--project-id", ks.ProjectID,
			"--username", ks.Username, "--user-domain-name", ks.Domain, "--password-stdin")
		if r.code != 0 || !strings.Contains(r.stdout, `"auth_url":"http://localhost:`) {
			t.Fatalf("store via %s: %s", host, r)
		}
	}
	if conns.Load() != 0 {
		t.Fatalf("the proxy got %d connections", conns.Load())
	}
}

// TestChangingASettingNeedsNoPassword: store on a stored profile with a
// new region asks for nothing (stdin empty, no terminal) and proves the
// stored password again.
func TestChangingASettingNeedsNoPassword(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("region")
	s.store(p)
	before := tokenPosts(t)
	r := s.must("", "store", "--profile", p, "--region", "RegionTwo")
	var a struct {
		Region   string `json:"region"`
		Verified bool   `json:"verified"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || a.Region != "RegionTwo" || !a.Verified || tokenPosts(t) != before+1 {
		t.Fatalf("%s (posts %d)", r, tokenPosts(t)-before)
	}
}

// TestErrorOnATerminalIsShownOnce: with stdout a terminal, the error is
// the stderr line alone, not also the JSON object meant for programs.
func TestErrorOnATerminalIsShownOnce(t *testing.T) {
	needKeystone(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script (util-linux) is needed")
	}
	s := newSandbox(t)
	// script gives the command a terminal; its output is what the
	// terminal showed.
	r := s.runCmd(exec.Command(script, "-qec", binary+" get --no-stdin --profile ghost-terminal", "/dev/null"), nil, "")
	if strings.Count(r.stdout, "no profile") != 1 || strings.Contains(r.stdout, `"error"`) {
		t.Fatalf("the terminal showed: %q", r.stdout)
	}
	// Piped, the JSON error is there for the program reading stdout.
	wantError(t, s.run(nil, "", "get", "--profile", "ghost-terminal"), 3, "not_found", true, "no profile")
}

// TestOnePasswordManyProjects: two, then three profiles of one user on
// different projects keep one keychain item; the second store reads no
// password; the admin changes the password and one store with the new one
// mends every profile; erasing all but one keeps the item, the last
// removes it; a 1.0 item (account = profile name) is migrated.
func TestOnePasswordManyProjects(t *testing.T) {
	needKeystone(t)
	adm := newAdmin(t)
	name := fmt.Sprintf("many.%d@example.com", time.Now().UnixNano())
	pw, newPW := "first pass "+name, "second pass "+name
	uid := adm.newUser(name, pw, ks.ProjectID, ks.Project2ID)
	item := identityItem(ks.AuthURL, ks.Domain, name)

	s := newSandbox(t)
	store := func(profile, project, password string) result {
		t.Helper()
		args := []string{"store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", project, "--username", name}
		if password != "" {
			args = append(args, "--password-stdin")
		}
		return s.must(password, args...)
	}
	a, b, c := s.profileName("many-a"), s.profileName("many-b"), s.profileName("many-c")
	store(a, ks.ProjectID, pw)
	if got := s.itemOf(a); got != item {
		t.Fatalf("list names item %q, want %q", got, item)
	}
	before := tokenPosts(t)
	for _, p := range []string{b, c} {
		// stdin empty and no terminal: nothing could be typed.
		if r := store(p, ks.Project2ID, ""); !strings.Contains(r.stdout, `"verified":true`) {
			t.Fatalf("store %s: %s", p, r)
		}
	}
	if tokenPosts(t) != before+2 {
		t.Fatalf("two stores proved the stored password with %d token requests", tokenPosts(t)-before)
	}
	if n := strings.Count(keychainSnapshot(t), strconv.Quote(item)); n != 1 {
		t.Fatalf("%d keychain items for one identity", n)
	}

	// The admin changes the password; one store with the new one mends all.
	adm.do("PATCH", "/users/"+uid, map[string]any{"user": map[string]any{"password": newPW}}, nil, 200)
	time.Sleep(1100 * time.Millisecond) // Keystone's revocation events have one-second precision
	wantError(t, s.run(nil, "", "get", "--profile", a, "--refresh"), 4, "auth_failed", true, "store")
	s.must(newPW, "store", "--profile", b, "--password-stdin")
	for _, p := range []string{a, c} {
		if a := decodeToken(t, s.must("", "get", "--profile", p, "--refresh")); a.Cached {
			t.Fatalf("%s: no fresh token", p)
		}
	}
	if got, _ := secretToolLookup(t, item); got != newPW {
		t.Fatal("the item does not hold the new password")
	}

	for _, p := range []string{a, b} {
		if r := s.must("", "erase", "--profile", p); !strings.Contains(r.stdout, `"shared_password_kept":true`) {
			t.Fatalf("erase %s: %s", p, r)
		}
		if _, ok := secretToolLookup(t, item); !ok {
			t.Fatalf("the item went with %s, not the last profile", p)
		}
	}
	if r := s.must("", "erase", "--profile", c); !strings.Contains(r.stdout, `"password_removed":true`) {
		t.Fatalf("erase of the last profile: %s", r)
	}
	if _, ok := secretToolLookup(t, item); ok {
		t.Fatal("the item outlived the identity's last profile")
	}

	// A profile stored by 1.0: its settings file without a backend, its
	// password under the profile's name.
	old := s.profileName("one-oh")
	dir := filepath.Join(s.home, ".config", "vkc-credential", "profiles")
	os.MkdirAll(dir, 0o700)
	prof, _ := json.Marshal(map[string]any{"version": 1, "profile": old, "auth_url": ks.AuthURL, "project_id": ks.ProjectID,
		"username": name, "user_domain_name": ks.Domain, "region": "RegionOne", "interface": "public"})
	if err := os.WriteFile(filepath.Join(dir, old+".json"), prof, 0o600); err != nil {
		t.Fatal(err)
	}
	st := exec.Command("secret-tool", "store", "--label", "vkc-credential 1.0", "service", "vkc-credential", "username", old)
	st.Stdin = strings.NewReader(newPW)
	if out, err := st.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v\n%s", err, out)
	}
	s.must("", "get", "--profile", old, "--refresh")
	s.must("", "store", "--profile", old, "--region", "RegionOne")
	if _, ok := secretToolLookup(t, old); ok {
		t.Fatal("the 1.0 item is still there after store")
	}
	if got, ok := secretToolLookup(t, item); !ok || got != newPW {
		t.Fatal("the 1.0 item did not move to the identity's item")
	}
}
