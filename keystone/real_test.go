package keystone

// Tests against the real Keystone that scripts/test-env.sh (through
// scripts/keystone-up.sh) starts and describes in VKC_E2E_* variables.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// realEnv describes the real Keystone and its fixtures.
type realEnv struct {
	authURL, domain                  string
	user, password                   string // member of project and project2
	projectID, projectName           string
	project2ID, project2Name         string
	user2, password2                 string // member of project2 only
	mfaUser, mfaPassword, totpSecret string // member of project; password + totp
	appCredID, appCredSecret         string // user's, on project
	rulesURL, rulesService           string // a service that enforces access rules
}

// realKeystone returns the real Keystone's description; without one it
// skips the test, or fails it when VKC_E2E_REQUIRED is set (as CI does), so
// that a missing Keystone cannot pass for a green run.
func realKeystone(t *testing.T) *realEnv {
	t.Helper()
	if os.Getenv("VKC_E2E_AUTH_URL") == "" {
		if os.Getenv("VKC_E2E_REQUIRED") != "" {
			t.Fatal("VKC_E2E_REQUIRED is set but no Keystone is described; run the tests through scripts/test-env.sh")
		}
		t.Skip("no real Keystone: run through scripts/test-env.sh")
	}
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			t.Fatalf("%s is not set: restart Keystone with scripts/keystone-up.sh", name)
		}
		return v
	}
	read := func(name string) string {
		data, err := os.ReadFile(get(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	return &realEnv{
		authURL: get("VKC_E2E_AUTH_URL"), domain: get("VKC_E2E_USER_DOMAIN"),
		user: get("VKC_E2E_USERNAME"), password: read("VKC_E2E_PASSWORD_FILE"),
		projectID: get("VKC_E2E_PROJECT_ID"), projectName: get("VKC_E2E_PROJECT_NAME"),
		project2ID: get("VKC_E2E_PROJECT2_ID"), project2Name: get("VKC_E2E_PROJECT2_NAME"),
		user2: get("VKC_E2E_USERNAME2"), password2: read("VKC_E2E_PASSWORD2_FILE"),
		mfaUser: get("VKC_E2E_MFA_USERNAME"), mfaPassword: read("VKC_E2E_MFA_PASSWORD_FILE"),
		totpSecret: read("VKC_E2E_MFA_TOTP_SECRET_FILE"),
		appCredID:  get("VKC_E2E_APP_CRED_ID"), appCredSecret: read("VKC_E2E_APP_CRED_SECRET_FILE"),
		rulesURL: get("VKC_E2E_RULES_URL"), rulesService: get("VKC_E2E_RULES_SERVICE"),
	}
}

// realHarness is a harness for the real Keystone whose errors and Debugf
// lines are also checked for the secrets the test meets.
type realHarness struct {
	*harness
	mu      sync.Mutex
	secrets []string
}

func newRealHarness(t *testing.T, secrets ...string) *realHarness {
	t.Helper()
	h := &realHarness{harness: newHarness(t), secrets: secrets}
	hc, err := NewHTTPClient("")
	if err != nil {
		t.Fatal(err)
	}
	h.c.HTTP = hc
	t.Cleanup(func() {
		h.harness.mu.Lock()
		defer h.harness.mu.Unlock()
		for _, line := range h.debug {
			h.check("Debugf line", line)
		}
	})
	return h
}

// secret adds secrets to those that must never show.
func (h *realHarness) secret(s ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secrets = append(h.secrets, s...)
}

// check fails the test when s holds one of the secrets.
func (h *realHarness) check(what, s string) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, secret := range h.secrets {
		if secret != "" && strings.Contains(s, secret) {
			h.t.Errorf("%s holds a secret of %d bytes: %s", what, len(secret), s)
		}
	}
}

// checkErr is checkErr, and checks the error for the test's secrets too.
func (h *realHarness) checkErr(err, want error) {
	h.t.Helper()
	checkErr(h.t, err, want)
	if err != nil {
		h.check("error", err.Error())
		h.check("error", fmt.Sprintf("%#v", err))
	}
}

// token issues a password token of user in projectID ("" for unscoped).
func (h *realHarness) token(ks *realEnv, user, password, projectID string) *Token {
	h.t.Helper()
	a := PasswordAuth{AuthURL: ks.authURL, Username: user, UserDomainName: ks.domain, Password: password, ProjectID: projectID}
	issue := h.c.IssuePassword
	if projectID == "" {
		issue = h.c.IssuePasswordUnscoped
	}
	tok, err := issue(context.Background(), a)
	if err != nil {
		h.t.Fatal(err)
	}
	h.secret(tok.ID)
	return tok
}

// totp computes the RFC 6238 passcode of a base32 secret at t: HMAC-SHA1,
// 30-second steps, 6 digits, as Keystone's totp method checks it.
func totp(secret string, t time.Time) string {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		panic(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1000000)
}

func TestTOTPVectors(t *testing.T) {
	// RFC 6238, appendix B (SHA-1), cut to 6 digits.
	secret := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 20000000000: "353130"} {
		if got := totp(secret, time.Unix(unix, 0)); got != want {
			t.Errorf("totp at %d = %s, want %s", unix, got, want)
		}
	}
}

