package keystonetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// authBody is what the fake reads of POST /v3/auth/tokens (JSON's names
// match the fields' whatever their case).
type authBody struct {
	Auth struct {
		Identity struct {
			Methods               []string
			Password              struct{ User passwordUser }
			ApplicationCredential struct{ ID, Secret string } `json:"application_credential"`
			TOTP                  struct{ User struct{ ID, Passcode string } }
			Token                 struct{ ID string }
		}
		Scope json.RawMessage
	}
}

// passwordUser is auth.identity.password.user.
type passwordUser struct {
	Name, Password string
	Domain         struct{ Name string }
}

// project is the project ID of a scope: "" for none or "unscoped".
func (b *authBody) project() string {
	var scope struct {
		Project struct {
			ID string `json:"id"`
		} `json:"project"`
	}
	json.Unmarshal(b.Auth.Scope, &scope)
	return scope.Project.ID
}

// authMethods is the auth methods of a POST of auth/tokens joined by "+",
// "" for any other request.
func authMethods(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || strings.TrimSuffix(r.URL.Path, "/") != "/v3/auth/tokens" {
		return ""
	}
	var b authBody
	if json.Unmarshal(body, &b) != nil || len(b.Auth.Identity.Methods) == 0 {
		return "?"
	}
	return strings.Join(b.Auth.Identity.Methods, "+")
}

// refusal is a sign-in refused: its status and Keystone's message.
type refusal struct {
	status  int
	message string
}

var (
	unauthorized = &refusal{http.StatusUnauthorized, "The request you have made requires authentication."}
	notFound     = &refusal{http.StatusNotFound, "Could not find token."}
	delegated    = &refusal{http.StatusForbidden, "Using a delegated token to create another token is not allowed."}
)

