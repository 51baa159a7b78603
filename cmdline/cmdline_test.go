package cmdline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keyring"
	"vkc-credential/keyring/keyringtest"
)

const testPassword = `pä ss "wörd' 1`

// newKeystone is the fake Keystone of the tests: its user u@example.com,
// password testPassword, has a role on projects p1 ("prod") and p2 ("dev").
func newKeystone(tb testing.TB) *keystonetest.Server {
	ks := keystonetest.New(tb)
	ks.AddUser(keystonetest.User{Name: "u@example.com", Password: testPassword,
		Projects: []keystonetest.Project{{ID: "p1", Name: "prod", DomainID: "d"}, {ID: "p2", Name: "dev", DomainID: "d"}}})
	return ks
}

// refuseSignIns makes the fake Keystone refuse every sign-in with a 401
// saying message, until ks.ClearFaults.
func refuseSignIns(ks *keystonetest.Server, message string) {
	ks.Fail(keystonetest.Fault{Method: http.MethodPost, Path: "/v3/auth/tokens", Status: http.StatusUnauthorized, Message: message})
}

// posts counts the token requests the fake Keystone received.
func (w *world) posts() int { return w.ks.Count(http.MethodPost, "/v3/auth/tokens") }

// world is one user's machine: private config and cache dirs, keychain
// backends in memory (kr is "os", the one auto picks), a fake Keystone,
// and no OS_* variables.
type world struct {
	kr  *keyringtest.Memory
	krs map[string]*keyringtest.Memory
	ks  *keystonetest.Server
}

func newWorld(tb testing.TB) *world {
	dir := tb.TempDir()
	tb.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	tb.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "OS_") || strings.HasPrefix(name, "VKC_") || name == "KUBERNETES_EXEC_INFO" {
			tb.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	noAskpass(tb)
	w := &world{krs: map[string]*keyringtest.Memory{}, ks: newKeystone(tb)}
	for _, name := range keyring.Names() {
		w.krs[name] = keyringtest.New()
	}
	w.kr = w.krs["os"]
	return w
}

// keychains makes inv use w's keychains.
func (w *world) keychains(inv *invocation) {
	inv.openKeyring = func(name string, _ keyring.Config) (keyring.Store, error) {
		if kr, ok := w.krs[name]; ok {
			return kr, nil
		}
		return nil, fmt.Errorf("unknown backend %q", name)
	}
	inv.autoKeyring = func(time.Duration) (keyring.Store, string, []error, error) { return w.kr, "os", nil, nil }
}

type result struct {
	code           int
	stdout, stderr string
}

func (w *world) run(stdin string, args ...string) result {
	var out, errb strings.Builder
	inv := newInvocation(strings.NewReader(stdin), &out, &errb)
	inv.readTTY = noTTY
	w.keychains(inv)
	code := inv.run(append([]string{"vkc-credential"}, args...))
	return result{code, out.String(), errb.String()}
}

// store stores profile for the fake Keystone with settings from a
// request, verified (so the token is cached).
func (w *world) store(tb testing.TB, profile string, extra ...string) {
	tb.Helper()
	req, _ := json.Marshal(map[string]string{"auth_url": w.ks.URL + "/v3", "project_id": "p1", "username": "u@example.com", "password": testPassword})
	if r := w.run(string(req), append([]string{"store", "--profile", profile}, extra...)...); r.code != 0 {
		tb.Fatalf("store: %+v", r)
	}
}

