package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every way a Keystone user signs in, against the real Keystone:
// projects by name and all at once, application credentials, a TOTP
// second factor with auth receipts, and clouds.yaml.

func readEnvFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(os.Getenv(name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return strings.TrimSpace(string(data))
}

// TestProjectsAndProjectNames: projects lists both of the user's
// projects; store finds a project by name (flag and openrc) without the
// password again; --all-projects creates a working profile per project.
func TestProjectsAndProjectNames(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("projects")
	s.store(p)
	var list []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(s.must("", "projects", "--profile", p).stdout), &list); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, pr := range list {
		names[pr.Name] = pr.ID
	}
	if names["vkc-test"] != ks.ProjectID || names["vkc-test-2"] != ks.Project2ID {
		t.Fatalf("projects: %+v", list)
	}

	byName := s.profileName("byname")
	r := s.must("", "store", "--profile", byName, "--auth-url", ks.AuthURL, "--username", ks.Username, "--project-name", "vkc-test-2")
	if !strings.Contains(r.stdout, `"project_id":"`+ks.Project2ID+`"`) {
		t.Fatalf("by name: %s", r)
	}
	rc := filepath.Join(s.home, "openrc.sh")
	os.WriteFile(rc, []byte(fmt.Sprintf("export OS_AUTH_URL=%q\nexport OS_PROJECT_NAME=vkc-test-2\nexport OS_USERNAME=%q\nexport OS_USER_DOMAIN_NAME=users\n", ks.AuthURL, ks.Username)), 0o600)
	byRC := s.profileName("byrc")
	if r := s.must("", "store", "--profile", byRC, "--openrc", rc); !strings.Contains(r.stdout, `"project_id":"`+ks.Project2ID+`"`) {
		t.Fatalf("openrc by name: %s", r)
	}
	wantError(t, s.run(nil, "", "store", "--profile", s.profileName("none"), "--auth-url", ks.AuthURL, "--username", ks.Username, "--project-name", "no-such"),
		2, "usage", true, "no project called")

	// A fresh machine: one store makes a profile per project.
	fresh := newSandbox(t)
	r = fresh.must(ks.Password, "store", "--all-projects", "--auth-url", ks.AuthURL, "--username", ks.Username, "--password-stdin")
	t.Cleanup(func() {
		fresh.run(nil, "", "erase", "--profile", "vkc-test")
		fresh.run(nil, "", "erase", "--profile", "vkc-test-2")
	})
	if !strings.Contains(r.stdout, `"profile":"vkc-test"`) || !strings.Contains(r.stdout, `"profile":"vkc-test-2"`) {
		t.Fatalf("--all-projects: %s", r)
	}
	for _, prof := range []string{"vkc-test", "vkc-test-2"} {
		a := decodeToken(t, fresh.must("", "get", "--profile", prof, "--refresh"))
		if validate(t, a.Token) != 200 {
			t.Fatalf("%s: the token does not validate", prof)
		}
	}
}

// appCred creates an application credential of the e2e user with the
// user's token; expires may be empty.
func appCred(t *testing.T, s *sandbox, profile, name, expires string) (id, secret string) {
	t.Helper()
	tok := decodeToken(t, s.must("", "get", "--profile", profile)).Token
	uid := userIDOf(t, tok)
	cred := map[string]any{"name": name}
	if expires != "" {
		cred["expires_at"] = expires
	}
	var out struct {
		ApplicationCredential struct{ ID, Secret string } `json:"application_credential"`
	}
	userDo(t, tok, "POST", "/users/"+uid+"/application_credentials", map[string]any{"application_credential": cred}, &out, 201)
	return out.ApplicationCredential.ID, out.ApplicationCredential.Secret
}