// signIn answers POST /v3/auth/tokens.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, raw []byte) {
	var b authBody
	if err := json.Unmarshal(raw, &b); err != nil {
		Refuse(w, http.StatusBadRequest, "Malformed request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Keystone's times are whole seconds.
	tok := &Token{Project: b.project(), Issued: s.now().UTC().Truncate(time.Second)}
	tok.Expires = tok.Issued.Add(s.lifetime)
	var refused *refusal
	switch strings.Join(b.Auth.Identity.Methods, "+") {
	case "password":
		refused = s.password(w, &b, tok)
	case "application_credential":
		refused = s.appCredSignIn(&b, tok)
	case "token":
		refused = s.rescope(&b, tok)
	case "totp":
		refused = s.totp(r, &b, tok)
	default:
		refused = unauthorized
	}
	if refused == nil && tok.Project != "" && !s.hasRole(tok.User, tok.Project) {
		refused = unauthorized
	}
	switch {
	case refused == answered:
	case refused != nil:
		Refuse(w, refused.status, refused.message)
	default:
		s.issue(w, tok)
	}
}

// answered marks a sign-in already answered (with a receipt).
var answered = &refusal{}

// password checks the password method; a user with a second factor gets
// an auth receipt.
func (s *Server) password(w http.ResponseWriter, b *authBody, tok *Token) *refusal {
	pu := b.Auth.Identity.Password.User
	u := s.users[pu.Name]
	if u == nil || (u.Domain != pu.Domain.Name) || (!u.AnyPassword && u.Password != pu.Password) {
		return unauthorized
	}
	if u.Passcode != "" {
		receipt := fmt.Sprintf("receipt-%d", len(s.receipts)+1)
		s.receipts[receipt] = u.Name
		w.Header().Set("Openstack-Auth-Receipt", receipt)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"receipt":{"methods":["password"],"user":{"id":%q,"name":%q,"domain":{"id":"d-%s","name":%q}},"expires_at":%q,"issued_at":%q},`+
			`"required_auth_methods":[["password","totp"]]}`,
			u.ID, u.Name, u.Domain, u.Domain, keystoneTime(tok.Issued.Add(5*time.Minute)), keystoneTime(tok.Issued))
		return answered
	}
	tok.User, tok.Methods = u.Name, []string{"password"}
	return nil
}

// totp checks the second step: the receipt of a password and the passcode.
func (s *Server) totp(r *http.Request, b *authBody, tok *Token) *refusal {
	name, ok := s.receipts[r.Header.Get("Openstack-Auth-Receipt")]
	u := s.users[name]
	if !ok || u == nil || b.Auth.Identity.TOTP.User.ID != u.ID || b.Auth.Identity.TOTP.User.Passcode != u.Passcode {
		return unauthorized
	}
	tok.User, tok.Methods = u.Name, []string{"password", "totp"}
	return nil
}

// appCredSignIn checks the application_credential method: the token is
// scoped to the credential's project.
func (s *Server) appCredSignIn(b *authBody, tok *Token) *refusal {
	ac := b.Auth.Identity.ApplicationCredential
	i := slices.IndexFunc(s.appCreds, func(a *AppCred) bool { return a.ID == ac.ID })
	if i < 0 || s.appCreds[i].Secret != ac.Secret {
		return unauthorized
	}
	a := s.appCreds[i]
	tok.User, tok.Project, tok.AppCred, tok.Methods = a.User, a.Project, a.ID, []string{"application_credential"}
	return nil
}

// rescope checks the token method: a good token of a password sign-in
// gives one scoped elsewhere with its expiry and methods (plus "token"),
// as Keystone does; an application credential's token may not.
func (s *Server) rescope(b *authBody, tok *Token) *refusal {
	old := s.good(b.Auth.Identity.Token.ID)
	switch {
	case old == nil:
		return notFound
	case old.AppCred != "":
		return delegated
	}
	tok.User, tok.Expires = old.User, old.Expires
	tok.Methods = append([]string{"token"}, slices.DeleteFunc(slices.Clone(old.Methods), func(m string) bool { return m == "token" })...)
	return nil
}

// hasRole reports whether the user name has a role on project; the
// caller holds mu.
func (s *Server) hasRole(name, project string) bool {
	u := s.users[name]
	return u != nil && (u.AnyProject || slices.ContainsFunc(u.Projects, func(p Project) bool { return p.ID == project }))
}

// issue keeps tok and answers it; the caller holds mu.
func (s *Server) issue(w http.ResponseWriter, tok *Token) {
	tok.ID = fmt.Sprintf("%stoken-%d", s.prefix, len(s.order)+1)
	s.tokens[tok.ID] = tok
	s.order = append(s.order, tok.ID)
	w.Header().Set("X-Subject-Token", tok.ID)
	w.WriteHeader(http.StatusCreated)
	w.Write(s.body(tok))
}

// keystoneTime is t as Keystone writes it.
func keystoneTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// body is Keystone's answer body of tok; the caller holds mu.
func (s *Server) body(tok *Token) []byte {
	t := map[string]any{
		"methods":    tok.Methods,
		"issued_at":  keystoneTime(tok.Issued),
		"expires_at": keystoneTime(tok.Expires),
		"audit_ids":  []string{"audit-" + tok.ID},
	}
	if u := s.users[tok.User]; u != nil {
		t["user"] = map[string]any{"id": u.ID, "name": u.Name, "domain": map[string]any{"id": "d-" + u.Domain, "name": u.Domain}}
	}
	if tok.Project != "" {
		p := map[string]any{"id": tok.Project}
		if i := slices.IndexFunc(s.projects, func(p Project) bool { return p.ID == tok.Project }); i >= 0 {
			p["name"], p["domain"] = s.projects[i].Name, map[string]any{"id": domainOf(s.projects[i])}
		}
		t["project"] = p
		var roles []map[string]string
		for _, r := range s.roles {
			roles = append(roles, map[string]string{"id": r.ID, "name": r.Name})
		}
		t["roles"] = roles
		catalog := s.catalog
		if catalog == "" {
			catalog = fmt.Sprintf(`[{"type":"identity","name":"keystone","endpoints":[{"interface":"public","region":"RegionOne","region_id":"RegionOne","url":%q}]},`+
				`{"type":"compute","name":"nova","endpoints":[]}]`, s.URL+"/v3")
		}
		t["catalog"] = json.RawMessage(catalog)
	}
	if tok.AppCred != "" {
		i := slices.IndexFunc(s.appCreds, func(a *AppCred) bool { return a.ID == tok.AppCred })
		t["application_credential"] = map[string]any{"id": tok.AppCred, "name": s.appCreds[i].Name, "restricted": !s.appCreds[i].Unrestricted}
	}
	out, _ := json.Marshal(map[string]any{"token": t})
	return out
}

// domainOf is p's domain ID.
func domainOf(p Project) string {
	if p.DomainID == "" {
		return "default"
	}
	return p.DomainID
}

// subject is the token of X-Subject-Token when the request's
// X-Auth-Token and it are good; otherwise it refuses the request and
// returns nil. The caller holds mu.
func (s *Server) subject(w http.ResponseWriter, r *http.Request) *Token {
	if s.good(r.Header.Get("X-Auth-Token")) == nil {
		Refuse(w, unauthorized.status, unauthorized.message)
		return nil
	}
	tok := s.good(r.Header.Get("X-Subject-Token"))
	if tok == nil {
		Refuse(w, notFound.status, notFound.message)
	}
	return tok
}

// validate answers GET /v3/auth/tokens: the body of a good token.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok := s.subject(w, r); tok != nil {
		w.Header().Set("X-Subject-Token", tok.ID)
		w.Write(s.body(tok))
	}
}

// revoke answers DELETE /v3/auth/tokens: 204, or 404 for a token that
// is not good.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok := s.subject(w, r); tok != nil {
		tok.Revoked = true
		w.WriteHeader(http.StatusNoContent)
	}
}

// listProjects answers GET /v3/auth/projects: the projects of the token's
// user.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.good(r.Header.Get("X-Auth-Token"))
	if tok == nil {
		Refuse(w, unauthorized.status, unauthorized.message)
		return
	}
	list := []map[string]any{}
	for _, p := range s.users[tok.User].Projects {
		list = append(list, map[string]any{"id": p.ID, "name": p.Name, "domain_id": domainOf(p), "enabled": !p.Disabled})
	}
	json.NewEncoder(w).Encode(map[string]any{"projects": list, "links": map[string]any{"self": s.URL + "/v3/auth/projects"}})
}
