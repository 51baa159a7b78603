package e2e

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newMFAUser creates a user of the domain users whose rules want password
// and TOTP, with a TOTP credential and the member role on each of
// projects; it returns the user's name, password and the file that holds
// its TOTP secret (base32, as oathtool -b takes it).
func newMFAUser(t *testing.T, a *admin, dir string, projects ...string) (name, password, secretFile string) {
	t.Helper()
	b := make([]byte, 20)
	rand.Read(b)
	secret := strings.TrimRight(base32.StdEncoding.EncodeToString(b), "=")
	secretFile = filepath.Join(dir, "totp-secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	name = fmt.Sprintf("passcode.%d@example.com", time.Now().UnixNano())
	password = "pw " + name
	uid := a.newUser(name, password, projects...)
	a.do("PATCH", "/users/"+uid, map[string]any{"user": map[string]any{"options": map[string]any{
		"multi_factor_auth_enabled": true, "multi_factor_auth_rules": [][]string{{"password", "totp"}}}}}, nil, 200)
	a.do("POST", "/credentials", map[string]any{"credential": map[string]any{"type": "totp", "user_id": uid, "blob": secret}}, nil, 201)
	return name, password, secretFile
}

// newProject creates a project of the domain users, deleted when the test
// ends; it returns its ID.
func (a *admin) newProject(name string) string {
	a.t.Helper()
	domainID := a.id("/domains?name=users", "domains")
	var created struct{ Project struct{ ID string } }
	a.do("POST", "/projects", map[string]any{"project": map[string]any{"name": name, "domain_id": domainID}}, &created, 201)
	id := created.Project.ID
	a.t.Cleanup(func() { a.do("DELETE", "/projects/"+id, nil, nil, 204) })
	return id
}

// keystoneToken is what Keystone says of a token, asked with the admin's.
type keystoneToken struct {
	Methods   []string  `json:"methods"`
	AuditIDs  []string  `json:"audit_ids"`
	ExpiresAt time.Time `json:"expires_at"`
	Project   *struct {
		ID string `json:"id"`
	} `json:"project"`
}

// inspect validates token with the admin's token: GET /v3/auth/tokens.
// ok is false when Keystone does not find it valid (404).
func (a *admin) inspect(token string) (info keystoneToken, ok bool) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", strings.TrimSuffix(ks.AuthURL, "/")+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", a.token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return info, false
	}
	var body struct{ Token keystoneToken }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		a.t.Fatalf("validating a token: %d %v", resp.StatusCode, err)
	}
	return body.Token, true
}

// identityTokenFile finds the identity token in the cache directory: the
// one cache file without a project.
func identityTokenFile(t *testing.T, cacheDir string) (path, token string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			ProjectID string `json:"project_id"`
			Token     string `json:"token"`
		}
		if json.Unmarshal(data, &e) == nil && e.ProjectID == "" {
			if path != "" {
				t.Fatalf("two identity token files: %s and %s", path, f)
			}
			path, token = f, e.Token
		}
	}
	return path, token
}

// passcodeUser is a user whose rules want password and TOTP, with a role
// in three projects and a profile for each (stored without verification,
// with a --totp-command that counts its runs).
type passcodeUser struct {
	t        *testing.T
	s        *sandbox
	a        *admin
	password string
	projects []string
	profiles []string
	counter  string // a line per run of the passcode command
	cacheDir string
}

func newPasscodeUser(t *testing.T) *passcodeUser {
	t.Helper()
	u := &passcodeUser{t: t, a: newAdmin(t), s: newSandbox(t)}
	project3 := u.a.newProject(fmt.Sprintf("vkc-passcode-%d", time.Now().UnixNano()))
	u.projects = []string{ks.ProjectID, ks.Project2ID, project3}
	name, pw, secretFile := newMFAUser(t, u.a, u.s.home, u.projects...)
	u.password = pw
	u.counter = filepath.Join(u.s.home, "totp-runs")
	u.cacheDir = filepath.Join(u.s.home, ".cache", "vkc-credential")
	command := fmt.Sprintf(`echo run >> %q; oathtool --totp -b - < %q`, u.counter, secretFile)
	for i, p := range u.projects {
		profile := u.s.profileName(fmt.Sprintf("passcode%d", i+1))
		u.s.must(pw, "store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", p, "--username", name,
			"--password-stdin", "--totp-command", command, "--no-verify")
		u.profiles = append(u.profiles, profile)
	}
	return u
}

// runs counts the runs of the passcode command so far.
func (u *passcodeUser) runs() int {
	data, _ := os.ReadFile(u.counter)
	return strings.Count(string(data), "run")
}

// coldGets drops the projects' cached tokens (not the identity token),
// runs 30 gets across the three projects at once, and checks that each
// project's callers got one token of their project; it returns the
// answers and how many token requests Keystone got meanwhile.
func (u *passcodeUser) coldGets() (answers []tokenAnswer, posts int) {
	t := u.t
	t.Helper()
	idf, _ := identityTokenFile(t, u.cacheDir)
	cached, _ := filepath.Glob(filepath.Join(u.cacheDir, "*.json"))
	for _, f := range cached {
		if f != idf {
			os.Remove(f)
		}
	}
	before := tokenPosts(t)
	results := make([]result, 30)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = u.s.run(nil, "", "get", "--profile", u.profiles[i%3]) }()
	}
	wg.Wait()
	answers = make([]tokenAnswer, len(results))
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("get %d: %s", i, r)
		}
		answers[i] = decodeToken(t, r)
		if answers[i].ProjectID != u.projects[i%3] || answers[i].Token != answers[i%3].Token {
			t.Fatalf("get %d: project %s, token not its project's", i, answers[i].ProjectID)
		}
	}
	return answers, tokenPosts(t) - before
}

