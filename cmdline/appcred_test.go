package cmdline

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"vkc-credential/helper"
	"vkc-credential/internal/keystonetest"
	"vkc-credential/keyring"
)

// appCredWorld is a world whose profile "dev" signs in with a password
// (at the fake Keystone, on project p1, with the roles member and
// reader). The end-to-end tests (e2e/appcred_test.go) run appcred against
// the real Keystone; these make what the real one cannot be made to do on
// demand: refuse the new credential's first sign-in, fail a delete.
func appCredWorld(t *testing.T) *world {
	w := newWorld(t)
	req, _ := json.Marshal(map[string]string{"auth_url": w.ks.AuthURL(), "project_id": "p1", "username": "u@example.com", "password": testPassword})
	if r := w.run(string(req), "store", "--profile", "dev"); r.code != 0 {
		t.Fatalf("store: %+v", r)
	}
	return w
}

// appCredsPath is the path of the fake's application credentials of the
// test's user.
const appCredsPath = "/v3/users/uid-u@example.com/application_credentials"

// seen counts the requests the fake Keystone received whose method and
// path start with request ("POST /v3/users").
func (w *world) seen(request string) int {
	n := 0
	for _, r := range w.ks.Requests() {
		if strings.HasPrefix(r.Method+" "+r.Path, request) {
			n++
		}
	}
	return n
}

// appCred is the fake Keystone's application credential id; the zero
// AppCred when there is none.
func (w *world) appCred(id string) keystonetest.AppCred {
	for _, a := range w.ks.AppCreds() {
		if a.ID == id {
			return a
		}
	}
	return keystonetest.AppCred{}
}

// createAnswer is the answer of appcred create.
type createAnswer struct {
	Profile                 string `json:"profile"`
	Stored, Verified        bool
	ApplicationCredentialID string `json:"application_credential_id"`
	Keyring                 string
	ApplicationCredential   struct {
		ID, Name     string
		ExpiresAt    *time.Time `json:"expires_at"`
		Roles        []struct{ ID, Name string }
		AccessRules  []struct{ Service, Method, Path string } `json:"access_rules"`
		Unrestricted bool
	} `json:"application_credential"`
	Secret *string `json:"secret"`
}

func decodeCreate(t *testing.T, r result) createAnswer {
	t.Helper()
	var a createAnswer
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &a) != nil {
		t.Fatalf("appcred create: %+v", r)
	}
	return a
}

// TestAppCredCreate: the defaults (restricted, 90 days, the token's
// roles), the flags' values as Keystone gets them, the new profile stored
// with the secret in the keychain and verified; the secret printed only
// with --show-secret, and then only in the answer's "secret".
func TestAppCredCreate(t *testing.T) {
	w := appCredWorld(t)
	before := time.Now()
	r := w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci", "--debug")
	a := decodeCreate(t, r)
	cred := a.ApplicationCredential
	if a.Profile != "ci" || !a.Stored || !a.Verified || a.ApplicationCredentialID != cred.ID || a.Keyring != "os" || a.Secret != nil ||
		cred.Name != "ci-deploy" || cred.Unrestricted || len(cred.Roles) != 2 || len(cred.AccessRules) != 0 || cred.ExpiresAt == nil ||
		cred.ExpiresAt.Sub(before) < helper.DefaultAppCredLifetime || cred.ExpiresAt.Sub(before) > helper.DefaultAppCredLifetime+time.Minute {
		t.Fatalf("%+v\n%s", a, r.stdout)
	}
	secret := w.appCred(cred.ID).Secret
	if strings.Contains(r.stdout+r.stderr, secret) || !strings.Contains(r.stderr, "debug:") {
		t.Fatalf("the secret is in the output, or --debug said nothing: %+v", r)
	}
	held := false
	for _, v := range w.kr.Items {
		held = held || v == secret
	}
	if !held {
		t.Fatalf("the keychain does not hold the secret: %v", w.kr.Items)
	}
	if r := w.run("", "get", "--profile", "ci", "--refresh", "--format", "token"); r.code != 0 || r.stdout != w.ks.LastToken()+"\n" ||
		w.ks.Issued()[len(w.ks.Issued())-1].AppCred != cred.ID {
		t.Fatalf("get --profile ci does not sign in with the credential: %+v", r)
	}

	// Every flag, and --show-secret.
	r = w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-2", "--store-as", "ci2", "--role", "reader", "--expires", "2w",
		"--access-rule", "compute:get:/v2.1/servers/*", "--access-rule", "identity:GET:/v3/a,b", "--unrestricted", "--show-secret", "--no-verify")
	a = decodeCreate(t, r)
	cred = a.ApplicationCredential
	if a.Verified || a.Secret == nil || *a.Secret != w.appCred(cred.ID).Secret || strings.Count(r.stdout, *a.Secret) != 1 || strings.Contains(r.stderr, *a.Secret) ||
		!cred.Unrestricted || len(cred.Roles) != 1 || cred.Roles[0].Name != "reader" || cred.ExpiresAt.Sub(before) > 15*24*time.Hour ||
		len(cred.AccessRules) != 2 || cred.AccessRules[0].Method != "GET" || cred.AccessRules[1].Path != "/v3/a,b" {
		t.Fatalf("%+v\n%s", a, r.stdout)
	}
	// --expires never sends no expiry.
	a = decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "forever", "--store-as", "forever", "--expires", "never"))
	if a.ApplicationCredential.ExpiresAt != nil {
		t.Fatalf("never: %+v", a)
	}
}

