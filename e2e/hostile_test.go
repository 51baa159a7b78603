package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
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

// hostileInput is a bad request and the words its refusal must name: every
// group must match, by any one of its (case-insensitive) alternatives.
type hostileInput struct {
	name, in string
	cause    [][]string
}

// namesCause reports whether msg names each group of cause.
func namesCause(msg string, cause [][]string) bool {
	msg = strings.ToLower(msg)
	for _, group := range cause {
		found := false
		for _, alt := range group {
			found = found || strings.Contains(msg, strings.ToLower(alt))
		}
		if !found {
			return false
		}
	}
	return true
}

func TestHostileRequestsChangeNothing(t *testing.T) {
	needKeystone(t)
	eachBackend(t, hostileRequestsChangeNothing)
}

// hostileRequestsChangeNothing is TestHostileRequestsChangeNothing in one
// backend's sandbox.
func hostileRequestsChangeNothing(t *testing.T, s *sandbox) {
	profile := s.profileName("hostile")
	s.store(profile)
	s.must("", "get", "--profile", profile)

	big := `{"profile":"` + strings.Repeat("a", 2<<20) + `"}`
	jsonPassword, err := json.Marshal(ks.Password)
	if err != nil {
		t.Fatal(err)
	}
	profileName := [][]string{{"profile name"}}
	notObject := [][]string{{"object"}}
	ttl := [][]string{{"min_ttl_seconds"}}
	inputs := []hostileInput{
		{"truncated", `{"profile":"` + profile, [][]string{{"truncated"}}},
		{"trailing data", `{"profile":"` + profile + `"} {}`, [][]string{{"after", "trailing"}}},
		{"array", `[{"profile":"` + profile + `"}]`, notObject},
		{"wrong type", `{"profile":["` + profile + `"]}`, [][]string{{"profile"}, {"type", "string"}}},
		{"wrong type ttl", `{"min_ttl_seconds":"300"}`, ttl},
		{"unknown field", `{"profile":"` + profile + `","passwd":"x"}`, [][]string{{"unknown field"}, {"passwd"}}},
		{"2 MiB", big, [][]string{{"larger", "too large", "too big", "1048576", "MiB"}}},
		{"NUL byte", "{\"profile\":\"" + profile + "\x00\"}", [][]string{{`\x00`, "NUL", "control"}}},
		{"escaped NUL", `{"profile":"` + profile + `","username":"a\u0000b"}`, [][]string{{"username"}, {"control", "NUL", `\x00`, `\u0000`}}},
		{"invalid UTF-8", "{\"profile\":\"" + profile + "\xc3\x28\"}", [][]string{{"UTF-8"}}},
		{"negative ttl", `{"min_ttl_seconds":-5}`, ttl},
		{"absurd ttl", `{"min_ttl_seconds":999999999999}`, ttl},
		{"unknown version", `{"version":7,"profile":"` + profile + `"}`, [][]string{{"version"}}},
		{"path traversal", `{"profile":"../../etc/passwd"}`, profileName},
		{"path separator", `{"profile":"a/b"}`, profileName},
		{"backslash", `{"profile":"a\\b"}`, profileName},
		{"dot profile", `{"profile":".hidden"}`, profileName},
		{"http auth url", `{"profile":"` + profile + `","auth_url":"http://infra.mail.ru:35357/v3/"}`,
			[][]string{{"auth URL", "auth_url"}, {"https", "loopback", "unencrypted"}}},
		// The password JSON-encoded: it holds characters (a quote) that,
		// pasted raw, make the request malformed JSON rather than a get
		// request with a password.
		{"password in get", `{"profile":"` + profile + `","password":` + string(jsonPassword) + `}`, [][]string{{"password"}, {"store"}}},
		{"null", `null`, notObject},
		{"number", `42`, notObject},
		{"deep nesting", strings.Repeat("[", 10000), notObject},
		{"huge number", `{"min_ttl_seconds":1e400}`, ttl},
		{"duplicate garbage", `{"profile":"` + profile + `",}`, [][]string{{"JSON"}, {"invalid", "syntax", "unexpected"}}},
		{"control in setting", `{"region":"Region\nOne"}`, [][]string{{"region"}, {"control"}}},
	}
	check := func(in hostileInput, cmd []string) {
		t.Helper()
		r := s.run(nil, in.in, cmd...)
		if r.code != 2 {
			t.Errorf("%s | %v: exit %d, want 2\n%s", in.name, cmd, r.code, r)
			return
		}
		if !strings.HasPrefix(r.stderr, "vkc-credential: ") || len(r.stderr) > 600 {
			t.Errorf("%s | %v: message %q", in.name, cmd, r.stderr)
		}
		if !namesCause(r.stderr, in.cause) {
			t.Errorf("%s | %v: the message does not name the cause (%q): %q", in.name, cmd, in.cause, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, ks.Password) {
			t.Errorf("%s | %v: the password was echoed", in.name, cmd)
		}
	}
	cmds := [][]string{{"get"}, {"get", "--format", "token"}, {"list"}, {"erase"}, {"env"}}
	keychain0 := s.backendSnapshot(s.keyring, e2eItem())
	if !strings.Contains(keychain0, strconv.Quote(ks.Password)) {
		t.Fatal("the stored password is not in the keychain snapshot")
	}
	files := func() []byte {
		return append(snapshotDir(t, filepath.Join(s.home, ".config")), snapshotDir(t, filepath.Join(s.home, ".cache"))...)
	}
	files0 := files()
	tried := 0
	for _, in := range inputs {
		for _, cmd := range cmds {
			check(in, cmd)
			tried++
		}
		// store refuses the same input (a password in the request is
		// store's own; that one is not a bad store request) before
		// touching anything.
		if in.name != "password in get" {
			check(in, []string{"store"})
			tried++
		}
	}
	if s.backendSnapshot(s.keyring, e2eItem()) != keychain0 {
		t.Error("the keychain changed")
	}
	if !bytes.Equal(files(), files0) {
		t.Error("config or cache files changed")
	}
	if !t.Failed() {
		t.Logf("%d bad requests tried (%d inputs), all refused with exit 2 naming their cause, nothing changed", tried, len(inputs))
	}
}

// TestSecretHygiene looks for the password wherever it must not be: the
// files under HOME, every output (with --debug), the argv and environment
// of vkc-credential and of an exec child, and Keystone's request log.
func TestSecretHygiene(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("hygiene")
	log0, err := os.ReadFile(ks.KeystoneLog)
	if err != nil {
		t.Fatal(err)
	}
	posts0 := tokenPosts(t)
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
	hang := newFakeKeystone(t, false)
	hang.Fail(keystonetest.Fault{Hang: true})
	st := exec.Command(binary, "store", "--profile", profile+"-h", "--auth-url", hang.URL+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--timeout", "5s")
	st.Env = s.env
	st.Stdin = strings.NewReader(ks.Password)
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); hang.Hits() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if hang.Hits() == 0 {
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
	// Keystone's log: this test sent it exactly four token requests (the
	// store's proof, the get --refresh, the rejected store and its second
	// try without a project, which tells a wrong password from a wrong
	// project; everything else was served from the cache), so the lines
	// searched are the ones our password requests made.
	if posts := tokenPosts(t) - posts0; posts != 4 {
		t.Errorf("Keystone logged %d token requests during the test, want 4", posts)
	}
	log, err := os.ReadFile(ks.KeystoneLog)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(log, log0) {
		t.Fatal("Keystone's log was rewritten during the test")
	}
	if bytes.Contains(log, []byte(ks.Password)) {
		t.Error("Keystone's request log holds the password")
	}
	if !t.Failed() {
		t.Logf("%d outputs, the argv and environment of store and of an exec child, files under HOME and the keyring dir, Keystone's log (3 token requests): 0 secrets found", len(outputs))
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
