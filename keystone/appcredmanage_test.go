package keystone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"vkc-credential/protocol"
)

// testCredSecret is the secret of the fake's created credential: it must
// never show in an error or a Debugf line.
const testCredSecret = "vhz3An2EOIbuKIuTWoJkKF49-TestSecretThatMustNeverShow"

// credJSON is an application credential as Keystone 22 answers it, with
// the fields it adds beside ours; secret, when not empty, is added as in
// the answer of a create.
func credJSON(secret string) string {
	s := `{"id": "ac-1", "name": "ci", "description": null, "user_id": "u-1", "project_id": "p-123", "system": null,
		"expires_at": "2026-12-01T10:00:00.123456", "unrestricted": null,
		"roles": [{"id": "r-2", "name": "reader", "domain_id": null, "description": null, "options": {"immutable": true}}],
		"access_rules": [{"id": "ar-1", "service": "compute", "path": "/v2.1/servers/*", "method": "GET"}],
		"links": {"self": "http://keystone/v3/application_credentials/ac-1"}`
	if secret != "" {
		s += `, "secret": "` + secret + `"`
	}
	return s + "}"
}

// wantCred is the ApplicationCredential of credJSON.
var wantCred = ApplicationCredential{ID: "ac-1", Name: "ci", ProjectID: "p-123",
	Roles:       []Role{{ID: "r-2", Name: "reader"}},
	ExpiresAt:   time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.UTC),
	AccessRules: []AccessRule{{Service: "compute", Method: "GET", Path: "/v2.1/servers/*"}}}

// reply returns a fake Keystone's respond that writes status and body.
func reply(status int, body string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

// noSecret fails the test when s holds the created credential's secret.
func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, testCredSecret) {
		t.Errorf("%s holds the credential's secret: %s", what, s)
	}
}

