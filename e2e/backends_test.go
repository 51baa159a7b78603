package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The keychain backends against the real parts: the Secret Service of the
// test's D-Bus session (os), the kernel's persistent keyring (keyctl), and
// pass with a real gpg (pass).

var backendNames = []string{"os", "keyctl", "pass"}

// newBackendSandbox is a sandbox whose store keeps the password in
// backend: for pass, with a gpg key and an initialised password store in
// its home; for keyctl, without a D-Bus session.
func newBackendSandbox(t *testing.T, backend string) *sandbox {
	t.Helper()
	s := newSandbox(t)
	s.keyring = backend
	switch backend {
	case "keyctl":
		s.withoutBus()
	case "pass":
		initPass(t, s)
	}
	return s
}

// eachBackend runs fn in a subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, s *sandbox)) {
	for _, b := range backendNames {
		t.Run(b, func(t *testing.T) { fn(t, newBackendSandbox(t, b)) })
	}
}

// withoutBus removes the D-Bus session from s's environment.
func (s *sandbox) withoutBus() {
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, kv)
		}
	}
	s.env = env
}

// initPass makes a gpg key without a passphrase in s's home and
// initialises pass's store there.
func initPass(t *testing.T, s *sandbox) {
	t.Helper()
	gnupg := filepath.Join(s.home, ".gnupg")
	if err := os.MkdirAll(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.tool("gpgconf", "--kill", "gpg-agent") })
	s.tool("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "vkc e2e <e2e@example.com>", "default", "default", "never")
	var fpr string
	for _, line := range strings.Split(s.tool("gpg", "--list-secret-keys", "--with-colons"), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	if fpr == "" {
		t.Fatal("gpg made no key")
	}
	s.tool("pass", "init", fpr)
}

// tool runs a program in s's environment and returns its stdout; it
// fails the test when the program fails.
func (s *sandbox) tool(name string, args ...string) string {
	s.t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		s.t.Fatalf("%s is not installed", name)
	}
	r := s.runCmd(exec.Command(path, args...), nil, "")
	if r.code != 0 {
		s.t.Fatalf("%s %v: %s", name, args, r)
	}
	return r.stdout
}

// persistentKeyring is the id of the kernel's persistent keyring of this
// user, as keyctl(1) reports it.
func (s *sandbox) persistentKeyring() string {
	return strings.TrimSpace(s.tool("keyctl", "get_persistent", "@s"))
}

// keyctlKey finds the key of item in the persistent keyring: its id,
// or "" when there is none. (The persistent keyring grants its user read
// but not search, so keyctl(1) lists and describes rather than searches.)
func (s *sandbox) keyctlKey(item string) string {
	s.t.Helper()
	for _, id := range strings.Fields(s.tool("keyctl", "rlist", s.persistentKeyring())) {
		r := s.runCmd(exec.Command("keyctl", "rdescribe", id), nil, "")
		if r.code == 0 && strings.HasSuffix(strings.TrimSpace(r.stdout), ";vkc-credential:"+item) {
			return id
		}
	}
	return ""
}

// passEntry is the file pass keeps item's secret in.
func (s *sandbox) passEntry(item string) string {
	return filepath.Join(s.home, ".password-store", "vkc-credential", item+".gpg")
}

// holds reports whether backend keeps a secret as item, and which.
func (s *sandbox) holds(backend, item string) (string, bool) {
	s.t.Helper()
	switch backend {
	case "os":
		return secretToolLookup(s.t, item)
	case "keyctl":
		id := s.keyctlKey(item)
		if id == "" {
			return "", false
		}
		return s.tool("keyctl", "pipe", id), true
	case "pass":
		if _, err := os.Stat(s.passEntry(item)); err != nil {
			return "", false
		}
		return strings.TrimSuffix(s.tool("pass", "show", "vkc-credential/"+item), "\n"), true
	}
	s.t.Fatalf("unknown backend %s", backend)
	return "", false
}

// backendSnapshot lists what backend holds as the given items, so a test
// can tell whether anything changed.
func (s *sandbox) backendSnapshot(backend string, items ...string) string {
	s.t.Helper()
	if backend == "os" {
		return keychainSnapshot(s.t)
	}
	var held []string
	for _, item := range items {
		if secret, ok := s.holds(backend, item); ok {
			held = append(held, fmt.Sprintf("%q = %q", item, secret))
		}
	}
	if backend == "pass" {
		held = append(held, string(snapshotDir(s.t, filepath.Join(s.home, ".password-store"))))
	}
	sort.Strings(held)
	return strings.Join(held, "\n")
}