// TestAppCredCreateRefusesBadInput: what can be checked here is refused
// with exit 2 (6 for a keychain that takes nothing) before Keystone
// creates anything, and nothing changes; an existing --store-as is never
// replaced.
func TestAppCredCreateRefusesBadInput(t *testing.T) {
	w := appCredWorld(t)
	w.run("", "get", "--profile", "dev") // a cached token: a sign-in would not show
	files := snapshot(t, os.Getenv("XDG_CONFIG_HOME"), os.Getenv("XDG_CACHE_HOME"))
	items := maps.Clone(w.kr.Items)
	create := []string{"appcred", "create", "--profile", "dev"}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--store-as", "ci"}, 2, "needs --name"},
		{[]string{"--name", "n"}, 2, "needs --store-as"},
		{[]string{"--name", "n", "--store-as", "dev"}, 2, "profile dev is stored already, and appcred create never replaces a profile"},
		{[]string{"--name", "n", "--store-as", ".bad"}, 2, "profile name"},
		{[]string{"--name", "n", "--store-as", "ci", "--expires", "-1h"}, 2, "not a positive duration"},
		{[]string{"--name", "n", "--store-as", "ci", "--expires", "2001-01-01T00:00:00Z"}, 2, "not in the future"},
		{[]string{"--name", "n", "--store-as", "ci", "--expires", "soon"}, 2, "none of"},
		{[]string{"--name", "n", "--store-as", "ci", "--access-rule", "compute:/x"}, 2, "SERVICE:METHOD:PATH"},
		{[]string{"--name", "n", "--store-as", "ci", "--access-rule", "image:GET:/v2/images"}, 2, "names no service of the project's catalog"},
		{[]string{"--name", "n", "--store-as", "ci", "--role", "admin"}, 2, `the role "admin" is not one of the token's roles`},
		{[]string{"--name", "n", "--store-as", "ci", "--keyring", "pass"}, 6, "locked"},
	} {
		w.krs["pass"].Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable)
		r := w.run("", append(create, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stdout, `"error"`) {
			t.Errorf("%q: %+v; want exit %d and %q", tt.args, r, tt.code, tt.want)
		}
	}
	if n := w.seen("POST /v3/users"); n != 0 {
		t.Fatalf("keystone was asked to create %d credentials", n)
	}
	if !maps.Equal(files, snapshot(t, os.Getenv("XDG_CONFIG_HOME"), os.Getenv("XDG_CACHE_HOME"))) || !maps.Equal(items, w.kr.Items) {
		t.Fatal("files or keychain items changed")
	}
}

// TestAppCredCreateUndoneWhenNotStored: a credential that cannot be
// stored (here Keystone refuses its first sign-in) is deleted again, and
// the message says so; when that delete fails too, the message names the
// credential left and the command that deletes it.
func TestAppCredCreateUndoneWhenNotStored(t *testing.T) {
	w := appCredWorld(t)
	// Every application credential's sign-in is refused.
	w.ks.Fail(keystonetest.Fault{AuthMethods: "application_credential", Status: http.StatusUnauthorized})
	r := w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci")
	if r.code != 4 || !strings.Contains(r.stderr, `application credential "ci-deploy" was created but not stored, so it was deleted again`) ||
		len(w.ks.AppCreds()) != 0 || w.seen("DELETE "+appCredsPath+"/") != 1 {
		t.Fatalf("%+v; credentials left: %v", r, w.ks.AppCreds())
	}
	if r := w.run("", "get", "--profile", "ci"); r.code != 3 {
		t.Fatalf("profile ci was stored: %+v", r)
	}

	w.ks.Fail(keystonetest.Fault{Method: http.MethodDelete, Status: http.StatusServiceUnavailable})
	r = w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci")
	var id string
	for _, a := range w.ks.AppCreds() {
		id = a.ID
	}
	if r.code != 4 || id == "" || !strings.Contains(r.stderr, `application credential "ci-deploy" (`+id+`) was created but not stored, and could not be deleted`) ||
		!strings.Contains(r.stderr, "delete it with `vkc-credential appcred delete "+id+" --profile dev`") {
		t.Fatalf("%+v", r)
	}
}

