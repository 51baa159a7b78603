package keyring

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A test binary started with childGetEnv set is the other process of
// TestKeyctlOtherSession: it reads the item named there from the keyctl
// backend and prints its session keyring and what it read.
const childGetEnv = "VKC_KEYRING_TEST_KEYCTL_GET"

func TestMain(m *testing.M) {
	if item := os.Getenv(childGetEnv); item != "" {
		session, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
		if err != nil {
			fmt.Fprintln(os.Stderr, "session keyring:", err)
			os.Exit(1)
		}
		secret, err := keyctl{timeout: 10 * time.Second}.Get(item)
		if err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			os.Exit(1)
		}
		fmt.Printf("%d\n%s", session, secret)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// kernelKeyring returns the keyctl backend, or skips (fails under
// VKC_E2E_REQUIRED) when this kernel or container does not offer the
// persistent keyring.
func kernelKeyring(t *testing.T) keyctl {
	t.Helper()
	need(t, "the kernel's persistent keyring", keyctlReady(Config{Timeout: 10 * time.Second}))
	return keyctl{timeout: 10 * time.Second}
}

// testItem returns a fresh item name, deleted again when the test ends.
func testItem(t *testing.T, s Store) string {
	item := fmt.Sprintf("keyring-test-%s-%d", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() { s.Delete(item) })
	return item
}

// keyID finds the key of item in the persistent keyring.
func keyID(t *testing.T, item string) int {
	t.Helper()
	var id int
	err := withPersistent(10*time.Second, func(ring int) (err error) {
		id, err = unix.KeyctlSearch(ring, "user", keyDescription(item), 0)
		return err
	})
	if err != nil {
		t.Fatalf("search %s: %v", item, err)
	}
	return id
}

func TestKeyctlRoundTrip(t *testing.T) {
	k := kernelKeyring(t)
	item := testItem(t, k)
	secret := `pä ss "wörd' ` + "\t1 \x00 with a NUL"
	if _, err := k.Get(item); err != ErrNotFound {
		t.Fatalf("Get of a missing item: %v", err)
	}
	if err := k.Delete(item); err != ErrNotFound {
		t.Fatalf("Delete of a missing item: %v", err)
	}
	if err := k.Set(item, secret); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(item); err != nil || got != secret {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := k.Set(item, "second"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(item); err != nil || got != "second" {
		t.Fatalf("Set must replace: Get = %q, %v", got, err)
	}
	if err := k.Delete(item); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(item); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := RoundTrip(k); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
}

// TestKeyctlPermissions reads the key's permissions back from the kernel:
// its possessor and its owner may use it, its group and others nothing.
func TestKeyctlPermissions(t *testing.T) {
	k := kernelKeyring(t)
	item := testItem(t, k)
	if err := k.Set(item, "secret"); err != nil {
		t.Fatal(err)
	}
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, keyID(t, item))
	if err != nil {
		t.Fatal(err)
	}
	// type;uid;gid;perm;description
	f := strings.SplitN(desc, ";", 5)
	if len(f) != 5 || f[0] != "user" || f[1] != strconv.Itoa(os.Getuid()) || f[4] != "vkc-credential:"+item {
		t.Fatalf("describe = %q", desc)
	}
	perm, err := strconv.ParseUint(f[3], 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	if perm&permGroupOther != 0 || perm&permPossessorAll != permPossessorAll || perm&permUserAll != permUserAll {
		t.Fatalf("permissions %08x, want %08x", perm, keyPerm)
	}
}

// TestKeyctlOtherSession stores a secret, then reads it from another
// process in a new, empty session keyring (keyctl session -): only the
// user's persistent keyring can have handed it over.
func TestKeyctlOtherSession(t *testing.T) {
	k := kernelKeyring(t)
	_, err := exec.LookPath("keyctl")
	need(t, "the keyctl command (Debian: keyutils)", err)
	item := testItem(t, k)
	if err := k.Set(item, "from another session"); err != nil {
		t.Fatal(err)
	}
	ours, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("keyctl", "session", "-", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childGetEnv+"="+item)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
	session, secret, _ := strings.Cut(string(out), "\n")
	if session == strconv.Itoa(ours) || secret != "from another session" {
		t.Fatalf("child in session %s (ours %d) read %q", session, ours, secret)
	}
}

// TestKeyctlRevoked revokes the key behind the backend's back: reading it
// is "not found", and storing again works.
func TestKeyctlRevoked(t *testing.T) {
	k := kernelKeyring(t)
	item := testItem(t, k)
	if err := k.Set(item, "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_REVOKE, keyID(t, item), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	_, err := k.Get(item)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("Get of a revoked key: %v", err)
	}
	if err := k.Set(item, "again"); err != nil {
		t.Fatalf("Set over a revoked key: %v", err)
	}
	if got, err := k.Get(item); err != nil || got != "again" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

func TestKeyctlErrors(t *testing.T) {
	for _, c := range []struct {
		what op
		err  error
		is   error
		says string
	}{
		{opRead, unix.ENOKEY, ErrNotFound, ""},
		{opDelete, unix.EKEYEXPIRED, ErrNotFound, "revoked or has expired"},
		{opWrite, unix.ENOKEY, ErrUnavailable, "write failed"},
		{opRead, fmt.Errorf("get persistent keyring: %w", unix.ENOSYS), ErrUnavailable, "seccomp"},
		{opWrite, unix.EOPNOTSUPP, ErrUnavailable, "CONFIG_PERSISTENT_KEYRINGS"},
		{opRead, unix.EACCES, ErrUnavailable, "refused"},
		{opWrite, unix.EDQUOT, ErrUnavailable, "quota"},
	} {
		err := keyctlError(c.what, c.err)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "--") {
			t.Errorf("keyctlError(%s, %v) = %v", c.what, c.err, err)
		}
	}
}

// TestAutoFallsBackToKeyctl: with no session bus and no pass, Auto keeps
// the secret in the kernel keyring and says why it passed the others over.
func TestAutoFallsBackToKeyctl(t *testing.T) {
	kernelKeyring(t)
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a per-user bus socket")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("PATH", t.TempDir())
	s, name, skipped, err := Auto(5 * time.Second)
	if err != nil || name != "keyctl" || s == nil {
		t.Fatalf("Auto = %v, %q, %v", s, name, err)
	}
	if len(skipped) != 2 || !strings.HasPrefix(skipped[0].Error(), "os: ") || !strings.Contains(skipped[1].Error(), "apt-get install pass") {
		t.Fatalf("skipped = %v", skipped)
	}
}

func TestSeconds(t *testing.T) {
	for s, want := range map[int]string{259200: "3 days", 86400: "1 day", 7200: "2 hours", 90: "90 seconds", 120: "2 minutes"} {
		if got := seconds(s); got != want {
			t.Errorf("seconds(%d) = %q, want %q", s, got, want)
		}
	}
}

// TestAutoGoesOnPastALockedPass: pass is installed and initialised, but
// its gpg key has a passphrase nobody gave gpg-agent. Auto proves pass
// with a round trip, finds that it cannot read back, and goes on to the
// kernel keyring, saying why it passed pass over.
func TestAutoGoesOnPastALockedPass(t *testing.T) {
	kernelKeyring(t)
	_, store := passStore(t, "a passphrase nobody types")
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a per-user bus socket")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if err := passReady(Config{}); err != nil {
		t.Fatalf("pass must look set up: %v", err)
	}
	s, name, skipped, err := Auto(2 * time.Second)
	if err != nil || name != "keyctl" || s == nil {
		t.Fatalf("Auto = %v, %q, %v", s, name, err)
	}
	if len(skipped) != 2 || !errors.Is(skipped[0], ErrNotSetUp) || !strings.HasPrefix(skipped[1].Error(), "pass: read back: ") {
		t.Fatalf("skipped = %v", skipped)
	}
	// The round trip cleaned up after itself.
	if left, _ := filepath.Glob(filepath.Join(store, "vkc-credential", "*.gpg")); len(left) != 0 {
		t.Fatalf("left in the store: %v", left)
	}
}
