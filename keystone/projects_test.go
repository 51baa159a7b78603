package keystone

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"vkc-credential/protocol"
)

func TestProjects(t *testing.T) {
	body := `{"links": {"self": "x"}, "projects": [
		{"id": "p-1", "name": "vkc-test", "domain_id": "d-1", "enabled": true, "links": {}},
		{"id": "p-2", "name": "Проект 2 ☁", "domain_id": "d-1", "enabled": false, "description": "x"},
		{"id": "p-3", "name": "` + strings.Repeat("я", 64) + `", "domain_id": "default"}]}`
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	})
	h := newHarness(t)
	got, err := h.c.Projects(context.Background(), f.authURL(), testToken)
	if err != nil {
		t.Fatal(err)
	}
	want := []Project{
		{ID: "p-1", Name: "vkc-test", DomainID: "d-1", Enabled: true},
		{ID: "p-2", Name: "Проект 2 ☁", DomainID: "d-1", Enabled: false},
		{ID: "p-3", Name: strings.Repeat("я", 64), DomainID: "default", Enabled: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Projects =\n%+v, want\n%+v", got, want)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodGet || r.path != "/v3/auth/projects" || len(r.body) != 0 ||
		r.header.Get("X-Auth-Token") != testToken || r.header.Get("X-Subject-Token") != "" {
		t.Errorf("request %s %s with %d body bytes and X-Auth-Token %q", r.method, r.path, len(r.body), r.header.Get("X-Auth-Token"))
	}
}

func TestProjectsEmpty(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"projects": []}`)) })
	h := newHarness(t)
	got, err := h.c.Projects(context.Background(), f.authURL(), testToken)
	if err != nil || len(got) != 0 {
		t.Errorf("Projects = %v, %v; want none", got, err)
	}
}

func TestProjectsRefused(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		mention string
		hits    int
	}{
		{"401", 401, "", ErrAuthFailed, "may have expired or been revoked", 1},
		{"403", 403, "", ErrAuthFailed, "403", 1},
		{"404", 404, "", ErrUnavailable, "404 Not Found", 1},
		{"400", 400, "", ErrUnavailable, "400", 1},
		{"500 forever", 500, "", ErrUnavailable, "after 4 attempts", 4},
		{"not JSON", 200, "<html>", ErrUnavailable, "not the expected JSON object", 1},
		{"no list", 200, `{"project": []}`, ErrUnavailable, `without a "projects" list`, 1},
		{"list of strings", 200, `{"projects": ["p-1"]}`, ErrUnavailable, "not the expected JSON object", 1},
		{"no name", 200, `{"projects": [{"id": "p", "domain_id": "d"}]}`, ErrUnavailable, "project 1 of the list without an id, a name or a domain_id", 1},
		{"no id", 200, `{"projects": [{"name": "p", "domain_id": "d"}]}`, ErrUnavailable, "without an id", 1},
		{"no domain", 200, `{"projects": [{"id": "p", "name": "p"}]}`, ErrUnavailable, "without an id", 1},
		{"id with a space", 200, `{"projects": [{"id": "p", "name": "p", "domain_id": "d"}, {"id": "p 2", "name": "p", "domain_id": "d"}]}`,
			ErrUnavailable, "project 2 of the list, whose id is not 1 to 64 printable ASCII characters", 1},
		{"id too long", 200, `{"projects": [{"id": "` + strings.Repeat("a", 65) + `", "name": "p", "domain_id": "d"}]}`,
			ErrUnavailable, "whose id is not 1 to 64", 1},
		{"domain id empty", 200, `{"projects": [{"id": "p", "name": "p", "domain_id": ""}]}`, ErrUnavailable, "whose domain_id is not 1 to 64", 1},
		{"name with a format character", 200, `{"projects": [{"id": "p", "name": "evil\u202eexe", "domain_id": "d"}]}`,
			ErrUnavailable, "whose name is not 1 to 64 graphic characters", 1},
		{"name with an escape", 200, `{"projects": [{"id": "p", "name": "a\u001b[31m", "domain_id": "d"}]}`, ErrUnavailable, "whose name is not", 1},
		{"name too long", 200, `{"projects": [{"id": "p", "name": "` + strings.Repeat("я", 65) + `", "domain_id": "d"}]}`, ErrUnavailable, "whose name is not", 1},
		{"name empty", 200, `{"projects": [{"id": "p", "name": "", "domain_id": "d"}]}`, ErrUnavailable, "whose name is not", 1},
		{"enabled a string", 200, `{"projects": [{"id": "p", "name": "p", "domain_id": "d", "enabled": "yes"}]}`, ErrUnavailable, "not the expected JSON object", 1},
		{"body over 8 MiB", 200, `{"projects": []}` + strings.Repeat(" ", maxBodyBytes), ErrUnavailable, "larger than 8 MiB", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if tt.body == "" {
					writeError(w, tt.status, "token "+testToken+" not found")
					return
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			h := newHarness(t)
			got, err := h.c.Projects(context.Background(), f.authURL(), testToken)
			if got != nil {
				t.Errorf("got projects %+v", got)
			}
			checkErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if tt.status == 404 {
				checkProblem(t, err, ProblemAuthURL)
			}
			if strings.ContainsAny(err.Error(), "\u202e\x1b") {
				t.Errorf("error %q holds a control or format character", err)
			}
			if f.hits() != tt.hits {
				t.Errorf("%d requests, want %d", f.hits(), tt.hits)
			}
		})
	}
}

func TestProjectsRefusesBeforeSending(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"projects": []}`)) })
	h := newHarness(t)
	h.c.Debugf("start") // no request is made
	for _, token := range []string{"", "a b", testToken + "\r\nX-Evil: 1", strings.Repeat("A", maxTokenBytes+1)} {
		if _, err := h.c.Projects(context.Background(), f.authURL(), token); err == nil {
			t.Errorf("Projects with a token of %d bytes succeeded", len(token))
		} else {
			assertNoSecrets(t, "error", err.Error())
		}
	}
	_, err := h.c.Projects(context.Background(), "http://example.com/v3", testToken)
	checkErr(t, err, protocol.ErrInvalidAuthURL)
	if f.hits() != 0 {
		t.Errorf("%d requests were sent", f.hits())
	}
}
