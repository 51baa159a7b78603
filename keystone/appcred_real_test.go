package keystone

// Managing application credentials against the real Keystone that
// scripts/test-env.sh starts (see real_test.go).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// realOwner is a password token of the real Keystone's user 1 on project 1
// and what it says about itself.
type realOwner struct {
	tok  *Token
	info *TokenInfo
}

func newRealOwner(h *realHarness, ks *realEnv) *realOwner {
	h.t.Helper()
	tok := h.token(ks, ks.user, ks.password, ks.projectID)
	info, err := ParseTokenInfo(tok.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return &realOwner{tok: tok, info: info}
}

// create creates an application credential of the owner, with a name
// unique to the run, deleted when the test ends; it returns the
// credential and its secret.
func (o *realOwner) create(h *realHarness, ks *realEnv, want ApplicationCredential) (*ApplicationCredential, string) {
	h.t.Helper()
	want.Name = fmt.Sprintf("%s-%d", want.Name, time.Now().UnixNano())
	cred, secret, err := h.c.CreateApplicationCredential(context.Background(), ks.authURL, o.tok.ID, o.info.UserID, want)
	if err != nil {
		h.t.Fatal(err)
	}
	h.secret(secret)
	h.t.Cleanup(func() {
		err := h.c.DeleteApplicationCredential(context.Background(), ks.authURL, o.tok.ID, o.info.UserID, cred.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			h.t.Errorf("deleting application credential %s: %v", cred.ID, err)
		}
	})
	return cred, secret
}

// signIn issues a token of the application credential.
func signIn(h *realHarness, ks *realEnv, id, secret string) (*Token, error) {
	tok, err := h.c.IssueApplicationCredential(context.Background(), ApplicationCredentialAuth{AuthURL: ks.authURL, ID: id, Secret: secret})
	if err == nil {
		h.secret(tok.ID)
	}
	return tok, err
}

// roleNames returns the names of roles, sorted.
func roleNames(roles []Role) []string {
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

func TestRealTokenInfo(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password, ks.appCredSecret)
	o := newRealOwner(h, ks)
	// The fixture gives user 1 "member", which implies "reader".
	if o.info.UserID == "" || o.info.ProjectID != ks.projectID || o.info.ApplicationCredentialID != "" ||
		!reflect.DeepEqual(roleNames(o.info.Roles), []string{"member", "reader"}) ||
		!slices.Contains(o.info.Services, "identity") || !slices.Contains(o.info.Services, ks.rulesService) {
		t.Errorf("password token info %+v", o.info)
	}
	unscoped, err := ParseTokenInfo(h.token(ks, ks.user, ks.password, "").Body)
	if err != nil || unscoped.UserID != o.info.UserID || unscoped.ProjectID != "" || len(unscoped.Roles) != 0 {
		t.Errorf("unscoped token info %+v, %v", unscoped, err)
	}
	acTok, err := signIn(h, ks, ks.appCredID, ks.appCredSecret)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := ParseTokenInfo(acTok.Body)
	if err != nil || ac.UserID != o.info.UserID || ac.ProjectID != ks.projectID || ac.ApplicationCredentialID != ks.appCredID || !ac.Restricted {
		t.Errorf("application credential token info %+v, %v", ac, err)
	}
}

func TestRealCreateApplicationCredential(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password)
	ctx := context.Background()
	o := newRealOwner(h, ks)
	expires := time.Now().Add(time.Hour).Truncate(time.Second).Add(123456 * time.Microsecond).UTC()
	cred, secret := o.create(h, ks, ApplicationCredential{Name: "vkc-ci", Description: "vkc-credential test",
		Roles: []Role{{Name: "reader"}}, ExpiresAt: expires})
	if cred.ID == "" || !strings.HasPrefix(cred.Name, "vkc-ci-") || cred.Description != "vkc-credential test" || cred.ProjectID != ks.projectID ||
		!reflect.DeepEqual(roleNames(cred.Roles), []string{"reader"}) || !cred.ExpiresAt.Equal(expires) || cred.Unrestricted || cred.AccessRules != nil {
		t.Errorf("created %+v, want expiry %s", cred, expires)
	}
	if len(secret) < 32 {
		t.Errorf("a secret of %d bytes", len(secret))
	}

	// It signs in, to the owner's project, with the one role it was given.
	tok, err := signIn(h, ks, cred.ID, secret)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseTokenInfo(tok.Body)
	if err != nil || tok.ProjectID != ks.projectID || info.ApplicationCredentialID != cred.ID || !info.Restricted ||
		!reflect.DeepEqual(roleNames(info.Roles), []string{"reader"}) {
		t.Errorf("its token: project %s, info %+v, %v", tok.ProjectID, info, err)
	}

	// Restricted (unrestricted false): Keystone refuses its token to create
	// or delete a credential, but lets it list them.
	_, _, err = h.c.CreateApplicationCredential(ctx, ks.authURL, tok.ID, o.info.UserID, ApplicationCredential{Name: "vkc-child"})
	h.checkErr(err, ErrAuthFailed)
	if !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "not allowed for managing additional application credentials") {
		t.Errorf("error %q does not quote keystone's reason", err)
	}
	h.checkErr(h.c.DeleteApplicationCredential(ctx, ks.authURL, tok.ID, o.info.UserID, cred.ID), ErrAuthFailed)
	if own, err := h.c.ApplicationCredentials(ctx, ks.authURL, tok.ID, o.info.UserID, cred.Name); err != nil || len(own) != 1 {
		t.Errorf("listing with its own token: %+v, %v", own, err)
	}

	// List: by name, it alone, as created; without a name, the fixture's
	// credential too.
	listed, err := h.c.ApplicationCredentials(ctx, ks.authURL, o.tok.ID, o.info.UserID, cred.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || !reflect.DeepEqual(listed[0], *cred) {
		t.Errorf("listed by name:\n%+v\nwant\n%+v", listed, *cred)
	}
	all, err := h.c.ApplicationCredentials(ctx, ks.authURL, o.tok.ID, o.info.UserID, "")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, c := range all {
		ids[c.ID] = true
	}
	if !ids[cred.ID] || !ids[ks.appCredID] {
		t.Errorf("the list %+v lacks %s or the fixture's %s", all, cred.ID, ks.appCredID)
	}

	// Delete ends its sign-in; a second delete is not found.
	if err := h.c.DeleteApplicationCredential(ctx, ks.authURL, o.tok.ID, o.info.UserID, cred.ID); err != nil {
		t.Fatal(err)
	}
	_, err = signIn(h, ks, cred.ID, secret)
	h.checkErr(err, ErrAuthFailed)
	err = h.c.DeleteApplicationCredential(ctx, ks.authURL, o.tok.ID, o.info.UserID, cred.ID)
	h.checkErr(err, ErrNotFound)
	if listed, err := h.c.ApplicationCredentials(ctx, ks.authURL, o.tok.ID, o.info.UserID, cred.Name); err != nil || len(listed) != 0 {
		t.Errorf("after the delete, listed %+v, %v", listed, err)
	}
}

