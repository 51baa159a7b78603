package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeToken is a token as helper.Get returns it.
type fakeToken struct {
	id               string
	issued, expires  time.Time
	projectID, catal string
}

func (t *fakeToken) ID() string           { return t.id }
func (t *fakeToken) IssuedAt() time.Time  { return t.issued }
func (t *fakeToken) ExpiresAt() time.Time { return t.expires }
func (t *fakeToken) Body() ([]byte, error) {
	return fmt.Appendf(nil, `{"token":{"methods":["password"],"expires_at":%q,"issued_at":%q,`+
		`"user":{"id":"u1","name":"dev.user@example.com","domain":{"id":"d1","name":"users"}},`+
		`"project":{"id":%q,"name":"vkc-test","domain":{"id":"default","name":"Default"}},"catalog":[%s]}}`,
		t.expires.Format(time.RFC3339), t.issued.Format(time.RFC3339), t.projectID, t.catal), nil
}

// source hands out tokens as the shared cache would: the current one
// while it has minTTL left, else a new one ("a POST to Keystone").
type source struct {
	mu       sync.Mutex
	now      func() time.Time
	lifetime time.Duration
	cur      *fakeToken
	calls    int
	issued   int
	minTTLs  []time.Duration
	fail     error
	inside   atomic.Int32
}

func (s *source) token(_ context.Context, minTTL time.Duration) (Token, error) {
	if s.inside.Add(1) != 1 {
		panic("Token called from two goroutines at once")
	}
	defer s.inside.Add(-1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.minTTLs = append(s.minTTLs, minTTL)
	if s.fail != nil {
		return nil, s.fail
	}
	now := s.now()
	if s.cur == nil || now.Add(minTTL).After(s.cur.expires) {
		s.issued++
		s.cur = &fakeToken{id: "tok-" + strconv.Itoa(s.issued), issued: now, expires: now.Add(s.lifetime), projectID: "p1", catal: `{"type":"identity"}`}
	}
	return s.cur, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t      *testing.T
	srv    *Server
	src    *source
	clock  *clock
	secret string
	base   string
}

func start(t *testing.T, lifetime, minTTL time.Duration) *fixture {
	t.Helper()
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	src := &source{now: c.now, lifetime: lifetime}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), Config{Token: src.token, MinTTL: minTTL, Secret: secret, Now: c.now,
		Describe: func(err error) (int, string) { return http.StatusTeapot, "described: " + err.Error() }}, ln)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
	return &fixture{t: t, srv: srv, src: src, clock: c, secret: secret, base: "http://" + ln.Addr().String()}
}

type answer struct {
	status  int
	subject string
	body    string
}

func (f *fixture) do(method, path, body string, header ...string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.base+path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("X-Subject-Token"), string(data)}
}

