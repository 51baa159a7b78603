// Package e2e drives the vkc-credential binary against a real Keystone
// and a real Secret Service, both started by scripts/test-env.sh.
package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	binenc "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// env is the test environment that scripts/test-env.sh describes in
// VKC_E2E_* variables.
type env struct {
	AuthURL, ProjectID, Username, Domain, Password string
	Project2ID, Username2, Password2               string
	KeystoneLog                                    string
}

var (
	binary string // the vkc-credential under test
	ks     *env   // nil when no Keystone was started
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	e, err := loadEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ks = e
	startShortKeystonesEarly()
	defer stopShortKeystones()
	dir, err := os.MkdirTemp("", "vkc-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "vkc-credential")
	build := exec.Command("go", "build", "-trimpath", "-tags", "urfave_cli_no_docs", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the binary:", err)
		return 1
	}
	return m.Run()
}

func loadEnv() (*env, error) {
	if os.Getenv("VKC_E2E_AUTH_URL") == "" {
		if os.Getenv("VKC_E2E_REQUIRED") != "" {
			return nil, errors.New("VKC_E2E_REQUIRED is set but no Keystone is described; run the tests through scripts/test-env.sh")
		}
		return nil, nil
	}
	read := func(name string) (string, error) {
		path := os.Getenv(name)
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return string(data), nil
	}
	e := &env{
		AuthURL: os.Getenv("VKC_E2E_AUTH_URL"), ProjectID: os.Getenv("VKC_E2E_PROJECT_ID"),
		Username: os.Getenv("VKC_E2E_USERNAME"), Domain: os.Getenv("VKC_E2E_USER_DOMAIN"),
		Project2ID: os.Getenv("VKC_E2E_PROJECT2_ID"), Username2: os.Getenv("VKC_E2E_USERNAME2"),
		KeystoneLog: os.Getenv("VKC_E2E_KEYSTONE_LOG"),
	}
	var err error
	if e.Password, err = read("VKC_E2E_PASSWORD_FILE"); err != nil {
		return nil, err
	}
	if e.Password2, err = read("VKC_E2E_PASSWORD2_FILE"); err != nil {
		return nil, err
	}
	return e, nil
}

// needKeystone skips a test when no Keystone was started; under
// VKC_E2E_REQUIRED, TestMain has already failed in that case.
func needKeystone(t *testing.T) *env {
	t.Helper()
	if ks == nil {
		t.Skip("no Keystone: run through scripts/test-env.sh")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run through scripts/test-env.sh")
	}
	return ks
}

// sandbox is one user's home: config and cache dirs of their own, the
// shared D-Bus session (the Secret Service), no OS_* variables and no
// askpass program (a test that wants one names it).
type sandbox struct {
	t    *testing.T
	home string
	env  []string
	// keyring is the backend store puts the password in ("" for the
	// default choice); see backends_test.go.
	keyring string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	home := t.TempDir()
	var environ []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "OS_") || strings.HasPrefix(name, "VKC_") || strings.HasPrefix(name, "XDG_") || name == "HOME" ||
			name == "SSH_ASKPASS" || name == "DISPLAY" || name == "WAYLAND_DISPLAY" {
			continue
		}
		environ = append(environ, kv)
	}
	environ = append(environ, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	return &sandbox{t: t, home: home, env: environ}
}

// profileName returns a profile name no other test uses, and erases it
// from the shared keychain when the test ends.
func (s *sandbox) profileName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	s.t.Cleanup(func() { s.run(nil, "", "erase", "--profile", name) })
	return name
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// run runs the binary with stdin and extra environment, with no
// controlling terminal, and waits at most a minute.
func (s *sandbox) run(extraEnv []string, stdin string, args ...string) result {
	return s.runCmd(exec.Command(binary, args...), extraEnv, stdin)
}

func (s *sandbox) runCmd(cmd *exec.Cmd, extraEnv []string, stdin string) result {
	s.t.Helper()
	return runProcess(s.t, cmd, append(append([]string{}, s.env...), extraEnv...), stdin, processTimeout)
}

// processTimeout bounds each process a test runs. A store may spend, at
// worst, a keychain probe, a round trip and the writes (each bounded by
// --keyring-timeout, 10 s), a lock wait and a Keystone exchange (30 s):
// far beyond a minute under load, while the product still ends it.
const processTimeout = 3 * time.Minute

// runProcess runs cmd (its path, args and dir) with env and stdin, with no
// controlling terminal (so nothing can prompt), for at most timeout. A
// process still running then gets SIGQUIT first, so that a Go program
// prints where each of its goroutines stands, and the test shows it.
func runProcess(t *testing.T, cmd *exec.Cmd, env []string, stdin string, timeout time.Duration) result {
	t.Helper()
	return startProcess(t, cmd, env, stdin).wait(t, timeout)
}

// process is a process that startProcess started.
type process struct {
	args     []string
	started  time.Time
	done     chan error
	ended    time.Time // set before done is sent to
	out, err bytes.Buffer
	cmd      *exec.Cmd
}

// startProcess starts cmd as runProcess does, without waiting for it.
func startProcess(t *testing.T, cmd *exec.Cmd, env []string, stdin string) *process {
	t.Helper()
	p := &process{args: cmd.Args, done: make(chan error, 1)}
	c := exec.Command(cmd.Path, cmd.Args[1:]...)
	c.Dir = cmd.Dir
	c.Env = env
	c.Stdin = strings.NewReader(stdin)
	c.Stdout, c.Stderr = &p.out, &p.err
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p.started = time.Now()
	if err := c.Start(); err != nil {
		t.Fatalf("running %v: %v", cmd.Args, err)
	}
	p.cmd = c
	go func() {
		err := c.Wait()
		p.ended = time.Now()
		p.done <- err
	}()
	return p
}