// TestRunRefusesBadInput: input that must be refused with exit 2 before
// the keychain or the network is touched (the keychain fails every call
// with exit 6, so reaching it would show).
func TestRunRefusesBadInput(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	w.kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable)
	posts := w.posts()
	files := snapshot(t, os.Getenv("XDG_CONFIG_HOME"), os.Getenv("XDG_CACHE_HOME"))
	items := maps.Clone(w.kr.Items)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		env     map[string]string
		jsonOut bool
		wantMsg string
	}{
		{"unknown flag", []string{"get", "--nope"}, "", nil, true, "nope"},
		{"unknown format", []string{"get", "--format", "yaml"}, "", nil, false, "yaml"},
		{"bad min-ttl", []string{"get", "--min-ttl", "soon"}, "", nil, true, "soon"},
		{"negative min-ttl", []string{"get", "--min-ttl", "-1s"}, "", nil, true, "between 0 and 24h"},
		{"bad profile flag", []string{"get", "--profile", "a/b"}, "", nil, true, "invalid profile name"},
		{"bad profile in request", []string{"get"}, `{"profile":"../etc"}`, nil, true, "invalid profile name"},
		{"profile named like a keychain item", []string{"erase", "--profile", "identity-3f6c0a1b2c3d4e5f60718293"}, "", nil, true, "identity-HEX"},
		{"request's profile named like a keychain item", []string{"get"}, `{"profile":"identity-3f6c"}`, nil, true, "identity-HEX"},
		{"VKC_PROFILE named like a keychain item", []string{"get"}, "", map[string]string{"VKC_PROFILE": "IDENTITY-3F6C"}, true, "identity-HEX"},
		{"store of a profile named like a keychain item", []string{"store", "--profile", "identity-3f6c", "--auth-url", "https://k.example/v3", "--project-id", "p", "--username", "u"},
			`{"password":"hunter2"}`, nil, true, "identity-HEX"},
		{"truncated request", []string{"get", "--format", "token"}, `{"profile":`, nil, false, "truncated"},
		{"unknown field", []string{"list"}, `{"profiel":"x"}`, nil, true, "unknown field"},
		{"password in get", []string{"get"}, `{"password":"hunter2"}`, nil, true, "only taken by `store`"},
		{"version 2", []string{"erase"}, `{"version":2}`, nil, true, "version 2"},
		{"http remote store", []string{"store", "--auth-url", "http://infra.mail.ru:35357/v3/", "--project-id", "p", "--username", "u"}, `{"password":"hunter2"}`, nil, true, "http"},
		{"missing project", []string{"store", "--auth-url", "https://k.example/v3", "--username", "u"}, `{"password":"hunter2"}`, nil, true, "project_id is not set; give it with --project-id"},
		{"no auth URL anywhere", []string{"store", "--profile", "new", "--project-id", "p", "--username", "u", "--password-stdin"}, "hunter2\n", nil, true, "auth_url is not set; give it with --auth-url"},
		{"stray argument", []string{"list", "extra"}, "", nil, true, "extra"},
		{"unknown command", []string{"fetch"}, "", nil, false, "fetch"},
		{"zero timeout", []string{"get", "--timeout", "0s"}, "", nil, true, "--timeout must be positive"},
		{"profile without value", []string{"get", "--profile"}, "", nil, true, "--profile needs a value"},
		{"profile without value, token format", []string{"get", "--format", "token", "--profile"}, "", nil, false, "--profile needs a value"},
		{"erase profile without value", []string{"erase", "--profile"}, "", nil, true, "--profile needs a value"},
		{"format without value", []string{"get", "--format"}, "", nil, true, "format"},
		{"doctor, unknown format", []string{"doctor", "--format", "yaml"}, "", nil, false, "yaml"},
		{"doctor --format json, a bad flag", []string{"doctor", "--format", "json", "--nope"}, "", nil, true, "nope"},
		{"piped password without --password-stdin", []string{"store", "--profile", "prod"}, "hunter2\n", nil, true, "add --password-stdin"},
		{"request redirects the stored password", []string{"get", "--profile", "prod"}, `{"auth_url":"http://127.0.0.1:18402/v3","username":"mallory"}`, nil, true, "auth_url differs"},
		{"request changes the user", []string{"get", "--profile", "prod"}, `{"username":"mallory"}`, nil, true, "username differs"},
		{"control character in an application credential id", []string{"store", "--profile", "n3", "--auth-url", "https://k.example/v3", "--application-credential-id", "ab\x1bc"}, `{"password":"hunter2"}`, nil, true, "application_credential_id holds"},
		{"request names another application credential", []string{"get", "--profile", "prod"}, `{"application_credential_id":"other"}`, nil, true, "application_credential_id differs"},
		{"openrc and cloud together", []string{"store", "--openrc", "x", "--cloud", "y"}, `{"password":"hunter2"}`, nil, true, "not both"},
		{"hostile region in the request", []string{"env", "--profile", "prod", "--shell", "powershell"}, `{"region":"RegionOne\u2019; New-Item x; \u2018"}`, nil, false, "not printable ASCII"},
		{"hostile region from the environment at store", []string{"store", "--profile", "n2", "--auth-url", "https://k.example/v3", "--project-id", "p", "--username", "u"}, `{"password":"hunter2"}`,
			map[string]string{"OS_REGION_NAME": "R\u2019; New-Item x"}, true, "region holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := w.run(tt.stdin, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; %+v", r.code, r)
			}
			if !strings.HasPrefix(r.stderr, "vkc-credential: ") || !strings.Contains(r.stderr, tt.wantMsg) || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("stderr %q must be one line starting with vkc-credential: and mention %q", r.stderr, tt.wantMsg)
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2") {
				t.Fatal("a password was echoed")
			}
			if !tt.jsonOut {
				if r.stdout != "" {
					t.Fatalf("stdout must be empty, got %q", r.stdout)
				}
				return
			}
			var resp struct {
				Version int
				Error   struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil || resp.Version != 1 || resp.Error.Code != "usage" || !strings.Contains(resp.Error.Message, tt.wantMsg) {
				t.Fatalf("stdout is not the JSON usage error: %q", r.stdout)
			}
		})
	}
	if w.posts() != posts {
		t.Fatalf("keystone got %d requests", w.posts()-posts)
	}
	if !maps.Equal(files, snapshot(t, os.Getenv("XDG_CONFIG_HOME"), os.Getenv("XDG_CACHE_HOME"))) || !maps.Equal(items, w.kr.Items) {
		t.Fatal("a refused input changed a file or the keychain")
	}
}

