package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// keyringLock runs scripts/keyring-lock.sh (lock, unlock or status).
func keyringLock(t *testing.T, action string) {
	t.Helper()
	script := os.Getenv("VKC_E2E_KEYRING_LOCK")
	if script == "" {
		t.Fatal("VKC_E2E_KEYRING_LOCK is not set: run through scripts/test-env.sh")
	}
	if out, err := exec.Command("bash", script, action).CombinedOutput(); err != nil {
		t.Fatalf("keyring-lock.sh %s: %v\n%s", action, err, out)
	}
}

func TestLockedKeychain(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("locked")
	s.store(profile)
	want := decodeToken(t, s.must("", "get", "--profile", profile)).Token

	keyringLock(t, "lock")
	t.Cleanup(func() { keyringLock(t, "unlock") })

	// A cached get needs no keychain: a locked one does not matter.
	if got := decodeToken(t, s.must("", "get", "--profile", profile)); !got.Cached || got.Token != want {
		t.Fatal("a cached get failed with the keychain locked")
	}
	// Anything that needs the password fails with 6 and says what to do.
	r := s.run(nil, "", "get", "--profile", profile, "--refresh", "--keyring-timeout", "5s")
	wantError(t, r, 6, "keyring_unavailable", true, "unlocked")
	r = s.run(nil, ks.Password, "store", "--profile", profile+"-2", "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--password-stdin", "--no-verify", "--keyring-timeout", "5s", "--keyring", "os")
	wantError(t, r, 6, "keyring_unavailable", true, "unlocked")
	if strings.Contains(r.stdout+r.stderr, ks.Password) {
		t.Fatal("the password appears in the output")
	}
	// auto passes over the locked keychain to one that works, and says so.
	auto := s.profileName("locked-auto")
	r = s.run(nil, ks.Password, "store", "--profile", auto, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", ks.Username, "--password-stdin", "--no-verify", "--keyring-timeout", "5s")
	if r.code != 0 || strings.Contains(r.stdout, `"keyring":"os"`) || !strings.Contains(r.stderr, "is kept in") {
		t.Fatalf("auto with the keychain locked: %s", r)
	}
	// The failed refresh left the good token in place.
	if got := decodeToken(t, s.must("", "get", "--profile", profile)); got.Token != want {
		t.Fatal("the cached token was lost")
	}
	keyringLock(t, "unlock")
	if got := decodeToken(t, s.must("", "get", "--profile", profile, "--refresh")); got.Cached {
		t.Fatal("--refresh after unlocking did not issue a token")
	}
}

// TestKeychainFaults: no D-Bus session, a session with no Secret Service,
// and a keychain daemon that stops answering all end in exit 6 within the
// keyring timeout, with a hint, and lose nothing.
func TestKeychainFaults(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("kcfault")
	s.store(profile)
	want := decodeToken(t, s.must("", "get", "--profile", profile)).Token
	refresh := []string{"get", "--profile", profile, "--refresh", "--keyring-timeout", "3s"}

	t.Run("no D-Bus session", func(t *testing.T) {
		env := []string{"DBUS_SESSION_BUS_ADDRESS="}
		wantError(t, s.run(env, "", refresh...), 6, "keyring_unavailable", true, "dbus-run-session")
	})
	t.Run("no Secret Service", func(t *testing.T) {
		// A bus of its own, with nothing on it.
		out, err := exec.Command("dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1", "--nopidfile").Output()
		if err != nil {
			t.Fatalf("dbus-daemon: %v", err)
		}
		lines := strings.Fields(string(out))
		if len(lines) < 2 {
			t.Fatalf("dbus-daemon printed %q", out)
		}
		defer exec.Command("kill", lines[1]).Run()
		// DBUS_SESSION_BUS_ADDRESS decides; a bus with no secrets service
		// must not start one (gnome-keyring's D-Bus activation file would).
		env := []string{"DBUS_SESSION_BUS_ADDRESS=" + lines[0], "XDG_DATA_DIRS=" + t.TempDir()}
		wantError(t, s.run(env, "", refresh...), 6, "keyring_unavailable", true, "Secret Service")
	})
	t.Run("daemon stops answering", func(t *testing.T) {
		pid := os.Getenv("VKC_E2E_KEYRING_PID")
		if pid == "" {
			t.Fatal("VKC_E2E_KEYRING_PID is not set")
		}
		if err := exec.Command("kill", "-STOP", pid).Run(); err != nil {
			t.Fatal(err)
		}
		defer exec.Command("kill", "-CONT", pid).Run()
		start := time.Now()
		r := s.run(nil, "", refresh...)
		elapsed := time.Since(start)
		exec.Command("kill", "-CONT", pid).Run()
		wantError(t, r, 6, "keyring_unavailable", true, "did not answer")
		if elapsed > 3*time.Second+5*time.Second {
			t.Fatalf("took %s with --keyring-timeout 3s", elapsed)
		}
	})
	if got := decodeToken(t, s.must("", "get", "--profile", profile)); got.Token != want {
		t.Fatal("the cached token was lost")
	}
	if pw, ok := secretToolLookup(t, e2eItem()); !ok || pw != ks.Password {
		t.Fatal("the stored password was lost")
	}
}