func TestRealIssuePassword(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password, ks.password2)
	tok := h.token(ks, ks.user, ks.password, ks.projectID)
	if tok.ProjectID != ks.projectID || !tok.ExpiresAt.After(tok.IssuedAt) {
		t.Errorf("token of project %q, issued %s, expires %s", tok.ProjectID, tok.IssuedAt, tok.ExpiresAt)
	}
	// User 1 works in project 2 too.
	if tok := h.token(ks, ks.user, ks.password, ks.project2ID); tok.ProjectID != ks.project2ID {
		t.Errorf("token of project %q, want %q", tok.ProjectID, ks.project2ID)
	}

	_, err := h.c.IssuePassword(context.Background(), PasswordAuth{AuthURL: ks.authURL, Username: ks.user,
		UserDomainName: ks.domain, Password: ks.password2, ProjectID: ks.projectID})
	h.checkErr(err, ErrAuthFailed)
	if errors.Is(err, ErrMFARequired) {
		t.Errorf("a wrong password gave %q", err)
	}
	// User 2 has no role on project 1.
	_, err = h.c.IssuePassword(context.Background(), PasswordAuth{AuthURL: ks.authURL, Username: ks.user2,
		UserDomainName: ks.domain, Password: ks.password2, ProjectID: ks.projectID})
	h.checkErr(err, ErrAuthFailed)
}

// names returns the projects' names mapped to their IDs.
func names(projects []Project) map[string]string {
	m := map[string]string{}
	for _, p := range projects {
		m[p.Name] = p.ID
	}
	return m
}