// snapshot maps every file under dirs to its contents.
func snapshot(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				data, _ := os.ReadFile(path)
				out[path] = string(data)
			}
			return nil
		})
	}
	return out
}

// TestExitCodes: each failure class ends in its documented exit code
// with a hint that names what to do.
func TestExitCodes(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	stored := maps.Clone(w.kr.Items)
	tests := []struct {
		name     string
		setup    func()
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"not stored", nil, []string{"get", "--profile", "ghost"}, 3, "store --profile ghost"},
		{"no password", func() { clear(w.kr.Items) }, []string{"get", "--profile", "prod", "--refresh"}, 3, "no password is stored for profile \"prod\""},
		{"rejected", func() { refuseSignIns(w.ks, "The request you have made requires authentication.") }, []string{"get", "--profile", "prod", "--refresh"}, 4, "no role on"},
		{"keychain locked", func() { w.kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable) }, []string{"get", "--profile", "prod", "--refresh"}, 6, "locked"},
		{"keychain timeout", func() { w.kr.Err = fmt.Errorf("%w: %w: slow", keyring.ErrUnavailable, keyring.ErrTimeout) }, []string{"get", "--profile", "prod", "--refresh"}, 6, "--keyring-timeout"},
		{"unreachable", func() { w.run("", "erase", "--profile", "prod"); w.storeAt(t, "prod", "http://127.0.0.1:1/v3") }, []string{"get", "--profile", "prod", "--refresh", "--timeout", "2s"}, 5, "127.0.0.1:1"},
		{"erase unknown", nil, []string{"erase", "--profile", "ghost"}, 3, "ghost"},
		{"erase unknown, keychain gone", func() { w.kr.Err = fmt.Errorf("%w: no D-Bus session bus", keyring.ErrUnavailable) }, []string{"erase", "--profile", "ghost"}, 3, "ghost"},
		{"erase, keychain gone", func() { w.kr.Err = fmt.Errorf("%w: no D-Bus session bus", keyring.ErrUnavailable) }, []string{"erase", "--profile", "prod"}, 6, "--force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.kr.Err = nil
			w.kr.Items = maps.Clone(stored)
			w.ks.ClearFaults()
			if tt.setup != nil {
				tt.setup()
			}
			r := w.run("", tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantMsg) {
				t.Fatalf("exit %d, want %d; stderr %q must mention %q", r.code, tt.wantCode, r.stderr, tt.wantMsg)
			}
			var resp struct{ Error struct{ Code string } }
			if json.Unmarshal([]byte(r.stdout), &resp) != nil || resp.Error.Code == "" {
				t.Fatalf("no JSON error on stdout: %q", r.stdout)
			}
		})
	}
}

// storeAt stores profile with an auth URL of choice and no verification.
func (w *world) storeAt(tb testing.TB, profile, authURL string) {
	tb.Helper()
	req, _ := json.Marshal(map[string]string{"auth_url": authURL, "project_id": "p1", "username": "u@example.com", "password": testPassword})
	if r := w.run(string(req), "store", "--profile", profile, "--no-verify"); r.code != 0 {
		tb.Fatalf("store: %+v", r)
	}
}