func authBody(secret, user, domain, scope string) string {
	b := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"domain":%s,"password":%q}}}`, user, domain, secret)
	if scope != "" {
		b += `,"scope":` + scope
	}
	return b + "}}"
}

func (f *fixture) signIn(scope string) answer {
	f.t.Helper()
	return f.do("POST", "/v3/auth/tokens", authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, scope), "Content-Type", "application/json")
}

// wantError checks a Keystone-shaped error that names the cause.
func wantError(t *testing.T, a answer, status int, cause string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if a.status != status || json.Unmarshal([]byte(a.body), &e) != nil || e.Error.Code != status || !strings.Contains(e.Error.Message, cause) {
		t.Fatalf("want %d naming %q, got %d %s", status, cause, a.status, a.body)
	}
	if a.subject != "" {
		t.Fatal("an error carried a token")
	}
}

func TestVersionDiscoveryPointsAtItself(t *testing.T) {
	f := start(t, time.Hour, 5*time.Minute)
	port := strconv.Itoa(f.srv.port)
	if f.srv.URL() != "http://127.0.0.1:"+port+"/v3" {
		t.Fatalf("URL %s", f.srv.URL())
	}
	for _, tc := range []struct{ path, host string }{{"/", ""}, {"/v3", ""}, {"/v3/", ""}, {"/v3", "localhost:" + port}} {
		a := f.do("GET", tc.path, "", "Host", tc.host)
		host := tc.host
		if host == "" {
			host = "127.0.0.1:" + port
		}
		if a.status != 200 && a.status != 300 || !strings.Contains(a.body, `"href":"http://`+host+`/v3/"`) || !strings.Contains(a.body, `"stable"`) {
			t.Fatalf("GET %s (Host %s): %d %s", tc.path, host, a.status, a.body)
		}
	}
}

func TestSignInHandsOutTheCachedToken(t *testing.T) {
	f := start(t, time.Hour, 5*time.Minute)
	for _, scope := range []string{
		"", `{"project":{"id":"p1"}}`,
		`{"project":{"name":"vkc-test","domain":{"id":"default"}}}`,
		`{"project":{"name":"vkc-test","domain":{"name":"Default"}}}`,
	} {
		a := f.signIn(scope)
		if a.status != 201 || a.subject != "tok-1" || !strings.Contains(a.body, `"catalog":[{"type":"identity"}]`) {
			t.Fatalf("scope %s: %d %q %s", scope, a.status, a.subject, a.body)
		}
	}
	// By user id too, and with the domain by id.
	a := f.do("POST", "/v3/auth/tokens", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"u1","password":"`+f.secret+`"}}}}}`)
	b := f.do("POST", "/v3/auth/tokens", authBody(f.secret, "dev.user@example.com", `{"id":"d1"}`, ""))
	if a.status != 201 || b.status != 201 {
		t.Fatalf("by user id: %d; by domain id: %d", a.status, b.status)
	}
	if f.src.issued != 1 {
		t.Fatalf("issued %d tokens, want 1 (the cached one serves every sign-in)", f.src.issued)
	}
	// ?nocatalog drops the catalog, as Keystone does.
	if a := f.do("POST", "/v3/auth/tokens?nocatalog", authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, "")); a.status != 201 || strings.Contains(a.body, "catalog") {
		t.Fatalf("nocatalog: %d %s", a.status, a.body)
	}
}