// TestApplicationCredentials: a live credential issues tokens by the
// application_credential method, its secret only in the keychain; an
// expired or deleted one exits 4.
func TestApplicationCredentials(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	user := s.profileName("appcred-user")
	s.store(user)

	id, secret := appCred(t, s, user, "live-"+user, "")
	live := s.profileName("appcred")
	r := s.must(secret, "store", "--profile", live, "--auth-url", ks.AuthURL, "--application-credential-id", id, "--password-stdin")
	if !strings.Contains(r.stdout, `"project_id":"`+ks.ProjectID+`"`) || !strings.Contains(r.stdout, `"application_credential_id":"`+id+`"`) {
		t.Fatalf("store: %s", r)
	}
	a := decodeToken(t, s.must("", "get", "--profile", live, "--refresh"))
	if m := tokenMethods(t, a.Token); !strings.Contains(m, "application_credential") || a.ProjectID != ks.ProjectID {
		t.Fatalf("token methods %q, project %q", m, a.ProjectID)
	}
	if hits := filesContaining(t, s.home, secret); len(hits) != 0 {
		t.Fatalf("the secret is on disk: %v", hits)
	}

	// From an openrc of VK's application-credential shape.
	id2, secret2 := appCred(t, s, user, "rc-"+user, "")
	rc := filepath.Join(s.home, "appcred-openrc.sh")
	os.WriteFile(rc, []byte(fmt.Sprintf("export OS_AUTH_TYPE=v3applicationcredential\nexport OS_AUTH_URL=%q\nexport OS_APPLICATION_CREDENTIAL_ID=%q\nexport OS_APPLICATION_CREDENTIAL_SECRET=%q\n",
		ks.AuthURL, id2, secret2)), 0o600)
	fromRC := s.profileName("appcred-rc")
	r = s.must("", "store", "--profile", fromRC, "--openrc", rc)
	if strings.Contains(r.stdout+r.stderr, secret2) || !strings.Contains(r.stderr, "plaintext copy remains") {
		t.Fatalf("store --openrc: %s", r)
	}
	s.must("", "get", "--profile", fromRC, "--refresh")

	// Expired: a credential that expires two seconds from now.
	id3, secret3 := appCred(t, s, user, "soon-"+user, time.Now().UTC().Add(2*time.Second).Format("2006-01-02T15:04:05"))
	soon := s.profileName("appcred-soon")
	s.must(secret3, "store", "--profile", soon, "--auth-url", ks.AuthURL, "--application-credential-id", id3, "--password-stdin", "--no-verify")
	time.Sleep(3 * time.Second)
	wantError(t, s.run(nil, "", "get", "--profile", soon, "--refresh"), 4, "auth_failed", true, "rejected")

	// Deleted behind our back.
	tok := decodeToken(t, s.must("", "get", "--profile", user)).Token
	userDo(t, tok, "DELETE", "/users/"+userIDOf(t, tok)+"/application_credentials/"+id, nil, nil, 204)
	time.Sleep(1100 * time.Millisecond)
	wantError(t, s.run(nil, "", "get", "--profile", live, "--refresh"), 4, "auth_failed", true, "rejected")
}

