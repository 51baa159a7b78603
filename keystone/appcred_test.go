package keystone

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"vkc-credential/protocol"
)

func testAppCred(authURL string) ApplicationCredentialAuth {
	return ApplicationCredentialAuth{AuthURL: authURL, ID: "ac-7", Secret: testAppSecret}
}

func TestIssueApplicationCredential(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	h := newHarness(t)
	tok, err := h.c.IssueApplicationCredential(context.Background(), testAppCred(f.authURL()))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID != testToken || tok.ProjectID != "p-123" || string(tok.Body) != goodBody || !tok.ReceivedAt.Equal(fakeNow) {
		t.Errorf("token %+v", tok)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/v3/auth/tokens" || r.header.Get("X-Auth-Token") != "" {
		t.Errorf("request %s %s", r.method, r.path)
	}
	var got any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	// No scope: the credential fixes the project.
	want := map[string]any{"auth": map[string]any{"identity": map[string]any{
		"methods":                []any{"application_credential"},
		"application_credential": map[string]any{"id": "ac-7", "secret": testAppSecret},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request body\n got %#v\nwant %#v", got, want)
	}
}

func TestIssueApplicationCredentialRefused(t *testing.T) {
	noProject := `{"token": {"issued_at": "` + goodIssued + `", "expires_at": "` + goodExpires + `"}}`
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
		want    error
		mention string
		problem Problem
		hits    int
	}{
		{"wrong or deleted", func(w http.ResponseWriter) {
			writeError(w, 401, "The request you have made requires authentication.")
		}, ErrAuthFailed, "the application credential's ID or secret is wrong, or it has expired or been deleted", ProblemNone, 1},
		{"expired, secret echoed", func(w http.ResponseWriter) {
			writeError(w, 401, "Application credential with secret "+testAppSecret+" has expired")
		}, ErrAuthFailed, "with secret *** has expired", ProblemNone, 1},
		{"403", func(w http.ResponseWriter) { writeError(w, 403, "forbidden") }, ErrAuthFailed, "403", ProblemNone, 1},
		{"deleted: 404 naming the ID", func(w http.ResponseWriter) {
			writeError(w, 404, "Could not find Application Credential: ac-7.")
		}, ErrAuthFailed, "keystone has no application credential of this ID", ProblemNone, 1},
		{"404 of another thing", func(w http.ResponseWriter) {
			writeError(w, 404, "The resource could not be found.")
		}, ErrUnavailable, "404 Not Found", ProblemAuthURL, 1},
		{"404 naming a longer ID", func(w http.ResponseWriter) {
			writeError(w, 404, "Could not find Application Credential: ac-77.")
		}, ErrUnavailable, "404 Not Found", ProblemAuthURL, 1},
		{"404 without a body", func(w http.ResponseWriter) { w.WriteHeader(404) }, ErrUnavailable, "404 Not Found", ProblemAuthURL, 1},
		{"token without a project", func(w http.ResponseWriter) { writeToken(w, 201, noProject) }, ErrUnavailable,
			"malformed answer from keystone: POST", ProblemAuthURLOrLater, 1},
		{"503 forever", func(w http.ResponseWriter) { w.WriteHeader(503) }, ErrUnavailable, "after 4 attempts", ProblemOverloaded, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { tt.respond(w) })
			h := newHarness(t)
			tok, err := h.c.IssueApplicationCredential(context.Background(), testAppCred(f.authURL()))
			if tok != nil {
				t.Errorf("got a token %+v", tok)
			}
			checkErr(t, err, tt.want)
			checkProblem(t, err, tt.problem)
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if f.hits() != tt.hits {
				t.Errorf("%d requests, want %d", f.hits(), tt.hits)
			}
		})
	}
}

func TestIssueApplicationCredentialRefusesBeforeSending(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	h := newHarness(t)
	h.c.Debugf("start") // no request is made
	_, err := h.c.IssueApplicationCredential(context.Background(), testAppCred("http://example.com/v3"))
	checkErr(t, err, protocol.ErrInvalidAuthURL)
	for _, mutate := range []func(*ApplicationCredentialAuth){
		func(a *ApplicationCredentialAuth) { a.ID = "" },
		func(a *ApplicationCredentialAuth) { a.Secret = "" },
		func(a *ApplicationCredentialAuth) { a.Secret = testAppSecret + "\xff" },
		func(a *ApplicationCredentialAuth) { a.ID = "ac\xff" },
	} {
		a := testAppCred(f.authURL())
		mutate(&a)
		if _, err := h.c.IssueApplicationCredential(context.Background(), a); err == nil {
			t.Errorf("IssueApplicationCredential with ID %q succeeded", a.ID)
		} else {
			assertNoSecrets(t, "error", err.Error())
		}
	}
	if f.hits() != 0 {
		t.Errorf("%d requests were sent", f.hits())
	}
}

