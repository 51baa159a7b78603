package keystone

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// IssueToken sends the token method, the token and the project, and takes
// the answer as IssuePassword does.
func TestIssueTokenRequest(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, http.StatusCreated, goodBody) })
	h := newHarness(t)
	tok, err := h.c.IssueToken(context.Background(), TokenAuth{AuthURL: f.authURL(), Token: testToken, ProjectID: "p-123"})
	if err != nil || tok.ID != testToken || tok.ProjectID != "p-123" {
		t.Fatalf("IssueToken: %+v, %v", tok, err)
	}
	seen := f.requests()
	if len(seen) != 1 || seen[0].method != http.MethodPost || seen[0].path != "/v3/auth/tokens" {
		t.Fatalf("requests %+v", seen)
	}
	var body struct {
		Auth struct {
			Identity map[string]json.RawMessage
			Scope    struct{ Project struct{ ID string } }
		}
	}
	if err := json.Unmarshal(seen[0].body, &body); err != nil {
		t.Fatal(err)
	}
	id := body.Auth.Identity
	if string(id["methods"]) != `["token"]` || string(id["token"]) != `{"id":"`+testToken+`"}` || len(id) != 2 || body.Auth.Scope.Project.ID != "p-123" {
		t.Fatalf("body %s", seen[0].body)
	}
	if seen[0].header.Get("X-Auth-Token") != "" {
		t.Fatal("the token went into a header too")
	}
}

// Keystone's refusals — 401 and 403, and 404 for a token it cannot
// validate (expired or revoked) — are ErrAuthFailed, without the token.
func TestIssueTokenRefused(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			writeError(w, status, "Failed to validate token "+testToken)
		})
		h := newHarness(t)
		_, err := h.c.IssueToken(context.Background(), TokenAuth{AuthURL: f.authURL(), Token: testToken, ProjectID: "p-123"})
		checkErr(t, err, ErrAuthFailed)
		if f.hits() != 1 {
			t.Fatalf("%d: %d requests", status, f.hits())
		}
	}
	// Nothing is sent without a project or with a token no Keystone issues.
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { t.Fatal("sent") })
	h := newHarness(t)
	h.c.Debugf("keep the harness's check happy")
	for _, a := range []TokenAuth{{AuthURL: f.authURL(), Token: testToken}, {AuthURL: f.authURL(), Token: "a b", ProjectID: "p"}, {AuthURL: f.authURL(), ProjectID: "p"}} {
		if _, err := h.c.IssueToken(context.Background(), a); err == nil {
			t.Fatalf("%+v: no error", a)
		}
	}
}

// A token answer without a project is malformed: a re-scope always gives one.
func TestIssueTokenNeedsAProject(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeToken(w, http.StatusCreated, `{"token": {"issued_at": "`+goodIssued+`", "expires_at": "`+goodExpires+`"}}`)
	})
	h := newHarness(t)
	_, err := h.c.IssueToken(context.Background(), TokenAuth{AuthURL: f.authURL(), Token: testToken, ProjectID: "p-123"})
	checkErr(t, err, ErrUnavailable)
}
