package keystone

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/protocol"
)

// The secrets of the tests: none of them may show up in an error or a
// Debugf line.
const (
	testPassword  = `pa ss"wörd'`
	testToken     = "gAAAAABnTestTokenThatMustNeverBeLogged-0123456789"
	testReceipt   = "gAAAAABrTestReceiptThatMustNeverBeShown-9876543210"
	testPasscode  = "914027"
	testAppSecret = `app "secret" ünïcode`
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
		maxAttempts: 4,
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
	for _, secret := range []string{testPassword, testToken, "wörd", testReceipt, testPasscode, testAppSecret} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds a secret %q: %s", what, secret, s)
		}
	}
}

// problemOf returns the Problem of the outermost error in err's chain
// that has one, as the command line finds it.
func problemOf(err error) Problem {
	var p interface{ Problem() Problem }
	if errors.As(err, &p) {
		return p.Problem()
	}
	return ProblemNone
}

// checkProblem checks that err points at want.
func checkProblem(t *testing.T, err error, want Problem) {
	t.Helper()
	if got := problemOf(err); got != want {
		t.Errorf("error %q points at problem %d, want %d", err, got, want)
	}
}

// checkErr checks that err wraps want, holds no secret, and names no
// command-line flag, environment variable or command, nor says how to fix
// it: those hints belong to the command line.
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
	for _, edge := range []string{" --", "OS_", "VKC_", "vkc-credential ", "`", "check the", "try again"} {
		if strings.Contains(err.Error(), edge) {
			t.Errorf("error %q names the command line (%q)", err, edge)
		}
	}
}

// seenRequest is what the fake Keystone received.
type seenRequest struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// fakeKeystone is the shared fake Keystone (internal/keystonetest) with
// every answer written by the test's respond, n counting the requests from
// 1: this package's tests are about how the client reads each answer, byte
// for byte, so they write the answers themselves.
type fakeKeystone struct{ *keystonetest.Server }

