package cmdline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
)

// TestStoreByNameSwitchesAStoredProfile (issue 16 item 1): --project-name
// on a stored profile switches its project, asking nothing.
func TestStoreByNameSwitchesAStoredProfile(t *testing.T) {
	w := newWorld(t)
	ks := w.ks
	if r := w.run(testPassword, "store", "--profile", "prod", "--auth-url", ks.URL+"/v3", "--username", "u@example.com", "--project-id", "p1", "--password-stdin"); r.code != 0 {
		t.Fatalf("store: %+v", r)
	}
	r := w.run("", "store", "--profile", "prod", "--project-name", "dev")
	if r.code != 0 || !strings.Contains(r.stdout, `"project_id":"p2"`) {
		t.Fatalf("switch by name: %+v", r)
	}
	if r := w.run("", "list"); !strings.Contains(r.stdout, `"project_id":"p2"`) {
		t.Fatalf("list after the switch: %+v", r)
	}
	if r := w.run("", "store", "--profile", "prod", "--project-name", "dev", "--project-id", "p1"); r.code != 2 || !strings.Contains(r.stderr, "not both") {
		t.Fatalf("both: %+v", r)
	}
	if r := w.run("", "store", "--profile", "prod", "--project-name", "nope"); r.code != 2 || !strings.Contains(r.stderr, "it has: prod, dev") || !strings.Contains(r.stderr, "--project-name") {
		t.Fatalf("unknown name: %+v", r)
	}
}

// TestStoreAllProjectsLeavesOtherIdentities (issue 15 item 3): a profile
// of another identity is left alone, with a warning naming both
// identities.
func TestStoreAllProjectsLeavesOtherIdentities(t *testing.T) {
	w := newWorld(t)
	ks := w.ks
	w.storeAt(t, "prod", "https://other.example/v3")
	r := w.run(testPassword, "store", "--all-projects", "--auth-url", ks.URL+"/v3", "--username", "u@example.com", "--password-stdin")
	var answers []struct{ Profile, ProjectID string }
	json.Unmarshal([]byte(r.stdout), &answers)
	if r.code != 0 || len(answers) != 1 || answers[0].Profile != "dev" {
		t.Fatalf("--all-projects: %+v", r)
	}
	if !strings.Contains(r.stderr, `project "prod" (p1) of u@example.com (domain users) at `+ks.URL+`/v3 was not stored: profile prod belongs to u@example.com (domain users) at https://other.example/v3`) {
		t.Fatalf("the warning does not name both identities: %s", r.stderr)
	}
	if r := w.run("", "list"); !strings.Contains(r.stdout, `"profile":"prod","auth_url":"https://other.example/v3"`) {
		t.Fatalf("prod was re-pointed:\n%s", r.stdout)
	}
	if len(w.kr.Items) != 2 {
		t.Fatalf("the keychain holds %d items, want the two identities'", len(w.kr.Items))
	}
}

// TestStoreAllProjectsFoundPasswordIsNoUpdate (issue 16 item 10): a
// password read from the keychain is not a new one, so a backend that
// fails is not "could not be updated".
func TestStoreAllProjectsFoundPasswordIsNoUpdate(t *testing.T) {
	w := newWorld(t)
	ks := w.ks
	id := []string{"--auth-url", ks.URL + "/v3", "--username", "u@example.com"}
	// A profile of the identity, kept in a backend that then fails.
	if r := w.run(testPassword, append([]string{"store", "--profile", "old", "--project-id", "p9", "--password-stdin", "--no-verify", "--keyring", "keyctl"}, id...)...); r.code != 0 {
		t.Fatalf("store old: %+v", r)
	}
	if r := w.run("", append([]string{"store", "--profile", "dev", "--project-id", "p2"}, id...)...); r.code != 0 {
		t.Fatalf("store dev: %+v", r)
	}
	w.krs["keyctl"].Err = fmt.Errorf("%w: gone", keyring.ErrUnavailable)
	r := w.run("", append([]string{"store", "--all-projects"}, id...)...)
	if r.code != 0 || strings.Contains(r.stderr, "could not be updated") {
		t.Fatalf("a password that did not change: %+v", r)
	}
}

