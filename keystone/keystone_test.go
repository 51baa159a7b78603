package keystone

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The secrets of the tests: none of them may show up in an error or a
// Debugf line.
const (
	testPassword = `pa ss"wörd'`
	testToken    = "gAAAAABnTestTokenThatMustNeverBeLogged-0123456789"
)

// fakeNow is the tests' clock.
var fakeNow = time.Date(2026, 11, 27, 17, 31, 8, 0, time.UTC)

// harness is a Client set up for tests plus what it recorded.
type harness struct {
	t      *testing.T
	c      *Client
	mu     sync.Mutex
	sleeps []time.Duration
	debug  []string
}

// newHarness returns a Client with a fake clock, tiny backoffs, a sleep that
// records instead of waiting, and a Debugf that is checked for secrets when
// the test ends.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t}
	h.c = &Client{
		Now:         func() time.Time { return fakeNow },
		MaxAttempts: 4,
		BaseBackoff: time.Millisecond,
		MaxBackoff:  5 * time.Millisecond,
		Debugf: func(format string, args ...any) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.debug = append(h.debug, fmt.Sprintf(format, args...))
		},
		sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.sleeps = append(h.sleeps, d)
			return ctx.Err()
		},
	}
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.debug) == 0 {
			t.Error("Debugf was never called")
		}
		for _, line := range h.debug {
			assertNoSecrets(t, "Debugf line", line)
		}
	})
	return h
}

// recordedSleeps returns the waits the Client asked for.
func (h *harness) recordedSleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

// assertNoSecrets fails the test when s holds the password or the token.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testPassword, testToken, "wörd"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds a secret %q: %s", what, secret, s)
		}
	}
}

// checkErr checks that err wraps want and holds no secret.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one wrapping %v", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %v", err, want)
	}
	t.Logf("error: %s", err)
	assertNoSecrets(t, "error", err.Error())
	if msg := err.Error(); strings.HasSuffix(msg, ".") || msg != strings.TrimSpace(msg) || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error %q is not one line without a trailing period", msg)
	}
}

// seenRequest is what the fake Keystone received.
type seenRequest struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// fakeKeystone is an httptest server answering with respond; n counts the
// requests from 1.
type fakeKeystone struct {
	*httptest.Server
	mu      sync.Mutex
	seen    []seenRequest
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newFakeKeystone(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *fakeKeystone {
	t.Helper()
	f := &fakeKeystone{respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeKeystone) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{r.Method, r.URL.Path, r.Header.Clone(), body})
	n := len(f.seen)
	f.mu.Unlock()
	f.respond(n, w, r)
}

func (f *fakeKeystone) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *fakeKeystone) hits() int { return len(f.requests()) }

// authURL is the fake's auth URL in VK's form (trailing slash).
func (f *fakeKeystone) authURL() string { return f.URL + "/v3/" }

// tokenBody is a Keystone answer body with the given times.
func tokenBody(issuedAt, expiresAt string) string {
	return `{"token": {"methods": ["password"], "user": {"name": "alice", "domain": {"name": "users"}},` +
		` "issued_at": "` + issuedAt + `", "expires_at": "` + expiresAt + `",` +
		` "project": {"id": "p-123"}, "catalog": [{"type": "compute", "endpoints": []}]}}`
}

const (
	goodIssued  = "2026-11-27T17:31:08.000000Z"
	goodExpires = "2026-11-27T18:31:08.000000Z"
)

var goodBody = tokenBody(goodIssued, goodExpires)

// writeToken answers like Keystone issuing a token.
func writeToken(w http.ResponseWriter, status int, body string) {
	w.Header().Set("X-Subject-Token", testToken)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// writeError answers like Keystone refusing.
func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "title": http.StatusText(status), "message": message}})
}

func testAuth(authURL string) PasswordAuth {
	return PasswordAuth{AuthURL: authURL, Username: "alice", UserDomainName: "users",
		Password: testPassword, ProjectID: "p-123"}
}

