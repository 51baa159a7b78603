package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keychainSnapshot lists every vkc-credential item in the Secret
// Service, each as its account and its secret, sorted, so a test can tell
// whether anything changed. secret-tool writes each item's secret to
// stdout and its attributes to stderr, item by item in the same order.
// A failed search fails the test: two failed snapshots must not compare
// equal.
func keychainSnapshot(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("secret-tool", "search", "--all", "--unlock", "service", "vkc-credential")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("keychain snapshot: secret-tool search: %v\n%s", err, stderr.String())
	}
	// Item paths and timestamps vary with reads; keep what identifies an
	// item and its secret.
	pick := func(out, prefix string) []string {
		var v []string
		for _, line := range strings.Split(out, "\n") {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				v = append(v, rest)
			}
		}
		return v
	}
	secrets, accounts := pick(stdout.String(), "secret = "), pick(stderr.String(), "attribute.username = ")
	if len(secrets) != len(accounts) {
		t.Fatalf("keychain snapshot: %d secrets but %d accounts\nstdout: %s\nstderr: %s", len(secrets), len(accounts), stdout.String(), stderr.String())
	}
	items := make([]string, len(secrets))
	for i := range secrets {
		items[i] = fmt.Sprintf("%q = %q", accounts[i], secrets[i])
	}
	sort.Strings(items)
	return strings.Join(items, "\n")
}