func TestSignInRefusals(t *testing.T) {
	f := start(t, time.Hour, 5*time.Minute)
	calls := f.src.calls
	post := func(body string, header ...string) answer {
		return f.do("POST", "/v3/auth/tokens", body, header...)
	}
	port := strconv.Itoa(f.srv.port)
	good := authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, "")
	wantError(t, post(authBody("vkc-session-wrong", "dev.user@example.com", `{"name":"users"}`, "")), 401, "wrong password")
	wantError(t, post(authBody(f.secret, "other.user", `{"name":"users"}`, "")), 401, `user "dev.user@example.com" of domain "users"`)
	wantError(t, post(authBody(f.secret, "dev.user@example.com", `{"name":"other"}`, "")), 401, "signs in only user")
	wantError(t, post(authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, `{"project":{"id":"p2"}}`)), 401, `project "vkc-test" (p1) only`)
	wantError(t, post(authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, `{"project":{"name":"vkc-test","domain":{"name":"users"}}}`)), 401, "(p1) only")
	wantError(t, post(authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, `"unscoped"`)), 401, "not another scope")
	wantError(t, post(authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, `{"domain":{"id":"default"}}`)), 401, "not another scope")
	wantError(t, post(authBody(f.secret, "dev.user@example.com", `{"name":"users"}`, `{"project":{"id":"p1"},"system":{"all":true}}`)), 401, "not another scope")
	wantError(t, post(`{"auth":{"identity":{"methods":["token"],"token":{"id":"x"}}}}`), 401, "only with the password method")
	wantError(t, post(`{"auth":{"identity":{"methods":["password","totp"]}}}`), 401, "only with the password method")
	wantError(t, post("not json"), 400, "not Keystone's JSON")
	wantError(t, post(good+strings.Repeat(" ", 10<<20)), 413, "larger than 64 KiB")
	// Without a Content-Length (chunked), the reading stops at the bound.
	req, _ := http.NewRequest("POST", f.base+"/v3/auth/tokens", io.MultiReader(strings.NewReader(good), strings.NewReader(strings.Repeat(" ", 10<<20))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a chunked 10 MiB body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || req.ContentLength != 0 {
		t.Errorf("a chunked 10 MiB body: %d", resp.StatusCode)
	}
	wantError(t, post(good, "Host", "evil.example:"+port), 404, "only to Host 127.0.0.1:"+port)
	wantError(t, post(good, "Host", "127.0.0.1:1"), 404, "only to Host")
	wantError(t, post(good, "Origin", "https://evil.example"), 401, "web pages")
	wantError(t, f.do("GET", "/v3/projects", ""), 404, "other Keystone API")
	wantError(t, f.do("PUT", "/v3/auth/tokens", good), 405, "PUT")
	if f.src.calls != calls {
		t.Fatalf("a refused request asked for a token (%d calls)", f.src.calls-calls)
	}
	if a := post(good); a.status != 201 {
		t.Fatalf("the right secret after the refusals: %d %s", a.status, a.body)
	}
}

func TestValidateAndDelete(t *testing.T) {
	f := start(t, time.Hour, 5*time.Minute)
	tok := f.signIn("").subject
	a := f.do("GET", "/v3/auth/tokens", "", "X-Auth-Token", tok, "X-Subject-Token", tok)
	if a.status != 200 || a.subject != tok || !strings.Contains(a.body, `"catalog"`) {
		t.Fatalf("validate: %d %s", a.status, a.body)
	}
	if a := f.do("GET", "/v3/auth/tokens?nocatalog", "", "X-Auth-Token", tok, "X-Subject-Token", tok); a.status != 200 || strings.Contains(a.body, "catalog") {
		t.Fatalf("validate nocatalog: %d %s", a.status, a.body)
	}
	if a := f.do("HEAD", "/v3/auth/tokens", "", "X-Auth-Token", tok, "X-Subject-Token", tok); a.status != 200 {
		t.Fatalf("HEAD: %d", a.status)
	}
	wantError(t, f.do("GET", "/v3/auth/tokens", "", "X-Auth-Token", tok, "X-Subject-Token", "other"), 404, "did not serve")
	wantError(t, f.do("GET", "/v3/auth/tokens", "", "X-Auth-Token", "other", "X-Subject-Token", tok), 401, "X-Auth-Token")
	wantError(t, f.do("DELETE", "/v3/auth/tokens", "", "X-Auth-Token", "other", "X-Subject-Token", tok), 401, "X-Auth-Token")
	calls := f.src.calls
	if a := f.do("DELETE", "/v3/auth/tokens", "", "X-Auth-Token", tok, "X-Subject-Token", tok); a.status != 204 {
		t.Fatalf("DELETE: %d %s", a.status, a.body)
	}
	// Nothing was revoked: the token still validates and still serves.
	if a := f.do("GET", "/v3/auth/tokens", "", "X-Auth-Token", tok, "X-Subject-Token", tok); a.status != 200 {
		t.Fatalf("validate after DELETE: %d", a.status)
	}
	if f.src.calls != calls {
		t.Fatal("DELETE asked for a token")
	}
	// An expired token is not valid any more.
	f.clock.add(time.Hour)
	wantError(t, f.do("GET", "/v3/auth/tokens", "", "X-Auth-Token", tok, "X-Subject-Token", tok), 401, "expired")
}

func TestMinTTLIsAtMostAQuarterOfTheLifetime(t *testing.T) {
	f := start(t, time.Minute, 5*time.Minute)
	f.signIn("")
	// New asks once for any token, then with the minimum; then a sign-in.
	want := []time.Duration{0, 15 * time.Second, 15 * time.Second}
	if fmt.Sprint(f.src.minTTLs) != fmt.Sprint(want) {
		t.Fatalf("min TTLs asked: %v, want %v", f.src.minTTLs, want)
	}
	// 20 tools that sign in again when their token has expired (as
	// gophercloud and keystoneauth do on a 401), looked at every 5 s for
	// 10 lifetimes: one token per lifetime.
	held := make([]time.Time, 20)
	for range 120 {
		f.clock.add(5 * time.Second)
		for i := range held {
			if f.clock.now().Before(held[i]) {
				continue
			}
			a := f.signIn("")
			if a.status != 201 {
				t.Fatalf("sign-in: %d %s", a.status, a.body)
			}
			held[i] = f.src.cur.expires
		}
	}
	if f.src.issued != 11 {
		t.Fatalf("%d tokens issued in 10 lifetimes, want 11", f.src.issued)
	}
	g := start(t, time.Hour, 5*time.Minute)
	if g.src.minTTLs[1] != 5*time.Minute {
		t.Fatalf("with hour-long tokens the minimum is --min-ttl: %v", g.src.minTTLs)
	}
}

func TestTokenFailureIsDescribed(t *testing.T) {
	f := start(t, time.Hour, 5*time.Minute)
	f.src.fail = errors.New("keystone is down")
	f.clock.add(time.Hour)
	wantError(t, f.signIn(""), http.StatusTeapot, "described: keystone is down")
}

func TestSignInsShareOneIssuance(t *testing.T) {
	f := start(t, time.Minute, 5*time.Minute)
	f.clock.add(2 * time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a := f.signIn(""); a.status != 201 || a.subject != "tok-2" {
				t.Errorf("sign-in: %d %q", a.status, a.subject)
			}
		}()
	}
	wg.Wait()
	if f.src.issued != 2 {
		t.Fatalf("issued %d, want 2", f.src.issued)
	}
}

