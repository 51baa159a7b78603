// Package keystonetest is a fake Keystone v3 on httptest, shared by every
// package's tests: users with passwords (and TOTP second factors), their
// projects, application credentials, issued tokens, faults on demand, and a
// record of every request. It imports only the standard library, so the
// keystone package's own tests can use it.
//
// The fake answers as Keystone does:
//   - POST /v3/auth/tokens with the password, application_credential,
//     token (a re-scope) and totp (with an Openstack-Auth-Receipt) methods;
//     a password alone of a user with a Passcode gets a 401 with an auth
//     receipt;
//   - GET /v3/auth/tokens (validate) and DELETE /v3/auth/tokens (revoke);
//   - GET /v3/auth/projects;
//   - GET, POST /v3/users/{id}/application_credentials and
//     DELETE /v3/users/{id}/application_credentials/{id};
//   - GET /v3 and GET /v3/ (version discovery).
//
// Anything else is 404. Faults (Fail) and a test's own answers (Handle) come
// before all that; requests are recorded whatever answers them.
package keystonetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Project is a project of the fake cloud.
type Project struct {
	ID, Name string
	// DomainID is the project's domain ("default" when empty).
	DomainID string
	// Disabled clears Keystone's enabled flag in listings.
	Disabled bool
}

// User is a user of the fake cloud.
type User struct {
	// Name signs in with Domain ("users" when empty); ID is its Keystone
	// ID ("uid-" + Name when empty).
	Name, Domain, ID string
	// Password is the password it signs in with; AnyPassword takes any.
	Password    string
	AnyPassword bool
	// Passcode, when set, is the TOTP passcode the user's rules want
	// after the password: a password alone gets an auth receipt.
	Passcode string
	// Projects are the projects the user has a role on; they join the
	// cloud's projects. AnyProject gives it a role on any project ID asked
	// for too (listings still show only Projects).
	Projects   []Project
	AnyProject bool
}

// AppCred is an application credential of the fake cloud.
type AppCred struct {
	ID, Name, Secret string
	// User is the name of its user, Project the ID of its project.
	User, Project string
	// Unrestricted lets its tokens manage application credentials.
	Unrestricted bool
	// Roles are the names of its roles (every role of the cloud when
	// empty).
	Roles []string
	// Description, ExpiresAt (zero: never) and AccessRules are kept and
	// listed as given; the fake enforces none of them.
	Description string
	ExpiresAt   time.Time
	AccessRules []AccessRule
}

// AccessRule is an access rule of an application credential.
type AccessRule struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// Role is a role the cloud's users have on their projects.
type Role struct{ ID, Name string }

// Token is a token the fake issued.
type Token struct {
	ID      string
	User    string // the user's name
	Project string // "" for an unscoped token
	AppCred string // the ID of the application credential that signed in
	Methods []string
	Issued  time.Time
	Expires time.Time
	Revoked bool
}

// Request is a request the fake received.
type Request struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	// AuthMethods are auth.identity.methods of a POST of auth/tokens,
	// joined by "+" ("password", "totp", "token", "application_credential").
	AuthMethods string
	// Arrived is when the request arrived (the wall clock).
	Arrived time.Time
}

// String is the request as "METHOD PATH[?QUERY] BODY".
func (r Request) String() string {
	s := r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	if len(r.Body) > 0 {
		s += " " + string(r.Body)
	}
	return s
}

// Server is the fake Keystone. Its methods may be called from any
// goroutine, while it serves.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	users     map[string]*User
	projects  []Project
	appCreds  []*AppCred
	created   int // application credentials created through the API
	roles     []Role
	catalog   string
	tokens    map[string]*Token
	receipts  map[string]string // receipt → user name
	order     []string          // token IDs in the order issued
	prefix    string
	now       func() time.Time
	lifetime  time.Duration
	faults    []*Fault
	handle    func(n int, w http.ResponseWriter, r *http.Request) bool
	requests  []Request
	conns     int
	closeOnce sync.Once
	done      chan struct{}
}

// New starts a fake Keystone on 127.0.0.1 over plain HTTP, closed when the
// test ends. It has no users until AddUser.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := Start()
	tb.Cleanup(s.Close)
	return s
}

// Start is New for a caller without a testing.TB (a testscript's Setup),
// which closes the server itself.
func Start() *Server {
	s := newServer()
	s.Start()
	return s
}

// NewTLS is New over HTTPS, with httptest's certificate (for 127.0.0.1
// and example.com; Certificate returns it).
func NewTLS(tb testing.TB) *Server {
	tb.Helper()
	s := newServer()
	s.StartTLS()
	tb.Cleanup(s.Close)
	return s
}

func newServer() *Server {
	s := &Server{
		users: map[string]*User{}, tokens: map[string]*Token{}, receipts: map[string]string{},
		roles:  []Role{{"r-1", "member"}, {"r-2", "reader"}},
		prefix: "gAAAA", now: time.Now, lifetime: time.Hour, done: make(chan struct{}),
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// TLS handshakes that a test makes fail on purpose are not news.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	return s
}

// Close stops the server, first ending the answers that hang.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.Server.Close()
}

// locked runs f holding mu.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// AuthURL is the fake's auth URL, URL + "/v3".
func (s *Server) AuthURL() string { return s.URL + "/v3" }