// TestBackendLifecycle: store, a cold get, erase, in each backend; the
// secret is where the backend keeps it and nowhere else under HOME in
// plaintext, and the answers name the backend.
func TestBackendLifecycle(t *testing.T) {
	needKeystone(t)
	eachBackend(t, func(t *testing.T, s *sandbox) {
		p := s.profileName("life")
		r := s.store(p)
		if !strings.Contains(r.stdout, `"keyring":"`+s.keyring+`"`) {
			t.Fatalf("store's answer does not name the backend: %s", r)
		}
		if said := strings.Contains(r.stderr, "is kept in "+s.keyring); said != (s.keyring != "os") {
			t.Fatalf("stderr %q", r.stderr)
		}
		if secret, ok := s.holds(s.keyring, e2eItem()); !ok || secret != ks.Password {
			t.Fatalf("%s does not hold the password", s.keyring)
		}
		if hits := filesContaining(t, s.home, ks.Password); len(hits) != 0 {
			t.Fatalf("the password in plaintext under HOME: %v", hits)
		}
		if r := s.must("", "list"); !strings.Contains(r.stdout, `"keyring":"`+s.keyring+`"`) {
			t.Fatalf("list: %s", r)
		}
		before := tokenPosts(t)
		if a := decodeToken(t, s.must("", "get", "--profile", p, "--refresh")); a.Cached || tokenPosts(t) != before+1 {
			t.Fatalf("a refresh from %s: %+v", s.keyring, a)
		}
		s.must("", "erase", "--profile", p)
		if _, ok := s.holds(s.keyring, e2eItem()); ok {
			t.Fatalf("erase left the secret in %s", s.keyring)
		}
		wantError(t, s.run(nil, "", "get", "--profile", p), 3, "not_found", true, "no profile")
	})
}

// TestKeyctlUsesThePersistentKeyring: stored without any D-Bus session,
// the password is read from another session keyring (so the persistent
// keyring holds it, not the session's), with possessor and user
// permissions only; a key revoked behind our back is "not found".
func TestKeyctlUsesThePersistentKeyring(t *testing.T) {
	needKeystone(t)
	s := newBackendSandbox(t, "keyctl")
	p := s.profileName("keyctl")
	s.store(p)
	id := s.keyctlKey(e2eItem())
	if id == "" {
		t.Fatal("no key in the persistent keyring")
	}
	// keyctl describe: "<id>: <perm> <uid> <gid> user: vkc-credential:P".
	desc := s.tool("keyctl", "rdescribe", id)
	if f := strings.Split(strings.TrimSpace(desc), ";"); len(f) < 5 || f[0] != "user" || f[3] != "3f3f0000" || f[4] != "vkc-credential:"+e2eItem() {
		t.Fatalf("key %s: %q (want type user, permissions 3f3f0000)", id, desc)
	}
	// A new session keyring, as a new SSH login has.
	keyctl, _ := exec.LookPath("keyctl")
	r := s.runCmd(exec.Command(keyctl, "session", "-", binary, "get", "--no-stdin", "--profile", p, "--refresh", "--format", "token"), nil, "")
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) < 20 {
		t.Fatalf("get from another session keyring: %s", r)
	}
	s.tool("keyctl", "revoke", id)
	wantError(t, s.run(nil, "", "get", "--profile", p, "--refresh"), 3, "not_found", true, "store")
}

