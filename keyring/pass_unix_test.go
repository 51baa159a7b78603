//go:build !windows

package keyring

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testKeyUID = "vkc-credential test <test@vkc-credential.invalid>"

// passStore makes a throwaway gpg home with one key (protected by
// passphrase when it is not empty) and a pass store initialised for it, in
// a temp dir this test's environment points at. Its gpg-agent has a
// pinentry that never answers, as when nobody is there to type; the agent
// is stopped when the test ends.
func passStore(t *testing.T, passphrase string) (pass, string) {
	t.Helper()
	for _, tool := range []string{"pass", "gpg", "gpgconf"} {
		_, err := exec.LookPath(tool)
		need(t, tool+" (Debian: pass, gnupg)", err)
	}
	dir := t.TempDir()
	home, store := filepath.Join(dir, "gnupg"), filepath.Join(dir, "store")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GNUPGHOME", home)
	t.Setenv("PASSWORD_STORE_DIR", store)
	for _, v := range []string{"GPG_TTY", "DISPLAY", "WAYLAND_DISPLAY"} {
		t.Setenv(v, "")
	}
	pinentry := filepath.Join(dir, "pinentry")
	if err := os.WriteFile(pinentry, []byte("#!/bin/sh\n# answers nothing, and ends when gpg-agent hangs up\nwhile read -r _; do :; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "gpg-agent.conf"), []byte("pinentry-program "+pinentry+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--kill", "gpg-agent").Run() })
	run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase,
		"--quick-gen-key", testKeyUID, "future-default", "default", "never")
	run("gpgconf", "--kill", "gpg-agent") // forget the passphrase, if any
	run("pass", "init", "test@vkc-credential.invalid")
	return pass{timeout: 10 * time.Second}, store
}

func TestPassRoundTrip(t *testing.T) {
	p, store := passStore(t, "")
	const secret = `pä ss "wörd' $(id) ` + "\t1 "
	item := "prod"
	if _, err := p.Get(item); err != ErrNotFound {
		t.Fatalf("Get of a missing entry: %v", err)
	}
	if err := p.Delete(item); err != ErrNotFound {
		t.Fatalf("Delete of a missing entry: %v", err)
	}
	if err := p.Set(item, secret); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(store, "vkc-credential", "prod.gpg")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the entry's file: %v", err)
	}
	if bytes.Contains(data, []byte("wörd")) {
		t.Fatal("the entry's file holds the plaintext")
	}
	if got, err := p.Get(item); err != nil || got != secret {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := p.Set(item, "second"); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Get(item); err != nil || got != "second" {
		t.Fatalf("Set must replace: Get = %q, %v", got, err)
	}
	if err := p.Delete(item); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the entry's file after Delete: %v", err)
	}
	if _, err := p.Get(item); err != ErrNotFound {
		t.Fatalf("Get after Delete: %v", err)
	}

	// An item that looks like a path stays one entry inside our folder.
	if err := p.Set("../../x", "y"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(store, "vkc-credential", "..%2F..%2Fx.gpg")); err != nil {
		t.Fatalf("the entry of ../../x: %v", err)
	}
	if err := p.Delete("../../x"); err != nil {
		t.Fatal(err)
	}
	if err := RoundTrip(p); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
}

// TestAutoPicksPass: without a session bus, an initialised pass store wins
// over the kernel keyring.
func TestAutoPicksPass(t *testing.T) {
	passStore(t, "")
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		t.Skip("this machine has a per-user bus socket")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	s, name, skipped, err := Auto(5 * time.Second)
	if err != nil || name != "pass" || s == nil || len(skipped) != 1 || !strings.HasPrefix(skipped[0].Error(), "os: ") {
		t.Fatalf("Auto = %v, %q, %v, %v", s, name, skipped, err)
	}
	if d := Describe("pass"); !strings.Contains(d, os.Getenv("PASSWORD_STORE_DIR")) {
		t.Fatalf("Describe(pass) = %q: it must name the store", d)
	}
}

// TestPassNobodyTypesThePassphrase: the key has a passphrase, gpg-agent has
// none cached and its pinentry never answers. Get must give up with a
// timeout and a hint, and leave no pass or gpg running.
func TestPassNobodyTypesThePassphrase(t *testing.T) {
	p, store := passStore(t, "a passphrase nobody types")
	if err := p.Set("prod", "s3cr3t-value"); err != nil { // encrypting needs no passphrase
		t.Fatal(err)
	}
	p.timeout = 2 * time.Second
	_, err := p.Get("prod")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "`"+passPrimeAgent+"`") {
		t.Fatalf("Get: %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("the error shows the secret: %v", err)
	}
	// The process group was killed: nothing runs with the entry's path in
	// its command line (gpg-agent, started by gpg, lives on in its own
	// session, as it always does).
	for i := 0; i < 100; i++ {
		left := running(filepath.Join(store, "vkc-credential", "prod.gpg"), "vkc-credential/prod")
		if len(left) == 0 {
			return
		}
		if i == 99 {
			t.Fatalf("still running after the timeout: %q", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// running lists the command lines of live processes that mention any of
// marks.
func running(marks ...string) []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 { // gone, or a zombie
			continue
		}
		cmdline := strings.ReplaceAll(string(b), "\x00", " ")
		for _, m := range marks {
			if strings.Contains(cmdline, m) {
				found = append(found, cmdline)
				break
			}
		}
	}
	return found
}

func TestPassMissingTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for name, err := range map[string]error{
		"Get":    func() error { _, err := (pass{}).Get("prod"); return err }(),
		"Set":    pass{}.Set("prod", "secret"),
		"Delete": pass{}.Delete("prod"),
		"ready":  passReady(Config{}),
	} {
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "install the pass package (Debian: apt-get install pass)") {
			t.Errorf("%s without pass: %v", name, err)
		}
	}

	// pass without gpg
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "pass"), []byte("#!/bin/sh\nexit 99\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	if _, err := (pass{}).Get("prod"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "apt-get install gnupg") {
		t.Errorf("Get without gpg: %v", err)
	}
}

func TestPassNotInitialised(t *testing.T) {
	_, err := exec.LookPath("pass")
	need(t, "pass (Debian: pass)", err)
	_, err = exec.LookPath("gpg")
	need(t, "gpg (Debian: gnupg)", err)
	t.Setenv("PASSWORD_STORE_DIR", t.TempDir())
	if err := passReady(Config{}); !errors.Is(err, ErrNotSetUp) || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not initialised") {
		t.Fatalf("ready: %v", err)
	}
	if err := (pass{timeout: 10 * time.Second}).Set("prod", "secret"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "pass init") {
		t.Fatalf("Set: %v", err)
	}
}
