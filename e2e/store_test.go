package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"vkc-credential/internal/keystonetest"
)

// What store does with names, projects, a locked keychain and a refused
// password, against the real Keystone and Secret Service.

// newMallorysKeystone is another cloud than the e2e one, as an attacker
// or a second employer would run it: a fake Keystone (internal/keystonetest,
// which keeps every request it receives) whose user "mallory" signs in
// with any password and has the projects named, with the IDs NAME-0,
// NAME-1, …; its tokens start with NAME-.
func newMallorysKeystone(t *testing.T, name string, projects ...string) *keystonetest.Server {
	k := keystonetest.New(t)
	u := keystonetest.User{Name: "mallory", AnyPassword: true}
	for i, p := range projects {
		u.Projects = append(u.Projects, keystonetest.Project{ID: fmt.Sprintf("%s-%d", name, i), Name: p})
	}
	k.AddUser(u)
	k.SetTokenPrefix(name + "-")
	return k
}

type listEntry struct {
	Profile   string `json:"profile"`
	AuthURL   string `json:"auth_url"`
	ProjectID string `json:"project_id"`
	Username  string `json:"username"`
}

func (s *sandbox) list() map[string]listEntry {
	s.t.Helper()
	var list []listEntry
	if err := json.Unmarshal([]byte(s.must("", "list").stdout), &list); err != nil {
		s.t.Fatal(err)
	}
	out := map[string]listEntry{}
	for _, p := range list {
		out[p.Profile] = p
	}
	return out
}

