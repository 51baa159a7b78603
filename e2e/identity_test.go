package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// These tests prove what belongs to an identity, and only to it: its
// keychain item, against the real Keystone and Secret Service.

// oldIdentityItem is the item vkc-credential 1.1 kept an identity's secret
// in: a hash of the auth URL as stored, the domain and the user, joined by
// NUL (an application credential: the URL, "application credential" and
// its ID).
func oldIdentityItem(authURL, domain, user string) string {
	sum := sha256.Sum256([]byte(authURL + "\x00" + domain + "\x00" + user))
	return "identity-" + hex.EncodeToString(sum[:12])
}

// TestProfileNamedLikeAKeychainItem: a hostile Keystone names a project
// like the victim's keychain item, so that store --all-projects would make
// a profile of that name, whose 1.0 fallback reads and deletes the item.
// The name is refused wherever a profile name comes from; two
// --all-projects stores, erase and get leave the victim's password in the
// Secret Service, and none of it reaches the attacker.
func TestProfileNamedLikeAKeychainItem(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	victim := s.profileName("victim")
	s.store(victim)
	item := s.itemOf(victim)
	if pw, ok := secretToolLookup(t, item); !ok || pw != ks.Password {
		t.Fatalf("the victim's password is not in %s", item)
	}

	hostile := newMallorysKeystone(t, "hostile", item, "mallory-project")
	t.Cleanup(func() { s.run(nil, "", "erase", "--profile", "mallory-project") })
	// Twice: the second store is the one that deleted the victim's item.
	var stores []result
	for range 2 {
		stores = append(stores, s.run(nil, "mallory's password", "store", "--all-projects", "--auth-url", hostile.URL+"/v3", "--username", "mallory",
			"--password-stdin", "--keyring", "os"))
	}
	if pw, ok := secretToolLookup(t, item); !ok || pw != ks.Password {
		t.Fatalf("store --all-projects deleted or changed the victim's keychain item (found=%t)", ok)
	}
	for _, r := range stores {
		if r.code != 0 || !strings.Contains(r.stderr, item) || strings.Contains(r.stdout, `"profile":"`+item+`"`) {
			t.Fatalf("store --all-projects with a project named %s: %s", item, r)
		}
	}
	// A profile file of that name, as an earlier version let the hostile
	// project create it (1.0's shape: no backend recorded).
	planted := filepath.Join(s.home, ".config", "vkc-credential", "profiles", item+".json")
	os.WriteFile(planted, []byte(fmt.Sprintf(`{"version":1,"profile":%q,"auth_url":%q,"project_id":"hostile-0","username":"mallory","user_domain_name":"users","region":"RegionOne","interface":"public"}`+"\n",
		item, hostile.URL+"/v3")), 0o600)
	for _, try := range []struct {
		env   []string
		stdin string
		args  []string
	}{
		{nil, "", []string{"get", "--profile", item, "--refresh"}},
		{nil, "", []string{"erase", "--profile", item}},
		{nil, `{"profile":"` + item + `"}`, []string{"get", "--refresh"}},
		{[]string{"VKC_PROFILE=" + strings.ToUpper(item)}, "", []string{"erase"}},
		{nil, "", []string{"store", "--profile", item, "--auth-url", hostile.URL + "/v3", "--project-id", "hostile-0", "--username", "mallory", "--keyring", "os"}},
	} {
		r := s.run(try.env, try.stdin, try.args...)
		wantError(t, r, 2, "usage", true, "identity-HEX")
	}
	if r := s.must("", "list"); strings.Contains(r.stdout, `"profile":"`+item+`"`) {
		t.Fatalf("list shows the planted profile: %s", r.stdout)
	}

	if pw, ok := secretToolLookup(t, item); !ok || pw != ks.Password {
		t.Fatalf("the victim's keychain item is gone or changed (found=%t)", ok)
	}
	if a := decodeToken(t, s.must("", "get", "--profile", victim, "--refresh")); validate(t, a.Token) != 200 {
		t.Fatal("the victim's token does not validate")
	}
	if got := hostile.Received(); !strings.Contains(got, "mallory's password") || strings.Contains(got, ks.Password) {
		t.Fatalf("what the attacker's Keystone received:\n%s", got)
	}
}