func TestIssuePasswordSuccess(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		issued  string
		expires string
		suffix  string // appended to the server's URL to make the auth URL
	}{
		{"201 VK style URL", http.StatusCreated, goodIssued, goodExpires, "/v3/"},
		{"200 accepted", http.StatusOK, goodIssued, goodExpires, "/v3"},
		{"no fractional seconds", http.StatusCreated, "2026-11-27T17:31:08Z", "2026-11-27T18:31:08Z", "/v3"},
		{"offset times become UTC", http.StatusCreated, "2026-11-27T20:31:08.5+03:00", "2026-11-27T21:31:08+03:00", ""},
		{"auth URL without version", http.StatusCreated, goodIssued, goodExpires, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tokenBody(tt.issued, tt.expires)
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, tt.status, body) })
			h := newHarness(t)

			tok, err := h.c.IssuePassword(context.Background(), testAuth(f.URL+tt.suffix))
			if err != nil {
				t.Fatal(err)
			}
			if tok.ID != testToken {
				t.Errorf("ID = %q", tok.ID)
			}
			wantIssued, _ := time.Parse(time.RFC3339, tt.issued)
			wantExpires, _ := time.Parse(time.RFC3339, tt.expires)
			if !tok.IssuedAt.Equal(wantIssued) || tok.IssuedAt.Location() != time.UTC {
				t.Errorf("IssuedAt = %v, want %v in UTC", tok.IssuedAt, wantIssued)
			}
			if !tok.ExpiresAt.Equal(wantExpires) || tok.ExpiresAt.Location() != time.UTC {
				t.Errorf("ExpiresAt = %v, want %v in UTC", tok.ExpiresAt, wantExpires)
			}
			if !tok.ReceivedAt.Equal(fakeNow) {
				t.Errorf("ReceivedAt = %v, want the fake clock's %v", tok.ReceivedAt, fakeNow)
			}
			if string(tok.Body) != body {
				t.Errorf("Body = %s, want exactly %s", tok.Body, body)
			}

			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.path != "/v3/auth/tokens" {
				t.Errorf("request %s %s, want POST /v3/auth/tokens", r.method, r.path)
			}
			for k, want := range map[string]string{
				"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "vkc-credential",
				"X-Auth-Token": "", "X-Subject-Token": "",
			} {
				if got := r.header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			var got any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("request body is not JSON: %v", err)
			}
			want := map[string]any{"auth": map[string]any{
				"identity": map[string]any{
					"methods": []any{"password"},
					"password": map[string]any{"user": map[string]any{
						"name":     "alice",
						"domain":   map[string]any{"name": "users"},
						"password": testPassword,
					}},
				},
				"scope": map[string]any{"project": map[string]any{"id": "p-123"}},
			}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("request body\n got %#v\nwant %#v", got, want)
			}
			if bytes.Contains(r.body, []byte("region")) {
				t.Errorf("request body mentions a region: %s", r.body)
			}
		})
	}
}

func TestIssuePasswordRefused(t *testing.T) {
	tests := []struct {
		status  int
		message string
		want    error
		mention []string
	}{
		{http.StatusUnauthorized, "The request you have made requires authentication.", ErrAuthFailed,
			[]string{"401", "requires authentication", "run `vkc-credential store` again", "/v3/auth/tokens"}},
		{http.StatusForbidden, "You are not authorized to perform the requested action.", ErrAuthFailed,
			[]string{"403", "check the username, domain, project and password"}},
		{http.StatusBadRequest, "Expecting to find domain in user.", ErrUnavailable,
			[]string{"400", "Expecting to find domain", "project ID"}},
		{http.StatusNotFound, "", ErrUnavailable, []string{"404", "check the auth URL"}},
		{http.StatusConflict, "conflict", ErrUnavailable, []string{"409"}},
		{http.StatusNotImplemented, "", ErrUnavailable, []string{"501", "after 4 attempts"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tt.message == "" {
					w.WriteHeader(tt.status)
					return
				}
				writeError(w, tt.status, tt.message)
			})
			h := newHarness(t)
			_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			checkErr(t, err, tt.want)
			var serr *StatusError
			if !errors.As(err, &serr) || serr.StatusCode != tt.status || serr.Message != tt.message {
				t.Errorf("error %#v, want a *StatusError with %d and %q", err, tt.status, tt.message)
			}
			for _, m := range append(tt.mention, f.Listener.Addr().String()) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			wantHits := 1
			if tt.status >= 500 {
				wantHits = 4
			}
			if f.hits() != wantHits {
				t.Errorf("%d requests, want %d", f.hits(), wantHits)
			}
		})
	}
}

func TestIssuePasswordRedirectNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, custom := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d custom client %v", status, custom), func(t *testing.T) {
				other := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
				f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+"/v3/auth/tokens?sig=querysecret", status)
				})
				h := newHarness(t)
				if custom {
					// A client that would follow redirects on its own.
					h.c.HTTP = &http.Client{}
				}
				_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
				checkErr(t, err, ErrUnavailable)
				if !strings.Contains(err.Error(), "a redirect to "+other.URL+"/v3/auth/tokens") ||
					!strings.Contains(err.Error(), "not followed") || strings.Contains(err.Error(), "querysecret") {
					t.Errorf("error %q does not name the redirect's target, or names its query", err)
				}
				if n := other.hits(); n != 0 {
					t.Errorf("the redirect target received %d requests, want none", n)
				}
				if f.hits() != 1 {
					t.Errorf("%d requests, want 1", f.hits())
				}
				if custom && h.c.HTTP.CheckRedirect != nil {
					t.Error("the caller's http.Client was changed")
				}
			})
		}
	}
}

func TestIssuePasswordRetries(t *testing.T) {
	retryDate := fakeNow.Add(3 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		maxBackoff time.Duration
		first      func(w http.ResponseWriter)
		wantSleep  func(d time.Duration) bool
	}{
		{"429 Retry-After seconds", 5 * time.Second,
			func(w http.ResponseWriter) { w.Header().Set("Retry-After", "1"); writeError(w, 429, "slow down") },
			func(d time.Duration) bool { return d == time.Second }},
		{"503 Retry-After HTTP date", 5 * time.Second,
			func(w http.ResponseWriter) { w.Header().Set("Retry-After", retryDate); w.WriteHeader(503) },
			func(d time.Duration) bool { return d == 3*time.Second }},
		{"429 Retry-After capped at MaxBackoff", 2 * time.Second,
			func(w http.ResponseWriter) { w.Header().Set("Retry-After", "3600"); w.WriteHeader(429) },
			func(d time.Duration) bool { return d == 2*time.Second }},
		{"429 Retry-After in the past", 5 * time.Second,
			func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", fakeNow.Add(-time.Hour).Format(http.TimeFormat))
				w.WriteHeader(429)
			},
			func(d time.Duration) bool { return d == 0 }},
		{"429 bad Retry-After uses backoff", 5 * time.Millisecond,
			func(w http.ResponseWriter) { w.Header().Set("Retry-After", "soon"); w.WriteHeader(429) },
			func(d time.Duration) bool { return d > 0 && d <= time.Millisecond }},
		{"500 backoff", 5 * time.Millisecond,
			func(w http.ResponseWriter) { writeError(w, 500, "boom") },
			func(d time.Duration) bool { return d >= time.Millisecond/2 && d <= time.Millisecond }},
		{"500 ignores Retry-After", 5 * time.Millisecond,
			func(w http.ResponseWriter) { w.Header().Set("Retry-After", "2"); w.WriteHeader(500) },
			func(d time.Duration) bool { return d <= time.Millisecond }},
		{"502", 5 * time.Millisecond,
			func(w http.ResponseWriter) { w.WriteHeader(502) },
			func(d time.Duration) bool { return d <= time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					tt.first(w)
					return
				}
				writeToken(w, 201, goodBody)
			})
			h := newHarness(t)
			h.c.MaxBackoff = tt.maxBackoff
			tok, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			if err != nil {
				t.Fatal(err)
			}
			if tok.ID != testToken {
				t.Errorf("ID = %q", tok.ID)
			}
			if f.hits() != 2 {
				t.Errorf("%d requests, want 2", f.hits())
			}
			sleeps := h.recordedSleeps()
			if len(sleeps) != 1 || !tt.wantSleep(sleeps[0]) {
				t.Errorf("waits %v, not the one expected", sleeps)
			}
		})
	}
}