func TestCreateApplicationCredential(t *testing.T) {
	f := newFakeKeystone(t, reply(201, `{"application_credential": `+credJSON(testCredSecret)+`}`))
	h := newHarness(t)
	want := ApplicationCredential{ID: "ignored", ProjectID: "ignored", Name: "ci", Description: "for CI",
		Roles:       []Role{{ID: "r-2", Name: "ignored when there is an ID"}, {Name: "member"}},
		ExpiresAt:   time.Date(2026, 12, 1, 13, 0, 0, 123456789, time.FixedZone("MSK", 3*3600)),
		AccessRules: []AccessRule{{Service: "compute", Method: "GET", Path: "/v2.1/servers/*"}}}
	cred, secret, err := h.c.CreateApplicationCredential(context.Background(), f.authURL(), testToken, "u-1", want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*cred, wantCred) || secret != testCredSecret {
		t.Errorf("created\n%+v\nwant\n%+v", *cred, wantCred)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/v3/users/u-1/application_credentials" ||
		r.header.Get("X-Auth-Token") != testToken || r.header.Get("X-Subject-Token") != "" {
		t.Errorf("request %s %s, X-Auth-Token %q", r.method, r.path, r.header.Get("X-Auth-Token"))
	}
	var got any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	// UTC with a Z, to the microsecond: Keystone appends a Z to what it
	// gets, so an offset is refused; unrestricted false is sent, not left
	// to Keystone's default.
	wantBody := map[string]any{"application_credential": map[string]any{
		"name": "ci", "description": "for CI",
		"roles":        []any{map[string]any{"id": "r-2"}, map[string]any{"name": "member"}},
		"expires_at":   "2026-12-01T10:00:00.123456Z",
		"unrestricted": false,
		"access_rules": []any{map[string]any{"service": "compute", "method": "GET", "path": "/v2.1/servers/*"}},
	}}
	if !reflect.DeepEqual(got, wantBody) {
		t.Errorf("request body\n got %#v\nwant %#v", got, wantBody)
	}
	for _, line := range h.debug {
		noSecret(t, "Debugf line", line)
	}
}

func TestCreateApplicationCredentialDefaults(t *testing.T) {
	// No roles, no expiry, no rules: the request leaves them out
	// (Keystone then gives the token's roles and no expiry).
	f := newFakeKeystone(t, reply(201, `{"application_credential": `+credJSON(testCredSecret)+`}`))
	h := newHarness(t)
	if _, _, err := h.c.CreateApplicationCredential(context.Background(), f.authURL(), testToken, "u-1",
		ApplicationCredential{Name: "ci", Unrestricted: true}); err != nil {
		t.Fatal(err)
	}
	want := `{"application_credential":{"name":"ci","unrestricted":true}}`
	if got := string(f.requests()[0].body); got != want {
		t.Errorf("request body %s, want %s", got, want)
	}
}

func TestCreateApplicationCredentialRefused(t *testing.T) {
	created := func(fields string) string {
		return `{"application_credential": {"id": "ac-1", "name": "ci", "secret": "` + testCredSecret + `"` + fields + `}}`
	}
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		mention string
	}{
		{"401", 401, `{"error": {"message": "The request you have made requires authentication."}}`, ErrAuthFailed, `401 Unauthorized (keystone said "The request you have made requires authentication.")`},
		{"403 of a restricted credential", 403, `{"error": {"message": "Using method 'application_credential' is not allowed for managing additional application credentials."}}`,
			ErrAuthFailed, "not allowed for managing"},
		{"409 a name taken", 409, `{"error": {"message": "Duplicate entry found with name ci."}}`, ErrConflict, "409 Conflict"},
		{"400 an unassigned role", 400, `{"error": {"message": "Cannot create an application credential with unassigned role"}}`, ErrUnavailable,
			"keystone refused the application credential's settings"},
		{"404 a role not defined", 404, `{"error": {"message": "Role nope is not defined"}}`, ErrUnavailable, "keystone found no such role"},
		{"400 echoing the token", 400, `{"error": {"message": "bad token ` + testToken + `"}}`, ErrUnavailable, "bad token ***"},
		{"500 once, never retried", 500, "", ErrUnavailable, "after 1 attempt"},
		{"503 once, never retried", 503, "", ErrUnavailable, "503"},
		{"not JSON", 201, "<html>", ErrUnavailable, "not the expected JSON object"},
		{"no object", 201, `{"application_credentials": []}`, ErrUnavailable, `without an "application_credential" object`},
		{"no secret", 201, `{"application_credential": ` + credJSON("") + `}`, ErrUnavailable, "without a secret"},
		{"a secret with a space", 201, `{"application_credential": {"id": "ac-1", "name": "ci", "secret": "` + testCredSecret + ` x"}}`,
			ErrUnavailable, "a secret with a byte that is not printable ASCII"},
		{"no id", 201, `{"application_credential": {"name": "ci", "secret": "` + testCredSecret + `"}}`, ErrUnavailable, "an application credential whose id is not"},
		{"a name with a format character", 201, `{"application_credential": {"id": "ac-1", "name": "c\u202ei", "secret": "s"}}`, ErrUnavailable, "whose name is not"},
		{"a bad project", 201, created(`, "project_id": "p 1"`), ErrUnavailable, "whose project_id is not"},
		{"a bad expiry", 201, created(`, "expires_at": "tomorrow"`), ErrUnavailable, `whose expires_at "tomorrow" is not a time`},
		{"a role without a name", 201, created(`, "roles": [{"id": "r-1"}]`), ErrUnavailable, "whose role 1 has no valid id or name"},
		{"a rule without a path", 201, created(`, "access_rules": [{"service": "compute", "method": "GET"}]`), ErrUnavailable,
			"whose access rule 1 has no service, method or path"},
		{"a rule keystone would refuse", 201, created(`, "access_rules": [{"service": "compute", "method": "get", "path": "/"}]`), ErrUnavailable,
			"whose access rule 1 is one keystone would not accept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, reply(tt.status, tt.body))
			h := newHarness(t)
			cred, secret, err := h.c.CreateApplicationCredential(context.Background(), f.authURL(), testToken, "u-1", ApplicationCredential{Name: "ci"})
			if cred != nil || secret != "" {
				t.Errorf("got %+v and a secret", cred)
			}
			checkErr(t, err, tt.want)
			noSecret(t, "error", err.Error())
			noSecret(t, "error", fmt.Sprintf("%#v", err))
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if (tt.status == 401 || tt.status == 403 || tt.status == 409) && strings.Contains(err.Error(), "; ") {
				t.Errorf("error %q carries a hint: the command line adds its own", err)
			}
			if tt.status == 404 {
				checkProblem(t, err, ProblemRoles)
			}
			if f.hits() != 1 {
				t.Errorf("%d requests, want 1", f.hits())
			}
		})
	}
}