// TestAppCredListAndDelete: list shows the credentials (never a secret)
// and the profiles stored for each; delete by name deletes the credential
// and erases its profiles, saying which.
func TestAppCredListAndDelete(t *testing.T) {
	w := appCredWorld(t)
	a := decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci"))
	id := a.ApplicationCredential.ID
	decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "other", "--store-as", "other"))

	r := w.run("", "appcred", "list", "--profile", "dev", "--name", "ci-deploy")
	var list []struct {
		ID, Name string
		Profiles []string
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 1 || list[0].ID != id ||
		len(list[0].Profiles) != 1 || list[0].Profiles[0] != "ci" || strings.Contains(r.stdout, w.appCred(id).Secret) {
		t.Fatalf("list: %+v", r)
	}

	r = w.run("", "appcred", "delete", "ci-deploy", "--profile", "dev")
	var del struct {
		Deleted               bool
		ApplicationCredential struct{ ID string } `json:"application_credential"`
		ProfilesErased        []string            `json:"profiles_erased"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &del) != nil || !del.Deleted || del.ApplicationCredential.ID != id ||
		len(del.ProfilesErased) != 1 || del.ProfilesErased[0] != "ci" || w.appCred(id).ID != "" {
		t.Fatalf("delete: %+v", r)
	}
	if r := w.run("", "get", "--profile", "ci"); r.code != 3 {
		t.Fatalf("profile ci is still there: %+v", r)
	}
	if r := w.run("", "get", "--profile", "other"); r.code != 0 {
		t.Fatalf("profile other went too: %+v", r)
	}
	if r := w.run("", "appcred", "delete", "--profile", "dev", "ci-deploy"); r.code != 3 || !strings.Contains(r.stderr, "appcred list --profile dev") {
		t.Fatalf("a second delete: %+v", r)
	}
}

// TestAppCredKeystoneRefusals: Keystone's refusals map to the contract's
// exit codes with hints of their own: a name taken (409) exit 2, a token
// refused the management of credentials (403) exit 4, naming the kind of
// profile that may; a restricted credential's profile is refused before
// anything is sent (exit 2).
func TestAppCredKeystoneRefusals(t *testing.T) {
	w := appCredWorld(t)
	decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci"))
	r := w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci2")
	if r.code != 2 || !strings.Contains(r.stderr, "choose another --name") || !strings.Contains(r.stdout, `"code":"usage"`) {
		t.Fatalf("a name taken: %+v", r)
	}
	posts := w.seen("POST /v3/users")
	r = w.run("", "appcred", "create", "--profile", "ci", "--name", "child", "--store-as", "child")
	if r.code != 2 || !strings.Contains(r.stderr, "restricted application credential") || w.seen("POST /v3/users") != posts {
		t.Fatalf("a restricted profile's create: %+v", r)
	}
	if r := w.run("", "appcred", "delete", "--profile", "ci", "ci-deploy"); r.code != 2 || !strings.Contains(r.stderr, "restricted application credential") {
		t.Fatalf("a restricted profile's delete: %+v", r)
	}
	w.ks.Fail(keystonetest.Fault{Method: http.MethodPost, Path: appCredsPath, Status: http.StatusForbidden,
		Message: "You are not authorized to perform the requested action."})
	r = w.run("", "appcred", "create", "--profile", "dev", "--name", "n", "--store-as", "n")
	if r.code != 4 || !strings.Contains(r.stderr, "manage application credentials: give --profile") || !strings.Contains(r.stdout, `"code":"auth_failed"`) {
		t.Fatalf("a 403: %+v", r)
	}
}

// TestAppCredDefaultExpiryIsTheHelpers: the help's default is the one
// helper applies.
func TestAppCredDefaultExpiryIsTheHelpers(t *testing.T) {
	e, err := helper.ParseExpiry(appCredDefaultExpiry, time.Unix(0, 0))
	if err != nil || e.At.Sub(time.Unix(0, 0)) != helper.DefaultAppCredLifetime {
		t.Fatalf("%s: %+v, %v", appCredDefaultExpiry, e, err)
	}
}
