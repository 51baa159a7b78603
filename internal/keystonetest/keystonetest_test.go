package keystonetest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keystone"
)

// The fake is proven with the product's own Keystone client: whatever it
// answers, the client takes as Keystone's.

func newCloud(t *testing.T) (*keystonetest.Server, *keystone.Client) {
	ks := keystonetest.New(t)
	ks.AddUser(keystonetest.User{Name: "alice", Password: "pw", Projects: []keystonetest.Project{
		{ID: "p1", Name: "prod", DomainID: "d"}, {ID: "p2", Name: "dev", DomainID: "d", Disabled: true}}})
	return ks, &keystone.Client{HTTP: ks.Client(), BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
}

func alice(ks *keystonetest.Server, password, project string) keystone.PasswordAuth {
	return keystone.PasswordAuth{AuthURL: ks.AuthURL(), Username: "alice", UserDomainName: "users", Password: password, ProjectID: project}
}

func TestPasswordProjectsRescopeValidateRevoke(t *testing.T) {
	ks, c := newCloud(t)
	ctx := context.Background()
	tok, err := c.IssuePassword(ctx, alice(ks, "pw", "p1"))
	if err != nil || tok.ID != "gAAAAtoken-1" || tok.ProjectID != "p1" || tok.ExpiresAt.Sub(tok.IssuedAt) != time.Hour {
		t.Fatalf("password: %+v, %v", tok, err)
	}
	info, err := keystone.ParseTokenInfo(tok.Body)
	if err != nil || info.UserID != "uid-alice" || len(info.Roles) != 2 || !slices.Equal(info.Services, []string{"identity", "compute"}) {
		t.Fatalf("token info %+v, %v", info, err)
	}
	for _, bad := range []keystone.PasswordAuth{alice(ks, "wrong", "p1"), alice(ks, "pw", "p3"), {AuthURL: ks.AuthURL(), Username: "alice", UserDomainName: "other", Password: "pw", ProjectID: "p1"}} {
		if _, err := c.IssuePassword(ctx, bad); !errors.Is(err, keystone.ErrAuthFailed) {
			t.Errorf("%+v: %v, want ErrAuthFailed", bad, err)
		}
	}

	unscoped, err := c.IssuePasswordUnscoped(ctx, alice(ks, "pw", ""))
	if err != nil || unscoped.ProjectID != "" {
		t.Fatalf("unscoped: %+v, %v", unscoped, err)
	}
	projects, err := c.Projects(ctx, ks.AuthURL(), unscoped.ID)
	if err != nil || len(projects) != 2 || projects[0] != (keystone.Project{ID: "p1", Name: "prod", DomainID: "d", Enabled: true}) || projects[1].Enabled {
		t.Fatalf("projects: %+v, %v", projects, err)
	}
	re, err := c.IssueToken(ctx, keystone.TokenAuth{AuthURL: ks.AuthURL(), Token: unscoped.ID, ProjectID: "p2"})
	if err != nil || re.ProjectID != "p2" || !re.ExpiresAt.Equal(unscoped.ExpiresAt) {
		t.Fatalf("re-scope: %+v, %v", re, err)
	}
	if issued := ks.Issued(); len(issued) != 3 || !slices.Equal(issued[2].Methods, []string{"token", "password"}) {
		t.Fatalf("issued %+v", issued)
	}

	if err := c.Revoke(ctx, ks.AuthURL(), unscoped.ID); err != nil || !ks.Revoked(unscoped.ID) {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := c.Projects(ctx, ks.AuthURL(), unscoped.ID); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("projects with a revoked token: %v", err)
	}
	if _, err := c.IssueToken(ctx, keystone.TokenAuth{AuthURL: ks.AuthURL(), Token: unscoped.ID, ProjectID: "p1"}); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("re-scope of a revoked token: %v", err)
	}

	req, _ := http.NewRequest(http.MethodGet, ks.AuthURL()+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", tok.ID)
	req.Header.Set("X-Subject-Token", re.ID)
	resp, err := ks.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Subject-Token") != re.ID {
		t.Fatalf("validate: %v, %v", resp, err)
	}
	resp.Body.Close()

	if got := ks.SignIns(); got["password"] != 5 || got["token"] != 2 {
		t.Errorf("sign-ins %v", got)
	}
	if n := ks.Count(http.MethodGet, "/v3/auth/projects"); n != 2 {
		t.Errorf("%d listings", n)
	}
}