// TestExec: exec with the command as a child (runChild: in-process runs
// and Windows); the exec(2) of the real binary is env_exec.txtar's.
func TestExec(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	w := newWorld(t)
	w.store(t, "prod")
	t.Setenv("OS_PASSWORD", "hunter2")
	t.Setenv("OS_APPLICATION_CREDENTIAL_SECRET", "hunter3")
	t.Setenv("OS_CLOUD", "vk")
	r := w.run("", "exec", "--profile", "prod", "--", sh, "-c", "env")
	if r.code != 0 || !strings.Contains(r.stdout, "OS_TOKEN=gAAAAtoken-1\n") || !strings.Contains(r.stdout, "VKC_EXEC_PROFILE=prod\n") {
		t.Fatalf("%+v", r)
	}
	for _, leaked := range []string{"hunter2", "hunter3", "OS_CLOUD="} {
		if strings.Contains(r.stdout, leaked) {
			t.Fatalf("the child's environment holds %q", leaked)
		}
	}
	if r := w.run("", "exec", "--profile", "prod", "--", sh, "-c", "exit 7"); r.code != 7 {
		t.Fatalf("exit status: %+v", r)
	}
	if r := w.run("", "exec", "--profile", "prod", "--", sh, "-c", "kill -9 $$"); r.code != 128+9 {
		t.Fatalf("killed child: %+v", r)
	}
	// stdin belongs to the command.
	if r := w.run(`{"profile":"other"}`, "exec", "--profile", "prod", "--", sh, "-c", "cat"); r.code != 0 || r.stdout != `{"profile":"other"}` {
		t.Fatalf("stdin: %+v", r)
	}
	t.Setenv(execMarker, "prod")
	if r := w.run("", "exec", "--profile", "prod", "--", sh, "-c", "true"); r.code != 2 || !strings.Contains(r.stderr, "--allow-nested") {
		t.Fatalf("nested: %+v", r)
	}
}

// TestStoreOrder: the keychain is asked before anyone is prompted or
// Keystone is called; a stored password serves a change of settings.
func TestStoreOrder(t *testing.T) {
	w := newWorld(t)
	w.kr.Err = fmt.Errorf("%w: no bus", keyring.ErrUnavailable)
	r := w.run("", "store", "--profile", "prod", "--auth-url", w.ks.URL, "--project-id", "p1", "--username", "u@example.com")
	if r.code != 6 || w.posts() != 0 || strings.Contains(r.stderr, "terminal") {
		t.Fatalf("a missing keychain must fail first: %+v (posts %d)", r, w.posts())
	}
	w.kr.Err = nil
	w.store(t, "prod")
	posts := w.posts()
	r = w.run("", "store", "--profile", "prod", "--region", "RegionTwo")
	if r.code != 0 || !strings.Contains(r.stdout, `"region":"RegionTwo"`) || w.posts() != posts+1 {
		t.Fatalf("a changed setting must need no password (and be verified with the stored one): %+v", r)
	}
	// A changed identity needs the password again.
	r = w.run("", "store", "--profile", "prod", "--username", "other@example.com")
	if r.code != 2 || !strings.Contains(r.stderr, "no terminal") {
		t.Fatalf("a changed user must not reuse the password: %+v", r)
	}
	// A second profile of the stored identity needs no password.
	if r := w.run("", "store", "--profile", "second", "--project-id", "p2", "--auth-url", w.ks.URL, "--username", "u@example.com"); r.code != 0 {
		t.Fatalf("a second profile of a stored identity: %+v", r)
	}
	t.Setenv("OS_PASSWORD", "hunter2")
	r = w.run("", "store", "--profile", "new", "--auth-url", w.ks.URL, "--project-id", "p1", "--username", "someone.else@example.com")
	if r.code != 2 || !strings.Contains(r.stderr, "OS_PASSWORD is deliberately not read") || strings.Contains(r.stderr, "hunter2") {
		t.Fatalf("OS_PASSWORD: %+v", r)
	}
}

