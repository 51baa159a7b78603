package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The openstack CLI under test: Debian's python3-openstackclient, run by
// Debian's /usr/bin/python3 (the interpreter the plugin is installed for).
const (
	kaOpenstack = "/usr/bin/openstack"
	kaPython    = "/usr/bin/python3"
)

// kaInstallPlugin installs integrations/keystoneauth with its own
// install.sh into dir (pip --target, offline) and returns the PYTHONPATH
// entry that makes the auth type vkc visible to the openstack CLI.  The
// machine's python is left alone.
func kaInstallPlugin(t *testing.T, dir string) string {
	t.Helper()
	if _, err := os.Stat(kaOpenstack); err != nil {
		t.Fatalf("%s is missing (Debian python3-openstackclient; scripts/test-env.sh installs it): %v", kaOpenstack, err)
	}
	target := filepath.Join(dir, "site")
	cmd := exec.Command("bash", "../integrations/keystoneauth/install.sh", "--target", target)
	cmd.Env = append(os.Environ(), "PYTHON="+kaPython, "TMPDIR="+dir, "XDG_CACHE_HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("installing the keystoneauth plugin (bash integrations/keystoneauth/install.sh --target %s) failed: %v\n%s", target, err, out)
	}
	// The loader must come from the package just built, not from some
	// older copy installed on the machine.
	check := exec.Command(kaPython, "-c", `from keystoneauth1 import loading
loader = loading.get_plugin_loader("vkc")
import sys; print(sys.modules[type(loader).__module__].__file__)`)
	check.Env = append(os.Environ(), "PYTHONPATH="+target, "XDG_CACHE_HOME="+dir)
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("keystoneauth1 does not find the auth type vkc after the install: %v\n%s", err, out)
	}
	if !strings.HasPrefix(strings.TrimSpace(string(out)), target+string(filepath.Separator)) {
		t.Fatalf("the vkc loader comes from %s, not from the fresh install in %s", strings.TrimSpace(string(out)), target)
	}
	return target
}

// kaOSC runs the openstack CLI in sandbox s with the plugin on PYTHONPATH
// and the vkc-credential under test first on PATH.  It checks that nothing
// the openstack process gets in its environment carries a password.
func kaOSC(t *testing.T, s *sandbox, pythonPath string, extraEnv []string, args ...string) result {
	t.Helper()
	return kaOSCIn(t, s, "", pythonPath, extraEnv, args...)
}

// kaOSCIn is kaOSC in the working directory dir ("": the test's).
func kaOSCIn(t *testing.T, s *sandbox, dir, pythonPath string, extraEnv []string, args ...string) result {
	t.Helper()
	env := append([]string{
		"PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PYTHONPATH=" + pythonPath,
	}, extraEnv...)
	for _, kv := range append(append([]string{}, s.env...), env...) {
		name, value, _ := strings.Cut(kv, "=")
		if name == "OS_PASSWORD" || strings.Contains(value, ks.Password) || strings.Contains(value, ks.Password2) {
			t.Fatalf("the environment handed to openstack carries a password (%s)", name)
		}
	}
	cmd := exec.Command(kaOpenstack, args...)
	cmd.Dir = dir
	return s.runCmd(cmd, env, "")
}