// TestOnePasscodeForEveryProject: a user whose rules want password and
// TOTP, with a role in three projects. Thirty parallel cold gets across
// them run the passcode command once, and Keystone issues one
// password+TOTP identity token and one re-scope of it per project (its
// methods and audit chain say so), each with the identity token's
// expires_at; the identity token file is 0600 and holds no password. A
// revoked or lost identity token costs one new passcode, and erase --revoke
// of the identity's last profile revokes it.
func TestOnePasscodeForEveryProject(t *testing.T) {
	needKeystone(t)
	u := newPasscodeUser(t)
	answers, posts := u.coldGets()
	if n := u.runs(); n != 1 || posts != 5 {
		t.Fatalf("30 cold gets across 3 projects ran the passcode command %d times and made %d token requests; "+
			"want once, and 5: the password, the TOTP passcode, one re-scope per project", n, posts)
	}
	idPath, idToken := identityTokenFile(t, u.cacheDir)
	if fi, err := os.Lstat(idPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity token file %q: %v", idPath, err)
	}
	if hits := filesContaining(t, u.s.home, u.password); len(hits) != 0 {
		t.Fatalf("the password is in %v", hits)
	}
	checkRescoped(t, u.a, idToken, u.projects, answers)

	// Keystone refuses the identity token (revoked): one new passcode.
	// Each project's first caller may try the revoked token first.
	revokeAs(t, u.a, idToken)
	answers, posts = u.coldGets()
	if n := u.runs(); n != 2 || posts < 6 || posts > 8 {
		t.Fatalf("after the revocation: the passcode command ran %d times in all (want 2), %d token requests "+
			"(want 5 and at most one refused re-scope per project)", n, posts)
	}
	_, fresh := identityTokenFile(t, u.cacheDir)
	if fresh == idToken {
		t.Fatal("no new identity token")
	}
	checkRescoped(t, u.a, fresh, u.projects, answers)

	// The identity token file is lost: one new passcode.
	idPath, _ = identityTokenFile(t, u.cacheDir)
	os.Remove(idPath)
	if _, posts = u.coldGets(); u.runs() != 3 || posts != 5 {
		t.Fatalf("after losing the identity token: the passcode command ran %d times in all (want 3), %d token requests (want 5)", u.runs(), posts)
	}
	checkEraseRevokesLast(t, u)
}

// checkEraseRevokesLast: erase leaves the identity token to the other
// profiles; erase --revoke of the last one revokes it, and no file of the
// identity is left.
func checkEraseRevokesLast(t *testing.T, u *passcodeUser) {
	t.Helper()
	_, idToken := identityTokenFile(t, u.cacheDir)
	u.s.must("", "erase", "--profile", u.profiles[0], "--revoke")
	u.s.must("", "erase", "--profile", u.profiles[1])
	if _, ok := u.a.inspect(idToken); !ok {
		t.Fatal("erasing a profile revoked the identity token that others still use")
	}
	if r := u.s.must("", "erase", "--profile", u.profiles[2], "--revoke"); !strings.Contains(r.stdout, `"revoked":true`) {
		t.Fatalf("erase --revoke: %s", r)
	}
	if _, ok := u.a.inspect(idToken); ok {
		t.Fatal("erase --revoke of the identity's last profile left its identity token valid")
	}
	if left, _ := os.ReadDir(u.cacheDir); len(left) != 0 {
		t.Fatalf("files left in the cache directory: %v", left)
	}
}

// checkRescoped checks with Keystone that idToken is a password+TOTP
// token without a project, and that answers (a token for each of
// projects) are re-scopes of it: methods password, totp and token, its
// audit ID as their parent, its expires_at.
func checkRescoped(t *testing.T, a *admin, idToken string, projects []string, answers []tokenAnswer) {
	t.Helper()
	id, ok := a.inspect(idToken)
	if !ok || id.Project != nil || strings.Join(slices.Sorted(slices.Values(id.Methods)), ",") != "password,totp" || len(id.AuditIDs) != 1 {
		t.Fatalf("identity token: %+v (valid %v)", id, ok)
	}
	for i := range projects {
		tok, ok := a.inspect(answers[i].Token)
		methods := slices.Sorted(slices.Values(tok.Methods))
		switch {
		case !ok || tok.Project == nil || tok.Project.ID != projects[i]:
			t.Fatalf("project %d's token: %+v (valid %v)", i, tok, ok)
		case strings.Join(methods, ",") != "password,token,totp":
			t.Fatalf("project %d's token has methods %v, want password, totp and token", i, tok.Methods)
		case len(tok.AuditIDs) != 2 || tok.AuditIDs[1] != id.AuditIDs[0]:
			t.Fatalf("project %d's token is not a re-scope of the identity token: audit ids %v, the identity token's %v", i, tok.AuditIDs, id.AuditIDs)
		case !tok.ExpiresAt.Equal(id.ExpiresAt) || !answers[i].ExpiresAt.Equal(id.ExpiresAt):
			t.Fatalf("project %d's token expires at %s (answer %s), the identity token at %s", i, tok.ExpiresAt, answers[i].ExpiresAt, id.ExpiresAt)
		}
	}
}

// revokeAs revokes token with the admin's token.
func revokeAs(t *testing.T, a *admin, token string) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", strings.TrimSuffix(ks.AuthURL, "/")+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", a.token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoking a token: %d", resp.StatusCode)
	}
}