func TestRealUnrestrictedApplicationCredential(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password)
	o := newRealOwner(h, ks)
	cred, secret := o.create(h, ks, ApplicationCredential{Name: "vkc-unrestricted", Unrestricted: true, ExpiresAt: time.Now().Add(time.Hour)})
	if !cred.Unrestricted || !reflect.DeepEqual(roleNames(cred.Roles), []string{"member", "reader"}) {
		t.Errorf("created %+v, want unrestricted with all the token's roles", cred)
	}
	tok, err := signIn(h, ks, cred.ID, secret)
	if err != nil {
		t.Fatal(err)
	}
	// Its token may create (and delete) another one.
	child := &realOwner{tok: tok, info: o.info}
	if c, _ := child.create(h, ks, ApplicationCredential{Name: "vkc-child"}); c.ProjectID != ks.projectID {
		t.Errorf("child %+v", c)
	}
}

func TestRealCreateApplicationCredentialRefused(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password, ks.password2)
	ctx := context.Background()
	o := newRealOwner(h, ks)
	cred, _ := o.create(h, ks, ApplicationCredential{Name: "vkc-taken"})
	create := func(userID string, want ApplicationCredential) error {
		t.Helper()
		c, secret, err := h.c.CreateApplicationCredential(ctx, ks.authURL, o.tok.ID, userID, want)
		if err == nil {
			h.secret(secret)
			t.Errorf("created %+v", c)
			h.c.DeleteApplicationCredential(ctx, ks.authURL, o.tok.ID, userID, c.ID)
		}
		return err
	}
	tests := []struct {
		name    string
		userID  string
		want    ApplicationCredential
		kind    error
		mention string
	}{
		{"a name taken", o.info.UserID, ApplicationCredential{Name: cred.Name}, ErrConflict, "409 Conflict"},
		{"a role the token lacks", o.info.UserID, ApplicationCredential{Name: "vkc-admin", Roles: []Role{{Name: "admin"}}}, ErrUnavailable,
			"unassigned role"},
		{"a role that does not exist", o.info.UserID, ApplicationCredential{Name: "vkc-nope", Roles: []Role{{Name: "no-such-role"}}}, ErrUnavailable,
			"keystone found no such role"},
		{"an expiry that has passed", o.info.UserID, ApplicationCredential{Name: "vkc-past", ExpiresAt: time.Now().Add(-time.Minute)}, ErrUnavailable,
			"must not be before now"},
		{"another user", strings.Repeat("0", 32), ApplicationCredential{Name: "vkc-other"}, ErrAuthFailed, "403"},
	}
	// Keystone appends a "Z" to expires_at: an offset is refused (which is
	// why CreateApplicationCredential sends UTC with a "Z").
	status, body := apiCall(t, http.MethodPost, ks.authURL+"/users/"+o.info.UserID+"/application_credentials", o.tok.ID,
		map[string]any{"application_credential": map[string]any{"name": "vkc-offset", "expires_at": "2099-01-02T03:04:05+00:00"}})
	if status != http.StatusBadRequest {
		t.Errorf("an expires_at with +00:00: %d %s", status, body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := create(tt.userID, tt.want)
			h.checkErr(err, tt.kind)
			if err != nil && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// ruleCall makes a GET or POST to the access-rules service with token and
// returns the status.
func ruleCall(t *testing.T, ks *realEnv, method, path, token string) int {
	t.Helper()
	status, _ := apiCall(t, method, ks.rulesURL+path, token, nil)
	return status
}

func TestRealApplicationCredentialAccessRules(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password)
	o := newRealOwner(h, ks)
	rule := AccessRule{Service: ks.rulesService, Method: http.MethodGet, Path: "/v1/allowed/*"}
	cred, secret := o.create(h, ks, ApplicationCredential{Name: "vkc-rules", AccessRules: []AccessRule{rule}, ExpiresAt: time.Now().Add(time.Hour)})
	if !reflect.DeepEqual(cred.AccessRules, []AccessRule{rule}) {
		t.Errorf("created with rules %+v, want %+v", cred.AccessRules, rule)
	}
	tok, err := signIn(h, ks, cred.ID, secret)
	if err != nil {
		t.Fatal(err)
	}
	// The service lets the rule's call through and refuses others: another
	// path, another method, a deeper path ("*" is one segment).
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v1/allowed/x", http.StatusOK},
		{http.MethodGet, "/v1/other", http.StatusUnauthorized},
		{http.MethodPost, "/v1/allowed/x", http.StatusUnauthorized},
		{http.MethodGet, "/v1/allowed/x/y", http.StatusUnauthorized},
	} {
		if got := ruleCall(t, ks, c.method, c.path, tok.ID); got != c.want {
			t.Errorf("%s %s with the credential's token: %d, want %d", c.method, c.path, got, c.want)
		}
	}
	// The owner's token, without rules, goes everywhere: the refusals are
	// the rule's.
	if got := ruleCall(t, ks, http.MethodGet, "/v1/other", o.tok.ID); got != http.StatusOK {
		t.Errorf("GET /v1/other with the owner's token: %d", got)
	}
	// Keystone's own API does not enforce access rules (see AccessRule): a
	// token bound to another service still lists the user's projects.
	if _, err := h.c.Projects(context.Background(), ks.authURL, tok.ID); err != nil {
		t.Errorf("keystone now enforces access rules on its own API (update AccessRule's comment): %v", err)
	}
}

func TestRealApplicationCredentialExpires(t *testing.T) {
	t.Parallel() // its wait overlaps TestRealApplicationCredential's
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password)
	o := newRealOwner(h, ks)
	// Keystone keeps expires_at to the microsecond, on this machine's clock.
	expires := time.Now().Add(3 * time.Second)
	cred, secret := o.create(h, ks, ApplicationCredential{Name: "vkc-expiring", ExpiresAt: expires})
	if !cred.ExpiresAt.Equal(expires.Truncate(time.Microsecond)) {
		t.Errorf("expires at %s, want %s", cred.ExpiresAt, expires)
	}
	if _, err := signIn(h, ks, cred.ID, secret); err != nil {
		if time.Now().After(expires) {
			t.Fatalf("this machine took more than 3 s to create and use an application credential: %v", err)
		}
		t.Fatal(err)
	}
	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	_, err := signIn(h, ks, cred.ID, secret)
	h.checkErr(err, ErrAuthFailed)
}