// TestPassBackend: the entry is a gpg file without the plaintext; a
// missing pass is exit 6 naming the package to install.
func TestPassBackend(t *testing.T) {
	needKeystone(t)
	s := newBackendSandbox(t, "pass")
	p := s.profileName("pass")
	s.store(p)
	data, err := os.ReadFile(s.passEntry(e2eItem()))
	if err != nil || len(data) == 0 || bytes.Contains(data, []byte(ks.Password)) {
		t.Fatalf("the pass entry: %v, %d bytes, plaintext inside: %t", err, len(data), bytes.Contains(data, []byte(ks.Password)))
	}
	// The argv and environment of pass and of the gpg it runs, as a
	// wrapper on PATH records them, hold no password.
	wrappers := t.TempDir()
	record := filepath.Join(wrappers, "record")
	for _, name := range []string{"pass", "gpg", "gpg2"} {
		real, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		script := fmt.Sprintf("#!/bin/sh\n{ echo \"$0 $*\"; env; } >> %q\nexec %q \"$@\"\n", record, real)
		if err := os.WriteFile(filepath.Join(wrappers, name), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	path := []string{"PATH=" + wrappers + ":" + os.Getenv("PATH")}
	s.must("", "erase", "--profile", p)
	if r := s.run(path, ks.Password, "store", "--profile", p, "--keyring", "pass", "--password-stdin", "--auth-url", ks.AuthURL,
		"--project-id", ks.ProjectID, "--username", ks.Username); r.code != 0 {
		t.Fatalf("store through the wrappers: %s", r)
	}
	if r := s.run(path, "", "get", "--profile", p, "--refresh"); r.code != 0 {
		t.Fatalf("get through the wrappers: %s", r)
	}
	seen, err := os.ReadFile(record)
	if err != nil || !bytes.Contains(seen, []byte("insert --multiline --force")) || !bytes.Contains(seen, []byte("gpg")) {
		t.Fatalf("the wrappers saw no pass insert and no gpg: %v\n%s", err, seen)
	}
	if bytes.Contains(seen, []byte(ks.Password)) {
		t.Fatal("the password is in the argv or environment of pass or gpg")
	}

	noPass := []string{"PATH=" + t.TempDir()}
	wantError(t, s.run(noPass, "", "get", "--profile", p, "--refresh"), 6, "keyring_unavailable", true, "apt-get install pass")
}

// TestAutoPicksABackend: with the Secret Service, os; without D-Bus but
// with pass set up, pass; with neither, keyctl; the choice is said.
func TestAutoPicksABackend(t *testing.T) {
	needKeystone(t)
	cases := []struct {
		want  string
		setup func(*sandbox)
	}{
		{"os", func(*sandbox) {}},
		{"pass", func(s *sandbox) { s.withoutBus(); initPass(t, s) }},
		{"keyctl", func(s *sandbox) { s.withoutBus() }},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			s := newSandbox(t)
			c.setup(s)
			p := s.profileName("auto")
			r := s.store(p)
			if !strings.Contains(r.stdout, `"keyring":"`+c.want+`"`) {
				t.Fatalf("auto chose otherwise: %s", r)
			}
			if said := strings.Contains(r.stderr, "is kept in "+c.want); said != (c.want != "os") {
				t.Fatalf("stderr %q", r.stderr)
			}
		})
	}
}

// TestMovingBetweenBackends: os → pass → keyctl → os keeps one working
// secret and leaves no copy behind.
func TestMovingBetweenBackends(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	initPass(t, s)
	p := s.profileName("move")
	s.store(p)
	for _, to := range []string{"pass", "keyctl", "os", "keyctl"} {
		r := s.must("", "store", "--profile", p, "--keyring", to)
		if !strings.Contains(r.stdout, `"keyring":"`+to+`"`) {
			t.Fatalf("move to %s: %s", to, r)
		}
		for _, b := range backendNames {
			secret, ok := s.holds(b, e2eItem())
			if ok != (b == to) || (ok && secret != ks.Password) {
				t.Fatalf("after the move to %s, %s holds a copy: %t", to, b, ok)
			}
		}
		if a := decodeToken(t, s.must("", "get", "--profile", p, "--refresh")); a.Cached {
			t.Fatal("not a fresh token")
		}
	}
}