// TestStoreRejectedHints (issue 16 item 9), through the command line: a
// first store's wrong password says nothing was saved and gives the
// command to run; the right password on a project of no role lists the
// user's projects.
func TestStoreRejectedHints(t *testing.T) {
	w := newWorld(t)
	ks := w.ks
	args := []string{"store", "--profile", "prod", "--auth-url", ks.URL + "/v3", "--username", "u@example.com", "--password-stdin", "--region", "Reg Two"}
	r := w.run("wrong", append(args, "--project-id", "p1")...)
	want := "nothing was saved: run the store again with the right password: `vkc-credential store --profile prod --auth-url " + ks.URL + "/v3 --username u@example.com --user-domain-name users --project-id p1 --region 'Reg Two'`"
	if r.code != 4 || !strings.Contains(r.stderr, want) {
		t.Fatalf("wrong password:\n%s\nwant %s", r.stderr, want)
	}
	r = w.run(testPassword, append(args, "--project-id", "p3")...)
	if r.code != 4 || !strings.Contains(r.stderr, "the password is right, but the user has no role on project p3") || !strings.Contains(r.stderr, "prod (p1), dev (p2)") {
		t.Fatalf("wrong project: %+v", r)
	}
	if r := w.run("", "list"); r.stdout != "[]\n" {
		t.Fatalf("a rejected store saved something: %+v", r)
	}
}

// TestStoreWarningsSayApplicationCredentialSecret (issue 16 item 14).
func TestStoreWarningsSayApplicationCredentialSecret(t *testing.T) {
	w := newWorld(t)
	r := w.run(`{"password":"s3cret"}`, "store", "--profile", "ci", "--auth-url", "https://k.example/v3", "--application-credential-id", "ac1", "--keyring", "keyctl", "--no-verify")
	if r.code != 0 || !strings.Contains(r.stderr, "the application credential secret of profile ci is kept in keyctl") || strings.Contains(r.stderr, "password") {
		t.Fatalf("%+v", r)
	}
}

// TestRejectedHint: the hint for each kind of refusal; none of an
// application credential speaks of a password or a project.
func TestRejectedHint(t *testing.T) {
	pw := helper.Settings{AuthURL: "https://k.example/v3", Username: "u", UserDomainName: "users", ProjectID: "p1", Region: helper.DefaultRegion, Interface: helper.DefaultInterface}
	ac := helper.Settings{AuthURL: "https://k.example/v3", ApplicationCredentialID: "ac1", ProjectID: "p1"}
	for _, c := range []struct {
		name    string
		e       helper.RejectedError
		want    []string
		wantNot []string
	}{
		{"get", helper.RejectedError{Profile: "prod", Settings: pw}, []string{"no role on", "store --profile prod --password-stdin"}, nil},
		{"stored password changed", helper.RejectedError{Profile: "prod", Settings: pw, Cause: helper.RejectSecret}, []string{"stored password was refused", "--password-stdin"}, nil},
		{"first store", helper.RejectedError{Profile: "prod", Settings: pw, Cause: helper.RejectSecret, FirstStore: true, NewSecret: true},
			[]string{"nothing was saved", "`vkc-credential store --profile prod --auth-url https://k.example/v3 --username u --user-domain-name users --project-id p1`"}, []string{"--region"}},
		{"new password on a stored profile", helper.RejectedError{Profile: "prod", Settings: pw, Cause: helper.RejectSecret, NewSecret: true}, []string{"the stored password is kept"}, nil},
		{"all projects", helper.RejectedError{Settings: pw, Cause: helper.RejectSecret, FirstStore: true, NewSecret: true}, []string{"run the same store again"}, nil},
		{"wrong project", helper.RejectedError{Profile: "prod", Settings: pw, Cause: helper.RejectProject, FirstStore: true,
			Projects: []keystone.Project{{ID: "a1", Name: "a"}, {ID: "b1", Name: "b"}}}, []string{"no role on project p1", "a (a1), b (b1)", "nothing was saved"}, nil},
		{"passcode", helper.RejectedError{Profile: "prod", Settings: pw, Cause: helper.RejectAfterPasscode}, []string{"passcode or the project"}, nil},
		{"application credential, first store", helper.RejectedError{Profile: "ci", Settings: ac, Cause: helper.RejectSecret, FirstStore: true, NewSecret: true},
			[]string{"nothing was saved"}, []string{"the password", "password changed", "project"}},
		{"application credential, get", helper.RejectedError{Profile: "ci", Settings: ac, Cause: helper.RejectSecret},
			[]string{"--application-credential-id NEW_ID"}, []string{"the password", "password changed", "project"}},
	} {
		got := rejectedHint(&c.e)
		for _, s := range c.want {
			if !strings.Contains(got, s) {
				t.Errorf("%s: %q lacks %q", c.name, got, s)
			}
		}
		for _, s := range c.wantNot {
			if strings.Contains(got, s) {
				t.Errorf("%s: %q holds %q", c.name, got, s)
			}
		}
	}
	if got := storeCommand("p", helper.Settings{AuthURL: "https://k/v3", Username: "o'hara", UserDomainName: "d", ProjectID: "x;y"}); !slices.Contains(strings.Fields(got), `'o'\''hara'`) || !strings.Contains(got, `'x;y'`) {
		t.Errorf("quoting: %s", got)
	}
}