// TestTOTPSecondFactor: a user whose rules want password and TOTP; a
// --totp-command gets the passcode (once for 20 parallel cold gets); with
// neither command nor terminal, exit 7; a wrong passcode, exit 4; the
// openstack CLI through the plugin then asks Keystone nothing.
func TestTOTPSecondFactor(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	user := os.Getenv("VKC_E2E_MFA_USERNAME")
	pw := readEnvFile(t, "VKC_E2E_MFA_PASSWORD_FILE")
	counter := filepath.Join(s.home, "totp-runs")
	// The documented form (docs/signin.md): the seed from pass reaches
	// oathtool on its stdin, never in an argv, where every local user
	// could read it in /proc.
	seed := readEnvFile(t, "VKC_E2E_MFA_TOTP_SECRET_FILE")
	initPass(t, s)
	if r := s.runCmd(exec.Command(lookPath(t, "pass"), "insert", "--multiline", "vk/totp"), nil, seed+"\n"); r.code != 0 {
		t.Fatalf("pass insert vk/totp: %s", r)
	}
	command := fmt.Sprintf(`echo run >> %q; pass show vk/totp | oathtool --totp -b -`, counter)
	// Every program the command runs by name records its argv and
	// environment through a wrapper first on PATH.
	path, record := argvRecorder(t, "sh", "pass", "gpg", "gpg2", "oathtool")
	store := func(profile string, extra ...string) result {
		return s.run(path, pw, append([]string{"store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
			"--username", user, "--password-stdin"}, extra...)...)
	}

	// No command and no terminal: exit 7, saying what to do.
	bare := s.profileName("mfa-bare")
	wantError(t, store(bare), 7, "mfa_required", true, "in a terminal")
	// A command that prints a wrong passcode: exit 4.
	wrong := s.profileName("mfa-wrong")
	wantError(t, store(wrong, "--totp-command", "echo 000000"), 4, "auth_failed", true, "")

	p := s.profileName("mfa")
	if r := store(p, "--totp-command", command); r.code != 0 || !strings.Contains(r.stdout, `"verified":true`) {
		t.Fatalf("store with --totp-command: %s", r)
	}
	// Cold gets of a new profile of the same user share one issuance.
	os.Remove(counter)
	time.Sleep(1100 * time.Millisecond) // Keystone refuses a passcode used twice within its window
	results := make([]result, 20)
	var wg sync.WaitGroup
	cold := s.profileName("mfa-cold")
	if r := store(cold, "--totp-command", command, "--no-verify"); r.code != 0 {
		t.Fatalf("store: %s", r)
	}
	// Its identity and project are p's: drop p's cached token so the gets are cold.
	cached, _ := filepath.Glob(filepath.Join(s.home, ".cache", "vkc-credential", "*.json"))
	for _, f := range cached {
		os.Remove(f)
	}
	before := tokenPosts(t)
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = s.run(path, "", "get", "--profile", cold, "--format", "token") }()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || r.stdout != results[0].stdout {
			t.Fatalf("caller %d: %s", i, r)
		}
	}
	runs, _ := os.ReadFile(counter)
	if n := strings.Count(string(runs), "run"); n != 1 {
		t.Fatalf("20 cold gets ran the passcode command %d times", n)
	}
	if posts := tokenPosts(t) - before; posts != 3 {
		t.Fatalf("20 cold gets made %d token requests (want 3: the password, the receipt with the passcode, the identity token re-scoped)", posts)
	}
	if m := tokenMethods(t, strings.TrimSpace(results[0].stdout)); !strings.Contains(m, "totp") {
		t.Fatalf("token methods %q", m)
	}
	// Issue 15 item 6: the seed was in no argv (nor environment) of what
	// the command ran.
	seen, err := os.ReadFile(record)
	if err != nil || !strings.Contains(string(seen), "oathtool --totp -b -\n") || !strings.Contains(string(seen), "pass show vk/totp\n") {
		t.Fatalf("the wrappers did not see pass and oathtool run: %v\n%s", err, seen)
	}
	if strings.Contains(string(seen), seed) {
		t.Fatal("the TOTP seed is in the argv or environment of a process the --totp-command ran")
	}

	// The openstack CLI through the plugin: the cached token, no Keystone call.
	py := kaInstallPlugin(t, t.TempDir())
	n := len(kaRequests(t))
	kaMustOSC(t, s, py, nil, "--os-auth-type", "vkc", "--os-vkc-profile", cold, "--os-auth-url", ks.AuthURL, "catalog", "list")
	if since := kaSince(t, n); len(since) != 0 {
		t.Fatalf("the openstack CLI asked Keystone: %v", since)
	}
	// Without a passcode, the openstack CLI says what to do, no traceback.
	noCode := s.profileName("mfa-nocode")
	if r := store(noCode, "--no-verify"); r.code != 0 {
		t.Fatalf("store --no-verify: %s", r)
	}
	cached, _ = filepath.Glob(filepath.Join(s.home, ".cache", "vkc-credential", "*.json"))
	for _, f := range cached {
		os.Remove(f) // the identity token (and the project's) would serve it
	}
	r := kaOSC(t, s, py, nil, "--os-auth-type", "vkc", "--os-vkc-profile", noCode, "--os-auth-url", ks.AuthURL, "catalog", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "in a terminal") || strings.Contains(r.stderr, "Traceback") {
		t.Fatalf("openstack without a passcode: %s", r)
	}
}

// argvRecorder puts a wrapper for each of names first on PATH: it appends
// "$0 $*" and its environment to the returned record file, then runs the
// real program. It returns the PATH entry to give a process, and the file.
func argvRecorder(t *testing.T, names ...string) (env []string, record string) {
	t.Helper()
	dir := t.TempDir()
	record = filepath.Join(dir, "record")
	for _, name := range names {
		real, err := exec.LookPath(name)
		if err != nil {
			continue // gpg2 is optional
		}
		script := fmt.Sprintf("#!/bin/sh\n{ echo \"$(basename \"$0\") $*\"; env; } >> %q\nexec %q \"$@\"\n", record, real)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}, record
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (scripts/test-env.sh installs it): %v", name, err)
	}
	return path
}

