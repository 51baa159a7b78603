package cmdline

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"vkc-credential/helper"
	"vkc-credential/keyring"
)

// appCredKeystone is a fake Keystone that signs in testPassword (user u1,
// project p1, roles member and reader) and the application credentials it
// made, and creates, lists and deletes them. The end-to-end tests
// (e2e/appcred_test.go) run appcred against the real Keystone; this one
// makes what the real one cannot be made to do on demand: refuse the new
// credential's first sign-in, fail a delete.
type appCredKeystone struct {
	*httptest.Server
	mu           sync.Mutex
	creds        map[string]map[string]any // by ID, as Keystone answers them
	secrets      map[string]string
	refuseSignIn bool // refuse every application credential's sign-in
	deleteStatus int  // the answer of a DELETE, when not 0
	createStatus int  // the answer of a create, when not 0
	requests     []string
	n            int
}

func newAppCredKeystone(t *testing.T) *appCredKeystone {
	k := &appCredKeystone{creds: map[string]map[string]any{}, secrets: map[string]string{}}
	k.Server = httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.Close)
	return k
}

func (k *appCredKeystone) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.requests = append(k.requests, r.Method+" "+r.URL.Path)
	const base = "/v3/users/u1/application_credentials"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v3/auth/tokens":
		k.signIn(w, r)
	case r.Method == http.MethodPost && r.URL.Path == base:
		k.create(w, r)
	case r.Method == http.MethodGet && r.URL.Path == base:
		list := []map[string]any{}
		for _, c := range k.creds {
			if name := r.URL.Query().Get("name"); name == "" || c["name"] == name {
				list = append(list, c)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"application_credentials": list})
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, base+"/"):
		id := strings.TrimPrefix(r.URL.Path, base+"/")
		switch {
		case k.deleteStatus != 0:
			w.WriteHeader(k.deleteStatus)
		case k.creds[id] == nil:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":{"code":404,"message":"Could not find application credential: %s."}}`, id)
		default:
			delete(k.creds, id)
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		http.NotFound(w, r)
	}
}

// signIn answers POST /v3/auth/tokens for the password and the
// application credential methods.
func (k *appCredKeystone) signIn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Auth struct {
			Identity struct {
				Methods  []string
				Password struct{ User struct{ Password string } }
				AppCred  struct{ ID, Secret string } `json:"application_credential"`
			}
		}
	}
	json.NewDecoder(r.Body).Decode(&body)
	id := body.Auth.Identity
	appCred := "null"
	switch {
	case len(id.Methods) == 1 && id.Methods[0] == "password" && id.Password.User.Password == testPassword:
	case len(id.Methods) == 1 && id.Methods[0] == "application_credential" && !k.refuseSignIn &&
		k.creds[id.AppCred.ID] != nil && k.secrets[id.AppCred.ID] == id.AppCred.Secret:
		appCred = fmt.Sprintf(`{"id":%q,"restricted":%t}`, id.AppCred.ID, !k.creds[id.AppCred.ID]["unrestricted"].(bool))
	default:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":401,"message":"The request you have made requires authentication."}}`)
		return
	}
	k.n++
	now := time.Now().UTC()
	w.Header().Set("X-Subject-Token", fmt.Sprintf("gAAAA-%s-%d", id.Methods[0], k.n))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"token":{"methods":[%q],"user":{"id":"u1"},"project":{"id":"p1"},"application_credential":%s,`+
		`"roles":[{"id":"r1","name":"member"},{"id":"r2","name":"reader"}],"catalog":[{"type":"identity","endpoints":[]},{"type":"compute","endpoints":[]}],`+
		`"issued_at":%q,"expires_at":%q}}`, id.Methods[0], appCred, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
}

// create answers POST /v3/users/u1/application_credentials.
func (k *appCredKeystone) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Cred map[string]any `json:"application_credential"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	c := body.Cred
	for _, other := range k.creds {
		if other["name"] == c["name"] {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":409,"message":"Conflict occurred attempting to store application_credential - Duplicate entry."}}`)
			return
		}
	}
	if k.createStatus != 0 {
		w.WriteHeader(k.createStatus)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":"You are not authorized to perform the requested action."}}`, k.createStatus)
		return
	}
	k.n++
	id := fmt.Sprintf("ac%d", k.n)
	k.secrets[id] = fmt.Sprintf("secret-of-%s-%d", id, time.Now().UnixNano())
	roles := []map[string]string{}
	if c["roles"] == nil { // all the token's
		c["roles"] = []any{map[string]any{"id": "r1"}, map[string]any{"id": "r2"}}
	}
	for _, role := range c["roles"].([]any) {
		rid := role.(map[string]any)["id"].(string)
		roles = append(roles, map[string]string{"id": rid, "name": map[string]string{"r1": "member", "r2": "reader"}[rid]})
	}
	c["id"], c["project_id"], c["roles"] = id, "p1", roles
	if c["access_rules"] == nil {
		c["access_rules"] = []any{}
	}
	k.creds[id] = c
	answer := maps.Clone(c)
	answer["secret"] = k.secrets[id]
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"application_credential": answer})
}

