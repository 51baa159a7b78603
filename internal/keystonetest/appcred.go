package keystonetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// appCredAPI answers /v3/users/{id}/application_credentials[/{id}] (rest
// is the path after /v3/users/) for a good token of that user.
func (s *Server) appCredAPI(w http.ResponseWriter, r *http.Request, rest string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	userID, rest, _ := strings.Cut(rest, "/")
	what, credID, _ := strings.Cut(rest, "/")
	tok := s.good(r.Header.Get("X-Auth-Token"))
	switch {
	case what != "application_credentials":
		Refuse(w, http.StatusNotFound, "The resource could not be found.")
	case tok == nil:
		Refuse(w, unauthorized.status, unauthorized.message)
	case s.users[tok.User] == nil || s.users[tok.User].ID != userID:
		Refuse(w, http.StatusForbidden, "You are not authorized to perform the requested action.")
	case r.Method != http.MethodGet && tok.AppCred != "" && !s.unrestricted(tok.AppCred):
		Refuse(w, http.StatusForbidden, "Using a restricted application credential to manage others is not allowed.")
	case r.Method == http.MethodGet && credID == "":
		s.listAppCreds(w, tok.User, r.URL.Query().Get("name"))
	case r.Method == http.MethodPost && credID == "":
		s.createAppCred(w, tok, body)
	case r.Method == http.MethodDelete && credID != "":
		s.deleteAppCred(w, tok.User, credID)
	default:
		Refuse(w, http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
	}
}

// unrestricted reports whether the credential id may manage others; the
// caller holds mu.
func (s *Server) unrestricted(id string) bool {
	i := slices.IndexFunc(s.appCreds, func(a *AppCred) bool { return a.ID == id })
	return i >= 0 && s.appCreds[i].Unrestricted
}

// wire is a's JSON object as Keystone lists it (never its secret).
func (s *Server) wire(a *AppCred) map[string]any {
	roles := []map[string]string{}
	for _, r := range s.roles {
		if len(a.Roles) == 0 || slices.Contains(a.Roles, r.Name) {
			roles = append(roles, map[string]string{"id": r.ID, "name": r.Name})
		}
	}
	out := map[string]any{"id": a.ID, "name": a.Name, "project_id": a.Project, "roles": roles,
		"unrestricted": a.Unrestricted, "expires_at": nil, "description": nil, "access_rules": []AccessRule{}}
	if !a.ExpiresAt.IsZero() {
		out["expires_at"] = a.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000000")
	}
	if a.Description != "" {
		out["description"] = a.Description
	}
	if a.AccessRules != nil {
		out["access_rules"] = a.AccessRules
	}
	return out
}

// listAppCreds answers the list of user's credentials, those named name
// when it is not "".
func (s *Server) listAppCreds(w http.ResponseWriter, user, name string) {
	list := []map[string]any{}
	for _, a := range s.appCreds {
		if a.User == user && (name == "" || a.Name == name) {
			list = append(list, s.wire(a))
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"application_credentials": list, "links": map[string]any{}})
}

// createAppCred answers a create: a credential on the token's project,
// with a secret of the fake's making, once in the answer.
func (s *Server) createAppCred(w http.ResponseWriter, tok *Token, body []byte) {
	var req struct {
		Cred *struct {
			Name         string `json:"name"`
			Description  string `json:"description"`
			ExpiresAt    string `json:"expires_at"`
			Unrestricted bool   `json:"unrestricted"`
			Roles        []struct {
				ID, Name string
			} `json:"roles"`
			AccessRules []AccessRule `json:"access_rules"`
		} `json:"application_credential"`
	}
	if json.Unmarshal(body, &req) != nil || req.Cred == nil || req.Cred.Name == "" {
		Refuse(w, http.StatusBadRequest, "Invalid input for field 'application_credential'.")
		return
	}
	var expires time.Time
	if req.Cred.ExpiresAt != "" {
		var err error
		if expires, err = time.Parse(time.RFC3339Nano, req.Cred.ExpiresAt); err != nil {
			Refuse(w, http.StatusBadRequest, "Invalid input for field 'expires_at'.")
			return
		}
	}
	if slices.ContainsFunc(s.appCreds, func(a *AppCred) bool { return a.User == tok.User && a.Name == req.Cred.Name }) {
		Refuse(w, http.StatusConflict, "Duplicate entry found with name "+req.Cred.Name+".")
		return
	}
	s.created++
	n := s.created
	a := &AppCred{ID: fmt.Sprintf("ac-created-%d", n), Name: req.Cred.Name, Secret: fmt.Sprintf("secret-of-created-%d", n),
		User: tok.User, Project: tok.Project, Unrestricted: req.Cred.Unrestricted,
		Description: req.Cred.Description, ExpiresAt: expires, AccessRules: req.Cred.AccessRules}
	for _, r := range req.Cred.Roles {
		if i := slices.IndexFunc(s.roles, func(q Role) bool { return q.ID == r.ID || q.Name == r.Name }); i >= 0 {
			a.Roles = append(a.Roles, s.roles[i].Name)
		}
	}
	s.appCreds = append(s.appCreds, a)
	out := s.wire(a)
	out["secret"] = a.Secret
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"application_credential": out})
}

// deleteAppCred answers a delete of user's credential id.
func (s *Server) deleteAppCred(w http.ResponseWriter, user, id string) {
	i := slices.IndexFunc(s.appCreds, func(a *AppCred) bool { return a.User == user && a.ID == id })
	if i < 0 {
		Refuse(w, http.StatusNotFound, "Could not find application credential: "+id+".")
		return
	}
	s.appCreds = slices.Delete(s.appCreds, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}