// TestDoctor: a healthy machine passes every check; so does a healthy
// server without D-Bus or pass (those backends are skipped, with how to set
// them up), while a backend a profile uses fails when it is not set up; a
// keystoneauth1.py in the current directory is never imported; a Keystone
// that is down and a deleted secret fail their profile's checks; the JSON
// form says the same; no output holds the password.
func TestDoctor(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	initPass(t, s)
	pythonPath := kaInstallPlugin(t, t.TempDir())
	binDir := filepath.Dir(binary)
	s.env = append(s.env, "PYTHONPATH="+pythonPath, "PATH="+binDir+":"+os.Getenv("PATH"))
	p := s.profileName("doctor")
	s.store(p)
	s.must("", "get", "--profile", p)

	type report struct {
		Checks []struct {
			Name, Status, Detail, Hint string
		}
		Passed, Failed, Skipped int
	}
	doctor := func(extra []string, args ...string) (result, report) {
		r := s.run(extra, "", append([]string{"doctor", "--format", "json"}, args...)...)
		var rep report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("doctor --format json: %v\n%s", err, r)
		}
		if strings.Contains(r.stdout+r.stderr, ks.Password) {
			t.Fatal("doctor printed the password")
		}
		return r, rep
	}
	status := func(rep report, name string) (string, string) {
		for _, c := range rep.Checks {
			if c.Name == name {
				return c.Status, c.Hint
			}
		}
		t.Fatalf("no check %q in %+v", name, rep)
		return "", ""
	}

	r, rep := doctor(nil)
	if r.code != 0 || rep.Failed != 0 || rep.Skipped != 0 {
		t.Fatalf("healthy machine: %s", r)
	}
	text := s.run(nil, "", "doctor", "--profile", p)
	if text.code != 0 || !strings.Contains(text.stdout, "[ OK ] keychain os") || !strings.HasSuffix(text.stdout, fmt.Sprintf("%d passed, 0 failed, 0 skipped\n", rep.Passed)) {
		t.Fatalf("text form: %s", text)
	}

	// A healthy server: no D-Bus, no pass store, every profile in keyctl.
	// The backends nobody uses and that are not set up here are skipped,
	// each with how to set it up, and doctor passes.
	server := newSandbox(t)
	server.withoutBus()
	server.env = append(server.env, "PYTHONPATH="+pythonPath, "PATH="+binDir+":"+os.Getenv("PATH"))
	if r := server.store(server.profileName("server")); !strings.Contains(r.stdout, `"keyring":"keyctl"`) {
		t.Fatalf("store on the server: %s", r)
	}
	r = server.run(nil, "", "doctor", "--format", "json")
	var rep2 report
	json.Unmarshal([]byte(r.stdout), &rep2)
	if r.code != 0 || rep2.Failed != 0 || r.stderr != "" {
		t.Fatalf("a healthy server: %s", r)
	}
	for name, says := range map[string]string{"keychain os": "dbus-run-session -- bash", "keychain pass": "pass init"} {
		if st, hint := status(rep2, name); st != "skip" || !strings.Contains(hint, says) {
			t.Fatalf("a healthy server, %s: %s %q", name, st, hint)
		}
	}
	if st, _ := status(rep2, "keychain keyctl"); st != "ok" {
		t.Fatalf("no D-Bus, keyctl: %s", r)
	}
	// A backend a profile uses that is not set up fails: s's profile is in
	// os, and here there is no D-Bus.
	r, rep = doctor([]string{"DBUS_SESSION_BUS_ADDRESS="}, "--profile", p)
	if st, hint := status(rep, "keychain os"); r.code != 8 || st != "fail" || !strings.Contains(hint, "dbus-run-session -- bash") || r.stderr != "" {
		t.Fatalf("no D-Bus, a profile in os: %s", r)
	}

	// The plugin check never imports a module from the current directory.
	checkout, marker := t.TempDir(), filepath.Join(t.TempDir(), "ran")
	planted := fmt.Sprintf("open(%q, 'w').write('planted module ran')\n", marker)
	if err := os.WriteFile(filepath.Join(checkout, "keystoneauth1.py"), []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	inCheckout := exec.Command(binary, "doctor", "--format", "json")
	inCheckout.Dir = checkout
	r = s.runCmd(inCheckout, nil, "")
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("doctor ran a keystoneauth1.py planted in its current directory: %s", r)
	}
	json.Unmarshal([]byte(r.stdout), &rep2)
	if st, _ := status(rep2, "openstack CLI plugin"); st != "ok" {
		t.Fatalf("the plugin check from the checkout: %s", r)
	}

	// A Keystone that is down, a secret deleted behind our back.
	down := s.profileName("down")
	s.must(ks.Password, "store", "--profile", down, "--auth-url", "http://127.0.0.1:1/v3", "--project-id", ks.ProjectID,
		"--username", ks.Username, "--password-stdin", "--no-verify")
	r, rep = doctor(nil, "--profile", down, "--timeout", "3s")
	if st, _ := status(rep, "profile "+down+": keystone reachable"); r.code != 8 || st != "fail" {
		t.Fatalf("keystone down: %s", r)
	}
	exec.Command("secret-tool", "clear", "service", "vkc-credential", "username", s.itemOf(p)).Run()
	r, rep = doctor(nil, "--profile", p)
	if st, hint := status(rep, "profile "+p+": password in os"); r.code != 8 || st != "fail" || !strings.Contains(hint, "store --profile "+p) {
		t.Fatalf("deleted secret: %s", r)
	}
}