func TestCreateApplicationCredentialRefusesBeforeSending(t *testing.T) {
	f := newFakeKeystone(t, reply(201, `{"application_credential": `+credJSON(testCredSecret)+`}`))
	h := newHarness(t)
	h.c.Debugf("start") // no request is made
	good := ApplicationCredential{Name: "ci", Roles: []Role{{Name: "reader"}},
		AccessRules: []AccessRule{{Service: "compute", Method: "GET", Path: "/"}}}
	tests := []struct {
		name           string
		authURL, token string
		userID         string
		mutate         func(*ApplicationCredential)
		mention        string
	}{
		{"remote http", "http://example.com/v3", testToken, "u-1", nil, "http"},
		{"no token", f.authURL(), "", "u-1", nil, "no token given"},
		{"a token with a newline", f.authURL(), "tok\nen", "u-1", nil, "not printable ASCII"},
		{"no user", f.authURL(), testToken, "", nil, "no user ID given"},
		{"a user ID with a space", f.authURL(), testToken, "u 1", nil, "the user ID is not"},
		{"no name", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.Name = "" }, "the name of an application credential must be"},
		{"a blank name", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.Name = "  " }, "not all white space"},
		{"a long name", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.Name = strings.Repeat("я", 256) }, "1 to 255 characters"},
		{"a role of neither", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.Roles = []Role{{}} }, "must be named by a valid ID or name"},
		{"a lowercase method", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.AccessRules[0].Method = "get" }, "the method of an access rule"},
		{"a relative path", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.AccessRules[0].Path = "v2.1" }, "the path of an access rule"},
		{"a service with a dot", f.authURL(), testToken, "u-1", func(c *ApplicationCredential) { c.AccessRules[0].Service = "a.b" }, "the service of an access rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := good
			want.AccessRules = append([]AccessRule(nil), good.AccessRules...)
			if tt.mutate != nil {
				tt.mutate(&want)
			}
			_, _, err := h.c.CreateApplicationCredential(context.Background(), tt.authURL, tt.token, tt.userID, want)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %v, want one that mentions %q", err, tt.mention)
			}
		})
	}
	if f.hits() != 0 {
		t.Errorf("%d requests were sent", f.hits())
	}
	_, _, err := h.c.CreateApplicationCredential(context.Background(), "http://example.com/v3", testToken, "u-1", good)
	checkErr(t, err, protocol.ErrInvalidAuthURL)
}

func TestApplicationCredentials(t *testing.T) {
	body := `{"application_credentials": [` + credJSON("") + `, {"id": "ac-2", "name": "Ünï ☁", "description": "two\nlines\u202e",
		"project_id": "p-123", "expires_at": null, "unrestricted": true, "roles": [], "access_rules": []}],
		"links": {"next": null, "previous": null, "self": "x"}}`
	f := newFakeKeystone(t, reply(200, body))
	h := newHarness(t)
	got, err := h.c.ApplicationCredentials(context.Background(), f.authURL(), testToken, "u-1", "ci & co")
	if err != nil {
		t.Fatal(err)
	}
	want := []ApplicationCredential{wantCred, {ID: "ac-2", Name: "Ünï ☁", Description: `two lines\u202E`, ProjectID: "p-123", Unrestricted: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed\n%+v\nwant\n%+v", got, want)
	}
	r := f.requests()[0]
	if r.method != http.MethodGet || r.path != "/v3/users/u-1/application_credentials" || r.header.Get("X-Auth-Token") != testToken {
		t.Errorf("request %s %s", r.method, r.path)
	}
}

func TestApplicationCredentialsQuery(t *testing.T) {
	var query []string
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		query = append(query, r.URL.RawQuery)
		w.Write([]byte(`{"application_credentials": []}`))
	})
	h := newHarness(t)
	for _, name := range []string{"", "ci & co"} {
		if got, err := h.c.ApplicationCredentials(context.Background(), f.authURL(), testToken, "u-1", name); err != nil || len(got) != 0 {
			t.Errorf("ApplicationCredentials(%q) = %v, %v", name, got, err)
		}
	}
	if want := []string{"", "name=ci+%26+co"}; !reflect.DeepEqual(query, want) {
		t.Errorf("queries %q, want %q", query, want)
	}
}

