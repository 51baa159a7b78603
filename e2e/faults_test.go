package e2e

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
)

// newFakeKeystone is the shared fake Keystone (internal/keystonetest),
// for what the real one cannot be made to do on demand: the e2e user signs
// in with any password to any project, and its tokens are "fake-token-N".
func newFakeKeystone(t *testing.T, tls bool) *keystonetest.Server {
	f := keystonetest.New
	if tls {
		f = keystonetest.NewTLS
	}
	fake := f(t)
	fake.AddUser(keystonetest.User{Name: ks.Username, AnyPassword: true, AnyProject: true})
	fake.SetTokenPrefix("fake-")
	return fake
}

// faultModes are the faults of TestKeystoneFaults, by name: what the fake
// Keystone answers to the token requests from then on.
func faultModes() map[string][]keystonetest.Fault {
	now := time.Now().UTC()
	body := func(token string) string { return `{"token":` + token + `}` }
	issued := fmt.Sprintf(`"issued_at":%q`, now.Format(time.RFC3339))
	subject := http.Header{"X-Subject-Token": {"t"}}
	return map[string][]keystonetest.Fault{
		"hang": {{Hang: true}},
		// 500, 502, 503, then a token: the fourth and last attempt of the
		// default four succeeds.
		"5xx-then-good":     {{Status: 500, Times: 1}, {Status: 502, Times: 1}, {Status: 503, Times: 1}},
		"503":               {{Status: 503}},
		"429-then-good":     {{Status: 429, RetryAfter: "1", Times: 1}},
		"401":               {{Status: 401, Message: "The request you have made requires authentication."}},
		"no-subject-token":  {{Body: body(fmt.Sprintf(`{%s,"expires_at":%q}`, issued, now.Add(time.Hour).Format(time.RFC3339)))}},
		"truncated":         {{Body: `{"token":{"issued_at":"2026-`, Header: subject}},
		"not-json":          {{Body: `<html>gateway</html>`, Header: subject}},
		"expires-missing":   {{Body: body("{" + issued + "}"), Header: subject}},
		"expires-malformed": {{Body: body("{" + issued + `,"expires_at":"tomorrow"}`), Header: subject}},
		"expires-past": {{Body: body(fmt.Sprintf(`{"issued_at":%q,"expires_at":%q}`, now.Add(-2*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339))),
			Header: subject}},
	}
}

// fault is one case of TestKeystoneFaults.
type fault struct {
	set     func()
	code    int    // the exit status of the refresh; 0 for success
	errCode string // its JSON error code
	hint    string // a substring of its message
	// fake is the fake Keystone whose requests from set on are counted
	// (nil: not counted), wantHits how many it must receive.
	fake     *keystonetest.Server
	wantHits int
	// minElapsed is a lower bound on the refresh's run time (a
	// Retry-After it must honour), 0 for none.
	minElapsed time.Duration
}

// faultCase stores a profile against a fake Keystone, caches a good token,
// sets the fault, and checks a forced refresh: its exit code and message,
// how many requests the fault received, that it ended within the timeout
// plus a margin, and what became of the cache and the keychain. A failed
// refresh must leave every cache file and the keychain as they were and
// the next get must serve the old token; a successful one must cache its
// new token (the next get serves it without a request) and leave the
// keychain as it was.
func faultCase(t *testing.T, s *sandbox, authURL string, c fault, extra ...string) {
	t.Helper()
	profile := s.profileName("fault")
	s.must(ks.Password, append([]string{"store", "--profile", profile, "--auth-url", authURL, "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify"}, extra...)...)
	good := decodeToken(t, s.must("", append([]string{"get", "--profile", profile}, extra...)...))
	cacheDir := filepath.Join(s.home, ".cache")
	cacheBefore := snapshotDir(t, cacheDir)
	keychainBefore := keychainSnapshot(t)
	if !strings.Contains(keychainBefore, strconv.Quote(ks.Password)) {
		t.Fatal("the stored password is not in the keychain")
	}

	if c.fake != nil {
		c.fake.Forget()
	}
	c.set()
	const timeout = 4 * time.Second
	start := time.Now()
	r := s.run(nil, "", append([]string{"get", "--profile", profile, "--refresh", "--timeout", timeout.String()}, extra...)...)
	elapsed := time.Since(start)
	if strings.Contains(r.stdout+r.stderr, ks.Password) {
		t.Fatal("the password appears in the output")
	}
	if c.fake != nil {
		if got := c.fake.Hits(); got != c.wantHits {
			t.Fatalf("the fault received %d requests, want %d\n%s", got, c.wantHits, r)
		}
	}
	// Generous: the bound is the configured timeout, not a speed goal.
	if elapsed > timeout+5*time.Second {
		t.Fatalf("took %s with --timeout %s", elapsed, timeout)
	}
	if elapsed < c.minElapsed {
		t.Fatalf("ended after %s, before the %s it had to wait", elapsed, c.minElapsed)
	}
	if keychainSnapshot(t) != keychainBefore {
		t.Fatal("the refresh changed the keychain")
	}
	cacheAfter := snapshotDir(t, cacheDir)
	if c.code == 0 {
		if r.code != 0 {
			t.Fatalf("want success: %s", r)
		}
		fresh := decodeToken(t, r)
		if fresh.Cached || fresh.Token == good.Token || fresh.Token != c.fake.LastToken() {
			t.Fatalf("the refresh did not return the token issued under the fault: %+v (old %q)", fresh, good.Token)
		}
		if bytes.Equal(cacheAfter, cacheBefore) {
			t.Fatal("the successful refresh did not update the token cache")
		}
		hits := c.fake.Hits()
		next := decodeToken(t, s.must("", append([]string{"get", "--profile", profile}, extra...)...))
		if !next.Cached || next.Token != fresh.Token || c.fake.Hits() != hits {
			t.Fatalf("the next get did not serve the refreshed token from the cache: %+v", next)
		}
		return
	}
	wantError(t, r, c.code, c.errCode, true, c.hint)
	if !bytes.Equal(cacheAfter, cacheBefore) {
		t.Fatalf("the failed refresh changed the token cache:\nbefore:\n%s\nafter:\n%s", cacheBefore, cacheAfter)
	}
	if got := decodeToken(t, s.must("", append([]string{"get", "--profile", profile}, extra...)...)); !got.Cached || got.Token != good.Token {
		t.Fatal("the good cached token was lost")
	}
}

