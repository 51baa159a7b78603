package e2e

import (
	"encoding/json"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
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

// TestRequestCannotRedirectTheStoredPassword: a request naming another
// auth URL or user for a stored profile is refused before anything is
// sent: the listener it names sees no connection.
func TestRequestCannotRedirectTheStoredPassword(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("redirect")
	s.store(p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
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
	for _, req := range []string{
		`{"auth_url":"http://` + ln.Addr().String() + `/v3","username":"mallory"}`,
		`{"auth_url":"http://` + ln.Addr().String() + `/v3"}`,
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
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
	u, _ := url.Parse(ks.AuthURL)
	proxy := []string{"HTTP_PROXY=http://" + ln.Addr().String(), "http_proxy=http://" + ln.Addr().String(), "NO_PROXY=", "no_proxy="}
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