func TestHostileRequestsChangeNothing(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("hostile")
	s.store(profile)
	s.must("", "get", "--profile", profile)

	big := `{"profile":"` + strings.Repeat("a", 2<<20) + `"}`
	inputs := map[string]string{
		"truncated":          `{"profile":"` + profile,
		"trailing data":      `{"profile":"` + profile + `"} {}`,
		"array":              `[{"profile":"` + profile + `"}]`,
		"wrong type":         `{"profile":["` + profile + `"]}`,
		"wrong type ttl":     `{"min_ttl_seconds":"300"}`,
		"unknown field":      `{"profile":"` + profile + `","passwd":"x"}`,
		"2 MiB":              big,
		"NUL byte":           "{\"profile\":\"" + profile + "\x00\"}",
		"escaped NUL":        `{"profile":"` + profile + `","username":"a\u0000b"}`,
		"invalid UTF-8":      "{\"profile\":\"" + profile + "\xc3\x28\"}",
		"negative ttl":       `{"min_ttl_seconds":-5}`,
		"absurd ttl":         `{"min_ttl_seconds":999999999999}`,
		"unknown version":    `{"version":7,"profile":"` + profile + `"}`,
		"path traversal":     `{"profile":"../../etc/passwd"}`,
		"path separator":     `{"profile":"a/b"}`,
		"backslash":          `{"profile":"a\\b"}`,
		"dot profile":        `{"profile":".hidden"}`,
		"http auth url":      `{"profile":"` + profile + `","auth_url":"http://infra.mail.ru:35357/v3/"}`,
		"password in get":    `{"profile":"` + profile + `","password":"` + ks.Password + `"}`,
		"null":               `null`,
		"number":             `42`,
		"deep nesting":       strings.Repeat("[", 10000),
		"huge number":        `{"min_ttl_seconds":1e400}`,
		"duplicate garbage":  `{"profile":"` + profile + `",}`,
		"control in setting": `{"region":"Region\nOne"}`,
	}
	cmds := [][]string{{"get"}, {"get", "--format", "token"}, {"list"}, {"erase"}, {"env"}}
	keychain0 := keychainSnapshot(t)
	files0 := append(snapshotDir(t, filepath.Join(s.home, ".config")), snapshotDir(t, filepath.Join(s.home, ".cache"))...)
	tried := 0
	for name, in := range inputs {
		for _, cmd := range cmds {
			r := s.run(nil, in, cmd...)
			tried++
			if r.code != 2 {
				t.Errorf("%s | %v: exit %d, want 2\n%s", name, cmd, r.code, r)
				continue
			}
			if !strings.HasPrefix(r.stderr, "vkc-credential: ") || len(r.stderr) > 600 {
				t.Errorf("%s | %v: message %q", name, cmd, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, ks.Password) {
				t.Errorf("%s | %v: the password was echoed", name, cmd)
			}
		}
	}
	// store refuses the same inputs (those that are not a valid store
	// request) before touching anything.
	for _, name := range []string{"truncated", "2 MiB", "NUL byte", "invalid UTF-8", "path traversal", "http auth url", "unknown version"} {
		r := s.run(nil, inputs[name], "store")
		tried++
		if r.code != 2 {
			t.Errorf("store %s: exit %d, want 2\n%s", name, r.code, r)
		}
	}
	if keychainSnapshot(t) != keychain0 {
		t.Error("the keychain changed")
	}
	if files := append(snapshotDir(t, filepath.Join(s.home, ".config")), snapshotDir(t, filepath.Join(s.home, ".cache"))...); !bytes.Equal(files, files0) {
		t.Error("config or cache files changed")
	}
	if !t.Failed() {
		t.Logf("%d bad requests tried, all refused with exit 2, nothing changed", tried)
	}
}

// TestSecretHygiene looks for the password wherever it must not be: the
// files under HOME, every output (with --debug), the argv and environment
// of vkc-credential and of an exec child, and Keystone's request log.
func TestSecretHygiene(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("hygiene")
	var outputs []string
	debug := []string{"VKC_DEBUG=1"}
	for _, args := range [][]string{
		{"store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID, "--username", ks.Username, "--password-stdin", "--debug"},
	} {
		r := s.run(debug, ks.Password, args...)
		if r.code != 0 {
			t.Fatalf("%v: %s", args, r)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	var token string
	for _, args := range [][]string{
		{"get", "--profile", profile, "--refresh", "--debug"},
		{"get", "--profile", profile, "--debug"},
		{"list", "--debug"},
		{"env", "--profile", profile, "--debug"},
		{"exec", "--profile", profile, "--debug", "--", "true"},
	} {
		r := s.run(debug, "", args...)
		if r.code != 0 {
			t.Fatalf("%v: %s", args, r)
		}
		outputs = append(outputs, r.stdout, r.stderr)
		if args[0] == "get" {
			token = decodeToken(t, r).Token
			if strings.Contains(r.stderr, token) {
				t.Error("--debug output shows the whole token")
			}
			if !strings.Contains(r.stderr, "debug:") {
				t.Error("--debug logged nothing")
			}
		}
	}
	// A wrong password's error output, too.
	r := s.run(debug, ks.Password+"x", "store", "--profile", profile+"-w", "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--password-stdin", "--debug")
	outputs = append(outputs, r.stdout, r.stderr)
	for i, o := range outputs {
		if strings.Contains(o, ks.Password) {
			t.Errorf("output %d shows the password: %q", i, o)
		}
	}

	// The argv and environment of a running vkc-credential (store, while it
	// waits for Keystone) and of an exec child.
	cmd := exec.Command(binary, "exec", "--profile", profile, "--", "sleep", "5")
	cmd.Env = append(append([]string{}, s.env...), "OS_PASSWORD="+ks.Password, "OS_USERNAME="+ks.Username)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := strconv.Itoa(cmd.Process.Pid)
	var environ []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// After exec(2) the process is `sleep`, with the child's environment.
		if argv, _ := os.ReadFile("/proc/" + pid + "/cmdline"); bytes.HasPrefix(argv, []byte("sleep\x00")) {
			environ, _ = os.ReadFile("/proc/" + pid + "/environ")
			break
		}
	}
	if environ == nil {
		t.Fatal("the exec child never started")
	}
	if bytes.Contains(environ, []byte(ks.Password)) || bytes.Contains(environ, []byte("OS_PASSWORD=")) {
		t.Error("the exec child's /proc/PID/environ holds the password")
	}
	if !bytes.Contains(environ, []byte("OS_TOKEN="+token)) {
		t.Error("the exec child did not get the token")
	}

	// vkc-credential's own argv and environment while it holds the
	// password: a store waiting on a Keystone that does not answer.
	hang := newFaultyKeystone(t, false)
	hang.mode.Store("hang")
	st := exec.Command(binary, "store", "--profile", profile+"-h", "--auth-url", hang.URL+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--timeout", "5s")
	st.Env = s.env
	st.Stdin = strings.NewReader(ks.Password)
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); hang.hits.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if hang.hits.Load() == 0 {
		t.Fatal("store never reached Keystone")
	}
	spid := strconv.Itoa(st.Process.Pid)
	for _, f := range []string{"cmdline", "environ"} {
		data, err := os.ReadFile("/proc/" + spid + "/" + f)
		if err != nil || len(data) == 0 {
			t.Fatalf("/proc/%s/%s: %v", spid, f, err)
		}
		if bytes.Contains(data, []byte(ks.Password)) {
			t.Errorf("/proc/PID/%s of a running store holds the password", f)
		}
	}
	st.Process.Kill()
	st.Wait()

	for _, dir := range []string{s.home, os.Getenv("VKC_E2E_KEYRING_DIR")} {
		if dir == "" {
			continue
		}
		if hits := filesContaining(t, dir, ks.Password); len(hits) > 0 {
			t.Errorf("the password is in files: %v", hits)
		}
	}
	if log, err := os.ReadFile(ks.KeystoneLog); err == nil && bytes.Contains(log, []byte(ks.Password)) {
		t.Error("Keystone's request log holds the password")
	}
	if !t.Failed() {
		t.Logf("%d outputs, the argv and environment of store and of an exec child, files under HOME and the keyring dir, Keystone's log: 0 secrets found", len(outputs))
	}
}

// TestModesUnderPermissiveUmask: files and directories are created 0600
// and 0700 whatever the umask, not narrowed afterwards.
func TestModesUnderPermissiveUmask(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("umask")
	umask0 := func(args ...string) *exec.Cmd {
		return exec.Command("sh", append([]string{"-c", `umask 000; exec "$0" "$@"`, binary}, args...)...)
	}
	r := s.runCmd(umask0("store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--password-stdin"), nil, ks.Password)
	if r.code != 0 {
		t.Fatalf("store: %s", r)
	}
	if r := s.runCmd(umask0("get", "--profile", profile, "--refresh"), nil, ""); r.code != 0 {
		t.Fatalf("get: %s", r)
	}
	checked := 0
	for _, root := range []string{filepath.Join(s.home, ".config", "vkc-credential"), filepath.Join(s.home, ".cache", "vkc-credential")} {
		filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
			if err != nil {
				t.Error(err)
				return nil
			}
			want := os.FileMode(0o600)
			if fi.IsDir() {
				want = 0o700
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %04o under umask 000, want %04o", path, fi.Mode().Perm(), want)
			}
			checked++
			return nil
		})
	}
	if checked < 5 {
		t.Fatalf("only %d paths checked", checked)
	}
}