func newFakeKeystone(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *fakeKeystone {
	t.Helper()
	f := &fakeKeystone{keystonetest.New(t)}
	f.Handle(func(n int, w http.ResponseWriter, r *http.Request) bool { respond(n, w, r); return true })
	return f
}

// requests returns what the fake received.
func (f *fakeKeystone) requests() []seenRequest {
	var out []seenRequest
	for _, r := range f.Requests() {
		out = append(out, seenRequest{r.Method, r.Path, r.Header, r.Body})
	}
	return out
}

func (f *fakeKeystone) hits() int { return f.Hits() }

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
		problem Problem
	}{
		{http.StatusUnauthorized, "The request you have made requires authentication.", ErrAuthFailed,
			[]string{"401", "requires authentication", "/v3/auth/tokens"}, ProblemNone},
		{http.StatusForbidden, "You are not authorized to perform the requested action.", ErrAuthFailed,
			[]string{"403"}, ProblemNone},
		{http.StatusBadRequest, "Expecting to find domain in user.", ErrUnavailable,
			[]string{"400", "Expecting to find domain", "keystone found the request malformed"}, ProblemRequest},
		{http.StatusNotFound, "", ErrUnavailable, []string{"404"}, ProblemAuthURL},
		{http.StatusConflict, "conflict", ErrUnavailable, []string{"409"}, ProblemAuthURLOrLater},
		{http.StatusNotImplemented, "", ErrUnavailable, []string{"501", "after 4 attempts"}, ProblemOverloaded},
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
			checkProblem(t, err, tt.problem)
			var serr *statusError
			if !errors.As(err, &serr) || serr.status != tt.status || serr.message != tt.message {
				t.Errorf("error %#v, want a *statusError with %d and %q", err, tt.status, tt.message)
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
				checkProblem(t, err, ProblemAuthURL)
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
	h.c.maxAttempts = 3
	_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
	checkErr(t, err, ErrUnavailable)
	var serr *statusError
	if !errors.As(err, &serr) || serr.status != 503 {
		t.Errorf("error %#v is not a 503 *statusError", err)
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
	_, err := h.c.IssuePassword(ctx, testAuth(f.authURL()))
	checkErr(t, err, ErrUnavailable)
	checkErr(t, err, ErrTimeout)
	// No wait was recorded (below): giving up took no sleep.
	if !strings.HasSuffix(err.Error(), "429 Too Many Requests after 1 attempt; gave up: the next retry, 10s away, would pass the deadline") {
		t.Errorf("error %q does not explain giving up", err)
	}
	checkProblem(t, err, ProblemTimeout)
	var serr *statusError
	if !errors.As(err, &serr) || serr.status != 429 {
		t.Errorf("error %#v is not a 429 *statusError", err)
	}
	if f.hits() != 1 || len(h.recordedSleeps()) != 0 {
		t.Errorf("%d requests and waits %v, want 1 request and no wait", f.hits(), h.recordedSleeps())
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
	checkErr(t, err, ErrTimeout)
	checkProblem(t, err, ProblemTimeout)
	if !strings.Contains(err.Error(), "timed out after 150ms") {
		t.Errorf("error %q does not say it timed out after 150ms", err)
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
	if errors.Is(err, ErrTimeout) {
		t.Errorf("error %q of a canceled context wraps ErrTimeout", err)
	}
	checkProblem(t, err, ProblemNone)
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
	srv := keystonetest.New(t)
	authURL := srv.AuthURL()
	srv.Close() // nothing listens there any more

	h := newHarness(t)
	h.c.maxAttempts = 3
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingTransport{rt: hc.Transport}
	hc.Transport = counter
	h.c.HTTP = hc

	_, err = h.c.IssuePassword(context.Background(), testAuth(authURL))
	checkErr(t, err, ErrUnavailable)
	checkProblem(t, err, ProblemNetwork)
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
		h.c.maxAttempts = 2
		_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
		checkErr(t, err, ErrUnavailable)
		if !strings.Contains(err.Error(), "cut off") || !strings.Contains(err.Error(), "unexpected EOF") || f.hits() != 2 {
			t.Errorf("error %q after %d requests", err, f.hits())
		}
	})
}

// newTLSKeystone starts a TLS fake Keystone that issues tokens (its
// handshake errors are kept out of the test output).
func newTLSKeystone(t *testing.T) *keystonetest.Server {
	t.Helper()
	srv := keystonetest.NewTLS(t)
	srv.Handle(func(_ int, w http.ResponseWriter, _ *http.Request) bool { writeToken(w, 201, goodBody); return true })
	return srv
}

func TestTLS(t *testing.T) {
	srv := newTLSKeystone(t)
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
		checkErr(t, err, errUntrustedCertificate)
		checkProblem(t, err, ProblemCertificateAuthority)
		for _, m := range []string{"cannot be verified", "unknown authority"} {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %q", err, m)
			}
		}
		if strings.Contains(err.Error(), "CA") {
			t.Errorf("error %q says what to do about a private CA: the command line says it, once", err)
		}
		if len(h.recordedSleeps()) != 0 {
			t.Errorf("a certificate error was retried: waits %v", h.recordedSleeps())
		}
		if srv.Hits() != 0 {
			t.Errorf("the handler ran %d times", srv.Hits())
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
		checkErr(t, err, errUntrustedCertificate)
		checkProblem(t, err, ProblemCertificateHost)
		if !strings.Contains(err.Error(), "not keystone.invalid") || len(h.recordedSleeps()) != 0 {
			t.Errorf("error %q after waits %v", err, h.recordedSleeps())
		}
	})

	t.Run("plain http to a TLS server", func(t *testing.T) {
		h := newHarness(t)
		h.c.HTTP = srv.Client()
		_, err := h.c.IssuePassword(context.Background(), testAuth(strings.Replace(authURL, "https://", "http://", 1)))
		checkErr(t, err, ErrUnavailable)
		checkProblem(t, err, ProblemRequest) // Go's TLS server answers 400
	})

	t.Run("https to a plain server", func(t *testing.T) {
		plain := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
		h := newHarness(t)
		_, err := h.c.IssuePassword(context.Background(), testAuth(strings.Replace(plain.URL, "http://", "https://", 1)))
		checkErr(t, err, ErrUnavailable)
		checkProblem(t, err, ProblemNotTLS)
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
		_, err := NewHTTPClient(name)
		checkErr(t, err, ErrCAFile)
		if err != nil && !strings.Contains(err.Error(), name) {
			t.Errorf("NewHTTPClient(%q) error %q does not name the file", name, err)
		}
	}
}

func TestIssuePasswordRefusesBeforeSending(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	h := newHarness(t)
	h.c.Debugf("start") // this test makes no request: give the Debugf check a line

	auth := testAuth("http://example.com/v3")
	_, err := h.c.IssuePassword(context.Background(), auth)
	checkErr(t, err, protocol.ErrInvalidAuthURL)

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
		var serr *statusError
		if !errors.As(err, &serr) || serr.message != tt.want {
			t.Errorf("Message = %q, want %q", serr.message, tt.want)
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
	checkErr(t, err, protocol.ErrInvalidAuthURL)
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
	e := &statusError{status: 418}
	if e.Error() != "keystone answered 418 I'm a teapot" || len(e.Unwrap()) != 0 {
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

func TestTokenMustBeSmallPrintableASCII(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		ok      bool
		mention string
	}{
		{"8 KiB exactly", testToken + strings.Repeat("A", maxTokenBytes-len(testToken)), true, ""},
		{"one byte over 8 KiB", testToken + strings.Repeat("A", maxTokenBytes+1-len(testToken)), false, "larger than 8 KiB"},
		{"64 KiB", testToken + strings.Repeat("A", 64<<10), false, "larger than 8 KiB"},
		{"not ASCII", testToken + "é", false, "not printable ASCII"},
		{"DEL, which net/http refuses", testToken + "\x7f" + testToken, false, "a header that cannot be parsed"},
		{"inner space", testToken + " " + testToken, false, "not printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header()["X-Subject-Token"] = []string{tt.token}
				w.WriteHeader(201)
				io.WriteString(w, goodBody)
			})
			h := newHarness(t)
			tok, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			if tt.ok {
				if err != nil || tok.ID != tt.token {
					t.Fatalf("IssuePassword = %v, %v; want the token of %d bytes", tok, err, len(tt.token))
				}
				return
			}
			if tok != nil {
				t.Errorf("got a token of %d bytes", len(tok.ID))
			}
			checkErr(t, err, ErrUnavailable)
			if !strings.Contains(err.Error(), "malformed answer") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not say malformed answer ... %s", err, tt.mention)
			}
			if f.hits() != 1 {
				t.Errorf("%d requests, want 1", f.hits())
			}
		})
	}
}