// TestOSVariablesNeverFillAStoredIdentity: after a CI openrc of an
// application credential is sourced, get and exec of a stored password
// profile still sign in with its password at its Keystone.
func TestOSVariablesNeverFillAStoredIdentity(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("os-vars")
	s.store(p)
	addr, conns := countingListener(t)
	ci := []string{"OS_AUTH_TYPE=v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID=ci-credential",
		"OS_APPLICATION_CREDENTIAL_SECRET=ci-secret", "OS_AUTH_URL=http://" + addr + "/v3", "OS_USERNAME=ci", "OS_USER_DOMAIN_NAME=ci"}
	r := s.run(ci, "", "get", "--profile", p, "--refresh")
	if r.code != 0 {
		t.Fatalf("get with a CI openrc in the environment: %s", r)
	}
	a := decodeToken(t, r)
	if m := tokenMethods(t, a.Token); m != "password" || a.AuthURL != ks.AuthURL {
		t.Fatalf("the token was issued by %q at %s", m, a.AuthURL)
	}
	r = s.runCmd(exec.Command(binary, "exec", "--profile", p, "--refresh", "--", "sh", "-c", `printf %s "$OS_TOKEN"`), ci, "")
	if r.code != 0 || tokenMethods(t, r.stdout) != "password" {
		t.Fatalf("exec with a CI openrc in the environment: %s", r)
	}
	if conns.Load() != 0 {
		t.Fatalf("OS_AUTH_URL's host got %d connections", conns.Load())
	}
}

