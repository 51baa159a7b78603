package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// appcred against the real Keystone and Secret Service: the CI credential
// that nobody copies by hand (issue 19, part 1).

// appCredAnswer is the answer of appcred create.
type appCredAnswer struct {
	Profile                 string    `json:"profile"`
	Stored                  bool      `json:"stored"`
	Verified                bool      `json:"verified"`
	ApplicationCredentialID string    `json:"application_credential_id"`
	ProjectID               string    `json:"project_id"`
	Keyring                 string    `json:"keyring"`
	ExpiresAt               time.Time `json:"expires_at"`
	ApplicationCredential   struct {
		ID           string     `json:"id"`
		Name         string     `json:"name"`
		ProjectID    string     `json:"project_id"`
		ExpiresAt    *time.Time `json:"expires_at"`
		Roles        []struct{ ID, Name string }
		AccessRules  []struct{ Service, Method, Path string } `json:"access_rules"`
		Unrestricted bool                                     `json:"unrestricted"`
	} `json:"application_credential"`
	Secret *string `json:"secret"`
}

// createAppCred runs appcred create with args as profile from's user and
// returns its answer; the credential is deleted when the test ends.
func (s *sandbox) createAppCred(from string, extraEnv []string, args ...string) (appCredAnswer, result) {
	s.t.Helper()
	r := s.run(extraEnv, "", append([]string{"appcred", "create", "--profile", from}, args...)...)
	var a appCredAnswer
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &a) != nil || a.ApplicationCredential.ID == "" {
		s.t.Fatalf("appcred create %v: %s", args, r)
	}
	s.t.Cleanup(func() { s.run(nil, "", "appcred", "delete", "--profile", from, a.ApplicationCredential.ID) })
	return a, r
}