// TestStoreCloudProjectByName: a cloud of clouds.yaml that names its project
// by name, with the password in the file; then projects lists the user's
// projects with the profile's token.
func TestStoreCloudProjectByName(t *testing.T) {
	w := newWorld(t)
	ks := w.ks
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	path := filepath.Join(dir, "clouds.yaml")
	yaml := fmt.Sprintf("clouds:\n  mine:\n    auth:\n      auth_url: %s/v3\n      username: u@example.com\n      password: %q\n      project_name: dev\n", ks.URL, testPassword)
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", path)
	r := w.run("", "store", "--profile", "c", "--cloud", "mine")
	if r.code != 0 || !strings.Contains(r.stdout, `"project_id":"p2"`) || !strings.Contains(r.stdout, `"clouds_yaml":`) ||
		!strings.Contains(r.stderr, "the password from "+path+" is now stored in the keychain, but its plaintext copy remains") {
		t.Fatalf("store --cloud: %+v", r)
	}
	r = w.run("", "projects", "--profile", "c")
	var list []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 || list[1].Name != "dev" {
		t.Fatalf("projects: %+v", r)
	}
}

// TestWarnSkipped: each reason --all-projects skips a project for says
// which project, why, and how to store it anyway.
func TestWarnSkipped(t *testing.T) {
	p := keystone.Project{ID: "id1", Name: "a b"}
	s := helper.Settings{AuthURL: "https://k.example/v3", Username: "u", UserDomainName: "users", ProjectID: "id1"}
	other := &helper.Profile{Settings: helper.Settings{AuthURL: "https://o.example/v3", Username: "v", UserDomainName: "users", ProjectID: "o1"}}
	for _, c := range []struct {
		sk   helper.SkippedProject
		want string
	}{
		{helper.SkippedProject{Project: p, Settings: s, Reason: helper.SkipNoName}, `project "a b" (id1) has no usable profile name`},
		{helper.SkippedProject{Project: p, Profile: "a-b", Settings: s, Reason: helper.SkipSameName, Clashes: []keystone.Project{{ID: "id2", Name: "a-b"}}},
			`project "a b" (id1) was not stored: project "a-b" (id2) would be profile a-b too`},
		{helper.SkippedProject{Project: p, Profile: "a-b", Settings: s, Reason: helper.SkipOtherIdentity, Existing: other},
			`project "a b" (id1) of u (domain users) at https://k.example/v3 was not stored: profile a-b belongs to v (domain users) at https://o.example/v3`},
		{helper.SkippedProject{Project: p, Profile: "a-b", Settings: s, Reason: helper.SkipOtherProject, Existing: other},
			`project "a b" (id1) was not stored: profile a-b is for project o1`},
		{helper.SkippedProject{Project: p, Profile: "a-b", Settings: s, Reason: helper.SkipUnreadable, Err: fmt.Errorf("profile file x cannot be parsed")},
			`project "a b" (id1) was not stored: profile file x cannot be parsed`},
	} {
		var errb strings.Builder
		inv := newInvocation(nil, io.Discard, &errb)
		inv.warnSkipped(c.sk)
		if !strings.Contains(errb.String(), c.want) || !strings.Contains(errb.String(), "store it with --profile NAME --project-id id1") {
			t.Errorf("%q lacks %q", errb.String(), c.want)
		}
	}
}