func TestTokenProjectID(t *testing.T) {
	times := `"issued_at": "` + goodIssued + `", "expires_at": "` + goodExpires + `"`
	tests := []struct {
		name    string
		body    string
		want    string
		mention string // for a malformed answer
	}{
		{"scoped", goodBody, "p-123", ""},
		{"no project", `{"token": {` + times + `}}`, "", ""},
		{"null project", `{"token": {` + times + `, "project": null}}`, "", ""},
		{"64 bytes", `{"token": {` + times + `, "project": {"id": "` + strings.Repeat("a", 64) + `"}}}`, strings.Repeat("a", 64), ""},
		{"project without id", `{"token": {` + times + `, "project": {"name": "x"}}}`, "", "project has no string id"},
		{"project a string", `{"token": {` + times + `, "project": "p-123"}}`, "", "project has no string id"},
		{"id a number", `{"token": {` + times + `, "project": {"id": 7}}}`, "", "project has no string id"},
		{"id empty", `{"token": {` + times + `, "project": {"id": ""}}}`, "", "project id is not 1 to 64 printable ASCII"},
		{"id with a newline", `{"token": {` + times + `, "project": {"id": "p\n1"}}}`, "", "project id is not 1 to 64 printable ASCII"},
		{"id too long", `{"token": {` + times + `, "project": {"id": "` + strings.Repeat("a", 65) + `"}}}`, "", "project id is not 1 to 64 printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, tt.body) })
			h := newHarness(t)
			tok, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			if tt.mention == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tok.ProjectID != tt.want {
					t.Errorf("ProjectID = %q, want %q", tok.ProjectID, tt.want)
				}
				return
			}
			checkErr(t, err, ErrUnavailable)
			if !strings.Contains(err.Error(), "malformed answer") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not say malformed answer ... %s", err, tt.mention)
			}
		})
	}
}

func TestIssuePasswordUnscoped(t *testing.T) {
	body := `{"token": {"methods": ["password"], "issued_at": "` + goodIssued + `", "expires_at": "` + goodExpires + `"}}`
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, body) })
	h := newHarness(t)
	a := testAuth(f.authURL())
	a.ProjectID = ""
	tok, err := h.c.IssuePasswordUnscoped(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID != testToken || tok.ProjectID != "" {
		t.Errorf("token %+v", tok)
	}
	var got any
	if err := json.Unmarshal(f.requests()[0].body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"auth": map[string]any{
		"identity": map[string]any{
			"methods": []any{"password"},
			"password": map[string]any{"user": map[string]any{
				"name": "alice", "domain": map[string]any{"name": "users"}, "password": testPassword,
			}},
		},
		"scope": "unscoped",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request body\n got %#v\nwant %#v", got, want)
	}
}

func TestIssuePasswordUnscopedRefused(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeError(w, 401, "no") })
	h := newHarness(t)
	a := testAuth(f.authURL())
	a.ProjectID = ""
	_, err := h.c.IssuePasswordUnscoped(context.Background(), a)
	checkErr(t, err, ErrAuthFailed)
	checkProblem(t, err, ProblemNone)
	if !strings.HasSuffix(err.Error(), `answered 401 Unauthorized (keystone said "no")`) {
		t.Errorf("error %q says more than what happened", err)
	}

	for name, mutate := range map[string]func(*PasswordAuth){
		"a project ID":    func(a *PasswordAuth) { a.ProjectID = "p-123" },
		"no password":     func(a *PasswordAuth) { a.Password = "" },
		"no username":     func(a *PasswordAuth) { a.Username = "" },
		"no domain":       func(a *PasswordAuth) { a.UserDomainName = "" },
		"remote http URL": func(a *PasswordAuth) { a.AuthURL = "http://example.com/v3" },
	} {
		a := testAuth(f.authURL())
		a.ProjectID = ""
		mutate(&a)
		if _, err := h.c.IssuePasswordUnscoped(context.Background(), a); err == nil {
			t.Errorf("%s: IssuePasswordUnscoped succeeded", name)
		} else {
			assertNoSecrets(t, "error", err.Error())
		}
	}
	if f.hits() != 1 {
		t.Errorf("%d requests, want 1", f.hits())
	}
}

func TestNamesID(t *testing.T) {
	for _, tt := range []struct {
		message, id string
		want        bool
	}{
		{"Could not find Application Credential: ac-7.", "ac-7", true},
		{"ac-7", "ac-7", true},
		{"ac-7 is gone", "ac-7", true},
		{"Could not find Application Credential: ac-77.", "ac-7", false},
		{"xac-7 then ac-7_", "ac-7", false},
		{"xac-7 then (ac-7)", "ac-7", true},
		{"The resource could not be found.", "a", false},
		{"anything", "", false},
	} {
		if got := namesID(tt.message, tt.id); got != tt.want {
			t.Errorf("namesID(%q, %q) = %v, want %v", tt.message, tt.id, got, tt.want)
		}
	}
}