// credName is a credential name no other test uses.
func credName(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

// keystoneLogLines counts the requests Keystone has logged so far.
func keystoneLogLines(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(ks.KeystoneLog)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

// ruleBoundMethods validates a token bound by access rules (GET
// /v3/auth/tokens, the token as both tokens) and returns its methods.
// Keystone shows such a token only to a caller that says it knows access
// rules, as keystonemiddleware does (OpenStack-Identity-Access-Rules).
func ruleBoundMethods(t *testing.T, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(ks.AuthURL, "/")+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Subject-Token", token)
	req.Header.Set("OpenStack-Identity-Access-Rules", "1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Token struct{ Methods []string } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("validating a token: %d %v", resp.StatusCode, err)
	}
	return strings.Join(body.Token.Methods, ",")
}

// rulesCall sends GET path to the service behind keystonemiddleware that
// enforces access rules, with token, and returns the status.
func rulesCall(t *testing.T, token, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, os.Getenv("VKC_E2E_RULES_URL")+path, nil)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAppCredForCI: appcred create makes a restricted credential with the
// role, expiry and access rule asked for and stores it as a new profile
// that signs in with the application_credential method; its token passes
// the rule's call only; it cannot create another credential (we refuse,
// and so does Keystone); its secret is in the keychain and in no file,
// output (--debug included) or argv; an existing profile is never
// replaced.
func TestAppCredForCI(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	dev := s.profileName("appcred-dev")
	s.store(dev)
	ci := s.profileName("ci")
	rule := os.Getenv("VKC_E2E_RULES_SERVICE") + ":GET:/v1/allowed/*"
	before := time.Now()
	a, r := s.createAppCred(dev, []string{"VKC_DEBUG=1"}, "--name", credName("ci-deploy"), "--role", "member", "--expires", "30d", "--access-rule", rule, "--store-as", ci)
	cred := a.ApplicationCredential
	if a.Profile != ci || !a.Stored || !a.Verified || a.ApplicationCredentialID != cred.ID || a.ProjectID != ks.ProjectID || a.Keyring != "os" ||
		a.Secret != nil || strings.Contains(r.stdout, `"secret"`) || cred.Unrestricted || cred.ProjectID != ks.ProjectID ||
		len(cred.Roles) != 1 || cred.Roles[0].Name != "member" || len(cred.AccessRules) != 1 || cred.AccessRules[0].Path != "/v1/allowed/*" ||
		cred.ExpiresAt == nil || cred.ExpiresAt.Sub(before) < 30*24*time.Hour || cred.ExpiresAt.Sub(before) > 30*24*time.Hour+time.Minute {
		t.Fatalf("%+v\n%s", a, r)
	}
	if !strings.Contains(r.stderr, "debug:") {
		t.Fatalf("--debug logged nothing: %s", r)
	}

	// The secret is in the keychain, as the new profile's identity's item.
	secret, ok := secretToolLookup(t, s.itemOf(ci))
	if !ok || len(secret) < 16 {
		t.Fatalf("the keychain holds no secret for %s", ci)
	}

	// The profile signs in with it; its token passes the rule's call only.
	tok := decodeToken(t, s.must("", "get", "--profile", ci, "--refresh"))
	if m := ruleBoundMethods(t, tok.Token); m != "application_credential" || tok.ProjectID != ks.ProjectID {
		t.Fatalf("token methods %q, project %q", m, tok.ProjectID)
	}
	if got := rulesCall(t, tok.Token, "/v1/allowed/x"); got != http.StatusOK {
		t.Errorf("the rule's call: %d, want 200", got)
	}
	if got := rulesCall(t, tok.Token, "/v1/other"); got != http.StatusUnauthorized {
		t.Errorf("another call: %d, want 401", got)
	}

	// Restricted: appcred refuses the profile before sending anything, and
	// Keystone refuses its token too.
	wantError(t, s.run(nil, "", "appcred", "create", "--profile", ci, "--name", credName("child"), "--store-as", ci+"-child"),
		2, "usage", true, "restricted application credential")
	devTok := decodeToken(t, s.must("", "get", "--profile", dev)).Token
	userDo(t, tok.Token, "POST", "/users/"+userIDOf(t, devTok)+"/application_credentials",
		map[string]any{"application_credential": map[string]any{"name": credName("child")}}, nil, http.StatusForbidden)

	// --store-as an existing profile: refused before Keystone is asked
	// anything (its log has no line more).
	log0 := keystoneLogLines(t)
	wantError(t, s.run(nil, "", "appcred", "create", "--profile", dev, "--name", credName("again"), "--store-as", ci),
		2, "usage", true, "appcred create never replaces a profile")
	if keystoneLogLines(t) != log0 {
		t.Error("a refused create asked Keystone")
	}
	if got := decodeToken(t, s.must("", "get", "--profile", ci)); got.Token != tok.Token {
		t.Error("the refused create changed profile ci")
	}

	// The secret is nowhere else: no file under HOME (config, cache) or the
	// keyring's directory, no output. (With the os backend appcred create
	// runs no program; TestAppCredShowSecretThenDelete and
	// TestAppCredTOTPUser watch the argv of those it runs.)
	for _, dir := range []string{s.home, os.Getenv("VKC_E2E_KEYRING_DIR")} {
		if dir != "" {
			if hits := filesContaining(t, dir, secret); len(hits) > 0 {
				t.Errorf("the secret is in files: %v", hits)
			}
		}
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Error("appcred create printed the secret")
	}

	// list shows it, and the profile stored for it; never a secret.
	r = s.must("", "appcred", "list", "--profile", dev, "--name", cred.Name)
	var list []struct {
		ID       string
		Profiles []string
	}
	if json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 1 || list[0].ID != cred.ID || len(list[0].Profiles) != 1 || list[0].Profiles[0] != ci ||
		strings.Contains(r.stdout, secret) {
		t.Fatalf("list: %s", r)
	}
}

// TestAppCredShowSecretThenDelete is the CI recipe of docs/signin.md:
// --show-secret prints the secret once, in the answer's "secret" only; CI
// stores it (here in pass, on another machine); appcred delete then ends
// CI's sign-in (exit 4) and erases the local profile, saying so.
func TestAppCredShowSecretThenDelete(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	dev := s.profileName("appcred-dev")
	s.store(dev)
	local := s.profileName("ci")
	a, r := s.createAppCred(dev, []string{"VKC_DEBUG=1"}, "--name", credName("ci-deploy"), "--role", "member", "--expires", "30d",
		"--store-as", local, "--show-secret")
	if a.Secret == nil || *a.Secret == "" || strings.Count(r.stdout, *a.Secret) != 1 || strings.Contains(r.stderr, *a.Secret) {
		t.Fatalf("--show-secret: %s", r)
	}
	secret := *a.Secret
	if kept, ok := secretToolLookup(t, s.itemOf(local)); !ok || kept != secret {
		t.Fatal("the keychain does not hold the secret shown")
	}

	// The CI machine: the secret from its secret store on stdin, kept in
	// pass (its password store of its own).
	ciBox := newBackendSandbox(t, "pass")
	path, record := argvRecorder(t, "pass", "gpg", "gpg2")
	ci := ciBox.profileName("ci")
	st := ciBox.run(path, secret, "store", "--profile", ci, "--auth-url", ks.AuthURL, "--application-credential-id", a.ApplicationCredentialID,
		"--password-stdin", "--keyring", "pass")
	if st.code != 0 {
		t.Fatalf("CI store: %s", st)
	}
	if m := tokenMethods(t, decodeToken(t, ciBox.must("", "get", "--profile", ci, "--refresh")).Token); m != "application_credential" {
		t.Fatalf("CI token methods %q", m)
	}
	seen, err := os.ReadFile(record)
	if err != nil || !strings.Contains(string(seen), "pass insert") || strings.Contains(string(seen), secret) {
		t.Fatalf("pass was not run, or its argv or environment holds the secret: %v", err)
	}

	// Delete by name: CI's next sign-in is refused, the local profile and
	// its keychain item are gone.
	item := s.itemOf(local)
	r = s.must("", "appcred", "delete", a.ApplicationCredential.Name, "--profile", dev)
	var del struct {
		Deleted               bool
		ApplicationCredential struct{ ID string } `json:"application_credential"`
		ProfilesErased        []string            `json:"profiles_erased"`
	}
	if json.Unmarshal([]byte(r.stdout), &del) != nil || !del.Deleted || del.ApplicationCredential.ID != a.ApplicationCredentialID ||
		len(del.ProfilesErased) != 1 || del.ProfilesErased[0] != local {
		t.Fatalf("delete: %s", r)
	}
	wantError(t, ciBox.run(nil, "", "get", "--profile", ci, "--refresh"), 4, "auth_failed", true, "rejected")
	wantError(t, s.run(nil, "", "get", "--profile", local), 3, "not_found", true, "no profile")
	if _, ok := secretToolLookup(t, item); ok {
		t.Error("the deleted credential's secret is still in the keychain")
	}
	// A second delete: not found, exit 3.
	wantError(t, s.run(nil, "", "appcred", "delete", a.ApplicationCredentialID, "--profile", dev), 3, "not_found", true, "appcred list")
}

// TestAppCredExpires: an expiry in the past is refused before anything is
// created; a credential that expires in a few seconds signs in no more
// once it has.
func TestAppCredExpires(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	dev := s.profileName("appcred-dev")
	s.store(dev)
	for _, past := range []string{"2001-01-01T00:00:00Z", "-1h"} {
		wantError(t, s.run(nil, "", "appcred", "create", "--profile", dev, "--name", credName("past"), "--expires", past, "--store-as", "never-made"),
			2, "usage", true, "the expiry")
	}
	soon := s.profileName("soon")
	a, _ := s.createAppCred(dev, nil, "--name", credName("soon"), "--expires", "3s", "--store-as", soon, "--no-verify")
	exp := a.ApplicationCredential.ExpiresAt
	if exp == nil || time.Until(*exp) > 3*time.Second {
		t.Fatalf("expires_at %v", exp)
	}
	time.Sleep(time.Until(*exp) + 1100*time.Millisecond) // Keystone keeps whole seconds of a token
	wantError(t, s.run(nil, "", "get", "--profile", soon, "--refresh"), 4, "auth_failed", true, "rejected")
}

// TestAppCredTOTPUser: a TOTP user's appcred create runs the passcode
// command once, and, where the user's rules admit an application
// credential alone, the new profile signs in with no passcode. Where they
// do not (password+totp only: Keystone then refuses the credential's every
// sign-in), the credential is deleted again and the message says why.
func TestAppCredTOTPUser(t *testing.T) {
	needKeystone(t)
	adm := newAdmin(t)
	s := newSandbox(t)
	name, pw, secretFile := newMFAUser(t, adm, s.home, ks.ProjectID)
	counter := filepath.Join(s.home, "totp-runs")
	command := fmt.Sprintf(`echo run >> %q; oathtool --totp -b - < %q`, counter, secretFile)
	mfa := s.profileName("mfa")
	s.must(pw, "store", "--profile", mfa, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID, "--username", name,
		"--password-stdin", "--totp-command", command, "--no-verify")

	// Rules password+totp only: the new credential cannot sign in.
	path, record := argvRecorder(t, "sh", "oathtool")
	r := s.run(path, "", "appcred", "create", "--profile", mfa, "--name", credName("mfa-ci"), "--store-as", "mfa-ci-refused")
	wantError(t, r, 4, "auth_failed", true, "none of the user's rules has application_credential in it")
	if !strings.Contains(r.stderr, "was created but not stored, so it was deleted again") {
		t.Fatalf("the message does not say the credential was deleted: %s", r)
	}
	tok := decodeToken(t, s.must("", "get", "--profile", mfa)).Token
	var left struct {
		ApplicationCredentials []any `json:"application_credentials"`
	}
	userDo(t, tok, "GET", "/users/"+userIDOf(t, tok)+"/application_credentials", nil, &left, 200)
	if len(left.ApplicationCredentials) != 0 {
		t.Fatalf("credentials left: %v", left.ApplicationCredentials)
	}

	// Rules that admit an application credential alone, as an
	// administrator sets them for CI; a cold cache: one passcode.
	uid := userIDOf(t, tok)
	adm.do("PATCH", "/users/"+uid, map[string]any{"user": map[string]any{"options": map[string]any{
		"multi_factor_auth_rules": [][]string{{"password", "totp"}, {"application_credential"}}}}}, nil, 200)
	cached, _ := filepath.Glob(filepath.Join(s.home, ".cache", "vkc-credential", "*.json"))
	for _, f := range cached {
		os.Remove(f)
	}
	os.Remove(counter)
	time.Sleep(1100 * time.Millisecond) // Keystone refuses a passcode used twice within its window
	ci := s.profileName("mfa-ci")
	s.createAppCred(mfa, path, "--name", credName("mfa-ci"), "--store-as", ci)
	if runs, _ := os.ReadFile(counter); strings.Count(string(runs), "run") != 1 {
		t.Fatalf("appcred create ran the passcode command %d times, want 1", strings.Count(string(runs), "run"))
	}
	if m := tokenMethods(t, decodeToken(t, s.must("", "get", "--profile", ci, "--refresh")).Token); m != "application_credential" {
		t.Fatalf("token methods %q", m)
	}
	seen, err := os.ReadFile(record)
	if err != nil || !strings.Contains(string(seen), "oathtool --totp -b -") {
		t.Fatalf("oathtool was not run through the recorder: %v", err)
	}
	secret, _ := secretToolLookup(t, s.itemOf(ci))
	if secret == "" || strings.Contains(string(seen), secret) || strings.Contains(string(seen), pw) {
		t.Fatal("a secret is in the argv or environment of the passcode command")
	}
}