func TestApplicationCredentialsRefused(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		mention string
		hits    int
	}{
		{"401", 401, "", ErrAuthFailed, "401", 1},
		{"403", 403, `{"error": {"message": "identity:list_application_credentials"}}`, ErrAuthFailed, "identity:list_application_credentials", 1},
		{"404", 404, "", ErrUnavailable, "404 Not Found", 1},
		{"500 retried", 500, "", ErrUnavailable, "after 4 attempts", 4},
		{"no list", 200, `{"application_credential": {}}`, ErrUnavailable, `without an "application_credentials" list`, 1},
		{"a bad member", 200, `{"application_credentials": [{"id": "ac-1"}]}`, ErrUnavailable, "application credential 1 of the list, whose name is not", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, reply(tt.status, tt.body))
			h := newHarness(t)
			got, err := h.c.ApplicationCredentials(context.Background(), f.authURL(), testToken, "u-1", "")
			if got != nil {
				t.Errorf("listed %+v", got)
			}
			checkErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if tt.status == 404 {
				checkProblem(t, err, ProblemAuthURL)
			}
			if f.hits() != tt.hits {
				t.Errorf("%d requests, want %d", f.hits(), tt.hits)
			}
		})
	}
}

func TestDeleteApplicationCredential(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    error // nil for success
		mention string
		hits    int
	}{
		{"204", 204, "", nil, "", 1},
		{"404 naming the ID", 404, `{"error": {"message": "Could not find Application Credential: ac-1."}}`, ErrNotFound, "404 Not Found", 1},
		{"404 naming a longer ID", 404, `{"error": {"message": "Could not find Application Credential: ac-10."}}`, ErrUnavailable, "404 Not Found", 1},
		{"404 of something else", 404, "", ErrUnavailable, "404 Not Found", 1},
		{"401", 401, "", ErrAuthFailed, "401", 1},
		{"403", 403, `{"error": {"message": "not allowed for managing"}}`, ErrAuthFailed, "not allowed for managing", 1},
		{"500 retried: a delete may be repeated", 500, "", ErrUnavailable, "after 4 attempts", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, reply(tt.status, tt.body))
			h := newHarness(t)
			err := h.c.DeleteApplicationCredential(context.Background(), f.authURL(), testToken, "u-1", "ac-1")
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				checkErr(t, err, tt.want)
				if !strings.Contains(err.Error(), tt.mention) {
					t.Errorf("error %q does not mention %q", err, tt.mention)
				}
				if tt.want == ErrUnavailable && tt.status == 404 {
					checkProblem(t, err, ProblemAuthURL)
				}
			}
			if tt.want == ErrNotFound && strings.Contains(err.Error(), "; ") {
				t.Errorf("error %q carries a hint: the command line adds its own", err)
			}
			reqs := f.requests()
			if len(reqs) != tt.hits || reqs[0].method != http.MethodDelete || reqs[0].path != "/v3/users/u-1/application_credentials/ac-1" {
				t.Errorf("%d requests, the first %s %s", len(reqs), reqs[0].method, reqs[0].path)
			}
		})
	}
	h := newHarness(t)
	h.c.Debugf("start")
	for _, id := range []string{"", "ac 1", strings.Repeat("a", 65)} {
		if err := h.c.DeleteApplicationCredential(context.Background(), "http://127.0.0.1:1/v3", testToken, "u-1", id); err == nil {
			t.Errorf("deleting %q was not refused before sending", id)
		}
	}
}

