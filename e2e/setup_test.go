//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Setting the keychain backends up as doctor's hints say, typed into bash
// literally; and auto passing over backends that are set up but locked.

// doctorReport is the answer of `doctor --format json`.
type doctorReport struct {
	Checks []struct {
		Name, Status, Detail, Hint string
	}
	Passed, Failed, Skipped int
}

// doctorJSON runs `doctor --format json` in s with extra environment.
func (s *sandbox) doctorJSON(extraEnv []string, args ...string) (result, doctorReport) {
	s.t.Helper()
	r := s.run(extraEnv, "", append([]string{"doctor", "--format", "json"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		s.t.Fatalf("doctor --format json: %v\n%s", err, r)
	}
	return r, rep
}

// check is the check called name of rep: its status and its hint.
func (rep doctorReport) check(t *testing.T, name string) (status, hint string) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status, c.Hint
		}
	}
	t.Fatalf("no check %q in %+v", name, rep)
	return "", ""
}

// hintCommands are the commands of a hint, one a line after the sentence
// that says what they do.
func hintCommands(t *testing.T, hint string) []string {
	t.Helper()
	lines := strings.Split(hint, "\n")
	if len(lines) < 2 || !strings.HasSuffix(lines[0], ":") {
		t.Fatalf("the hint has no commands to run: %q", hint)
	}
	return lines[1:]
}

// typed is what a user types into bash to run commands as written: each
// command, and after one that starts with `read`, the secret it waits for;
// then the test's own lines.
func typed(commands []string, secret string, then ...string) string {
	var b strings.Builder
	for _, c := range commands {
		b.WriteString(c + "\n")
		if strings.HasPrefix(c, "read ") {
			b.WriteString(secret + "\n")
		}
	}
	for _, c := range then {
		b.WriteString(c + "\n")
	}
	return b.String()
}

// bash runs an interactive-like bash in s that reads what is typed on its
// stdin, as a terminal would hand it over line by line.
func (s *sandbox) bash(extraEnv []string, stdin string) result {
	s.t.Helper()
	path, err := exec.LookPath("bash")
	if err != nil {
		s.t.Fatal("bash is not installed")
	}
	return s.runCmd(exec.Command(path), extraEnv, stdin)
}