// seen reports how many requests of method and path prefix k answered.
func (k *appCredKeystone) seen(request string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, r := range k.requests {
		if strings.HasPrefix(r, request) {
			n++
		}
	}
	return n
}

// appCredWorld is a world whose profile "dev" signs in with a password at
// an appCredKeystone.
func appCredWorld(t *testing.T) (*world, *appCredKeystone) {
	w := newWorld(t)
	k := newAppCredKeystone(t)
	req, _ := json.Marshal(map[string]string{"auth_url": k.URL + "/v3", "project_id": "p1", "username": "u@example.com", "password": testPassword})
	if r := w.run(string(req), "store", "--profile", "dev"); r.code != 0 {
		t.Fatalf("store: %+v", r)
	}
	return w, k
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
	w, k := appCredWorld(t)
	before := time.Now()
	r := w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci", "--debug")
	a := decodeCreate(t, r)
	cred := a.ApplicationCredential
	if a.Profile != "ci" || !a.Stored || !a.Verified || a.ApplicationCredentialID != cred.ID || a.Keyring != "os" || a.Secret != nil ||
		cred.Name != "ci-deploy" || cred.Unrestricted || len(cred.Roles) != 2 || len(cred.AccessRules) != 0 || cred.ExpiresAt == nil ||
		cred.ExpiresAt.Sub(before) < helper.DefaultAppCredLifetime || cred.ExpiresAt.Sub(before) > helper.DefaultAppCredLifetime+time.Minute {
		t.Fatalf("%+v\n%s", a, r.stdout)
	}
	secret := k.secrets[cred.ID]
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
	if r := w.run("", "get", "--profile", "ci", "--refresh", "--format", "token"); r.code != 0 || !strings.HasPrefix(r.stdout, "gAAAA-application_credential-") {
		t.Fatalf("get --profile ci: %+v", r)
	}

	// Every flag, and --show-secret.
	r = w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-2", "--store-as", "ci2", "--role", "reader", "--expires", "2w",
		"--access-rule", "compute:get:/v2.1/servers/*", "--access-rule", "identity:GET:/v3/a,b", "--unrestricted", "--show-secret", "--no-verify")
	a = decodeCreate(t, r)
	cred = a.ApplicationCredential
	if a.Verified || a.Secret == nil || *a.Secret != k.secrets[cred.ID] || strings.Count(r.stdout, *a.Secret) != 1 || strings.Contains(r.stderr, *a.Secret) ||
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
	w, k := appCredWorld(t)
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
	if n := k.seen("POST /v3/users"); n != 0 {
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
	w, k := appCredWorld(t)
	k.refuseSignIn = true
	r := w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci")
	if r.code != 4 || !strings.Contains(r.stderr, `application credential "ci-deploy" was created but not stored, so it was deleted again`) ||
		len(k.creds) != 0 || k.seen("DELETE /v3/users/u1/application_credentials/") != 1 {
		t.Fatalf("%+v; credentials left: %v", r, k.creds)
	}
	if r := w.run("", "get", "--profile", "ci"); r.code != 3 {
		t.Fatalf("profile ci was stored: %+v", r)
	}

	k.deleteStatus = http.StatusServiceUnavailable
	r = w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci")
	var id string
	for id = range k.creds {
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
	w, k := appCredWorld(t)
	a := decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci"))
	id := a.ApplicationCredential.ID
	decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "other", "--store-as", "other"))

	r := w.run("", "appcred", "list", "--profile", "dev", "--name", "ci-deploy")
	var list []struct {
		ID, Name string
		Profiles []string
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 1 || list[0].ID != id ||
		len(list[0].Profiles) != 1 || list[0].Profiles[0] != "ci" || strings.Contains(r.stdout, k.secrets[id]) {
		t.Fatalf("list: %+v", r)
	}

	r = w.run("", "appcred", "delete", "ci-deploy", "--profile", "dev")
	var del struct {
		Deleted               bool
		ApplicationCredential struct{ ID string } `json:"application_credential"`
		ProfilesErased        []string            `json:"profiles_erased"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &del) != nil || !del.Deleted || del.ApplicationCredential.ID != id ||
		len(del.ProfilesErased) != 1 || del.ProfilesErased[0] != "ci" || k.creds[id] != nil {
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
	w, k := appCredWorld(t)
	decodeCreate(t, w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci"))
	r := w.run("", "appcred", "create", "--profile", "dev", "--name", "ci-deploy", "--store-as", "ci2")
	if r.code != 2 || !strings.Contains(r.stderr, "choose another --name") || !strings.Contains(r.stdout, `"code":"usage"`) {
		t.Fatalf("a name taken: %+v", r)
	}
	posts := k.seen("POST /v3/users")
	r = w.run("", "appcred", "create", "--profile", "ci", "--name", "child", "--store-as", "child")
	if r.code != 2 || !strings.Contains(r.stderr, "restricted application credential") || k.seen("POST /v3/users") != posts {
		t.Fatalf("a restricted profile's create: %+v", r)
	}
	if r := w.run("", "appcred", "delete", "--profile", "ci", "ci-deploy"); r.code != 2 || !strings.Contains(r.stderr, "restricted application credential") {
		t.Fatalf("a restricted profile's delete: %+v", r)
	}
	k.createStatus = http.StatusForbidden
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