// TestCloudsYAML: a plaintext password, a project by name, an
// application credential and a secure.yaml split each import to a working
// profile; the printed stanza works with the real openstack CLI.
func TestCloudsYAML(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	dir := filepath.Join(s.home, ".config", "openstack")
	os.MkdirAll(dir, 0o700)
	user := s.profileName("clouds-user")
	s.store(user)
	acID, acSecret := appCred(t, s, user, "clouds-"+user, "")
	pwJSON, _ := json.Marshal(ks.Password)
	clouds := fmt.Sprintf(`clouds:
  plain:
    auth:
      auth_url: %[1]s
      project_id: %[2]s
      username: %[3]s
      user_domain_name: users
      password: %[4]s
    region_name: RegionOne
  byname:
    auth:
      auth_url: %[1]s
      project_name: vkc-test-2
      project_domain_name: users
      username: %[3]s
      user_domain_name: users
      password: %[4]s
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: %[1]s
      application_credential_id: %[5]s
      application_credential_secret: %[6]s
  split:
    auth:
      auth_url: %[1]s
      project_id: %[2]s
      username: %[3]s
      user_domain_name: users
`, ks.AuthURL, ks.ProjectID, ks.Username, pwJSON, acID, acSecret)
	os.WriteFile(filepath.Join(dir, "clouds.yaml"), []byte(clouds), 0o600)
	os.WriteFile(filepath.Join(dir, "secure.yaml"), []byte("clouds:\n  split:\n    auth:\n      password: "+string(pwJSON)+"\n"), 0o600)

	py := kaInstallPlugin(t, t.TempDir())
	for _, c := range []struct{ cloud, project string }{{"plain", ks.ProjectID}, {"byname", ks.Project2ID}, {"appcred", ks.ProjectID}, {"split", ks.ProjectID}} {
		p := s.profileName("cloud-" + c.cloud)
		r := s.must("", "store", "--profile", p, "--cloud", c.cloud)
		var a struct {
			ProjectID  string `json:"project_id"`
			CloudsYAML string `json:"clouds_yaml"`
		}
		json.Unmarshal([]byte(r.stdout), &a)
		if a.ProjectID != c.project || !strings.Contains(a.CloudsYAML, "auth_type: vkc") || !strings.Contains(r.stderr, "plaintext copy remains") {
			t.Fatalf("--cloud %s: %s", c.cloud, r)
		}
		if strings.Contains(r.stdout+r.stderr, ks.Password) || strings.Contains(r.stdout+r.stderr, acSecret) {
			t.Fatalf("--cloud %s echoed a secret", c.cloud)
		}
		s.must("", "get", "--profile", p, "--refresh")
		if c.cloud == "plain" {
			// The stanza, as printed, in a clouds.yaml of its own.
			stanzaFile := filepath.Join(s.home, "vkc-clouds.yaml")
			os.WriteFile(stanzaFile, []byte(a.CloudsYAML), 0o600)
			kaMustOSC(t, s, py, []string{"OS_CLIENT_CONFIG_FILE=" + stanzaFile}, "--os-cloud", "plain", "token", "issue", "-f", "value", "-c", "project_id")
		}
	}
	wantError(t, s.run(nil, "", "store", "--profile", s.profileName("nocloud"), "--cloud", "nope"), 2, "usage", true, "plain")
}

// userDo calls Keystone's API with a user's token.
func userDo(t *testing.T, token, method, path string, body, out any, want int) {
	t.Helper()
	a := &admin{t: t, token: token}
	a.do(method, path, body, out, want)
}

// tokenInfo is what Keystone says of a token it validates.
func tokenInfo(t *testing.T, token string) (userID string, methods []string) {
	t.Helper()
	resp := tokenRequest(t, "GET", token)
	defer resp.Body.Close()
	var body struct {
		Token struct {
			Methods []string
			User    struct{ ID string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("validating a token: %d %v", resp.StatusCode, err)
	}
	return body.Token.User.ID, body.Token.Methods
}

func userIDOf(t *testing.T, token string) string { id, _ := tokenInfo(t, token); return id }

func tokenMethods(t *testing.T, token string) string {
	_, m := tokenInfo(t, token)
	return strings.Join(m, ",")
}