// TestAllProjectsLeavesOtherIdentitiesAlone (issue 15 item 3): another
// cloud whose projects are called like the user's profiles (prod,
// default) and two projects that make one name: --all-projects stores the
// one project with a name of its own, warns naming both sides of every
// other, and prod and default still get the real Keystone's tokens; the
// other cloud never sees the real password.
func TestAllProjectsLeavesOtherIdentitiesAlone(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	for _, p := range []string{"prod", "default", "fresh"} {
		t.Cleanup(func() { s.run(nil, "", "erase", "--profile", p) })
	}
	s.store("prod")
	s.store("default")
	before := s.list()

	other := newMallorysKeystone(t, "other", "prod", "default", "x y", "x-y", "fresh")
	otherURL := other.URL + "/v3"
	r := s.run(nil, "other cloud's password", "store", "--all-projects", "--auth-url", otherURL, "--username", "mallory", "--password-stdin")
	var answers []listEntry
	if err := json.Unmarshal([]byte(r.stdout), &answers); r.code != 0 || err != nil || len(answers) != 1 || answers[0].Profile != "fresh" {
		t.Fatalf("--all-projects: %s", r)
	}
	for _, want := range []string{
		`project "prod" (other-0) of mallory (domain users) at ` + otherURL + ` was not stored: profile prod belongs to ` + ks.Username + ` (domain ` + ks.Domain + `) at `,
		`project "default" (other-1) of mallory (domain users) at ` + otherURL + ` was not stored: profile default belongs to ` + ks.Username,
		`project "x y" (other-2) was not stored: project "x-y" (other-3) would be profile x-y too`,
		`project "x-y" (other-3) was not stored: project "x y" (other-2) would be profile x-y too`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	after := s.list()
	for _, p := range []string{"prod", "default"} {
		if after[p] != before[p] {
			t.Errorf("%s was re-pointed: %+v", p, after[p])
		}
		a := decodeToken(t, s.must("", "get", "--profile", p, "--refresh"))
		if validate(t, a.Token) != 200 || a.AuthURL != ks.AuthURL {
			t.Errorf("%s no longer gets the real Keystone's token: %+v", p, a)
		}
	}
	if _, ok := after["x-y"]; ok {
		t.Error("a name two projects make was stored")
	}
	if pw, ok := secretToolLookup(t, e2eItem()); !ok || pw != ks.Password {
		t.Error("the real password is gone from the keychain")
	}
	if strings.Contains(other.Received(), ks.Password) {
		t.Error("the other cloud received the real password")
	}
}

// TestStoreWithALockedKeychainSendsNothing (issue 15, "also found"): a
// stored profile, a piped password and a locked keychain: store exits 6
// before anything reaches Keystone, and the cache is untouched.
func TestStoreWithALockedKeychainSendsNothing(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("locked-store")
	s.store(p)
	s.must("", "get", "--profile", p)
	cache := snapshotDir(t, filepath.Join(s.home, ".cache"))

	keyringLock(t, "lock")
	t.Cleanup(func() { keyringLock(t, "unlock") })
	posts := tokenPosts(t)
	r := s.run(nil, ks.Password, "store", "--profile", p, "--password-stdin", "--keyring-timeout", "5s")
	wantError(t, r, 6, "keyring_unavailable", true, "unlocked")
	if got := tokenPosts(t) - posts; got != 0 {
		t.Fatalf("store sent %d token requests to Keystone with the keychain locked", got)
	}
	if !bytes.Equal(snapshotDir(t, filepath.Join(s.home, ".cache")), cache) {
		t.Fatal("the token cache changed")
	}
}

// TestStoreSwitchesProjectByName (issue 16 item 1): --project-name on a
// stored profile switches its project, asking nothing; and the README's
// example for a new profile of a stored identity works as written.
func TestStoreSwitchesProjectByName(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("switch")
	s.store(p)
	r := s.must("", "store", "--profile", p, "--project-name", "vkc-test-2")
	if !strings.Contains(r.stdout, `"project_id":"`+ks.Project2ID+`"`) {
		t.Fatalf("switch: %s", r)
	}
	if got := s.list()[p].ProjectID; got != ks.Project2ID {
		t.Fatalf("list shows project %s", got)
	}
	if a := decodeToken(t, s.must("", "get", "--profile", p, "--refresh")); a.ProjectID != ks.Project2ID {
		t.Fatalf("the token is for project %s", a.ProjectID)
	}
	// README: store --profile prod --openrc dev-openrc.sh --project-name prod
	rc := filepath.Join(s.home, "dev-openrc.sh")
	os.WriteFile(rc, []byte(fmt.Sprintf("export OS_AUTH_URL=%q\nexport OS_PROJECT_ID=%q\nexport OS_PROJECT_NAME=vkc-test\nexport OS_USERNAME=%q\nexport OS_USER_DOMAIN_NAME=%q\n",
		ks.AuthURL, ks.ProjectID, ks.Username, ks.Domain)), 0o600)
	readme := s.profileName("readme")
	r = s.must("", "store", "--profile", readme, "--openrc", rc, "--project-name", "vkc-test-2")
	if !strings.Contains(r.stdout, `"project_id":"`+ks.Project2ID+`"`) {
		t.Fatalf("README example: %s", r)
	}
}

// TestRejectedStoreHints (issue 16 item 9): a first store's wrong password
// says nothing was saved and prints a command that, run with the right
// password, works; a wrong project with the right password lists the
// user's projects; a refused application credential is not told about
// passwords and projects.
func TestRejectedStoreHints(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("hint")
	args := []string{"store", "--profile", p, "--auth-url", ks.AuthURL, "--username", ks.Username, "--user-domain-name", ks.Domain, "--password-stdin"}
	r := s.run(nil, ks.Password+"-not", append(args, "--project-id", ks.ProjectID)...)
	wantError(t, r, 4, "auth_failed", true, "nothing was saved")
	m := regexp.MustCompile("`(vkc-credential store [^`]*)`").FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no command in the hint: %s", r)
	}
	hinted := strings.Fields(m[1])[1:]
	if r := s.must(ks.Password, append(hinted, "--password-stdin")...); !strings.Contains(r.stdout, `"verified":true`) {
		t.Fatalf("the hinted command: %s", r)
	}

	fresh := newSandbox(t)
	r = fresh.run(nil, ks.Password, append(args, "--project-id", "0123456789abcdef0123456789abcdef")...)
	wantError(t, r, 4, "auth_failed", true, "the password is right, but the user has no role on project")
	if !strings.Contains(r.stderr, "vkc-test ("+ks.ProjectID+")") || !strings.Contains(r.stderr, "vkc-test-2 ("+ks.Project2ID+")") {
		t.Fatalf("the user's projects are not listed: %s", r)
	}

	id, _ := appCred(t, s, p, "hint-"+p, "")
	ac := s.profileName("hint-ac")
	r = s.run(nil, "not its secret", "store", "--profile", ac, "--auth-url", ks.AuthURL, "--application-credential-id", id, "--password-stdin")
	wantError(t, r, 4, "auth_failed", true, "nothing was saved")
	for _, bad := range []string{"password changed", "the password", "project ID"} {
		if strings.Contains(r.stderr, bad) {
			t.Fatalf("the hint for an application credential speaks of %q: %s", bad, r)
		}
	}
}