// passwordFile holds the Keystone password for a store run from bash.
func passwordFile(t *testing.T) string {
	f := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(f, []byte(ks.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOSSetupAsWritten: on a machine without a D-Bus session, doctor's
// hint for the os backend, typed into bash as written (its first command
// starts a fresh dbus-run-session, as scripts/keyring-up.sh runs in), makes
// a Secret Service that `store --keyring os` keeps the password in, and a
// cold get reads it back.
func TestOSSetupAsWritten(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	s.withoutBus()
	// A machine without a desktop session has no GNOME_KEYRING_CONTROL;
	// the test's own gnome-keyring must stay out of reach.
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "GNOME_KEYRING_CONTROL=") {
			env = append(env, kv)
		}
	}
	s.env = env
	r, rep := s.doctorJSON(nil)
	status, hint := rep.check(t, "keychain os")
	if status != "skip" {
		t.Fatalf("no D-Bus, no profile: %s", r)
	}
	commands := hintCommands(t, hint)
	if commands[0] != "dbus-run-session -- bash" {
		t.Fatalf("the hint does not start a D-Bus session: %q", hint)
	}
	p := s.profileName("ossetup")
	pw := passwordFile(t)
	out := s.bash(nil, typed(commands, "keyring password of "+p,
		binary+" store --profile "+p+" --keyring os --auth-url "+ks.AuthURL+" --project-id "+ks.ProjectID+
			" --username "+ks.Username+" --user-domain-name "+ks.Domain+" --password-stdin <"+pw+"; echo \"store exit $?\"",
		binary+" get --profile "+p+" --refresh --format token >/dev/null; echo \"get exit $?\""))
	if !strings.Contains(out.stdout, `"keyring":"os"`) || !strings.Contains(out.stdout, "store exit 0") || !strings.Contains(out.stdout, "get exit 0") {
		t.Fatalf("store --keyring os after the hint's commands: %s", out)
	}
	if _, err := os.Stat(filepath.Join(s.home, ".local", "share", "keyrings", "login.keyring")); err != nil {
		t.Fatalf("no login keyring in the sandbox's home: %v", err)
	}
	// The commands touched no other session's keyring daemon.
	keyringLock(t, "status")
}

// TestPassSetupAsWritten: on a fresh GNUPGHOME and PASSWORD_STORE_DIR,
// doctor's hint for pass, typed into bash as written, makes a key with a
// passphrase, a store and a primed gpg-agent, and `store --keyring pass`
// works. Once gpg-agent has stopped (as at a reboot), pass fails, doctor
// says how to give gpg-agent the passphrase again, and after those
// commands a get --refresh reads the password.
func TestPassSetupAsWritten(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	s.withoutBus()
	dir := t.TempDir()
	gnupg := filepath.Join(dir, "gnupg") // as gpg makes ~/.gnupg: empty, 0700
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	s.env = append(s.env, "GNUPGHOME="+gnupg, "PASSWORD_STORE_DIR="+filepath.Join(dir, "store"))
	t.Cleanup(func() { s.runCmd(exec.Command("gpgconf", "--kill", "gpg-agent"), nil, "") })

	_, rep := s.doctorJSON(nil)
	status, hint := rep.check(t, "keychain pass")
	if status != "skip" || !strings.Contains(hint, "pass init") {
		t.Fatalf("pass before it is set up: %s, %q", status, hint)
	}
	const passphrase = "correct horse battery staple"
	p := s.profileName("passsetup")
	out := s.bash(nil, typed(hintCommands(t, hint), passphrase,
		binary+" store --profile "+p+" --keyring pass --auth-url "+ks.AuthURL+" --project-id "+ks.ProjectID+
			" --username "+ks.Username+" --user-domain-name "+ks.Domain+" --password-stdin <"+passwordFile(t)+"; echo \"store exit $?\""))
	if !strings.Contains(out.stdout, `"keyring":"pass"`) || !strings.Contains(out.stdout, "store exit 0") {
		t.Fatalf("store --keyring pass after the hint's commands: %s", out)
	}
	if strings.Contains(out.stdout+out.stderr, passphrase) {
		t.Fatal("the passphrase was echoed")
	}
	// The key has the passphrase: without gpg-agent's copy, pass fails.
	s.tool("gpgconf", "--kill", "gpg-agent")
	wantError(t, s.run(nil, "", "get", "--profile", p, "--refresh"), 6, "keyring_unavailable", true, "primed")
	r, rep := s.doctorJSON(nil)
	status, hint = rep.check(t, "keychain pass")
	if r.code != 8 || status != "fail" || strings.Contains(hint, "pass init") || strings.Contains(hint, ".gpg ") {
		t.Fatalf("doctor with the key locked: %s, %q\n%s", status, hint, r)
	}
	s.bash(nil, typed(hintCommands(t, hint), passphrase))
	if a := decodeToken(t, s.must("", "get", "--profile", p, "--refresh")); a.Cached {
		t.Fatal("not a fresh token")
	}
}

// initLockedPass makes, in s's home, a gpg key with a passphrase and a
// pass store for it, and stops gpg-agent, so that nothing holds the
// passphrase: pass is set up, but cannot decrypt without a terminal. (A
// low s2k-count keeps the key's protection cheap for a test.)
func initLockedPass(t *testing.T, s *sandbox) {
	t.Helper()
	gnupg := filepath.Join(s.home, ".gnupg")
	if err := os.MkdirAll(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gnupg, "gpg-agent.conf"), []byte("s2k-count 65536\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.runCmd(exec.Command("gpgconf", "--kill", "gpg-agent"), nil, "") })
	s.tool("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "locked away", "--quick-gen-key", "vkc e2e locked <locked@example.com>", "future-default", "default", "never")
	s.tool("pass", "init", "locked@example.com")
	s.tool("gpgconf", "--kill", "gpg-agent")
}

// TestAutoGoesOnPastLockedBackends: `store --keyring auto` proves each
// backend with a round trip and goes on past one that is set up but
// locked: without D-Bus, past pass whose key nobody unlocked, to keyctl;
// with the Secret Service locked too, past both. When the kernel keyring
// is blocked as well (a seccomp filter, as a container's), it exits 6
// naming each backend and why.
func TestAutoGoesOnPastLockedBackends(t *testing.T) {
	needKeystone(t)
	args := func(p string) []string {
		return []string{"store", "--profile", p, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID, "--username", ks.Username,
			"--user-domain-name", ks.Domain, "--password-stdin", "--no-verify", "--keyring-timeout", "5s"}
	}

	t.Run("no D-Bus", func(t *testing.T) {
		s := newSandbox(t)
		s.withoutBus()
		initLockedPass(t, s)
		r := s.run(nil, ks.Password, args(s.profileName("lockedpass"))...)
		if r.code != 0 || !strings.Contains(r.stdout, `"keyring":"keyctl"`) {
			t.Fatalf("auto with pass locked: %s", r)
		}
	})

	t.Run("all locked", func(t *testing.T) {
		s := newSandbox(t)
		initLockedPass(t, s)
		keyringLock(t, "lock")
		t.Cleanup(func() { keyringLock(t, "unlock") })
		r := s.run(nil, ks.Password, args(s.profileName("lockedboth"))...)
		if r.code != 0 || !strings.Contains(r.stdout, `"keyring":"keyctl"`) {
			t.Fatalf("auto with the Secret Service and pass locked: %s", r)
		}

		r = s.runWithoutKeyctl(ks.Password, args(s.profileName("lockedall"))...)
		wantError(t, r, 6, "keyring_unavailable", true, "no keychain backend can be used here")
		for _, why := range []string{"os: write: ", "pass: read back: ", "keyctl: keychain unavailable: not set up here: "} {
			if !strings.Contains(r.stderr, why) {
				t.Errorf("the error does not say %q: %s", why, r.stderr)
			}
		}
		if strings.Contains(r.stdout+r.stderr, ks.Password) {
			t.Fatal("the password appears in the output")
		}
	})
}