func TestRevokeRefusesBadTokens(t *testing.T) {
	h := newHarness(t)
	h.c.Debugf("start") // no request is made
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	for _, token := range []string{"", "a b", "a\r\nX-Evil: 1", "тoken", testToken + strings.Repeat("A", maxTokenBytes)} {
		err := h.c.Revoke(context.Background(), f.authURL(), token)
		if err == nil {
			t.Errorf("Revoke with a token of %d bytes succeeded", len(token))
			continue
		}
		assertNoSecrets(t, "error", err.Error())
	}
	if f.hits() != 0 {
		t.Errorf("%d requests were sent", f.hits())
	}
}

func TestNetworkTextIsCleaned(t *testing.T) {
	t.Run("keystone's message", func(t *testing.T) {
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			writeError(w, 401, "bad \u202euser\x1b[31m red\u2028next \U000E0041tag\u200b")
		})
		h := newHarness(t)
		_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
		checkErr(t, err, ErrAuthFailed)
		var serr *statusError
		if !errors.As(err, &serr) {
			t.Fatalf("error %#v is not a *statusError", err)
		}
		if want := `bad \u202Euser [31m red next \U000E0041tag\u200B`; serr.message != want {
			t.Errorf("Message = %q, want %q", serr.message, want)
		}
	})

	t.Run("redirect location", func(t *testing.T) {
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "https://evil\u202e.example/v3/auth/tokens?q=1")
			w.WriteHeader(http.StatusTemporaryRedirect)
		})
		h := newHarness(t)
		_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
		checkErr(t, err, ErrUnavailable)
		if !strings.Contains(err.Error(), `a redirect to https://evil\u202E.example/v3/auth/tokens that is not followed`) ||
			strings.ContainsRune(err.Error(), '\u202e') {
			t.Errorf("error %q does not show the Location escaped", err)
		}
	})

	t.Run("certificate names", func(t *testing.T) {
		// A certificate whose names hold a format and a control character,
		// as a hostile server could present; Go cannot encode one, so the
		// transport hands back the error that verifying it would give.
		cert := &x509.Certificate{
			DNSNames:   []string{"keystone\u202e.example", "a\nb.example"},
			Extensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 17}}},
		}
		h := newHarness(t)
		h.c.HTTP = &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: cert, Host: "keystone.example"}}
		})}
		_, err := h.c.IssuePassword(context.Background(), testAuth("https://keystone.example/v3"))
		checkErr(t, err, errUntrustedCertificate)
		checkErr(t, err, ErrUnavailable)
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("error %q does not wrap the x509.HostnameError", err)
		}
		if !strings.Contains(err.Error(), `keystone\u202E.example, a b.example`) || strings.ContainsRune(err.Error(), '\u202e') {
			t.Errorf("error %q does not show the certificate's names escaped", err)
		}
		if len(h.recordedSleeps()) != 0 {
			t.Errorf("a certificate error was retried: waits %v", h.recordedSleeps())
		}
	})
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCleanText(t *testing.T) {
	tests := []struct {
		in      string
		secrets []string
		max     int
		want    string
	}{
		{"  a \t b\r\n", nil, 10, "a b"},
		{"a\x00b\x7fc\u0085d", nil, 10, "a b c d"},
		{"x\u202ey", nil, 10, `x\u202Ey`},
		{"\u202e", nil, 5, ""},
		{"ab \u202e", nil, 8, `ab`},
		{"bad\xffutf8", nil, 20, "bad\uFFFDutf8"},
		{"the secret is hunter2!", []string{"", "hunter2"}, 100, "the secret is ***!"},
		{"hunter2", []string{"hunter2"}, 2, "**"},
		{"ééé", nil, 2, "éé"},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in, tt.secrets, tt.max); got != tt.want {
			t.Errorf("cleanText(%q, %q, %d) = %q, want %q", tt.in, tt.secrets, tt.max, got, tt.want)
		}
	}
}