func TestIssuePassword503Forever(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeError(w, 503, "Service Unavailable")
	})
	h := newHarness(t)
	h.c.MaxAttempts = 3
	_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
	checkErr(t, err, ErrUnavailable)
	var serr *StatusError
	if !errors.As(err, &serr) || serr.StatusCode != 503 {
		t.Errorf("error %#v is not a 503 *StatusError", err)
	}
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("error %q does not count the attempts", err)
	}
	if f.hits() != 3 {
		t.Errorf("%d requests, want 3", f.hits())
	}
	if n := len(h.recordedSleeps()); n != 2 {
		t.Errorf("%d waits, want 2", n)
	}
}

func TestRetryAfterPastDeadlineGivesUp(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "10")
		w.WriteHeader(429)
	})
	h := newHarness(t)
	h.c.MaxBackoff = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := h.c.IssuePassword(ctx, testAuth(f.authURL()))
	checkErr(t, err, ErrUnavailable)
	if !strings.Contains(err.Error(), "would pass the deadline") || !strings.Contains(err.Error(), "raise --timeout or VKC_TIMEOUT") {
		t.Errorf("error %q does not explain giving up", err)
	}
	if f.hits() != 1 || len(h.recordedSleeps()) != 0 {
		t.Errorf("%d requests and waits %v, want 1 request and no wait", f.hits(), h.recordedSleeps())
	}
	if time.Since(start) > time.Second {
		t.Errorf("giving up took %s", time.Since(start))
	}
}

// silentListener accepts connections and never answers on them.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/v3"
}

func TestTimeoutNoAnswer(t *testing.T) {
	authURL := silentListener(t)
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := h.c.IssuePassword(ctx, testAuth(authURL))
	checkErr(t, err, ErrUnavailable)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
	}
	for _, m := range []string{"timed out after", "raise --timeout or VKC_TIMEOUT"} {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	authURL := silentListener(t)
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.c.IssuePassword(ctx, testAuth(authURL))
	checkErr(t, err, ErrUnavailable)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("error %q does not say it was canceled", err)
	}
}

// countingTransport counts the round trips it passes on.
type countingTransport struct {
	rt http.RoundTripper
	n  atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	authURL := srv.URL + "/v3"
	srv.Close()

	h := newHarness(t)
	h.c.MaxAttempts = 3
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingTransport{rt: hc.Transport}
	hc.Transport = counter
	h.c.HTTP = hc

	_, err = h.c.IssuePassword(context.Background(), testAuth(authURL))
	checkErr(t, err, ErrUnavailable)
	if !strings.Contains(err.Error(), "cannot reach keystone") || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("error %q does not say keystone is unreachable after 3 attempts", err)
	}
	if n := counter.n.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if n := len(h.recordedSleeps()); n != 2 {
		t.Errorf("%d waits, want 2", n)
	}
}