func kaMustOSC(t *testing.T, s *sandbox, pythonPath string, extraEnv []string, args ...string) result {
	t.Helper()
	r := kaOSC(t, s, pythonPath, extraEnv, args...)
	if r.code != 0 {
		t.Fatalf("openstack %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// kaRequest is one line of Keystone's access log.
type kaRequest struct {
	Method, Path string
	Status       int
}

func (k kaRequest) String() string { return fmt.Sprintf("%s %s %d", k.Method, k.Path, k.Status) }

var kaAccessLine = regexp.MustCompile(`"([A-Z]+) (\S+) HTTP/[0-9.]+" ([0-9]{3}) `)

// kaRequests returns every request Keystone has logged so far.
func kaRequests(t *testing.T) []kaRequest {
	t.Helper()
	data, err := os.ReadFile(ks.KeystoneLog)
	if err != nil {
		t.Fatal(err)
	}
	var reqs []kaRequest
	for _, m := range kaAccessLine.FindAllStringSubmatch(string(data), -1) {
		var status int
		fmt.Sscan(m[3], &status)
		reqs = append(reqs, kaRequest{Method: m[1], Path: m[2], Status: status})
	}
	return reqs
}

// since returns the requests logged after the first n.
func kaSince(t *testing.T, n int) []kaRequest {
	t.Helper()
	return kaRequests(t)[n:]
}

// revoke revokes token in Keystone, out of band: DELETE /v3/auth/tokens.
func kaRevoke(t *testing.T, token string) {
	t.Helper()
	resp := tokenRequest(t, http.MethodDelete, token)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoking the token: HTTP %d", resp.StatusCode)
	}
	if code := validate(t, token); code != http.StatusNotFound && code != http.StatusUnauthorized {
		t.Fatalf("the revoked token still validates: HTTP %d", code)
	}
}

type kaToken struct {
	ID        string `json:"id"`
	Expires   string `json:"expires"`
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

func kaDecodeToken(t *testing.T, r result) kaToken {
	t.Helper()
	var tok kaToken
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil || tok.ID == "" {
		t.Fatalf("token issue printed no token: %v\n%s", err, r)
	}
	return tok
}

// kaCheckCatalog checks `catalog list -f json`: the identity service with
// Keystone's URL.
func kaCheckCatalog(t *testing.T, r result) {
	t.Helper()
	var services []struct {
		Name, Type string
		Endpoints  []struct {
			URL       string `json:"url"`
			Interface string `json:"interface"`
			Region    string `json:"region"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &services); err != nil {
		t.Fatalf("catalog list printed no JSON list: %v\n%s", err, r)
	}
	want := strings.TrimSuffix(ks.AuthURL, "/")
	for _, svc := range services {
		if svc.Type != "identity" {
			continue
		}
		for _, ep := range svc.Endpoints {
			if strings.TrimSuffix(ep.URL, "/") == want && ep.Interface == "public" && ep.Region == "RegionOne" {
				return
			}
		}
	}
	t.Fatalf("catalog list shows no public identity endpoint %s in RegionOne:\n%s", want, r.stdout)
}

// TestOpenStackCLIWithKeystoneauthPlugin drives Debian's openstack CLI with
// `--os-auth-type vkc` (integrations/keystoneauth) against the real Keystone.
func TestOpenStackCLIWithKeystoneauthPlugin(t *testing.T) {
	needKeystone(t)
	pythonPath := kaInstallPlugin(t, t.TempDir())

	s := newSandbox(t)
	profile := s.profileName("osc")
	s.store(profile)
	// Warm the cache: from here on no openstack run below needs Keystone to
	// authenticate.
	cached := decodeToken(t, s.must("", "get", "--profile", profile))
	if cached.ProjectID != ks.ProjectID {
		t.Fatalf("get answered for project %s, want %s", cached.ProjectID, ks.ProjectID)
	}
	cliArgs := []string{"--os-auth-type", "vkc", "--os-vkc-profile", profile}

	// zero checks that the openstack runs in fn made no Keystone request
	// at all (hence no token issue either).
	zero := func(t *testing.T, what string, fn func()) {
		t.Helper()
		posts0, reqs0 := tokenPosts(t), len(kaRequests(t))
		fn()
		if got := tokenPosts(t) - posts0; got != 0 {
			t.Fatalf("%s: %d POST /v3/auth/tokens, want 0", what, got)
		}
		if extra := kaSince(t, reqs0); len(extra) != 0 {
			t.Fatalf("%s: Keystone got %d requests, want none: %v", what, len(extra), extra)
		}
	}

	t.Run("WarmCacheNoKeystoneCall", func(t *testing.T) {
		zero(t, "catalog list + token issue", func() {
			// No --os-auth-url, no project, no user: the profile has them.
			kaCheckCatalog(t, kaMustOSC(t, s, pythonPath, nil, append(cliArgs, "catalog", "list", "-f", "json")...))
			tok := kaDecodeToken(t, kaMustOSC(t, s, pythonPath, nil, append(cliArgs, "token", "issue", "-f", "json")...))
			if tok.ID != cached.Token {
				t.Fatalf("token issue gave a token other than vkc-credential's cached one")
			}
			if tok.ProjectID != ks.ProjectID || tok.UserID == "" || tok.Expires == "" {
				t.Fatalf("token issue: %+v", tok)
			}
			// The same with the options in the environment.
			env := []string{"OS_AUTH_TYPE=vkc", "OS_VKC_PROFILE=" + profile}
			tok = kaDecodeToken(t, kaMustOSC(t, s, pythonPath, env, "token", "issue", "-f", "json"))
			if tok.ID != cached.Token {
				t.Fatalf("token issue (OS_AUTH_TYPE/OS_VKC_PROFILE) gave a token other than the cached one")
			}
		})
	})

	t.Run("CloudsYAML", func(t *testing.T) {
		dir := t.TempDir()
		clouds := filepath.Join(dir, "clouds.yaml")
		yaml := fmt.Sprintf(`clouds:
  vkc-e2e:
    auth_type: vkc
    auth:
      vkc_profile: %q
    region_name: RegionOne
    interface: public
`, profile)
		if err := os.WriteFile(clouds, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(yaml, ks.Password) || strings.Contains(strings.ToLower(yaml), "password") {
			t.Fatalf("clouds.yaml carries a password:\n%s", yaml)
		}
		env := []string{"OS_CLIENT_CONFIG_FILE=" + clouds}
		zero(t, "--os-cloud catalog list + token issue", func() {
			kaCheckCatalog(t, kaMustOSC(t, s, pythonPath, env, "--os-cloud", "vkc-e2e", "catalog", "list", "-f", "json"))
			tok := kaDecodeToken(t, kaMustOSC(t, s, pythonPath, env, "--os-cloud", "vkc-e2e", "token", "issue", "-f", "json"))
			if tok.ID != cached.Token || tok.ProjectID != ks.ProjectID {
				t.Fatalf("token issue through clouds.yaml: %+v", tok)
			}
			tok = kaDecodeToken(t, kaMustOSC(t, s, pythonPath, append(env, "OS_CLOUD=vkc-e2e"), "token", "issue", "-f", "json"))
			if tok.ID != cached.Token {
				t.Fatalf("token issue with OS_CLOUD gave a token other than the cached one")
			}
		})
	})

	// A repository's clouds.yaml (found in the current directory first)
	// must not choose the program the plugin runs (issue 15 item 4): the
	// review's `vkc_command: /bin/sh` ran the repository's file `get`.
	t.Run("PlantedCloudsYAMLRunsNothing", func(t *testing.T) {
		repo, marker := t.TempDir(), filepath.Join(t.TempDir(), "marker")
		planted := fmt.Sprintf("#!/bin/sh\necho \"$0 $*\" >>%q\n", marker)
		for _, name := range []string{"get", "planted"} {
			if err := os.WriteFile(filepath.Join(repo, name), []byte(planted), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		yaml := fmt.Sprintf(`clouds:
  shell:
    auth_type: vkc
    auth:
      vkc_profile: %[1]q
      vkc_command: /bin/sh
  program:
    auth_type: vkc
    auth:
      vkc_profile: %[1]q
      vkc_command: %[2]q
`, profile, filepath.Join(repo, "planted"))
		if err := os.WriteFile(filepath.Join(repo, "clouds.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		ran := func(what string) {
			t.Helper()
			if data, err := os.ReadFile(marker); err == nil {
				t.Fatalf("%s ran the planted program: %s", what, data)
			}
		}
		// The clouds: vkc_command is ignored with a warning; the
		// vkc-credential on PATH serves the cached token.
		for _, cloud := range []string{"shell", "program"} {
			r := kaOSCIn(t, s, repo, pythonPath, nil, "--os-cloud", cloud, "token", "issue", "-f", "json")
			ran("--os-cloud " + cloud)
			if r.code != 0 || kaDecodeToken(t, r).ID != cached.Token {
				t.Fatalf("--os-cloud %s token issue did not serve the cached token: %s", cloud, r)
			}
			if !strings.Contains(r.stderr, "ignoring vkc_command") || !strings.Contains(r.stderr, "OS_VKC_COMMAND") {
				t.Fatalf("--os-cloud %s: no warning that vkc_command is ignored: %s", cloud, r)
			}
		}
		// The flag is gone; a relative OS_VKC_COMMAND (the repository's
		// file) is refused.
		r := kaOSCIn(t, s, repo, pythonPath, nil, append(cliArgs, "--os-vkc-command", filepath.Join(repo, "planted"), "token", "issue")...)
		ran("--os-vkc-command")
		if r.code == 0 {
			t.Fatalf("--os-vkc-command was accepted: %s", r)
		}
		r = kaOSCIn(t, s, repo, pythonPath, []string{"OS_VKC_COMMAND=get"}, append(cliArgs, "token", "issue")...)
		ran("OS_VKC_COMMAND=get")
		if r.code == 0 || !strings.Contains(r.stderr, "OS_VKC_COMMAND must be an absolute path") {
			t.Fatalf("a relative OS_VKC_COMMAND: %s", r)
		}
	})

	t.Run("RevokedTokenIsRefreshedOnce", func(t *testing.T) {
		old := decodeToken(t, s.must("", "get", "--profile", profile))
		kaRevoke(t, old.Token)

		// region list: GET /v3/regions, allowed to any project member.
		posts0, reqs0 := tokenPosts(t), len(kaRequests(t))
		r := kaMustOSC(t, s, pythonPath, nil, append(cliArgs, "region", "list", "-f", "json")...)
		if !strings.Contains(r.stdout, `"RegionOne"`) {
			t.Fatalf("region list: %s", r)
		}
		if got := tokenPosts(t) - posts0; got != 1 {
			t.Fatalf("region list after a revocation made %d POST /v3/auth/tokens, want exactly 1", got)
		}
		// 401 -> invalidate() -> `get --refresh` (the one POST) -> retry.
		want := []kaRequest{{"GET", "/v3/regions", 401}, {"POST", "/v3/auth/tokens", 201}, {"GET", "/v3/regions", 200}}
		if got := kaSince(t, reqs0); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Keystone saw %v, want %v", got, want)
		}
		fresh := decodeToken(t, s.must("", "get", "--profile", profile))
		if fresh.Token == old.Token || !fresh.Cached || validate(t, fresh.Token) != http.StatusOK {
			t.Fatalf("the refreshed token is not the one cached now (new=%t cached=%t)", fresh.Token != old.Token, fresh.Cached)
		}

		// project show (osc first peeks into the token with GET
		// /v3/auth/tokens, then GETs the project).
		kaRevoke(t, fresh.Token)
		posts0, reqs0 = tokenPosts(t), len(kaRequests(t))
		r = kaMustOSC(t, s, pythonPath, nil, append(cliArgs, "project", "show", ks.ProjectID, "-f", "json")...)
		var project struct{ ID, Name string }
		if err := json.Unmarshal([]byte(r.stdout), &project); err != nil || project.ID != ks.ProjectID {
			t.Fatalf("project show: %v\n%s", err, r)
		}
		if got := tokenPosts(t) - posts0; got != 1 {
			t.Fatalf("project show after a revocation made %d POST /v3/auth/tokens, want exactly 1", got)
		}
		reqs := kaSince(t, reqs0)
		unauthorized := 0
		for _, q := range reqs {
			if q.Status == 401 {
				unauthorized++
			}
		}
		last := reqs[len(reqs)-1]
		if unauthorized != 1 || last != (kaRequest{"GET", "/v3/projects/" + ks.ProjectID, 200}) {
			t.Fatalf("Keystone saw %v: want one 401, then the project fetched with the fresh token", reqs)
		}
		now := decodeToken(t, s.must("", "get", "--profile", profile))
		if now.Token == fresh.Token || validate(t, now.Token) != http.StatusOK {
			t.Fatal("project show did not leave a fresh, valid token in the cache")
		}
	})

	t.Run("401WithFreshTokenIsFinal", func(t *testing.T) {
		// A helper that always answers with the same, revoked token: the
		// plugin refreshes once, gets the same dead token, and gives up.
		dir := t.TempDir()
		answer := s.must("", "get", "--profile", profile, "--format", "keystoneauth", "--refresh").stdout
		var ka struct {
			AuthToken string `json:"auth_token"`
		}
		if err := json.Unmarshal([]byte(answer), &ka); err != nil || ka.AuthToken == "" {
			t.Fatalf("get --format keystoneauth: %v\n%s", err, answer)
		}
		kaRevoke(t, ka.AuthToken)
		if err := os.WriteFile(filepath.Join(dir, "answer.json"), []byte(answer), 0o600); err != nil {
			t.Fatal(err)
		}
		calls := filepath.Join(dir, "calls")
		stale := filepath.Join(dir, "stale-helper")
		script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >>'%s'\ncat '%s'\n", calls, filepath.Join(dir, "answer.json"))
		if err := os.WriteFile(stale, []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		posts0, reqs0 := tokenPosts(t), len(kaRequests(t))
		r := kaOSC(t, s, pythonPath, []string{"OS_VKC_COMMAND=" + stale}, append(cliArgs, "region", "list", "-f", "json")...)
		if r.code == 0 {
			t.Fatalf("region list with a dead token succeeded: %s", r)
		}
		data, _ := os.ReadFile(calls)
		got := strings.Split(strings.TrimSpace(string(data)), "\n")
		wantCalls := []string{
			"get --format keystoneauth --profile " + profile,
			"get --format keystoneauth --profile " + profile + " --refresh",
		}
		if fmt.Sprint(got) != fmt.Sprint(wantCalls) {
			t.Fatalf("the helper was run as %q, want %q", got, wantCalls)
		}
		want := []kaRequest{{"GET", "/v3/regions", 401}, {"GET", "/v3/regions", 401}}
		if reqs := kaSince(t, reqs0); fmt.Sprint(reqs) != fmt.Sprint(want) || tokenPosts(t) != posts0 {
			t.Fatalf("Keystone saw %v, want %v", reqs, want)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		missing := "no-such-profile-osc"
		r := kaOSC(t, s, pythonPath, nil, "--os-auth-type", "vkc", "--os-vkc-profile", missing, "token", "issue", "-f", "json")
		if r.code == 0 || r.stdout != "" {
			t.Fatalf("token issue with an unknown profile: %s", r)
		}
		for _, want := range []string{"vkc-credential: no profile", missing, "exited with status 3"} {
			if !strings.Contains(r.stderr, want) {
				t.Fatalf("openstack's stderr does not carry %q: %s", want, r)
			}
		}
		if strings.Contains(r.stderr, "Traceback") {
			t.Fatalf("a Python traceback instead of a message: %s", r)
		}

		r = kaOSC(t, s, pythonPath, []string{"OS_VKC_COMMAND=" + filepath.Join(t.TempDir(), "nope")}, append(cliArgs, "token", "issue")...)
		if r.code == 0 || !strings.Contains(r.stderr, "not found") || strings.Contains(r.stderr, "Traceback") {
			t.Fatalf("token issue with a missing vkc-credential: %s", r)
		}
		r = kaOSC(t, s, pythonPath, []string{"PATH=" + t.TempDir()}, append(cliArgs, "token", "issue")...)
		if r.code == 0 || !strings.Contains(r.stderr, "vkc-credential is not on PATH") || strings.Contains(r.stderr, "Traceback") {
			t.Fatalf("token issue without vkc-credential on PATH: %s", r)
		}
	})

	if hits := filesContaining(t, s.home, ks.Password); len(hits) > 0 {
		t.Fatalf("the password is on disk in the sandbox: %v", hits)
	}
}

// TestOpenStackPluginPythonUnitTests runs the plugin's own unit tests
// (integrations/keystoneauth/tests: a fake vkc-credential, keystoneauth's
// session against a local 401-then-200 server).  No Keystone needed.
func TestOpenStackPluginPythonUnitTests(t *testing.T) {
	if err := exec.Command(kaPython, "-c", "import keystoneauth1").Run(); err != nil {
		if os.Getenv("VKC_E2E_REQUIRED") != "" {
			t.Fatalf("%s has no keystoneauth1 (Debian python3-keystoneauth1): %v", kaPython, err)
		}
		t.Skipf("%s has no keystoneauth1", kaPython)
	}
	dir, err := filepath.Abs("../integrations/keystoneauth")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kaPython, "-m", "unittest", "discover", "-s", dir, "-t", dir)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "XDG_CACHE_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unit tests of the keystoneauth plugin: %v\n%s", err, out)
	}
	// unittest exits 0 on "Ran 0 tests" (before Python 3.12): require
	// tests that ran, were not all skipped, and the verdict OK.
	ran, skipped, ok := unittestSummary(string(out))
	if !ok || ran-skipped < 1 {
		t.Fatalf("python unit tests of the keystoneauth plugin: want at least one test run and OK; ran %d, skipped %d, OK %t\n%s", ran, skipped, ok, out)
	}
	t.Logf("python unit tests of the keystoneauth plugin: %d ran, %d skipped, OK", ran, skipped)
}

// unittestSummary reads the end of `python -m unittest` output: "Ran N
// tests in …" and then "OK" or "OK (skipped=K, …)".
func unittestSummary(out string) (ran, skipped int, ok bool) {
	m := regexp.MustCompile(`(?m)^Ran (\d+) tests? in .*\n+^OK(?: \((.*)\))?\s*$`).FindStringSubmatch(out)
	if m == nil {
		return 0, 0, false
	}
	ran, _ = strconv.Atoi(m[1])
	if k := regexp.MustCompile(`skipped=(\d+)`).FindStringSubmatch(m[2]); k != nil {
		skipped, _ = strconv.Atoi(k[1])
	}
	return ran, skipped, true
}

// TestInstallersImportNothingFromTheCurrentDirectory runs install.sh and
// integrations/keystoneauth/install.sh in a directory holding Python
// modules that leave a marker when imported (issue 15 item 5): `python -c`
// and `python -m` import from the current directory first, and the
// installers run as root under sudo, perhaps in a checkout someone else
// wrote. Both must install, and nothing planted may run.
func TestInstallersImportNothingFromTheCurrentDirectory(t *testing.T) {
	if err := exec.Command(kaPython, "-c", "import keystoneauth1, pip").Run(); err != nil {
		t.Fatalf("%s lacks keystoneauth1 or pip (Debian python3-keystoneauth1, python3-pip; scripts/test-env.sh installs them): %v", kaPython, err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	planted, marker := filepath.Join(tmp, "checkout"), filepath.Join(tmp, "marker")
	if err := os.Mkdir(planted, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, module := range []string{"keystoneauth1", "pip", "runpy", "setuptools", "subprocess"} {
		code := fmt.Sprintf("open(%q, 'a').write(__name__ + '\\n')\n", marker)
		if err := os.WriteFile(filepath.Join(planted, module+".py"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The caller's own caches: install.sh's go build reuses the Go build
	// cache (a fresh one costs minutes); pip runs with --no-cache-dir.
	env := append(os.Environ(), "TMPDIR="+tmp, "PYTHONDONTWRITEBYTECODE=1")
	run := func(name string, cmd *exec.Cmd) string {
		t.Helper()
		cmd.Dir = planted
		out, err := cmd.CombinedOutput()
		if data, rerr := os.ReadFile(marker); rerr == nil {
			t.Fatalf("%s imported planted modules from its current directory: %s\n%s", name, data, out)
		}
		if err != nil {
			t.Fatalf("%s failed: %v\n%s", name, err, out)
		}
		return string(out)
	}

	// The plugin's installer, with a --target relative to that directory.
	cmd := exec.Command("bash", filepath.Join(root, "integrations/keystoneauth/install.sh"), "--target", "site")
	cmd.Env = append(env, "PYTHON="+kaPython)
	run("integrations/keystoneauth/install.sh --target site", cmd)
	if _, err := os.Stat(filepath.Join(planted, "site", "vkc_keystoneauth", "__init__.py")); err != nil {
		t.Fatalf("the plugin is not in the relative --target: %v", err)
	}

	// The top-level installer probes for keystoneauth1, then installs the
	// plugin into PYTHON: a virtual environment that sees the system's
	// keystoneauth1 and pip, so the machine's Python is left alone.
	venv := filepath.Join(tmp, "venv")
	if out, err := exec.Command(kaPython, "-m", "venv", "--without-pip", "--system-site-packages", venv).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv: %v\n%s", err, out)
	}
	venvPython := filepath.Join(venv, "bin", "python3")
	cmd = exec.Command("bash", filepath.Join(root, "install.sh"))
	cmd.Env = append(env, "PREFIX="+filepath.Join(tmp, "prefix"), "PYTHON="+venvPython)
	out := run("install.sh", cmd)
	if !strings.Contains(out, "installed the openstack CLI auth type 'vkc' for "+venvPython) {
		t.Fatalf("install.sh did not install the plugin into %s:\n%s", venvPython, out)
	}
	where, err := exec.Command(venvPython, "-I", "-c", `import vkc_keystoneauth; print(vkc_keystoneauth.__file__)`).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(where), venv+string(filepath.Separator)) {
		t.Fatalf("the plugin is not in the virtual environment %s: %v %s", venv, err, where)
	}
}