func TestStatusErrorParts(t *testing.T) {
	base := statusError{status: 503, kind: ErrUnavailable, method: "POST", url: "https://h/v3/auth/tokens"}
	tests := []struct {
		name    string
		mutate  func(*statusError)
		want    string
		timeout bool
	}{
		{"bare", func(*statusError) {}, "keystone unavailable: POST https://h/v3/auth/tokens answered 503 Service Unavailable", false},
		{"all parts", func(e *statusError) {
			e.message, e.attempts, e.detail = "down", 4, "keystone is down"
		}, `keystone unavailable: POST https://h/v3/auth/tokens answered 503 Service Unavailable (keystone said "down") after 4 attempts; keystone is down`, false},
		{"gave up", func(e *statusError) {
			e.attempts, e.gaveUp, e.nextWait = 1, true, 0
		}, "keystone unavailable: POST https://h/v3/auth/tokens answered 503 Service Unavailable after 1 attempt; gave up: the next retry, 0s away, would pass the deadline", true},
		{"redirect without Location", func(e *statusError) { e.status = 302 },
			"keystone unavailable: POST https://h/v3/auth/tokens answered 302 Found, a redirect that is not followed", false},
		{"redirect", func(e *statusError) { e.status, e.redirect = 308, "https://o/v3" },
			"keystone unavailable: POST https://h/v3/auth/tokens answered 308 Permanent Redirect, a redirect to https://o/v3 that is not followed", false},
		{"unknown status", func(e *statusError) { e.status = 599 },
			"keystone unavailable: POST https://h/v3/auth/tokens answered 599", false},
	}
	for _, tt := range tests {
		e := base
		tt.mutate(&e)
		if got := e.Error(); got != tt.want {
			t.Errorf("%s: Error() =\n%q, want\n%q", tt.name, got, tt.want)
		}
		if !errors.Is(&e, ErrUnavailable) || errors.Is(&e, ErrTimeout) != tt.timeout {
			t.Errorf("%s: errors.Is(ErrUnavailable) = %v, errors.Is(ErrTimeout) = %v, want true, %v",
				tt.name, errors.Is(&e, ErrUnavailable), errors.Is(&e, ErrTimeout), tt.timeout)
		}
	}
}

