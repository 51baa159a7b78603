package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keyring"
	"vkc-credential/keyring/keyringtest"
	"vkc-credential/keystone"
)

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 27, 17, 0, 0, 0, time.FixedZone("MSK", 3*3600))
	good := []struct {
		in   string
		want Expiry
	}{
		{"", Expiry{}},
		{"never", Expiry{Never: true}},
		{"NEVER", Expiry{Never: true}},
		{"30d", Expiry{At: now.Add(30 * 24 * time.Hour).UTC()}},
		{"2w", Expiry{At: now.Add(14 * 24 * time.Hour).UTC()}},
		{"720h", Expiry{At: now.Add(720 * time.Hour).UTC()}},
		{"1h30m", Expiry{At: now.Add(90 * time.Minute).UTC()}},
		{"36600d", Expiry{At: now.Add(36600 * 24 * time.Hour).UTC()}},
		{"2026-12-31T23:59:59Z", Expiry{At: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}},
		{"2026-12-31T23:59:59+03:00", Expiry{At: time.Date(2026, 12, 31, 20, 59, 59, 0, time.UTC)}},
		{"2026-11-27T14:00:01.5Z", Expiry{At: time.Date(2026, 11, 27, 14, 0, 1, 500000000, time.UTC)}},
	}
	for _, tt := range good {
		got, err := ParseExpiry(tt.in, now)
		if err != nil || !got.At.Equal(tt.want.At) || got.Never != tt.want.Never || (!got.At.IsZero() && got.At.Location() != time.UTC) {
			t.Errorf("ParseExpiry(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, mention string }{
		{"30", "is none of"},
		{"30 d", "is none of"},
		{"-30d", "is none of"},
		{"+3d", "is none of"},
		{"d", "is none of"},
		{"0d", "not a positive duration"},
		{"-1h", "not a positive duration"},
		{"0", "not a positive duration"},
		{"5229w", "more than 36600 days away"},
		{"99999d", "more than 36600 days away"},
		{"2026-11-27T14:00:00Z", "not in the future"},
		{"2020-01-01T00:00:00Z", "not in the future"},
		{"2026-12-31", "is none of"},
		{"tomorrow", "is none of"},
	}
	for _, tt := range bad {
		_, err := ParseExpiry(tt.in, now)
		if !errors.Is(err, ErrAppCredOption) || !strings.Contains(fmt.Sprint(err), tt.mention) {
			t.Errorf("ParseExpiry(%q) error %v, want ErrAppCredOption mentioning %q", tt.in, err, tt.mention)
		}
	}
}

func TestParseAccessRule(t *testing.T) {
	good := map[string]keystone.AccessRule{
		"compute:GET:/v2.1/servers/*":    {Service: "compute", Method: "GET", Path: "/v2.1/servers/*"},
		"object-store:put:/v1/AUTH_p/**": {Service: "object-store", Method: "PUT", Path: "/v1/AUTH_p/**"},
		"identity:GET:/v3/a:b":           {Service: "identity", Method: "GET", Path: "/v3/a:b"},
	}
	for in, want := range good {
		if got, err := ParseAccessRule(in); err != nil || got != want {
			t.Errorf("ParseAccessRule(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, mention := range map[string]string{
		"compute":              "is not SERVICE:METHOD:PATH",
		"compute:GET":          "is not SERVICE:METHOD:PATH",
		":GET:/":               "the service of an access rule",
		"nova compute:GET:/":   "the service of an access rule",
		"compute:OPTIONS:/":    "the method of an access rule",
		"compute:GET:servers":  "the path of an access rule",
		"compute:GET:/a b":     "the path of an access rule",
		"compute:GET:/a\x00b":  "the path of an access rule",
		"compute::/v2.1/flavo": "the method of an access rule",
	} {
		_, err := ParseAccessRule(in)
		if !errors.Is(err, ErrAppCredOption) || !strings.Contains(fmt.Sprint(err), mention) {
			t.Errorf("ParseAccessRule(%q) error %v, want ErrAppCredOption mentioning %q", in, err, mention)
		}
	}
}

// newAppCredKeystone is a fake Keystone for the application credential
// operations: user u@example.com (ID u-1) with a role (member r-1, reader
// r-2) on project p-1, whose credentials are ac-1 "one", ac-2 "ac-1" and
// ac-3 "three"; ac-9 "ci-restricted" and ac-10 "ci-unrestricted" sign in
// to p-1 with the secrets "s9" and "s10".
func newAppCredKeystone(t *testing.T) *keystonetest.Server {
	t.Helper()
	ks := keystonetest.New(t)
	ks.AddUser(keystonetest.User{Name: "u@example.com", ID: "u-1", Password: goodPassword, Projects: []keystonetest.Project{{ID: "p-1", Name: "dev"}}})
	for _, a := range seededAppCreds {
		ks.AddAppCred(a)
	}
	return ks
}

var seededAppCreds = []keystonetest.AppCred{
	{ID: "ac-1", Name: "one", User: "u@example.com", Project: "p-1"},
	{ID: "ac-2", Name: "ac-1", User: "u@example.com", Project: "p-1"},
	{ID: "ac-3", Name: "three", User: "u@example.com", Project: "p-1"},
	{ID: "ac-9", Name: "ci-restricted", Secret: "s9", User: "u@example.com", Project: "p-1"},
	{ID: "ac-10", Name: "ci-unrestricted", Secret: "s10", User: "u@example.com", Project: "p-1", Unrestricted: true},
}

// credRequests is what ks was asked of the application credentials API
// ("METHOD PATH?QUERY BODY"), sign-ins left out.
func credRequests(ks *keystonetest.Server) []string {
	var out []string
	for _, r := range ks.Requests() {
		if r.Path != "/v3/auth/tokens" {
			out = append(out, r.String())
		}
	}
	return out
}

// appCredToken returns a Helper on ks, its clock, and a token of profile
// dev from Get: a password sign-in, or when appCred is not "" one of that
// application credential (with the secret "s" + its number).
func appCredToken(t *testing.T, ks *keystonetest.Server, appCred string) (*Helper, *clock, *Token) {
	t.Helper()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	kr := keyringtest.New()
	dir := t.TempDir()
	h := &Helper{
		Paths:    Paths{ConfigDir: filepath.Join(dir, "config"), CacheDir: filepath.Join(dir, "cache")},
		Keyring:  func(string) (keyring.Store, error) { return kr, nil },
		Keystone: func() (*keystone.Client, error) { return &keystone.Client{HTTP: ks.Client(), Now: c.Now}, nil },
		Now:      c.Now, Timeout: 5 * time.Second, KeyringTimeout: time.Second,
	}
	s := Settings{AuthURL: ks.URL + "/v3", ProjectID: "p-1", Username: "u@example.com", UserDomainName: "users", Region: "RegionOne", Interface: "public"}
	secret := goodPassword
	if appCred != "" {
		s = Settings{AuthURL: ks.URL + "/v3", ApplicationCredentialID: appCred, Region: "RegionOne", Interface: "public"}
		secret = "s" + strings.TrimPrefix(appCred, "ac-")
	}
	ctx := context.Background()
	if _, err := h.storeProfile(ctx, storeOptions{Profile: "dev", Settings: s, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	tok, err := h.Get(ctx, GetOptions{Profile: "dev", Settings: s})
	if err != nil {
		t.Fatal(err)
	}
	return h, c, tok
}

func TestCreateAppCred(t *testing.T) {
	ks := newAppCredKeystone(t)
	h, c, tok := appCredToken(t, ks, "")
	ninety := c.Now().Add(90 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
	tests := []struct {
		name string
		o    AppCredOptions
		want string // the request's body
	}{
		{"the defaults: 90 days, the token's roles, restricted", AppCredOptions{Name: "ci"},
			`{"application_credential":{"name":"ci","expires_at":"` + ninety + `","unrestricted":false}}`},
		{"roles by name and ID, once each, sent by ID", AppCredOptions{Name: "ci", Roles: []string{"reader", "r-1", "member", "r-2"}, Expires: Expiry{Never: true}},
			`{"application_credential":{"name":"ci","roles":[{"id":"r-2"},{"id":"r-1"}],"unrestricted":false}}`},
		{"all the rest", AppCredOptions{Name: "ci", Description: "d", Unrestricted: true, Expires: Expiry{At: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
			AccessRules: []keystone.AccessRule{{Service: "compute", Method: "GET", Path: "/v2.1/servers"}}},
			`{"application_credential":{"name":"ci","description":"d","expires_at":"2030-01-02T03:04:05.000000Z","unrestricted":true,` +
				`"access_rules":[{"service":"compute","method":"GET","path":"/v2.1/servers"}]}}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, secret, err := h.CreateAppCred(context.Background(), tok, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			made := ks.AppCreds()[len(seededAppCreds)]
			if cred.ID != made.ID || cred.Name != "ci" || secret != made.Secret {
				t.Errorf("created %+v with secret %q; keystone made %+v", cred, secret, made)
			}
			ks.RemoveAppCred(made.ID)
			reqs := credRequests(ks)
			if want := "POST /v3/users/u-1/application_credentials " + tt.want; len(reqs) != i+1 || reqs[i] != want {
				t.Errorf("requests %q, the last want %q", reqs, want)
			}
		})
	}
}

func TestCreateAppCredRefusesBeforeSending(t *testing.T) {
	ks := newAppCredKeystone(t)
	h, c, tok := appCredToken(t, ks, "")
	tests := []struct {
		name    string
		o       AppCredOptions
		mention string
	}{
		{"no name", AppCredOptions{Roles: []string{"reader"}}, "the name of an application credential must be 1 to 255 characters"},
		{"a role the token lacks", AppCredOptions{Name: "ci", Roles: []string{"reader", "admin"}},
			`the role "admin" is not one of the token's roles on its project (member, reader)`},
		{"a service the catalog lacks", AppCredOptions{Name: "ci", AccessRules: []keystone.AccessRule{{Service: "nova", Method: "GET", Path: "/"}}},
			`service "nova" names no service of the project's catalog (identity, compute)`},
		{"an expiry that has passed", AppCredOptions{Name: "ci", Expires: Expiry{At: c.Now().Add(-time.Second)}}, "has passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := h.CreateAppCred(context.Background(), tok, tt.o)
			if !errors.Is(err, ErrAppCredOption) || !strings.Contains(fmt.Sprint(err), tt.mention) {
				t.Errorf("error %v, want ErrAppCredOption mentioning %q", err, tt.mention)
			}
		})
	}
	if reqs := credRequests(ks); len(reqs) != 0 {
		t.Errorf("requests %q were sent", reqs)
	}
}

func TestAppCredRestrictedProfile(t *testing.T) {
	// A profile whose token comes from a restricted application credential
	// may list, but Keystone would refuse it to create or delete.
	ks := newAppCredKeystone(t)
	h, _, tok := appCredToken(t, ks, "ac-9")
	ctx := context.Background()
	_, _, err := h.CreateAppCred(ctx, tok, AppCredOptions{Name: "ci"})
	if !errors.Is(err, ErrAppCredOption) || !strings.Contains(fmt.Sprint(err), `profile "dev" signs in with a restricted application credential`) {
		t.Errorf("create: %v", err)
	}
	if _, err := h.DeleteAppCred(ctx, tok, "one"); !errors.Is(err, ErrAppCredOption) {
		t.Errorf("delete: %v", err)
	}
	if reqs := credRequests(ks); len(reqs) != 0 {
		t.Errorf("requests %q were sent", reqs)
	}
	if creds, err := h.ListAppCreds(ctx, tok, ""); err != nil || len(creds) != len(seededAppCreds) {
		t.Errorf("list: %+v, %v", creds, err)
	}
	// An unrestricted one may do all.
	h, _, tok = appCredToken(t, ks, "ac-10")
	if _, _, err := h.CreateAppCred(ctx, tok, AppCredOptions{Name: "ci"}); err != nil {
		t.Errorf("create with an unrestricted credential: %v", err)
	}
}

func TestListAppCreds(t *testing.T) {
	ks := newAppCredKeystone(t)
	h, _, tok := appCredToken(t, ks, "")
	creds, err := h.ListAppCreds(context.Background(), tok, "one")
	if err != nil || len(creds) != 1 || creds[0].ID != "ac-1" {
		t.Errorf("listed %+v, %v", creds, err)
	}
	if reqs := credRequests(ks); !reflect.DeepEqual(reqs, []string{"GET /v3/users/u-1/application_credentials?name=one"}) {
		t.Errorf("requests %q", reqs)
	}
}

func TestDeleteAppCred(t *testing.T) {
	ks := newAppCredKeystone(t)
	h, _, tok := appCredToken(t, ks, "")
	ctx := context.Background()
	const list = "GET /v3/users/u-1/application_credentials"
	for _, tt := range []struct{ arg, id string }{{"one", "ac-1"}, {"ac-3", "ac-3"}, {"three", "ac-3"}} {
		ks.Forget()
		cred, err := h.DeleteAppCred(ctx, tok, tt.arg)
		if err != nil || cred.ID != tt.id {
			t.Errorf("DeleteAppCred(%q) = %+v, %v; want %s", tt.arg, cred, err, tt.id)
		}
		if want := []string{list, "DELETE /v3/users/u-1/application_credentials/" + tt.id}; !reflect.DeepEqual(credRequests(ks), want) {
			t.Errorf("requests %q, want %q", credRequests(ks), want)
		}
		// Deleted in Keystone; back for the next case.
		for _, a := range seededAppCreds {
			if a.ID == tt.id && !slices.ContainsFunc(ks.AppCreds(), func(b keystonetest.AppCred) bool { return b.ID == a.ID }) {
				ks.AddAppCred(a)
			} else if a.ID == tt.id {
				t.Errorf("%s is still in keystone", a.ID)
			}
		}
	}

	// "ac-1" is one's ID and the name of another: which is meant is not
	// guessed.
	_, err := h.DeleteAppCred(ctx, tok, "ac-1")
	if !errors.Is(err, ErrAppCredOption) || !strings.Contains(fmt.Sprint(err), `"ac-1" is the name of application credential ac-2 and the ID of another`) {
		t.Errorf("ambiguous: %v", err)
	}
	_, err = h.DeleteAppCred(ctx, tok, "nope")
	if !errors.Is(err, keystone.ErrNotFound) || !strings.Contains(fmt.Sprint(err), `no application credential named "nope" or of that ID`) {
		t.Errorf("unknown: %v", err)
	}
	// Keystone's refusals come through.
	ks.Fail(keystonetest.Fault{Method: http.MethodGet, Path: "/v3/users/u-1/application_credentials", Status: http.StatusForbidden})
	if _, err := h.DeleteAppCred(ctx, tok, "one"); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("403: %v", err)
	}
}

func TestAppCredDamagedTokenBody(t *testing.T) {
	ks := newAppCredKeystone(t)
	h, _, tok := appCredToken(t, ks, "")
	tok.entry.Body = json.RawMessage(`{"token": {"user": {}}}`)
	if _, err := h.ListAppCreds(context.Background(), tok, ""); !errors.Is(err, ErrDamaged) || !strings.Contains(fmt.Sprint(err), "no user id") {
		t.Errorf("error %v, want ErrDamaged", err)
	}
}
