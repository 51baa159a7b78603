package helper

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mfaKeystone is a fake Keystone whose user's rules want password and
// TOTP (unless mfa is false): a password alone gets an auth receipt, the
// receipt and the passcode a token, and a token is re-scoped with the
// token method keeping its expires_at and methods, as Keystone does. It
// counts the POSTs by method and refuses revoked tokens (404) and
// projects the user has no role on (401).
type mfaKeystone struct {
	*httptest.Server
	password, passcode string
	mfa                atomic.Bool
	lifetime           time.Duration
	now                func() time.Time

	mu       sync.Mutex
	posts    map[string]int // "password", "totp", "token"
	tokens   map[string]*fakeToken
	projects []string // the projects the user has a role on
	n        int
}

type fakeToken struct {
	expires time.Time
	methods []string
	project string
	revoked bool
}

func newMFAKeystone(t *testing.T, now func() time.Time) *mfaKeystone {
	k := &mfaKeystone{password: goodPassword, passcode: "123456", lifetime: time.Hour, now: now,
		posts: map[string]int{}, tokens: map[string]*fakeToken{}, projects: []string{"p1", "p2", "p3", "p4"}}
	k.mfa.Store(true)
	k.Server = httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.Close)
	return k
}

func (k *mfaKeystone) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v3/auth/projects":
		if !k.good(k.tokens[r.Header.Get("X-Auth-Token")]) {
			k.refuse(w, http.StatusUnauthorized)
			return
		}
		k.posts["GET projects"]++
		fmt.Fprint(w, `{"projects":[{"id":"p1","name":"one","domain_id":"d"},{"id":"p2","name":"two","domain_id":"d"}]}`)
	case r.Method == http.MethodDelete:
		if tok := k.tokens[r.Header.Get("X-Subject-Token")]; tok != nil {
			tok.revoked = true
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		k.issue(w, r)
	}
}

// good reports whether Keystone still takes tok.
func (k *mfaKeystone) good(tok *fakeToken) bool {
	return tok != nil && !tok.revoked && k.now().Before(tok.expires)
}

// authBody is what the fake reads of POST /v3/auth/tokens.
type authBody struct {
	Auth struct {
		Identity struct {
			Methods  []string
			Password struct{ User struct{ Password string } }
			TOTP     struct{ User struct{ ID, Passcode string } }
			Token    struct{ ID string }
		}
		Scope json.RawMessage
	}
}

// issue answers POST /v3/auth/tokens.
func (k *mfaKeystone) issue(w http.ResponseWriter, r *http.Request) {
	var body authBody
	json.NewDecoder(r.Body).Decode(&body)
	method := strings.Join(body.Auth.Identity.Methods, "+")
	k.posts[method]++
	var scope struct{ Project struct{ ID string } }
	json.Unmarshal(body.Auth.Scope, &scope)
	tok := &fakeToken{expires: k.now().Add(k.lifetime), project: scope.Project.ID}
	status := k.authenticate(w, r, method, &body, tok)
	if status == 0 && tok.project != "" && !slices.Contains(k.projects, tok.project) {
		status = http.StatusUnauthorized
	}
	if status != 0 {
		k.refuse(w, status)
		return
	}
	k.n++
	name := fmt.Sprintf("%s-token-%d", method, k.n)
	k.tokens[name] = tok
	proj := "null"
	if tok.project != "" {
		proj = fmt.Sprintf(`{"id":%q}`, tok.project)
	}
	w.Header().Set("X-Subject-Token", name)
	w.WriteHeader(http.StatusCreated)
	methods, _ := json.Marshal(tok.methods)
	fmt.Fprintf(w, `{"token":{"methods":%s,"project":%s,"issued_at":%q,"expires_at":%q}}`, methods, proj,
		k.now().Format("2006-01-02T15:04:05.000000Z"), tok.expires.Format("2006-01-02T15:04:05.000000Z"))
}

// authenticate checks the methods of body and fills in tok's methods (and
// expiry, for a re-scope); it returns the status of a refusal, or 0. The
// receipt it answers itself (-1).
func (k *mfaKeystone) authenticate(w http.ResponseWriter, r *http.Request, method string, body *authBody, tok *fakeToken) int {
	id := body.Auth.Identity
	switch {
	case method == "password" && id.Password.User.Password != k.password:
		return http.StatusUnauthorized
	case method == "password" && k.mfa.Load():
		w.Header().Set("Openstack-Auth-Receipt", "receipt-of-the-password")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"receipt":{"methods":["password"],"user":{"id":"uid"}},"required_auth_methods":[["password","totp"]]}`)
		return -1
	case method == "password":
		tok.methods = []string{"password"}
	case method == "totp" && (r.Header.Get("Openstack-Auth-Receipt") != "receipt-of-the-password" || id.TOTP.User.Passcode != k.passcode):
		return http.StatusUnauthorized
	case method == "totp":
		tok.methods = []string{"password", "totp"}
	case method == "token" && !k.good(k.tokens[id.Token.ID]):
		return http.StatusNotFound
	case method == "token":
		old := k.tokens[id.Token.ID]
		tok.expires, tok.methods = old.expires, append([]string{"token"}, old.methods...)
	}
	return 0
}

// refuse answers a refusal of status; -1 means the answer was given.
func (k *mfaKeystone) refuse(w http.ResponseWriter, status int) {
	if status < 0 {
		return
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":"refused","title":"refused"}}`, status)
}

// count returns the POSTs of each method so far.
func (k *mfaKeystone) count() map[string]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.posts)
}

// revoked says whether token was revoked.
func (k *mfaKeystone) revoked(token string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tokens[token] != nil && k.tokens[token].revoked
}

// revokeAll revokes every token issued so far.
func (k *mfaKeystone) revokeAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, t := range k.tokens {
		t.revoked = true
	}
}