// AddUser adds u (or replaces the user of its name) and its projects.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Domain == "" {
		u.Domain = "users"
	}
	if u.ID == "" {
		u.ID = "uid-" + u.Name
	}
	for _, p := range u.Projects {
		if !slices.ContainsFunc(s.projects, func(q Project) bool { return q.ID == p.ID }) {
			s.projects = append(s.projects, p)
		}
	}
	s.users[u.Name] = &u
}

// SetPassword changes the password of the user name.
func (s *Server) SetPassword(name, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name].Password = password
}

// SetPasscode sets the TOTP passcode the user name must give after its
// password; "" drops the second factor.
func (s *Server) SetPasscode(name, passcode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name].Passcode = passcode
}

// AddAppCred adds an application credential.
func (s *Server) AddAppCred(a AppCred) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appCreds = append(s.appCreds, &a)
}

// RemoveAppCred removes the application credential id, as if deleted.
func (s *Server) RemoveAppCred(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appCreds = slices.DeleteFunc(s.appCreds, func(a *AppCred) bool { return a.ID == id })
}

// AppCreds returns the application credentials, oldest first.
func (s *Server) AppCreds() []AppCred {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AppCred
	for _, a := range s.appCreds {
		out = append(out, *a)
	}
	return out
}

// SetCatalog sets the JSON array the token bodies carry as their catalog
// (by default identity, pointing at the fake, and compute).
func (s *Server) SetCatalog(catalog string) { s.locked(func() { s.catalog = catalog }) }

// SetClock sets Keystone's clock: tokens are issued at now() and expire
// lifetime later; a token is good while now() is before its expiry.
func (s *Server) SetClock(now func() time.Time) { s.locked(func() { s.now = now }) }

// SetTokenPrefix sets what token IDs start with ("gAAAA" by default, as
// Fernet tokens do); the N-th token issued is PREFIX + "token-" + N.
func (s *Server) SetTokenPrefix(prefix string) { s.locked(func() { s.prefix = prefix }) }

// Handle makes answer the first to see each request (n counts the requests
// from 1): it answers and returns true, or returns false to leave the
// request to the faults and to the fake. nil ends it.
func (s *Server) Handle(answer func(n int, w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handle = answer
}

// Requests returns the requests received so far (since Forget).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Hits is len(Requests()).
func (s *Server) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Count counts the requests of method (any when "") to path (any when "").
func (s *Server) Count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && (path == "" || r.Path == path) {
			n++
		}
	}
	return n
}

// SignIns counts the POSTs of auth/tokens by their auth methods ("password",
// "totp", "token", "application_credential"), answered or not.
func (s *Server) SignIns() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, r := range s.requests {
		if r.AuthMethods != "" {
			m[r.AuthMethods]++
		}
	}
	return m
}

// Received is every request received, one a line: method, path, headers
// and body, for asserting what never reached the fake.
func (s *Server) Received() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, r := range s.requests {
		fmt.Fprintf(&b, "%s %s %v %s\n", r.Method, r.Path, r.Header, r.Body)
	}
	return b.String()
}

// Forget drops the record of the requests received so far.
func (s *Server) Forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Conns counts the TCP connections accepted.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Issued returns the tokens issued, oldest first.
func (s *Server) Issued() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Token
	for _, id := range s.order {
		out = append(out, *s.tokens[id])
	}
	return out
}

// LastToken is the ID of the token issued last, "" before any.
func (s *Server) LastToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		return ""
	}
	return s.order[len(s.order)-1]
}

// Revoked reports whether token was revoked.
func (s *Server) Revoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[token]
	return t != nil && t.Revoked
}

// RevokeAll revokes every token issued so far.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.Revoked = true
	}
}

// serve records r, then lets the test's Handle, a fault, or the fake
// answer it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// The whole body is read first: only then does net/http end the
	// request's context when the client goes away (a hang ends then).
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body)) // for Handle
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, AuthMethods: authMethods(r, body), Arrived: time.Now()})
	n, handle := len(s.requests), s.handle
	s.mu.Unlock()
	if handle != nil && handle(n, w, r) {
		return
	}
	if f := s.fault(r); f != nil {
		s.answerFault(f, w, r)
		return
	}
	s.route(w, r, body)
}

// route answers r as Keystone would.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	w.Header().Set("Content-Type", "application/json")
	switch {
	case path == "/v3/auth/tokens" && r.Method == http.MethodPost:
		s.signIn(w, r, body)
	case path == "/v3/auth/tokens" && r.Method == http.MethodGet:
		s.validate(w, r)
	case path == "/v3/auth/tokens" && r.Method == http.MethodDelete:
		s.revoke(w, r)
	case path == "/v3/auth/projects" && r.Method == http.MethodGet:
		s.listProjects(w, r)
	case strings.HasPrefix(path, "/v3/users/"):
		s.appCredAPI(w, r, strings.TrimPrefix(path, "/v3/users/"), body)
	case (path == "/v3" || path == "") && r.Method == http.MethodGet:
		fmt.Fprintf(w, `{"version":{"id":"v3.14","status":"stable","links":[{"rel":"self","href":%q}]}}`, s.URL+"/v3/")
	default:
		Refuse(w, http.StatusNotFound, "The resource could not be found.")
	}
}

// Refuse answers status with Keystone's JSON error body.
func Refuse(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "title": http.StatusText(status), "message": message}})
}

// good returns the token of id while Keystone still takes it; the caller
// holds mu.
func (s *Server) good(id string) *Token {
	t := s.tokens[id]
	if t == nil || t.Revoked || !s.now().Before(t.Expires) {
		return nil
	}
	return t
}