func TestTOTPWithReceipt(t *testing.T) {
	ks, c := newCloud(t)
	ks.SetPasscode("alice", "123456")
	ctx := context.Background()
	_, err := c.IssuePassword(ctx, alice(ks, "pw", "p1"))
	var rerr *keystone.ReceiptError
	if !errors.As(err, &rerr) || rerr.UserID != "uid-alice" {
		t.Fatalf("password alone: %v", err)
	}
	if _, err := c.IssueWithReceipt(ctx, keystone.ReceiptAuth{AuthURL: ks.AuthURL(), Receipt: rerr.Receipt, UserID: rerr.UserID, Passcode: "000000", ProjectID: "p1"}); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Fatalf("wrong passcode: %v", err)
	}
	tok, err := c.IssueWithReceipt(ctx, keystone.ReceiptAuth{AuthURL: ks.AuthURL(), Receipt: rerr.Receipt, UserID: rerr.UserID, Passcode: "123456", ProjectID: "p1"})
	if err != nil || tok.ProjectID != "p1" {
		t.Fatalf("receipt and passcode: %+v, %v", tok, err)
	}
	if m := ks.Issued()[0].Methods; !slices.Equal(m, []string{"password", "totp"}) {
		t.Errorf("methods %v", m)
	}
}

func TestApplicationCredentials(t *testing.T) {
	ks, c := newCloud(t)
	ctx := context.Background()
	ks.AddAppCred(keystonetest.AppCred{ID: "ac1", Name: "ci", Secret: "s1", User: "alice", Project: "p1"})
	tok, err := c.IssueApplicationCredential(ctx, keystone.ApplicationCredentialAuth{AuthURL: ks.AuthURL(), ID: "ac1", Secret: "s1"})
	if err != nil || tok.ProjectID != "p1" {
		t.Fatalf("sign-in: %+v, %v", tok, err)
	}
	if info, _ := keystone.ParseTokenInfo(tok.Body); info.ApplicationCredentialID != "ac1" || !info.Restricted {
		t.Errorf("token info %+v", info)
	}
	if _, err := c.IssueApplicationCredential(ctx, keystone.ApplicationCredentialAuth{AuthURL: ks.AuthURL(), ID: "ac1", Secret: "s2"}); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("wrong secret: %v", err)
	}
	// Keystone refuses to re-scope a delegated token (issue 16 item 3).
	if _, err := c.IssueToken(ctx, keystone.TokenAuth{AuthURL: ks.AuthURL(), Token: tok.ID, ProjectID: "p2"}); !errors.Is(err, keystone.ErrAuthFailed) || !strings.Contains(err.Error(), "delegated") {
		t.Errorf("re-scope of an application credential's token: %v", err)
	}
	// A restricted credential lists but may not create.
	if list, err := c.ApplicationCredentials(ctx, ks.AuthURL(), tok.ID, "uid-alice", ""); err != nil || len(list) != 1 || list[0].ID != "ac1" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if _, _, err := c.CreateApplicationCredential(ctx, ks.AuthURL(), tok.ID, "uid-alice", keystone.ApplicationCredential{Name: "x"}); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("create with a restricted credential: %v", err)
	}

	pw, err := c.IssuePassword(ctx, alice(ks, "pw", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	created, secret, err := c.CreateApplicationCredential(ctx, ks.AuthURL(), pw.ID, "uid-alice", keystone.ApplicationCredential{Name: "new", Roles: []keystone.Role{{ID: "r-2"}}})
	if err != nil || secret == "" || created.ProjectID != "p1" || len(created.Roles) != 1 || created.Roles[0].Name != "reader" {
		t.Fatalf("create: %+v, %v", created, err)
	}
	if _, _, err := c.CreateApplicationCredential(ctx, ks.AuthURL(), pw.ID, "uid-alice", keystone.ApplicationCredential{Name: "new"}); err == nil {
		t.Error("a second credential of one name was created")
	}
	if _, err := c.IssueApplicationCredential(ctx, keystone.ApplicationCredentialAuth{AuthURL: ks.AuthURL(), ID: created.ID, Secret: secret}); err != nil {
		t.Errorf("sign-in with the created credential: %v", err)
	}
	if list, _ := c.ApplicationCredentials(ctx, ks.AuthURL(), pw.ID, "uid-alice", "new"); len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("list by name: %+v", list)
	}
	if err := c.DeleteApplicationCredential(ctx, ks.AuthURL(), pw.ID, "uid-alice", created.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteApplicationCredential(ctx, ks.AuthURL(), pw.ID, "uid-alice", created.ID); !errors.Is(err, keystone.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if got := ks.AppCreds(); len(got) != 1 {
		t.Errorf("credentials left: %+v", got)
	}

	// Description, expiry and access rules are kept and listed as given;
	// a credential created after a delete gets an ID of its own.
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rules := []keystone.AccessRule{{Service: "compute", Method: "GET", Path: "/v2.1/servers"}}
	again, _, err := c.CreateApplicationCredential(ctx, ks.AuthURL(), pw.ID, "uid-alice",
		keystone.ApplicationCredential{Name: "again", Description: "d", ExpiresAt: expires, AccessRules: rules})
	if err != nil || again.ID == created.ID || again.Description != "d" || !again.ExpiresAt.Equal(expires) || !slices.Equal(again.AccessRules, rules) {
		t.Fatalf("create with the details: %+v, %v", again, err)
	}
	if list, _ := c.ApplicationCredentials(ctx, ks.AuthURL(), pw.ID, "uid-alice", "again"); len(list) != 1 || !list[0].ExpiresAt.Equal(expires) ||
		!slices.Equal(list[0].AccessRules, rules) || list[0].Description != "d" {
		t.Errorf("list with the details: %+v", list)
	}
}

func TestFaults(t *testing.T) {
	ks, c := newCloud(t)
	ctx := context.Background()
	ks.Fail(keystonetest.Fault{Status: 503, Times: 2})
	ks.Fail(keystonetest.Fault{Status: 429, RetryAfter: "0", Times: 1})
	if _, err := c.IssuePassword(ctx, alice(ks, "pw", "p1")); err != nil {
		t.Fatalf("after 503, 503, 429: %v", err)
	}
	if got := ks.Requests(); len(got) != 4 || got[3].AuthMethods != "password" {
		t.Errorf("requests %v", got)
	}
	ks.Forget()
	ks.Fail(keystonetest.Fault{Status: 201, Body: "<html>gateway</html>", Header: http.Header{"X-Subject-Token": {"t"}}, Times: 1})
	if _, err := c.IssuePassword(ctx, alice(ks, "pw", "p1")); !errors.Is(err, keystone.ErrUnavailable) || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("garbage: %v", err)
	}
	arrived := make(chan struct{}, 1)
	ks.Fail(keystonetest.Fault{Path: "/v3/auth/tokens", AuthMethods: "password", Hang: true, Arrived: arrived})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := c.IssuePassword(short, alice(ks, "pw", "p1")); !errors.Is(err, keystone.ErrTimeout) {
		t.Errorf("hang: %v", err)
	}
	select {
	case <-arrived:
	default:
		t.Error("the hang did not say it arrived")
	}
	ks.ClearFaults()
	ks.Handle(func(n int, w http.ResponseWriter, r *http.Request) bool {
		keystonetest.Refuse(w, http.StatusTeapot, "odd")
		return true
	})
	if _, err := c.IssuePassword(ctx, alice(ks, "pw", "p1")); err == nil || !strings.Contains(err.Error(), "418") {
		t.Errorf("handled: %v", err)
	}
	if ks.Hits() != 3 || ks.Conns() == 0 || !strings.Contains(ks.Received(), `"password":"pw"`) {
		t.Errorf("%d hits, %d connections, received:\n%s", ks.Hits(), ks.Conns(), ks.Received())
	}
}