func TestGiveUpOnConnectionErrorIsTimeout(t *testing.T) {
	srv := keystonetest.New(t)
	authURL := srv.AuthURL()
	srv.Close() // nothing listens there any more
	h := newHarness(t)
	h.c.BaseBackoff, h.c.MaxBackoff = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.c.IssuePassword(ctx, testAuth(authURL))
	checkErr(t, err, ErrUnavailable)
	checkErr(t, err, ErrTimeout)
	checkProblem(t, err, ProblemTimeout)
	if !strings.Contains(err.Error(), "cannot reach keystone") || !strings.Contains(err.Error(), "would pass the deadline") {
		t.Errorf("error %q does not say it gave up on an unreachable keystone", err)
	}
	if len(h.recordedSleeps()) != 0 {
		t.Errorf("waits %v, want none", h.recordedSleeps())
	}
}

func TestProxyFunc(t *testing.T) {
	proxy, _ := url.Parse("http://proxy.example:3128")
	fromEnv := func(*http.Request) (*url.URL, error) { return proxy, nil }
	pf := proxyFunc(fromEnv)
	for target, direct := range map[string]bool{
		"http://localhost:5000/v3/auth/tokens": true,
		"http://LOCALHOST:5000/v3":             true,
		"http://localhost.:5000/v3":            true,
		"http://127.0.0.1/v3":                  true,
		"http://127.9.9.9:1/v3":                true,
		"http://[::1]:5000/v3":                 true,
		"https://localhost:5000/v3":            false,
		"https://infra.mail.ru:35357/v3/":      false,
		"http://keystone.example/v3":           false,
		"http://localhost.evil.example/v3":     false,
	} {
		req, err := http.NewRequest(http.MethodPost, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pf(req)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]*url.URL{true: nil, false: proxy}[direct]; got != want {
			t.Errorf("proxy for %s = %v, want %v", target, got, want)
		}
	}
}

// proxyChildEnv names the environment variable that makes
// TestLoopbackNeverProxied run its child part; its value is the fake
// Keystone's port.
const proxyChildEnv = "KEYSTONE_TEST_PROXY_CHILD_PORT"

// TestLoopbackNeverProxied runs a child test process with HTTP_PROXY set
// (net/http reads the proxy variables once per process, so the parent
// cannot set them for itself) and checks that plain http to loopback went
// straight to the fake Keystone while other plain http went to the proxy.
func TestLoopbackNeverProxied(t *testing.T) {
	if port := os.Getenv(proxyChildEnv); port != "" {
		loopbackNeverProxiedChild(t, port)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	var proxyHits atomic.Int32
	var proxied sync.Map
	// An HTTP proxy, not a Keystone: it only records what reaches it.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxyHits.Add(1)
		proxied.Store(r.URL.String(), true)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(proxy.Close)
	_, port, _ := net.SplitHostPort(f.Listener.Addr().String())

	cmd := exec.Command(os.Args[0], "-test.run=^TestLoopbackNeverProxied$", "-test.count=1", "-test.v")
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUEST_METHOD", proxyChildEnv:
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "HTTPS_PROXY="+proxy.URL, proxyChildEnv+"="+port)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestLoopbackNeverProxied")) {
		t.Fatalf("the child did not run the test:\n%s", out)
	}
	if n := proxyHits.Load(); n != 1 {
		t.Errorf("the proxy got %d requests, want 1 (the control request)", n)
	}
	if _, ok := proxied.Load("http://keystone.example/v3"); !ok {
		t.Error("the control request did not reach the proxy")
	}
	if n := f.hits(); n != 3 {
		t.Errorf("the fake keystone got %d requests, want 3", n)
	}
}