func TestMalformedAnswers(t *testing.T) {
	huge := `{"token": {"issued_at": "` + goodIssued + `", "expires_at": "` + goodExpires +
		`", "pad": "` + strings.Repeat("x", maxBodyBytes) + `"}}`
	tests := []struct {
		name    string
		noToken bool
		body    string
		mention string
	}{
		{"missing X-Subject-Token", true, goodBody, "X-Subject-Token"},
		{"not JSON", false, "<html>gateway</html>", "not a JSON object"},
		{"empty body", false, "", "not a JSON object"},
		{"JSON array", false, "[]", "not a JSON object"},
		{"trailing data", false, goodBody + " {}", "not a JSON object"},
		{"truncated JSON", false, goodBody[:len(goodBody)/2], "not a JSON object"},
		{"no token object", false, `{"tokens": {}}`, `"token" object`},
		{"token null", false, `{"token": null}`, `"token" object`},
		{"token a string", false, `{"token": "abc"}`, `"token" object`},
		{"bad expires_at", false, tokenBody(goodIssued, "tomorrow"), "expires_at"},
		{"expires_at without zone", false, tokenBody(goodIssued, "2026-11-27T18:31:08.000000"), "expires_at"},
		{"missing expires_at", false, `{"token": {"issued_at": "` + goodIssued + `"}}`, "without expires_at"},
		{"missing issued_at", false, `{"token": {"expires_at": "` + goodExpires + `"}}`, "without issued_at"},
		{"expires_at a number", false, `{"token": {"issued_at": "` + goodIssued + `", "expires_at": 1}}`, "not a string"},
		{"expires before issued", false, tokenBody(goodExpires, goodIssued), "no later than"},
		{"expires when issued", false, tokenBody(goodIssued, goodIssued), "no later than"},
		{"body over 8 MiB", false, huge, "larger than 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if !tt.noToken {
					w.Header().Set("X-Subject-Token", testToken)
				}
				w.WriteHeader(201)
				io.WriteString(w, tt.body)
			})
			h := newHarness(t)
			tok, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			if tok != nil {
				t.Errorf("got a token %+v", tok)
			}
			checkErr(t, err, ErrUnavailable)
			if !strings.Contains(err.Error(), "malformed answer from keystone") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not say malformed answer ... %s", err, tt.mention)
			}
			if f.hits() != 1 {
				t.Errorf("%d requests, want 1: a malformed answer is not retried", f.hits())
			}
		})
	}
}

// writeTruncated sends a 201 whose body stops short of its Content-Length,
// then drops the connection.
func writeTruncated(t *testing.T, w http.ResponseWriter) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Subject-Token: %s\r\nContent-Length: %d\r\n\r\n%s",
		testToken, len(goodBody), goodBody[:20])
	buf.Flush()
}

func TestTruncatedBody(t *testing.T) {
	t.Run("retried then issued", func(t *testing.T) {
		f := newFakeKeystone(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				writeTruncated(t, w)
				return
			}
			writeToken(w, 201, goodBody)
		})
		h := newHarness(t)
		tok, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
		if err != nil {
			t.Fatal(err)
		}
		if string(tok.Body) != goodBody || f.hits() != 2 {
			t.Errorf("body %s after %d requests", tok.Body, f.hits())
		}
	})
	t.Run("always truncated", func(t *testing.T) {
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeTruncated(t, w) })
		h := newHarness(t)
		h.c.MaxAttempts = 2
		_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
		checkErr(t, err, ErrUnavailable)
		if !strings.Contains(err.Error(), "cut off") || !strings.Contains(err.Error(), "unexpected EOF") || f.hits() != 2 {
			t.Errorf("error %q after %d requests", err, f.hits())
		}
	})
}