// TestOldSchemeItemServesUntilStore: a password kept as vkc-credential
// 1.1 named its item (with the auth URL's trailing slash, as VK's openrc
// writes it) still serves get, under either form of the auth URL; the
// next store moves it to the identity's item and deletes the old one.
func TestOldSchemeItemServesUntilStore(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("old-item")
	slash := ks.AuthURL + "/"
	s.must(ks.Password, "store", "--profile", p, "--auth-url", slash, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--user-domain-name", ks.Domain, "--password-stdin")
	item, old := s.itemOf(p), oldIdentityItem(slash, ks.Domain, ks.Username)
	if item != identityItem(ks.AuthURL, ks.Domain, ks.Username) || item == old {
		t.Fatalf("list names item %s", item)
	}
	// As 1.1 left it: the password under the old name only.
	secretTool(t, ks.Password, "store", "--label", "vkc-credential 1.1", "service", "vkc-credential", "username", old)
	secretTool(t, "", "clear", "service", "vkc-credential", "username", item)
	t.Cleanup(func() { exec.Command("secret-tool", "clear", "service", "vkc-credential", "username", old).Run() })

	for _, req := range []string{"", `{"auth_url":"` + ks.AuthURL + `"}`} {
		if a := decodeToken(t, s.must(req, "get", "--profile", p, "--refresh")); validate(t, a.Token) != 200 {
			t.Fatalf("get (request %q) from the old item: the token does not validate", req)
		}
	}
	if _, ok := secretToolLookup(t, item); ok {
		t.Fatal("get moved the item; only store does")
	}
	s.must("", "store", "--profile", p)
	if pw, ok := secretToolLookup(t, item); !ok || pw != ks.Password {
		t.Fatal("store did not move the password to the identity's item")
	}
	if _, ok := secretToolLookup(t, old); ok {
		t.Fatal("store left the old item behind")
	}
}

// secretTool runs libsecret's secret-tool with stdin and fails the test
// when it fails.
func secretTool(t *testing.T, stdin string, args ...string) {
	t.Helper()
	cmd := exec.Command("secret-tool", args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestTrailingSlashIsOneIdentity: a profile stored from VK's openrc (its
// auth URL ends in "/v3/") and everything naming the same Keystone as
// "/v3" are one identity: store --all-projects asks for no password, and a
// request naming the other form is served from the same cached token.
func TestTrailingSlashIsOneIdentity(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	rc := writeOpenRC(t, t.TempDir())
	data, _ := os.ReadFile(rc)
	os.WriteFile(rc, []byte(strings.ReplaceAll(string(data), ks.AuthURL, ks.AuthURL+"/")), 0o600)
	p := s.profileName("slash")
	if r := s.must(ks.Password, "store", "--profile", p, "--openrc", rc, "--password-stdin"); !strings.Contains(r.stdout, `"auth_url":"`+ks.AuthURL+`/"`) {
		t.Fatalf("store from the openrc: %s", r)
	}
	tok := decodeToken(t, s.must("", "get", "--profile", p)).Token

	// Empty stdin, no terminal: a password could not be asked for.
	t.Cleanup(func() {
		s.run(nil, "", "erase", "--profile", "vkc-test")
		s.run(nil, "", "erase", "--profile", "vkc-test-2")
	})
	r := s.must("", "store", "--all-projects", "--auth-url", ks.AuthURL, "--username", ks.Username, "--user-domain-name", ks.Domain)
	if !strings.Contains(r.stdout, `"profile":"vkc-test"`) || !strings.Contains(r.stdout, `"profile":"vkc-test-2"`) {
		t.Fatalf("store --all-projects: %s", r)
	}
	if items := []string{s.itemOf(p), s.itemOf("vkc-test"), s.itemOf("vkc-test-2")}; len(slices.Compact(items)) != 1 {
		t.Fatalf("one identity, items %v", items)
	}

	for _, req := range []string{`{"auth_url":"` + ks.AuthURL + `"}`, `{"auth_url":"` + ks.AuthURL + `/"}`} {
		a := decodeToken(t, s.must(req, "get", "--profile", p))
		if !a.Cached || a.Token != tok {
			t.Fatalf("request %s: not the cached token: %+v", req, a)
		}
	}
	// One token of the identity's project, one lock, whichever form named it.
	cache := filepath.Join(s.home, ".cache", "vkc-credential")
	if tokens, locks := glob(t, cache, "*.json"), glob(t, cache, "*.lock"); len(tokens) != 1 || len(locks) != 1 {
		t.Fatalf("cache files %v, lock files %v", tokens, locks)
	}
}

// TestEraseWithoutDBus: on a machine without a D-Bus session, erase of an
// unknown profile exits 3; a profile kept in the (unreachable) OS keychain
// exits 6 with nothing erased and the way out named; erase --force then
// removes it and its files and names the secret left and where, which
// the user deletes by hand once the keychain is back.
func TestEraseWithoutDBus(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	p := s.profileName("nobus")
	s.store(p, "--keyring", "os")
	s.must("", "get", "--profile", p)
	item := s.itemOf(p)
	noBus := *s
	noBus.env = slices.Clone(s.env)
	noBus.withoutBus()

	wantError(t, noBus.run(nil, "", "erase", "--profile", "no-such-profile"), 3, "not_found", true, "no-such-profile")
	r := noBus.run(nil, "", "erase", "--profile", p)
	wantError(t, r, 6, "keyring_unavailable", true, "--force")
	if !strings.Contains(s.must("", "list").stdout, `"profile":"`+p+`"`) {
		t.Fatal("a failed erase removed the profile")
	}

	r = noBus.run(nil, "", "erase", "--profile", p, "--force")
	var a struct {
		Erased     bool `json:"erased"`
		SecretLeft struct {
			Keyring string `json:"keyring"`
			Reason  string `json:"reason"`
			Items   []struct {
				Item  string `json:"item"`
				Where string `json:"where"`
			} `json:"items"`
		} `json:"secret_left"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || r.code != 0 || !a.Erased || a.SecretLeft.Keyring != "os" ||
		len(a.SecretLeft.Items) == 0 || a.SecretLeft.Items[0].Item != item {
		t.Fatalf("erase --force: %s", r)
	}
	where := a.SecretLeft.Items[0].Where
	clear := "secret-tool clear service vkc-credential username " + item
	if !strings.Contains(where, clear) || !strings.Contains(r.stderr, where) || !strings.Contains(r.stderr, "D-Bus") {
		t.Fatalf("where the secret is: %q; stderr %q", where, r.stderr)
	}
	if strings.Contains(s.must("", "list").stdout, `"profile":"`+p+`"`) {
		t.Fatal("erase --force left the profile")
	}
	if left := glob(t, filepath.Join(s.home, ".cache", "vkc-credential"), "*"); len(left) != 0 {
		t.Fatalf("erase --force left cache files: %v", left)
	}
	// The keychain is back: the secret is where the answer said, and its
	// command deletes it.
	if pw, ok := secretToolLookup(t, item); !ok || pw != ks.Password {
		t.Fatal("the secret is not where erase --force said")
	}
	if out, err := exec.Command("sh", "-c", clear).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", clear, err, out)
	}
	if _, ok := secretToolLookup(t, item); ok {
		t.Fatal("the command erase --force named did not delete the secret")
	}
}
