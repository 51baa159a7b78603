package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
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
		"--username", ks.Username, "--password-stdin", "--no-verify", "--keyring-timeout", "5s")
	wantError(t, r, 6, "keyring_unavailable", true, "unlocked")
	if strings.Contains(r.stdout+r.stderr, ks.Password) {
		t.Fatal("the password appears in the output")
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