// newTLSKeystone starts a TLS fake Keystone that issues tokens, with its
// handshake errors kept out of the test output.
func newTLSKeystone(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		writeToken(w, 201, goodBody)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestTLS(t *testing.T) {
	srv, hits := newTLSKeystone(t)
	authURL := srv.URL + "/v3/"

	t.Run("unknown CA", func(t *testing.T) {
		h := newHarness(t)
		hc, err := NewHTTPClient("")
		if err != nil {
			t.Fatal(err)
		}
		h.c.HTTP = hc
		_, err = h.c.IssuePassword(context.Background(), testAuth(authURL))
		checkErr(t, err, ErrUnavailable)
		for _, m := range []string{"--cacert", "OS_CACERT", "certificate"} {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %q", err, m)
			}
		}
		if len(h.recordedSleeps()) != 0 {
			t.Errorf("a certificate error was retried: waits %v", h.recordedSleeps())
		}
		if hits.Load() != 0 {
			t.Errorf("the handler ran %d times", hits.Load())
		}
	})

	t.Run("cacert", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(caFile, pemData, 0o600); err != nil {
			t.Fatal(err)
		}
		hc, err := NewHTTPClient(caFile)
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t)
		h.c.HTTP = hc
		tok, err := h.c.IssuePassword(context.Background(), testAuth(authURL))
		if err != nil {
			t.Fatal(err)
		}
		if tok.ID != testToken {
			t.Errorf("ID = %q", tok.ID)
		}
	})

	t.Run("cacert but wrong host name", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(caFile, pemData, 0o600); err != nil {
			t.Fatal(err)
		}
		hc, err := NewHTTPClient(caFile)
		if err != nil {
			t.Fatal(err)
		}
		// The test certificate names 127.0.0.1, ::1 and example.com only.
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		hc.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		}
		h := newHarness(t)
		h.c.HTTP = hc
		_, err = h.c.IssuePassword(context.Background(), testAuth("https://keystone.invalid:"+port+"/v3"))
		checkErr(t, err, ErrUnavailable)
		if !strings.Contains(err.Error(), "host name") || !strings.Contains(err.Error(), "--cacert") || len(h.recordedSleeps()) != 0 {
			t.Errorf("error %q after waits %v", err, h.recordedSleeps())
		}
	})

	t.Run("plain http to a TLS server", func(t *testing.T) {
		h := newHarness(t)
		h.c.HTTP = srv.Client()
		_, err := h.c.IssuePassword(context.Background(), testAuth(strings.Replace(authURL, "https://", "http://", 1)))
		checkErr(t, err, ErrUnavailable)
	})

	t.Run("https to a plain server", func(t *testing.T) {
		plain := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
		h := newHarness(t)
		_, err := h.c.IssuePassword(context.Background(), testAuth(strings.Replace(plain.URL, "http://", "https://", 1)))
		checkErr(t, err, ErrUnavailable)
		if !strings.Contains(err.Error(), "does not speak TLS") || len(h.recordedSleeps()) != 0 {
			t.Errorf("error %q after waits %v", err, h.recordedSleeps())
		}
	})
}

func TestNewHTTPClient(t *testing.T) {
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != 0 {
		t.Errorf("Timeout = %s, want none", hc.Timeout)
	}
	if hc.CheckRedirect == nil || !errors.Is(hc.CheckRedirect(nil, nil), http.ErrUseLastResponse) {
		t.Error("CheckRedirect does not stop redirects")
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T", hc.Transport)
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
		t.Error("TLS 1.2 is not the minimum")
	}
	if tr.Proxy == nil {
		t.Error("no proxy from the environment")
	}

	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{filepath.Join(dir, "missing.pem"), empty, dir} {
		if _, err := NewHTTPClient(name); err == nil || !strings.Contains(err.Error(), "--cacert") {
			t.Errorf("NewHTTPClient(%q) = %v, want an error mentioning --cacert", name, err)
		}
	}
}

func TestNormalizeAuthURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
		mention  string
	}{
		{"https://infra.mail.ru:35357/v3/", "https://infra.mail.ru:35357/v3/", ""},
		{"  https://infra.mail.ru:35357/v3/\n", "https://infra.mail.ru:35357/v3/", ""},
		{"https://infra.mail.ru:35357/v3", "https://infra.mail.ru:35357/v3", ""},
		{"https://h:5000", "https://h:5000/v3", ""},
		{"https://h:5000/", "https://h:5000/v3", ""},
		{"https://h/identity", "https://h/identity/v3", ""},
		{"https://h/identity/v3/", "https://h/identity/v3/", ""},
		{"HTTPS://h:5000", "https://h:5000/v3", ""},
		{"http://localhost:5000", "http://localhost:5000/v3", ""},
		{"http://LocalHost/v3", "http://LocalHost/v3", ""},
		{"http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3/", ""},
		{"http://127.0.0.5/v3", "http://127.0.0.5/v3", ""},
		{"http://[::1]:5000/", "http://[::1]:5000/v3", ""},
		{"http://infra.mail.ru:35357/v3/", "", "https://"},
		{"http://128.0.0.1/v3", "", "not loopback"},
		{"http://localhost.evil.com/v3", "", "not loopback"},
		{"ftp://infra.mail.ru/v3", "", "https://"},
		{"infra.mail.ru:35357/v3", "", "https://"},
		{"//infra.mail.ru/v3", "", "no scheme"},
		{"https://alice:" + testPassword + "@infra.mail.ru/v3", "", "user name or password"},
		{"https://alice@infra.mail.ru/v3", "", "user name or password"},
		{"https://h/v3?x=1", "", "query"},
		{"https://h/v3?", "", "query"},
		{"https://h/v3#frag", "", "fragment"},
		{"https://h/v2.0", "", "v3"},
		{"https:///v3", "", "no host"},
		{"https://h:port/v3", "", "cannot be parsed"},
		{"", "", "empty"},
		{"   ", "", "empty"},
	}
	for _, tt := range tests {
		got, err := NormalizeAuthURL(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeAuthURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Normalizing again changes nothing.
			if again, err := NormalizeAuthURL(got); err != nil || again != got {
				t.Errorf("NormalizeAuthURL(%q) = %q, %v; not idempotent", got, again, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeAuthURL(%q) = %q, want an error", tt.in, got)
			continue
		}
		checkErr(t, err, ErrInvalidURL)
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("NormalizeAuthURL(%q) error %q does not mention %q", tt.in, err, tt.mention)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true,
		"127.0.0.1": true, "127.0.0.5": true, "127.255.255.254": true,
		"::1": true, "[::1]": true,
		"": false, "example.com": false, "localhost.example.com": false, "128.0.0.1": false,
		"10.0.0.1": false, "::2": false, "0.0.0.0": false, "127.1": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestIssuePasswordRefusesBeforeSending(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	h := newHarness(t)
	h.c.Debugf("start") // this test makes no request: give the Debugf check a line

	auth := testAuth("http://example.com/v3")
	_, err := h.c.IssuePassword(context.Background(), auth)
	checkErr(t, err, ErrInvalidURL)

	for _, mutate := range []func(*PasswordAuth){
		func(a *PasswordAuth) { a.Password = "" },
		func(a *PasswordAuth) { a.Username = "" },
		func(a *PasswordAuth) { a.UserDomainName = "" },
		func(a *PasswordAuth) { a.ProjectID = "" },
		func(a *PasswordAuth) { a.Password = "pa\xffss" },
	} {
		a := testAuth(f.authURL())
		mutate(&a)
		if _, err := h.c.IssuePassword(context.Background(), a); err == nil {
			t.Errorf("IssuePassword(%+v) succeeded", a)
		} else {
			assertNoSecrets(t, "error", err.Error())
		}
	}
	if f.hits() != 0 {
		t.Errorf("%d requests were sent", f.hits())
	}
}

func TestKeystoneMessageIsMaskedAndTrimmed(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct{ message, want string }{
		{"Invalid password " + testPassword + " for user alice", "Invalid password *** for user alice"},
		{"line one\nline two\r\n\ttab", "line one line two tab"},
		{long, long[:200*len("é")]},
	}
	for _, tt := range tests {
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeError(w, 401, tt.message) })
		h := newHarness(t)
		_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
		checkErr(t, err, ErrAuthFailed)
		var serr *StatusError
		if !errors.As(err, &serr) || serr.Message != tt.want {
			t.Errorf("Message = %q, want %q", serr.Message, tt.want)
		}
	}
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int // one per request; the last repeats
		want     error
		hits     int
	}{
		{"204", []int{204}, nil, 1},
		{"200", []int{200}, nil, 1},
		{"404 already gone", []int{404}, nil, 1},
		{"500 then 204", []int{500, 204}, nil, 2},
		{"429 then 204", []int{429, 204}, nil, 2},
		{"401", []int{401}, ErrAuthFailed, 1},
		{"403", []int{403}, ErrAuthFailed, 1},
		{"400", []int{400}, ErrUnavailable, 1},
		{"302", []int{302}, ErrUnavailable, 1},
		{"503 forever", []int{503}, ErrUnavailable, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.statuses[min(n, len(tt.statuses))-1])
			})
			h := newHarness(t)
			err := h.c.Revoke(context.Background(), f.authURL(), testToken)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				checkErr(t, err, tt.want)
			}
			reqs := f.requests()
			if len(reqs) != tt.hits {
				t.Fatalf("%d requests, want %d", len(reqs), tt.hits)
			}
			for _, r := range reqs {
				if r.method != http.MethodDelete || r.path != "/v3/auth/tokens" || len(r.body) != 0 {
					t.Errorf("request %s %s with %d body bytes, want DELETE /v3/auth/tokens without a body", r.method, r.path, len(r.body))
				}
				if r.header.Get("X-Auth-Token") != testToken || r.header.Get("X-Subject-Token") != testToken {
					t.Errorf("token headers %q and %q, want the token in both",
						r.header.Get("X-Auth-Token"), r.header.Get("X-Subject-Token"))
				}
			}
		})
	}
}