func TestWrongSecretsAreSlowedAndBounded(t *testing.T) {
	var waits []time.Duration
	for n := 1; n <= 12; n++ {
		waits = append(waits, penalty(n))
	}
	if fmt.Sprint(waits) != "[0s 0s 0s 100ms 200ms 400ms 800ms 1.6s 2s 2s 2s 2s]" {
		t.Fatalf("penalties %v", waits)
	}
	f := start(t, time.Hour, 5*time.Minute)
	// Waits block until released, so that maxWaiting fill up.
	release := make(chan struct{})
	var slept atomic.Int32
	f.srv.wrong.sleep = func(ctx context.Context, d time.Duration) error {
		slept.Add(1)
		<-release
		return nil
	}
	calls := f.src.calls
	wrong := authBody("vkc-session-wrong", "dev.user@example.com", `{"name":"users"}`, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var sent atomic.Int32
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent.Add(1) <= 1000 {
				a := f.do("POST", "/v3/auth/tokens", wrong)
				mu.Lock()
				statuses[a.status]++
				mu.Unlock()
			}
		}()
	}
	// In the middle of the flood, the right secret gets its token.
	for sent.Load() < 500 {
		time.Sleep(time.Millisecond)
	}
	if a := f.signIn(""); a.status != 201 {
		t.Errorf("the right secret during the flood: %d", a.status)
	}
	// Everyone but the waiting ones has been answered 401 or 429.
	for {
		mu.Lock()
		n := statuses[401] + statuses[429]
		mu.Unlock()
		if n >= 1000-maxWaiting {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	if statuses[401]+statuses[429] != 1000 || statuses[429] == 0 || int(slept.Load()) > statuses[401] {
		t.Fatalf("answers %v, %d waited", statuses, slept.Load())
	}
	if f.src.calls != calls+1 {
		t.Fatalf("wrong secrets asked for tokens: %d calls", f.src.calls-calls)
	}
	if a := f.signIn(""); a.status != 201 {
		t.Fatalf("the right secret after the flood: %d", a.status)
	}
}

func TestNewRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err == nil {
		defer ln.Close()
		if _, err := New(context.Background(), Config{Token: (&source{}).token, Secret: strings.Repeat("s", 40)}, ln); err == nil {
			t.Fatal("a stand-in on 127.0.0.2")
		}
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := New(context.Background(), Config{Token: (&source{}).token, Secret: "short"}, ln); err == nil {
		t.Fatal("a stand-in with a short secret")
	}
	fail := &source{now: time.Now, fail: errors.New("no password stored")}
	if _, err := New(context.Background(), Config{Token: fail.token, Secret: strings.Repeat("s", 40)}, ln); err == nil || err.Error() != "no password stored" {
		t.Fatalf("New with a failing token source: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	b, _ := NewSecret()
	if err != nil || a == b || len(a) < len("vkc-session-")+22 {
		t.Fatalf("secrets %q %q: %v", a, b, err)
	}
	for _, c := range a {
		if c < 0x21 || c > 0x7e {
			t.Fatalf("secret %q is not printable ASCII", a)
		}
	}
}

func TestIdentityOfRefusesHostileNames(t *testing.T) {
	for _, body := range []string{
		`{"token":{"user":{"id":"u","name":"a\u001b[31m","domain":{"id":"d","name":"users"}},"project":{"id":"p","name":"n","domain":{"id":"d"}}}}`,
		`{"token":{"user":{"id":"u","name":"a","domain":{"id":"d","name":"users"}}}}`,
		`{"token":{"user":{"id":"u","name":"a\u202e","domain":{"id":"d","name":"users"}},"project":{"id":"p","name":"n","domain":{"id":"d"}}}}`,
	} {
		if _, err := identityOf([]byte(body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}