// snapshotDir returns every entry under dir: its path, type and mode, and
// a regular file's contents. A missing dir is an empty snapshot; any other
// error fails the test.
func snapshotDir(t *testing.T, dir string) []byte {
	t.Helper()
	var b bytes.Buffer
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %s\n", path, fi.Mode())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%q\n", data)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot of %s: %v", dir, err)
	}
	return b.Bytes()
}

func TestKeystoneFaults(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	cases := []struct {
		mode          string
		code          int
		errCode, hint string
		hits          int
		minGap        time.Duration
	}{
		// Answers that never come: one request, cut off by --timeout.
		{"hang", 5, "keystone_unavailable", "timed out", 1, 0},
		// 503 every time: the default 4 attempts, then exit 5.
		{"503", 5, "keystone_unavailable", "503", 4, 0},
		// 500, 502, 503, then a token on the fourth attempt.
		{"5xx-then-good", 0, "", "", 4, 0},
		// 429 with Retry-After: 1, then a token a second later.
		{"429-then-good", 0, "", "", 2, time.Second},
		// Answers a retry cannot mend: exactly one request.
		{"401", 4, "auth_failed", "store", 1, 0},
		{"no-subject-token", 5, "keystone_unavailable", "X-Subject-Token", 1, 0},
		{"truncated", 5, "keystone_unavailable", "malformed", 1, 0},
		{"not-json", 5, "keystone_unavailable", "malformed", 1, 0},
		{"expires-missing", 5, "keystone_unavailable", "expires_at", 1, 0},
		{"expires-malformed", 5, "keystone_unavailable", "expires_at", 1, 0},
		{"expires-past", 5, "keystone_unavailable", "expired", 1, 0},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			f := newFakeKeystone(t, false)
			faults, ok := faultModes()[c.mode]
			if !ok {
				t.Fatalf("no fault %q", c.mode)
			}
			faultCase(t, s, f.URL+"/v3", fault{
				set: func() {
					for _, fault := range faults {
						f.Fail(fault)
					}
				},
				code: c.code, errCode: c.errCode, hint: c.hint, fake: f, wantHits: c.hits, minElapsed: c.minGap,
			})
			if c.minGap > 0 {
				// The retry itself came no sooner than Retry-After.
				reqs := f.Requests()
				if len(reqs) < 2 {
					t.Fatalf("%d requests, want a retry", len(reqs))
				}
				if gap := reqs[1].Arrived.Sub(reqs[0].Arrived); gap < c.minGap {
					t.Fatalf("retried %s after the first answer, before its Retry-After of %s", gap, c.minGap)
				}
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		f := newFakeKeystone(t, false)
		// Nothing listens any more, so there is nothing to count.
		faultCase(t, s, f.URL+"/v3", fault{set: func() { f.Close() }, code: 5, errCode: "keystone_unavailable", hint: "127.0.0.1"})
	})
	t.Run("redirect to another host", func(t *testing.T) {
		f := newFakeKeystone(t, false)
		other := newFakeKeystone(t, false)
		redirect := keystonetest.Fault{Status: http.StatusTemporaryRedirect, Header: http.Header{"Location": {other.URL + "/v3/auth/tokens"}}}
		faultCase(t, s, f.URL+"/v3", fault{set: func() { f.Fail(redirect) }, code: 5, errCode: "keystone_unavailable",
			hint: "redirect", fake: f, wantHits: 1})
		if other.Hits() != 0 || other.Conns() != 0 {
			t.Fatal("the redirect was followed: the password went to another host")
		}
	})
}

func TestKeystoneTLS(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	f := newFakeKeystone(t, true)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw}), 0o600)

	// Unknown CA: refused, and the message says what to do.
	profile := s.profileName("tls")
	s.must(ks.Password, "store", "--profile", profile, "--auth-url", f.URL+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify")
	r := s.run(nil, "", "get", "--profile", profile, "--timeout", "4s")
	wantError(t, r, 5, "keystone_unavailable", true, "--cacert")
	if n := strings.Count(r.stderr, "private CA"); n != 1 {
		t.Fatalf("the private CA hint is said %d times, want once: %q", n, r.stderr)
	}
	// The same with the CA given: works, by flag and by OS_CACERT.
	if r := s.run(nil, "", "get", "--profile", profile, "--cacert", caFile); r.code != 0 {
		t.Fatalf("--cacert: %s", r)
	}
	if r := s.run([]string{"OS_CACERT=" + caFile}, "", "get", "--profile", profile, "--refresh"); r.code != 0 {
		t.Fatalf("OS_CACERT: %s", r)
	}
	// Wrong host name: the test certificate is for 127.0.0.1 and
	// example.com, not localhost.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.URL, "https://"))
	wrong := s.profileName("tlsname")
	s.must(ks.Password, "store", "--profile", wrong, "--auth-url", "https://localhost:"+port+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify")
	wantError(t, s.run(nil, "", "get", "--profile", wrong, "--cacert", caFile, "--timeout", "4s"), 5, "keystone_unavailable", true, "localhost")
}