func TestTokenRequestRefusesBadTokens(t *testing.T) {
	h := newHarness(t)
	h.c.Debugf("start") // no request is made
	for _, token := range []string{"", "a b", "a\r\nX-Evil: 1", "тoken"} {
		if err := h.c.Revoke(context.Background(), "http://127.0.0.1:1/v3", token); err == nil {
			t.Errorf("Revoke with token %q succeeded", token)
		}
	}
	err := h.c.Revoke(context.Background(), "http://example.com/v3", testToken)
	checkErr(t, err, ErrInvalidURL)
}

func TestBackoff(t *testing.T) {
	c := &Client{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	ms := time.Millisecond
	for _, tt := range []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{1, 50 * ms, 100 * ms},
		{2, 100 * ms, 200 * ms},
		{3, 200 * ms, 400 * ms},
		{4, 400 * ms, 800 * ms},
		{5, 500 * ms, time.Second},
		{80, 500 * ms, time.Second},
	} {
		for range 50 {
			if d := c.backoff(tt.attempt); d < tt.lo || d > tt.hi {
				t.Errorf("backoff(%d) = %s, want within [%s, %s]", tt.attempt, d, tt.lo, tt.hi)
			}
		}
	}
	var zero Client
	if d := zero.backoff(1); d < 100*ms || d > 200*ms {
		t.Errorf("default backoff(1) = %s, want within [100ms, 200ms]", d)
	}
	if base, maxWait := zero.backoffBounds(); base != defaultBaseBackoff || maxWait != defaultMaxBackoff {
		t.Errorf("default bounds %s, %s", base, maxWait)
	}
}

func TestStatusErrorZeroValue(t *testing.T) {
	e := &StatusError{StatusCode: 418}
	if e.Error() != "keystone answered 418 I'm a teapot" || e.Unwrap() != nil {
		t.Errorf("Error() = %q, Unwrap() = %v", e.Error(), e.Unwrap())
	}
}

func TestDefaultClientWorks(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	var c Client // no HTTP, clock, limits or Debugf
	tok, err := c.IssuePassword(context.Background(), testAuth(f.authURL()))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ReceivedAt.IsZero() || tok.ID != testToken {
		t.Errorf("token %+v", tok)
	}
}