func TestParseTokenInfo(t *testing.T) {
	token := func(fields string) string {
		return `{"token": {"user": {"id": "u-1", "name": "alice"}, "issued_at": "x"` + fields + `}}`
	}
	tests := []struct {
		name    string
		body    string
		want    *TokenInfo
		mention string
	}{
		{"a password token", token(`, "project": {"id": "p-1"}, "roles": [{"id": "r-1", "name": "member"}, {"id": "r-2", "name": "reader"}],
			"catalog": [{"type": "identity", "endpoints": []}, {"type": "object-store"}]`),
			&TokenInfo{UserID: "u-1", ProjectID: "p-1", Roles: []Role{{"r-1", "member"}, {"r-2", "reader"}}, Services: []string{"identity", "object-store"}}, ""},
		{"unscoped", token(``), &TokenInfo{UserID: "u-1"}, ""},
		{"a restricted credential's", token(`, "project": {"id": "p-1"}, "application_credential": {"id": "ac-1", "name": "ci", "restricted": true}`),
			&TokenInfo{UserID: "u-1", ProjectID: "p-1", ApplicationCredentialID: "ac-1", Restricted: true}, ""},
		{"an unrestricted credential's", token(`, "application_credential": {"id": "ac-1", "restricted": false}`),
			&TokenInfo{UserID: "u-1", ApplicationCredentialID: "ac-1"}, ""},
		{"a credential's without the flag", token(`, "application_credential": {"id": "ac-1"}`),
			&TokenInfo{UserID: "u-1", ApplicationCredentialID: "ac-1", Restricted: true}, ""},
		{"not JSON", "<html>", nil, "cannot be decoded"},
		{"no user", `{"token": {}}`, nil, "no user id"},
		{"a user id with a space", `{"token": {"user": {"id": "u 1"}}}`, nil, "user id is not"},
		{"a project without an id", token(`, "project": {"name": "p"}`), nil, "project has no string id"},
		{"a role without a name", token(`, "roles": [{"id": "r-1"}]`), nil, "the token's role 1 has no valid id or name"},
		{"a service type with a slash", token(`, "catalog": [{"type": "a/b"}]`), nil, "service 1 of the token's catalog"},
		{"a credential without an id", token(`, "application_credential": {"name": "ci"}`), nil, "application_credential id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokenInfo([]byte(tt.body))
			if tt.want != nil {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ParseTokenInfo = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %v, want one that mentions %q", err, tt.mention)
			}
		})
	}
}

func TestAccessRuleCheck(t *testing.T) {
	for _, r := range []AccessRule{
		{"compute", "GET", "/v2.1/servers/*"},
		{"object-store", "DELETE", "/v1/**"},
		{"identity", "HEAD", "/"},
		{"volumev3", "PATCH", "/v3/{project_id}/volumes/" + strings.Repeat("x", maxRulePathBytes-len("/v3/{project_id}/volumes/"))},
	} {
		if err := r.Check(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	for _, r := range []AccessRule{
		{"", "GET", "/"},
		{"com pute", "GET", "/"},
		{strings.Repeat("a", 65), "GET", "/"},
		{"compute", "get", "/"},
		{"compute", "OPTIONS", "/"},
		{"compute", "GET", ""},
		{"compute", "GET", "v2.1"},
		{"compute", "GET", "/a b"},
		{"compute", "GET", "/\xff"},
		{"compute", "GET", "/" + strings.Repeat("x", maxRulePathBytes)},
	} {
		if err := r.Check(); err == nil {
			t.Errorf("%+v was not refused", r)
		}
	}
}

func TestIssueApplicationCredentialCutShort(t *testing.T) {
	// A token whose expiry the credential's cut short: Keystone writes its
	// expires_at without a zone, in UTC.
	body := `{"token": {"methods": ["application_credential"], "issued_at": "2026-11-27T17:31:08.000000Z",
		"expires_at": "2026-11-27T17:45:00.123456", "project": {"id": "p-123"}}}`
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, body) })
	h := newHarness(t)
	tok, err := h.c.IssueApplicationCredential(context.Background(), testAppCred(f.authURL()))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 27, 17, 45, 0, 123456000, time.UTC); !tok.ExpiresAt.Equal(want) || tok.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %s, want %s", tok.ExpiresAt, want)
	}
}
