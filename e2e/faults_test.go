package e2e

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultyKeystone is a fake Keystone for what the real one cannot be made
// to do on demand. It answers tokens well until a fault mode is set.
type faultyKeystone struct {
	*httptest.Server
	mode atomic.Value // string
	// hits counts every request; faultHits only those that arrived while
	// a fault mode was set, so a case's count starts at the fault.
	hits, faultHits atomic.Int32
	// conns counts the TCP connections accepted.
	conns   atomic.Int32
	mu      sync.Mutex
	times   []time.Time // arrival of each fault hit
	release chan struct{}
}

// setMode sets the fault mode: from then on requests count in faultHits
// (a mode other than "good" is set once per server).
func (f *faultyKeystone) setMode(mode string) {
	f.mode.Store(mode)
}

// faultTimes returns the arrival time of each request of the fault mode.
func (f *faultyKeystone) faultTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.times...)
}

func newFaultyKeystone(t *testing.T, tls bool) *faultyKeystone {
	f := &faultyKeystone{release: make(chan struct{})}
	f.mode.Store("good")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The whole request is read first, so that the context ends
		// when the client goes away (a hanging answer stops then).
		io.Copy(io.Discard, r.Body)
		n := f.hits.Add(1)
		mode := f.mode.Load().(string)
		k := int32(0) // this request's number since the fault was set
		if mode != "good" {
			k = f.faultHits.Add(1)
			f.mu.Lock()
			f.times = append(f.times, time.Now())
			f.mu.Unlock()
		}
		now := time.Now().UTC()
		good := func() {
			w.Header().Set("X-Subject-Token", fmt.Sprintf("fake-token-%s-%d-%d", mode, n, now.UnixNano()))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":{"issued_at":%q,"expires_at":%q,"catalog":[]}}`,
				now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		}
		switch mode {
		case "good":
			good()
		case "hang":
			select {
			case <-f.release:
			case <-r.Context().Done():
			}
		case "5xx-then-good":
			// 500, 502, 503, then a token: the fourth and last attempt
			// of the default four succeeds.
			if k <= 3 {
				w.WriteHeader([]int{500, 502, 503}[k-1])
				return
			}
			good()
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "429-then-good":
			if k == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			good()
		case "401":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`)
		case "no-subject-token":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":{"issued_at":%q,"expires_at":%q}}`, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		case "truncated":
			w.Header().Set("X-Subject-Token", "t")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"token":{"issued_at":"2026-`)
		case "not-json":
			w.Header().Set("X-Subject-Token", "t")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `<html>gateway</html>`)
		case "expires-missing":
			w.Header().Set("X-Subject-Token", "t")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":{"issued_at":%q}}`, now.Format(time.RFC3339))
		case "expires-malformed":
			w.Header().Set("X-Subject-Token", "t")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":{"issued_at":%q,"expires_at":"tomorrow"}}`, now.Format(time.RFC3339))
		case "expires-past":
			w.Header().Set("X-Subject-Token", "t")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":{"issued_at":%q,"expires_at":%q}}`, now.Add(-2*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339))
		default:
			if target, ok := strings.CutPrefix(mode, "redirect:"); ok {
				http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
				return
			}
			t.Errorf("unknown mode %q", mode)
		}
	})
	f.Server = httptest.NewUnstartedServer(h)
	f.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			f.conns.Add(1)
		}
	}
	if tls {
		f.StartTLS()
	} else {
		f.Start()
	}
	t.Cleanup(func() { close(f.release); f.Close() })
	return f
}

// fault is one case of TestKeystoneFaults.
type fault struct {
	set      func()
	code     int    // the exit status of the refresh; 0 for success
	errCode  string // its JSON error code
	hint     string // a substring of its message
	hits     func() int32
	wantHits int32 // requests the fault mode received; -1: not counted
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

	c.set()
	const timeout = 4 * time.Second
	start := time.Now()
	r := s.run(nil, "", append([]string{"get", "--profile", profile, "--refresh", "--timeout", timeout.String()}, extra...)...)
	elapsed := time.Since(start)
	if strings.Contains(r.stdout+r.stderr, ks.Password) {
		t.Fatal("the password appears in the output")
	}
	if c.wantHits >= 0 {
		if got := c.hits(); got != c.wantHits {
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
		if fresh.Cached || fresh.Token == good.Token || !strings.HasPrefix(fresh.Token, "fake-token-") || strings.HasPrefix(fresh.Token, "fake-token-good-") {
			t.Fatalf("the refresh did not return the token issued under the fault: %+v (old %q)", fresh, good.Token)
		}
		if bytes.Equal(cacheAfter, cacheBefore) {
			t.Fatal("the successful refresh did not update the token cache")
		}
		hits := c.hits()
		next := decodeToken(t, s.must("", append([]string{"get", "--profile", profile}, extra...)...))
		if !next.Cached || next.Token != fresh.Token || c.hits() != hits {
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
		hits          int32
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
			f := newFaultyKeystone(t, false)
			faultCase(t, s, f.URL+"/v3", fault{
				set: func() { f.setMode(c.mode) }, code: c.code, errCode: c.errCode, hint: c.hint,
				hits: f.faultHits.Load, wantHits: c.hits, minElapsed: c.minGap,
			})
			if c.minGap > 0 {
				// The retry itself came no sooner than Retry-After.
				times := f.faultTimes()
				if len(times) < 2 {
					t.Fatalf("%d requests, want a retry", len(times))
				}
				if gap := times[1].Sub(times[0]); gap < c.minGap {
					t.Fatalf("retried %s after the first answer, before its Retry-After of %s", gap, c.minGap)
				}
			}
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		f := newFaultyKeystone(t, false)
		// Nothing listens any more, so there is nothing to count.
		faultCase(t, s, f.URL+"/v3", fault{set: func() { f.Close() }, code: 5, errCode: "keystone_unavailable", hint: "127.0.0.1", wantHits: -1})
	})
	t.Run("redirect to another host", func(t *testing.T) {
		f := newFaultyKeystone(t, false)
		other := newFaultyKeystone(t, false)
		faultCase(t, s, f.URL+"/v3", fault{set: func() { f.setMode("redirect:" + other.URL) }, code: 5, errCode: "keystone_unavailable",
			hint: "redirect", hits: f.faultHits.Load, wantHits: 1})
		if other.hits.Load() != 0 || other.conns.Load() != 0 {
			t.Fatal("the redirect was followed: the password went to another host")
		}
	})
}

func TestKeystoneTLS(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	f := newFaultyKeystone(t, true)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw}), 0o600)

	// Unknown CA: refused, and the message says what to do.
	profile := s.profileName("tls")
	s.must(ks.Password, "store", "--profile", profile, "--auth-url", f.URL+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify")
	wantError(t, s.run(nil, "", "get", "--profile", profile, "--timeout", "4s"), 5, "keystone_unavailable", true, "--cacert")
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
