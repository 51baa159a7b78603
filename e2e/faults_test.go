package e2e

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// faultyKeystone is a fake Keystone for what the real one cannot be made
// to do on demand. It answers tokens well until mode is set.
type faultyKeystone struct {
	*httptest.Server
	mode    atomic.Value // string
	hits    atomic.Int32
	release chan struct{}
}

func newFaultyKeystone(t *testing.T, tls bool) *faultyKeystone {
	f := &faultyKeystone{release: make(chan struct{})}
	f.mode.Store("good")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.hits.Add(1)
		now := time.Now().UTC()
		good := func() {
			w.Header().Set("X-Subject-Token", fmt.Sprintf("fake-token-%d-%d", n, now.UnixNano()))
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token":{"issued_at":%q,"expires_at":%q,"catalog":[]}}`,
				now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		}
		switch mode := f.mode.Load().(string); mode {
		case "good":
			good()
		case "hang":
			select {
			case <-f.release:
			case <-r.Context().Done():
			}
		case "5xx-then-good":
			if n%4 != 0 {
				w.WriteHeader([]int{500, 502, 503}[n%3])
				return
			}
			good()
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "429-then-good":
			if n%2 == 1 {
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
	if tls {
		f.Server = httptest.NewTLSServer(h)
	} else {
		f.Server = httptest.NewServer(h)
	}
	t.Cleanup(func() { close(f.release); f.Close() })
	return f
}

// faultCase stores a profile against fake, caches a good token, sets the
// fault, and checks a forced refresh: its exit code, its message, that it
// ended within the timeout plus a margin, and that neither the cached
// token nor the stored password changed.
func faultCase(t *testing.T, s *sandbox, authURL string, setFault func(), wantCode int, wantErr, hint string, extra ...string) {
	t.Helper()
	profile := s.profileName("fault")
	s.must(ks.Password, append([]string{"store", "--profile", profile, "--auth-url", authURL, "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify"}, extra...)...)
	good := decodeToken(t, s.must("", append([]string{"get", "--profile", profile}, extra...)...))
	cacheBefore := snapshotDir(t, filepath.Join(s.home, ".cache"))

	setFault()
	const timeout = 4 * time.Second
	start := time.Now()
	r := s.run(nil, "", append([]string{"get", "--profile", profile, "--refresh", "--timeout", timeout.String()}, extra...)...)
	elapsed := time.Since(start)
	if wantCode == 0 {
		if r.code != 0 {
			t.Fatalf("want success: %s", r)
		}
		return
	}
	wantError(t, r, wantCode, wantErr, true, hint)
	if strings.Contains(r.stdout+r.stderr, ks.Password) {
		t.Fatal("the password appears in the output")
	}
	// Generous: the bound is the configured timeout, not a speed goal.
	if elapsed > timeout+5*time.Second {
		t.Fatalf("took %s with --timeout %s", elapsed, timeout)
	}
	if after := snapshotDir(t, filepath.Join(s.home, ".cache")); !bytes.Equal(after, cacheBefore) {
		t.Fatal("the failed refresh changed the token cache")
	}
	if pw, ok := secretToolLookup(t, profile); !ok || pw != ks.Password {
		t.Fatal("the stored password changed")
	}
	if got := decodeToken(t, s.must("", append([]string{"get", "--profile", profile}, extra...)...)); got.Token != good.Token {
		t.Fatal("the good cached token was lost")
	}
}

// snapshotDir returns the names and contents of the JSON files under dir.
func snapshotDir(t *testing.T, dir string) []byte {
	t.Helper()
	var b bytes.Buffer
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && strings.HasSuffix(path, ".json") {
			data, _ := os.ReadFile(path)
			fmt.Fprintf(&b, "%s %o\n%s\n", path, fi.Mode().Perm(), data)
		}
		return nil
	})
	return b.Bytes()
}

func TestKeystoneFaults(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	cases := []struct {
		mode          string
		code          int
		errCode, hint string
	}{
		{"hang", 5, "keystone_unavailable", "timed out"},
		{"503", 5, "keystone_unavailable", "503"},
		{"5xx-then-good", 0, "", ""},
		{"429-then-good", 0, "", ""},
		{"401", 4, "auth_failed", "store"},
		{"no-subject-token", 5, "keystone_unavailable", "X-Subject-Token"},
		{"truncated", 5, "keystone_unavailable", "malformed"},
		{"not-json", 5, "keystone_unavailable", "malformed"},
		{"expires-missing", 5, "keystone_unavailable", "expires_at"},
		{"expires-malformed", 5, "keystone_unavailable", "expires_at"},
		{"expires-past", 5, "keystone_unavailable", "expired"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			f := newFaultyKeystone(t, false)
			faultCase(t, s, f.URL+"/v3", func() { f.mode.Store(c.mode) }, c.code, c.errCode, c.hint)
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		f := newFaultyKeystone(t, false)
		faultCase(t, s, f.URL+"/v3", func() { f.Close() }, 5, "keystone_unavailable", "127.0.0.1")
	})
	t.Run("redirect to another host", func(t *testing.T) {
		f := newFaultyKeystone(t, false)
		other := newFaultyKeystone(t, false)
		faultCase(t, s, f.URL+"/v3", func() { f.mode.Store("redirect:" + other.URL) }, 5, "keystone_unavailable", "redirect")
		if other.hits.Load() != 0 {
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