// loopbackNeverProxiedChild is the child part of TestLoopbackNeverProxied.
func loopbackNeverProxiedChild(t *testing.T, port string) {
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{HTTP: hc, maxAttempts: 1}
	for _, raw := range []string{"http://LOCALHOST:" + port + "/v3", "http://127.0.0.1:" + port + "/v3/"} {
		authURL, err := protocol.NormalizeAuthURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.IssuePassword(context.Background(), testAuth(authURL)); err != nil {
			t.Errorf("IssuePassword(%s): %v", authURL, err)
		}
	}
	// Unnormalised, which net/http alone would send to the proxy; the
	// resolver here may not know "localhost.", so its dial is pointed at
	// the fake keystone (a dial to the proxy would not be).
	dial := hc.Transport.(*http.Transport).DialContext
	hc.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "localhost.:"+port {
			addr = "127.0.0.1:" + port
		}
		return dial(ctx, network, addr)
	}
	resp, err := hc.Get("http://localhost.:" + port + "/v3/auth/tokens")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("http://localhost.: status %d, want 201 from the fake keystone", resp.StatusCode)
	}
	// The control: a remote host goes to the proxy.
	resp, err = hc.Get("http://keystone.example/v3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("control: status %d, want 418 from the proxy", resp.StatusCode)
	}
}

func TestRedirectLocations(t *testing.T) {
	for loc, want := range map[string]string{
		"/other/v3":             "a redirect to http://127.0.0.1:PORT/other/v3 that is not followed",
		"https://o.example/v3?": "a redirect to https://o.example/v3 that is not followed",
		"mailto:x@y":            "a redirect to (an unparsable address) that is not followed",
	} {
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header()["Location"] = []string{loc}
			w.WriteHeader(http.StatusFound)
		})
		h := newHarness(t)
		err := h.c.Revoke(context.Background(), f.authURL(), testToken)
		checkErr(t, err, ErrUnavailable)
		_, port, _ := net.SplitHostPort(f.Listener.Addr().String())
		if want = strings.ReplaceAll(want, "PORT", port); !strings.Contains(err.Error(), want) {
			t.Errorf("Location %q: error %q does not say %q", loc, err, want)
		}
	}
}

func TestSleepContext(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(canceled, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext(canceled, 1h) = %v, want context.Canceled", err)
	}
	if err := sleepContext(canceled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext(canceled, 0) = %v, want context.Canceled", err)
	}
	if err := sleepContext(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("sleepContext(background, 1ns) = %v", err)
	}
	if (&Client{}).sleepFunc() == nil {
		t.Error("no default sleep")
	}
}

func TestReachable(t *testing.T) {
	for _, status := range []int{200, 300, 401, 404} {
		var method, auth string
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			method, auth = r.Method+" "+r.URL.Path, r.Header.Get("X-Auth-Token")
			w.WriteHeader(status)
		})
		h := newHarness(t)
		if err := h.c.Reachable(context.Background(), f.authURL()); err != nil {
			t.Errorf("%d: %v", status, err)
		}
		if method != "GET /v3/" || auth != "" || f.hits() != 1 {
			t.Errorf("%d: %s with token %q, %d requests", status, method, auth, f.hits())
		}
	}
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
	h := newHarness(t)
	checkErr(t, h.c.Reachable(context.Background(), f.authURL()), ErrUnavailable)
	if f.hits() != 4 {
		t.Errorf("503: %d attempts, want 4", f.hits())
	}
	checkErr(t, h.c.Reachable(context.Background(), "http://k.example/v3"), protocol.ErrInvalidAuthURL)
}