func TestRealProjects(t *testing.T) {
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password, ks.password2)
	ctx := context.Background()

	// User 1: an unscoped token lists both projects; a name resolves to the
	// ID that a scoped token then carries.
	unscoped := h.token(ks, ks.user, ks.password, "")
	if unscoped.ProjectID != "" || bytes.Contains(unscoped.Body, []byte(`"project"`)) {
		t.Errorf("the unscoped token has a project: %q", unscoped.ProjectID)
	}
	projects, err := h.c.Projects(ctx, ks.authURL, unscoped.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("projects: %+v", projects)
	got := names(projects)
	if got[ks.projectName] != ks.projectID || got[ks.project2Name] != ks.project2ID || len(projects) != 2 {
		t.Errorf("user 1's projects %+v, want %s=%s and %s=%s", projects, ks.projectName, ks.projectID, ks.project2Name, ks.project2ID)
	}
	for _, p := range projects {
		if !p.Enabled || p.DomainID == "" || p.DomainID != projects[0].DomainID {
			t.Errorf("project %+v: not enabled, or not in the users domain", p)
		}
	}
	if tok := h.token(ks, ks.user, ks.password, got[ks.project2Name]); tok.ProjectID != ks.project2ID {
		t.Errorf("token of project %q, want %q", tok.ProjectID, ks.project2ID)
	}

	// A scoped token lists them too.
	scoped := h.token(ks, ks.user, ks.password, ks.projectID)
	if again, err := h.c.Projects(ctx, ks.authURL, scoped.ID); err != nil || len(again) != 2 {
		t.Errorf("Projects with a scoped token = %+v, %v", again, err)
	}

	// User 2 sees project 2 only.
	other, err := h.c.Projects(ctx, ks.authURL, h.token(ks, ks.user2, ks.password2, "").ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(other); len(other) != 1 || got[ks.project2Name] != ks.project2ID {
		t.Errorf("user 2's projects %+v", other)
	}

	// A revoked token is refused.
	if err := h.c.Revoke(ctx, ks.authURL, unscoped.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.c.Projects(ctx, ks.authURL, unscoped.ID)
	h.checkErr(err, ErrAuthFailed)
}

// apiCall makes a request to the real Keystone's API with a token and
// returns the status and the body.
func apiCall(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, in)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// newAppCred creates an application credential of tok's user on tok's
// project, expiring at expires (zero for never), and returns its ID and
// secret.
func newAppCred(t *testing.T, ks *realEnv, tok *Token, name string, expires time.Time) (id, secret string) {
	t.Helper()
	var body struct {
		Token struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"token"`
	}
	if err := json.Unmarshal(tok.Body, &body); err != nil {
		t.Fatal(err)
	}
	cred := map[string]any{"name": fmt.Sprintf("%s-%d", name, time.Now().UnixNano())}
	if !expires.IsZero() {
		cred["expires_at"] = expires.UTC().Format("2006-01-02T15:04:05.000000")
	}
	status, data := apiCall(t, http.MethodPost, ks.authURL+"/users/"+body.Token.User.ID+"/application_credentials", tok.ID,
		map[string]any{"application_credential": cred})
	if status != http.StatusCreated {
		t.Fatalf("creating an application credential: %d %s", status, data)
	}
	var created struct {
		Credential struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		} `json:"application_credential"`
	}
	if err := json.Unmarshal(data, &created); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		apiCall(t, http.MethodDelete, ks.authURL+"/users/"+body.Token.User.ID+"/application_credentials/"+created.Credential.ID, tok.ID, nil)
	})
	return created.Credential.ID, created.Credential.Secret
}

func TestRealApplicationCredential(t *testing.T) {
	t.Parallel() // its wait overlaps TestRealApplicationCredentialExpires's
	ks := realKeystone(t)
	h := newRealHarness(t, ks.password, ks.appCredSecret)
	ctx := context.Background()

	tok, err := h.c.IssueApplicationCredential(ctx, ApplicationCredentialAuth{AuthURL: ks.authURL, ID: ks.appCredID, Secret: ks.appCredSecret})
	if err != nil {
		t.Fatal(err)
	}
	h.secret(tok.ID)
	if tok.ProjectID != ks.projectID || !bytes.Contains(tok.Body, []byte(`"application_credential"`)) {
		t.Errorf("token of project %q, want %q; body without application_credential", tok.ProjectID, ks.projectID)
	}

	// A wrong secret.
	_, err = h.c.IssueApplicationCredential(ctx, ApplicationCredentialAuth{AuthURL: ks.authURL, ID: ks.appCredID, Secret: ks.appCredSecret + "x"})
	h.checkErr(err, ErrAuthFailed)
	// An unknown ID.
	_, err = h.c.IssueApplicationCredential(ctx, ApplicationCredentialAuth{AuthURL: ks.authURL, ID: strings.Repeat("0", 32), Secret: ks.appCredSecret})
	h.checkErr(err, ErrAuthFailed)

	// A deleted one, and one that has expired.
	owner := h.token(ks, ks.user, ks.password, ks.projectID)
	deleted, deletedSecret := newAppCred(t, ks, owner, "vkc-deleted", time.Time{})
	expiry := time.Now().Add(2 * time.Second)
	expiring, expiringSecret := newAppCred(t, ks, owner, "vkc-expiring", expiry)
	h.secret(deletedSecret, expiringSecret)
	if _, err := h.c.IssueApplicationCredential(ctx, ApplicationCredentialAuth{AuthURL: ks.authURL, ID: deleted, Secret: deletedSecret}); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Token struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"token"`
	}
	if err := json.Unmarshal(owner.Body, &body); err != nil {
		t.Fatal(err)
	}
	if status, data := apiCall(t, http.MethodDelete, ks.authURL+"/users/"+body.Token.User.ID+"/application_credentials/"+deleted, owner.ID, nil); status != http.StatusNoContent {
		t.Fatalf("deleting the application credential: %d %s", status, data)
	}
	_, err = h.c.IssueApplicationCredential(ctx, ApplicationCredentialAuth{AuthURL: ks.authURL, ID: deleted, Secret: deletedSecret})
	h.checkErr(err, ErrAuthFailed)

	time.Sleep(time.Until(expiry.Add(time.Second)))
	_, err = h.c.IssueApplicationCredential(ctx, ApplicationCredentialAuth{AuthURL: ks.authURL, ID: expiring, Secret: expiringSecret})
	h.checkErr(err, ErrAuthFailed)
}

// wrongPasscode returns a passcode that is none of secret's around now.
func wrongPasscode(secret string) string {
	now := time.Now()
	var near []string
	for d := -3; d <= 3; d++ {
		near = append(near, totp(secret, now.Add(time.Duration(d)*30*time.Second)))
	}
	for i := 0; ; i++ {
		if p := fmt.Sprintf("%06d", (i*104729+31337)%1000000); !slices.Contains(near, p) {
			return p
		}
	}
}

func TestRealMFA(t *testing.T) {
	ks := realKeystone(t)
	wrong := wrongPasscode(ks.totpSecret)
	h := newRealHarness(t, ks.mfaPassword, ks.totpSecret, wrong)
	ctx := context.Background()
	auth := PasswordAuth{AuthURL: ks.authURL, Username: ks.mfaUser, UserDomainName: ks.domain, Password: ks.mfaPassword, ProjectID: ks.projectID}

	// The password alone: a receipt that asks for totp.
	_, err := h.c.IssuePassword(ctx, auth)
	h.checkErr(err, ErrMFARequired)
	var rerr *ReceiptError
	if !errors.As(err, &rerr) {
		t.Fatalf("error %#v is not a *ReceiptError", err)
	}
	h.secret(rerr.Receipt)
	if rerr.Receipt == "" || rerr.UserID == "" || len(rerr.RequiredMethods) != 1 ||
		!slices.Contains(rerr.RequiredMethods[0], "password") || !slices.Contains(rerr.RequiredMethods[0], "totp") {
		t.Errorf("ReceiptError with user %q, rules %v", rerr.UserID, rerr.RequiredMethods)
	}

	// A wrong passcode.
	ra := ReceiptAuth{AuthURL: ks.authURL, Receipt: rerr.Receipt, UserID: rerr.UserID, Passcode: wrong, ProjectID: ks.projectID}
	_, err = h.c.IssueWithReceipt(ctx, ra)
	h.checkErr(err, ErrAuthFailed)
	if errors.Is(err, ErrMFARequired) {
		t.Errorf("a wrong passcode gave %q", err)
	}

	// The right one, with the same receipt.
	ra.Passcode = totp(ks.totpSecret, time.Now())
	h.secret(ra.Passcode)
	tok, err := h.c.IssueWithReceipt(ctx, ra)
	if err != nil {
		t.Fatal(err)
	}
	h.secret(tok.ID)
	if tok.ProjectID != ks.projectID {
		t.Errorf("token of project %q, want %q", tok.ProjectID, ks.projectID)
	}
	var body struct {
		Token struct {
			Methods []string `json:"methods"`
		} `json:"token"`
	}
	if err := json.Unmarshal(tok.Body, &body); err != nil || !slices.Contains(body.Token.Methods, "password") || !slices.Contains(body.Token.Methods, "totp") {
		t.Errorf("token methods %v (%v), want password and totp", body.Token.Methods, err)
	}

	// Unscoped: the receipt flow works too, and the token lists the MFA
	// user's project.
	auth.ProjectID = ""
	_, err = h.c.IssuePasswordUnscoped(ctx, auth)
	h.checkErr(err, ErrMFARequired)
	if !errors.As(err, &rerr) {
		t.Fatalf("error %#v is not a *ReceiptError", err)
	}
	h.secret(rerr.Receipt)
	ra = ReceiptAuth{AuthURL: ks.authURL, Receipt: rerr.Receipt, UserID: rerr.UserID, Passcode: totp(ks.totpSecret, time.Now())}
	h.secret(ra.Passcode)
	unscoped, err := h.c.IssueWithReceipt(ctx, ra)
	if err != nil {
		t.Fatal(err)
	}
	h.secret(unscoped.ID)
	if unscoped.ProjectID != "" {
		t.Errorf("the unscoped token has project %q", unscoped.ProjectID)
	}
	projects, err := h.c.Projects(ctx, ks.authURL, unscoped.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(projects); len(projects) != 1 || got[ks.projectName] != ks.projectID {
		t.Errorf("the MFA user's projects %+v", projects)
	}

	// A receipt Keystone never gave, and a wrong password (no receipt).
	ra.Receipt = "gAAAAABnotareceipt" + strings.Repeat("A", 80)
	_, err = h.c.IssueWithReceipt(ctx, ra)
	h.checkErr(err, ErrAuthFailed)
	auth.Password += "x"
	h.secret(auth.Password)
	_, err = h.c.IssuePassword(ctx, PasswordAuth{AuthURL: ks.authURL, Username: ks.mfaUser, UserDomainName: ks.domain,
		Password: auth.Password, ProjectID: ks.projectID})
	h.checkErr(err, ErrAuthFailed)
	if errors.Is(err, ErrMFARequired) {
		t.Errorf("a wrong password gave %q", err)
	}
}