// TestStoreOpenRCShapes: a v2 openrc gets a message that says what to
// do. (A v3 file that names its project by name is looked up in the real
// Keystone: e2e TestProjectsAndProjectNames.)
func TestStoreOpenRCShapes(t *testing.T) {
	w := newWorld(t)
	v2 := filepath.Join(t.TempDir(), "v2.sh")
	os.WriteFile(v2, []byte("export OS_AUTH_URL=https://k.example:5000/v2.0\nexport OS_TENANT_ID=abc\nexport OS_USERNAME=u\n"), 0o600)
	if r := w.run(`{"password":"x"}`, "store", "--openrc", v2); r.code != 2 || !strings.Contains(r.stderr, "download the v3 file") {
		t.Fatalf("v2: %+v", r)
	}
	if w.posts() != 0 {
		t.Fatal("keystone was asked")
	}
}

// TestNoStdin: --no-stdin never reads stdin, so a stdin that never
// closes cannot hang get.
func TestNoStdin(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	var out, errb strings.Builder
	inv := newInvocation(pr, &out, &errb)
	w.keychains(inv)
	done := make(chan int, 1)
	go func() {
		done <- inv.run([]string{"vkc-credential", "get", "--no-stdin", "--profile", "prod", "--format", "token"})
	}()
	select {
	case code := <-done:
		if code != 0 || out.String() != "gAAAAtoken-1\n" {
			t.Fatalf("exit %d, %q, %q", code, out.String(), errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("get --no-stdin read the open pipe")
	}
}

// TestStderrIsTerminalSafe: escape sequences and bidirectional overrides
// from the network are escaped before they reach stderr.
func TestStderrIsTerminalSafe(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	refuseSignIns(w.ks, "bad\x1b]0;pwned\x07\x1b[2K\u202eexe.txt")
	r := w.run("", "get", "--profile", "prod", "--refresh")
	if r.code != 4 {
		t.Fatalf("%+v", r)
	}
	for _, raw := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(r.stderr, raw) || strings.Contains(r.stdout, raw) {
			t.Fatalf("raw %q reached the output: %q", raw, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "pwned") {
		t.Fatalf("stderr %q lost Keystone's message", r.stderr)
	}
}

func TestTerminalSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":             "plain text",
		"two\nlines\t here":      "two lines here",
		"esc \x1b[31m red":       `esc \x1b[31m red`,
		"rtl \u202e and \u200b.": `rtl \u202e and \u200b.`,
		"кириллица ok":           "кириллица ok",
		"c1 \u009b control":      `c1 \u009b control`,
	} {
		if got := terminalSafe(in); got != want {
			t.Errorf("terminalSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEraseSharedTokenSays(t *testing.T) {
	w := newWorld(t)
	w.store(t, "a")
	w.store(t, "b")
	r := w.run("", "erase", "--profile", "b", "--revoke")
	if r.code != 0 || !strings.Contains(r.stdout, `"shared_token_kept":true`) || !strings.Contains(r.stderr, "still uses the cached token") {
		t.Fatalf("%+v", r)
	}
	if r := w.run("", "get", "--profile", "a", "--format", "token"); r.code != 0 || r.stdout != "gAAAAtoken-2\n" {
		t.Fatalf("a's token: %+v", r)
	}
}

// TestEraseForce: with the keychain gone, erase --force removes the
// profile and its files, and names on stderr and in the answer the secret
// it left and where.
func TestEraseForce(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	w.kr.Err = fmt.Errorf("%w: no D-Bus session bus", keyring.ErrUnavailable)
	r := w.run("", "erase", "--profile", "prod", "--force")
	var a struct {
		Erased     bool `json:"erased"`
		SecretLeft struct {
			Keyring, Reason string
			Items           []struct{ Item, Where string }
		} `json:"secret_left"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || r.code != 0 || !a.Erased || a.SecretLeft.Keyring != "os" || !strings.Contains(a.SecretLeft.Reason, "D-Bus") {
		t.Fatalf("erase --force: %+v", r)
	}
	if len(a.SecretLeft.Items) == 0 || !strings.HasPrefix(a.SecretLeft.Items[0].Item, "identity-") {
		t.Fatalf("items left: %+v", a.SecretLeft.Items)
	}
	for _, it := range a.SecretLeft.Items {
		if !strings.Contains(it.Where, it.Item) || !strings.Contains(r.stderr, it.Where) {
			t.Fatalf("item %+v is not named where it is, on stderr too: %q", it, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "could not be deleted from os") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("stderr %q", r.stderr)
	}
	if r := w.run("", "list"); r.code != 0 || r.stdout != "[]\n" {
		t.Fatalf("list after erase --force: %+v", r)
	}
	if files := snapshot(t, os.Getenv("XDG_CACHE_HOME")); len(files) != 0 {
		t.Fatalf("cache files left: %v", files)
	}
}

// TestStoredIdentityIgnoresOSVariables: OS_* variables of another
// identity (a CI openrc sourced in the shell) neither fill nor change a
// stored password profile: get still signs in with its password.
func TestStoredIdentityIgnoresOSVariables(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	for k, v := range map[string]string{"OS_APPLICATION_CREDENTIAL_ID": "ci-cred", "OS_AUTH_URL": "https://k.example/v3", "OS_USERNAME": "ci", "OS_USER_DOMAIN_NAME": "ci"} {
		t.Setenv(k, v)
	}
	r := w.run("", "get", "--profile", "prod", "--refresh")
	if r.code != 0 || !strings.Contains(r.stdout, `"auth_url":"`+w.ks.URL+`/v3"`) {
		t.Fatalf("get with OS_* of another identity: %+v", r)
	}
}

func TestLiftCommonFlags(t *testing.T) {
	s := newInvocation(strings.NewReader(""), io.Discard, io.Discard).surface()
	tests := []struct{ in, want string }{
		{"x get --profile p", "x --profile p get"},
		{"x get --format token --profile=p --debug --min-ttl 5m", "x --profile=p --debug get --format token --min-ttl 5m"},
		{"x --timeout 3s store --cacert f.pem --openrc o.sh", "x --timeout 3s --cacert f.pem store --openrc o.sh"},
		{"x --profile p get", "x --profile p get"},
		{"x exec --profile p -- cmd --profile q", "x --profile p exec -- cmd --profile q"},
		{"x exec cmd --profile q", "x exec cmd --profile q"},
		{"x get --no-stdin --format token", "x --no-stdin get --format token"},
		{"x get --help", "x get --help"},
		{"x --help", "x --help"},
		{"x", "x"},
	}
	for _, tt := range tests {
		got, err := s.lift(strings.Fields(tt.in))
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("lift(%q) = %q, %v; want %q", tt.in, strings.Join(got, " "), err, tt.want)
		}
	}
	for _, in := range []string{"x get --profile", "x get --profile --format token", "x erase --timeout"} {
		if _, err := s.lift(strings.Fields(in)); !errors.As(err, new(*usageError)) {
			t.Errorf("lift(%q): %v, want a usage error", in, err)
		}
	}
}

// TestStoreKeyringChoiceAndMoves: the backend is recorded, said when it
// is not the OS keychain, and a store --keyring X moves the password,
// leaving no copy behind; get then reads from the new backend only.
func TestStoreKeyringChoiceAndMoves(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	if r := w.run("", "list"); !strings.Contains(r.stdout, `"keyring":"os"`) {
		t.Fatalf("list: %+v", r)
	}
	for _, to := range []string{"pass", "keyctl", "os", "keyctl"} {
		r := w.run("", "store", "--profile", "prod", "--keyring", to)
		if r.code != 0 || !strings.Contains(r.stdout, `"keyring":"`+to+`"`) {
			t.Fatalf("move to %s: %+v", to, r)
		}
		if said := strings.Contains(r.stderr, "is kept in "+to); said != (to != "os") {
			t.Fatalf("move to %s: stderr %q", to, r.stderr)
		}
		for name, kr := range w.krs {
			has := len(kr.Items) == 1
			if has != (name == to) || len(kr.Items) > 1 {
				t.Fatalf("after the move to %s, %s holds a copy: %t", to, name, has)
			}
		}
	}
	// get reads the recorded backend, and only it.
	if len(w.krs["keyctl"].Items) != 1 {
		t.Fatal("keyctl lost the password")
	}
	w.kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable)
	if r := w.run("", "get", "--profile", "prod", "--refresh", "--format", "token"); r.code != 0 {
		t.Fatalf("get from keyctl: %+v", r)
	}
	// A store that keeps the backend (auto) does not move it.
	w.kr.Err = nil
	if r := w.run("", "store", "--profile", "prod", "--region", "R3"); r.code != 0 || !strings.Contains(r.stdout, `"keyring":"keyctl"`) {
		t.Fatalf("auto on a stored profile: %+v", r)
	}
	if r := w.run("", "store", "--profile", "prod", "--keyring", "vault"); r.code != 2 || !strings.Contains(r.stderr, `invalid value "vault" for --keyring: use one of auto, os`) {
		t.Fatalf("unknown backend: %+v", r)
	}
}