// wait waits for the process, at most timeout, and returns what it did.
func (p *process) wait(t *testing.T, timeout time.Duration) result {
	t.Helper()
	var err error
	select {
	case err = <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		t.Fatalf("%v timed out after %s\nstdout: %s\nstderr: %s", p.args, timeout, p.out.String(), p.err.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", p.args, err)
	}
	return result{stdout: p.out.String(), stderr: p.err.String(), code: code}
}

// took is how long the process ran; valid once wait returned.
func (p *process) took() time.Duration { return p.ended.Sub(p.started) }

// must runs the binary and fails the test unless it exits 0.
func (s *sandbox) must(stdin string, args ...string) result {
	s.t.Helper()
	r := s.run(nil, stdin, args...)
	if r.code != 0 {
		s.t.Fatalf("vkc-credential %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// store stores profile with the e2e user's settings and password.
func (s *sandbox) store(profile string, extra ...string) result {
	s.t.Helper()
	args := append([]string{"store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--user-domain-name", ks.Domain, "--password-stdin"}, extra...)
	if s.keyring != "" {
		args = append(args, "--keyring", s.keyring)
	}
	return s.must(ks.Password, args...)
}

type tokenAnswer struct {
	Version   int       `json:"version"`
	Profile   string    `json:"profile"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	IssuedAt  time.Time `json:"issued_at"`
	AuthURL   string    `json:"auth_url"`
	ProjectID string    `json:"project_id"`
	Region    string    `json:"region"`
	Cached    bool      `json:"cached"`
}

func decodeToken(t *testing.T, r result) tokenAnswer {
	t.Helper()
	var a tokenAnswer
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("get answer is not the contract's JSON: %v\n%s", err, r)
	}
	if a.Version != 1 || a.Token == "" || a.ExpiresAt.IsZero() || a.IssuedAt.IsZero() {
		t.Fatalf("incomplete get answer: %s", r.stdout)
	}
	return a
}

type errorAnswer struct {
	Version int `json:"version"`
	Error   struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wantError checks exit status, JSON error code on stdout (when json is
// true) and a one-line stderr message mentioning hint.
func wantError(t *testing.T, r result, code int, errCode string, json_ bool, hint string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\n%s", r.code, code, r)
	}
	if !strings.HasPrefix(r.stderr, "vkc-credential: ") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("stderr must be one line prefixed vkc-credential: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, hint) {
		t.Fatalf("stderr %q does not mention %q", r.stderr, hint)
	}
	if !json_ {
		if r.stdout != "" {
			t.Fatalf("stdout must stay empty on error, got %q", r.stdout)
		}
		return
	}
	var a errorAnswer
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || a.Version != 1 || a.Error.Code != errCode || a.Error.Message == "" {
		t.Fatalf("stdout is not the JSON error %q: %q", errCode, r.stdout)
	}
}

// tokenPosts counts the token issues Keystone has logged so far.
func tokenPosts(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(ks.KeystoneLog)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), `"POST /v3/auth/tokens HTTP/1.1"`)
}

// tokenRequest sends method /v3/auth/tokens to the real Keystone with token
// as both the caller's and the subject token. The caller closes the body.
func tokenRequest(t *testing.T, method, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, strings.TrimSuffix(ks.AuthURL, "/")+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// validate asks Keystone whether token is valid: GET /v3/auth/tokens.
func validate(t *testing.T, token string) int {
	t.Helper()
	resp := tokenRequest(t, http.MethodGet, token)
	resp.Body.Close()
	return resp.StatusCode
}

// itemOf is the keychain item that holds profile's secret, as list says:
// one per identity, shared by the identity's profiles.
func (s *sandbox) itemOf(profile string) string {
	s.t.Helper()
	var list []struct {
		Profile     string `json:"profile"`
		KeyringItem string `json:"keyring_item"`
	}
	r := s.must("", "list")
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		s.t.Fatalf("list: %v\n%s", err, r)
	}
	for _, p := range list {
		if p.Profile == profile {
			return p.KeyringItem
		}
	}
	s.t.Fatalf("list does not show %s: %s", profile, r.stdout)
	return ""
}

// identityItem is the keychain item of a user's identity, worked out as
// vkc-credential does (helper.secretItem): a hash of the kind and the
// fields, each preceded by its length, the auth URL without its trailing
// slash. TestOnePasswordManyProjects checks that list agrees.
func identityItem(authURL, domain, user string) string {
	var data []byte
	for _, part := range []string{"password", strings.TrimSuffix(authURL, "/"), domain, user} {
		data = binenc.BigEndian.AppendUint32(data, uint32(len(part)))
		data = append(data, part...)
	}
	sum := sha256.Sum256(data)
	return "identity-" + hex.EncodeToString(sum[:12])
}

// e2eItem is the keychain item of the e2e user at the e2e Keystone.
func e2eItem() string { return identityItem(ks.AuthURL, ks.Domain, ks.Username) }

// secretToolLookup reads the keychain item with libsecret's own tool; ok
// is false when there is none.
func secretToolLookup(t *testing.T, item string) (string, bool) {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", "vkc-credential", "username", item).Output()
	if err != nil {
		return "", false
	}
	return string(out), true
}

// filesContaining lists the files under root whose bytes contain secret.
func filesContaining(t *testing.T, root, secret string) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, []byte(secret)) {
			hits = append(hits, path)
		}
		return nil
	})
	return hits
}
