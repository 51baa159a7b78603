package standin

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// authRequest is the part of a POST /v3/auth/tokens body the stand-in
// reads. Other members are ignored, as Keystone ignores them.
type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Domain   domain `json:"domain"`
					Password string `json:"password"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// errWrongSecret is the status check returns for a wrong secret: a
// sentinel, not an HTTP status, since such an answer is made by the
// limiter.
const errWrongSecret = -1

// readAuth reads and decodes the body, at most maxBodyBytes; a status
// other than 0 is the answer.
func (s *Server) readAuth(w http.ResponseWriter, r *http.Request) (*authRequest, int, string) {
	tooLarge := fmt.Sprintf("the request body is larger than %d KiB", maxBodyBytes>>10)
	if r.ContentLength > maxBodyBytes {
		// Before a byte is read: a client that waits for 100 Continue
		// sends nothing.
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	if err != nil {
		return nil, http.StatusBadRequest, "cannot read the request body"
	}
	var req authRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, http.StatusBadRequest, "the request body is not Keystone's JSON auth request"
	}
	return &req, 0, ""
}

// check decides a sign-in: the password method alone, the session
// secret, the announced user and, when there is a scope, the announced
// project. The secret is checked before anything that would tell the
// caller more.
func (s *Server) check(req *authRequest) (int, string) {
	id := req.Auth.Identity
	if len(id.Methods) != 1 || id.Methods[0] != "password" || id.Password == nil {
		return http.StatusUnauthorized, fmt.Sprintf("the stand-in signs in only with the password method and the session secret, not %q", id.Methods)
	}
	u := id.Password.User
	if !s.secretMatches(u.Password) {
		return errWrongSecret, ""
	}
	me := s.identity
	sameUser := u.ID == me.UserID || (u.ID == "" && u.Name == me.UserName && u.Domain.matches(me.UserDomainID, me.UserDomainName))
	if !sameUser {
		return http.StatusUnauthorized, fmt.Sprintf("the stand-in signs in only user %q of domain %q (OS_USERNAME, OS_USER_DOMAIN_NAME)", me.UserName, me.UserDomainName)
	}
	return s.checkScope(req.Auth.Scope)
}

// secretMatches compares in constant time (of the hashes, so that not
// even the secret's length shows).
func (s *Server) secretMatches(given string) bool {
	a := sha256.Sum256([]byte(given))
	b := sha256.Sum256([]byte(s.cfg.Secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// checkScope accepts no scope (the token is the profile's project's) or
// the announced project, by id or by name and domain.
func (s *Server) checkScope(raw json.RawMessage) (int, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, ""
	}
	me := s.identity
	refuse := fmt.Sprintf("the stand-in hands out tokens of project %q (%s) only (OS_PROJECT_ID)", me.ProjectName, me.ProjectID)
	var scope struct {
		Project *struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain domain `json:"domain"`
		} `json:"project"`
	}
	if raw[0] != '{' || json.Unmarshal(raw, &scope) != nil || scope.Project == nil || !onlyProject(raw) {
		return http.StatusUnauthorized, refuse + ", not another scope"
	}
	p := scope.Project
	switch {
	case p.ID != "" && p.ID == me.ProjectID:
	case p.ID == "" && p.Name == me.ProjectName && p.Domain.matches(me.ProjectDomainID, me.ProjectDomainName):
	default:
		return http.StatusUnauthorized, refuse
	}
	return 0, ""
}

// onlyProject reports whether a scope object has no member but project
// (a domain, system or trust scope beside it is not ours to grant).
func onlyProject(raw json.RawMessage) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return false
	}
	for k := range members {
		if !strings.EqualFold(k, "project") {
			return false
		}
	}
	return true
}

// matches reports whether d names the domain by id or, without one, by
// name.
func (d domain) matches(id, name string) bool {
	if d.ID != "" {
		return d.ID == id
	}
	return d.Name != "" && d.Name == name
}
