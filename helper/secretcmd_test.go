//go:build !windows

package helper

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/internal/shellcmd"
	"vkc-credential/keyring"
)

// secretCommand returns a secret command that prints output (kept in a
// file of its own, 0600) and appends a line to runs each time it runs.
func secretCommand(t *testing.T, output string) (command, runs string) {
	t.Helper()
	dir := t.TempDir()
	file, runs := filepath.Join(dir, "secret"), filepath.Join(dir, "runs")
	if err := os.WriteFile(file, []byte(output), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("echo run >> '%s'; cat '%s'", runs, file), runs
}

// runCount is how often the command of secretCommand ran.
func runCount(t *testing.T, runs string) int {
	t.Helper()
	data, err := os.ReadFile(runs)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "run\n")
}

// getOptions are the options of a get of the stored profile name, as the
// command line makes them.
func (w *storeWorld) getOptions(t *testing.T, name string) GetOptions {
	t.Helper()
	p := w.profile(t, name)
	s, err := Resolve(Sources{Stored: &p.Settings})
	if err != nil {
		t.Fatal(err)
	}
	return GetOptions{Profile: name, Settings: s, Keyring: p.Keyring, SecretCommand: p.SecretCommand}
}

// untouched fails unless no keychain backend was asked anything.
func (w *storeWorld) untouched(t *testing.T) {
	t.Helper()
	for name, kr := range w.krs {
		if kr.Gets != 0 || len(kr.Items) != 0 {
			t.Fatalf("backend %s was read %d times and holds %v", name, kr.Gets, kr.Items)
		}
	}
	if w.autos != 0 {
		t.Fatal("a keychain backend was chosen")
	}
}

// noFileHolds fails when a file under the world's directories holds secret.
func (w *storeWorld) noFileHolds(t *testing.T, secret string) {
	t.Helper()
	for _, dir := range []string{w.h.Paths.ConfigDir, w.h.Paths.CacheDir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if data, _ := os.ReadFile(path); strings.Contains(string(data), secret) {
					t.Errorf("%s holds the secret", path)
				}
			}
			return nil
		})
	}
}

// TestSecretCommandStoreAndGet: a profile stored with a secret command
// keeps nothing in a keychain (none is even asked); store runs the command
// once to verify; a cached get runs nothing; 20 parallel cold gets run it
// once; the secret is in no file.
func TestSecretCommandStoreAndGet(t *testing.T) {
	w := newStoreWorld(t)
	command, runs := secretCommand(t, alicePW+"\n")
	r := w.request(t, "dev", Settings{ProjectID: dev.ID}, "")
	r.SecretCommand = command
	out := w.store(t, r)
	res := out.Stored[0]
	if !res.Verified || !res.SecretSent || res.Keyring != "" || res.SecretCommand != command || runCount(t, runs) != 1 {
		t.Fatalf("outcome %+v, %d runs", res, runCount(t, runs))
	}
	if p := w.profile(t, "dev"); p.SecretCommand != command || p.Keyring != "" || p.v10 {
		t.Fatalf("profile %+v", p)
	}
	w.untouched(t)

	o := w.getOptions(t, "dev")
	if tok, err := w.h.Get(context.Background(), o); err != nil || !tok.Cached || runCount(t, runs) != 1 {
		t.Fatalf("cached get: %v (cached %v), %d runs", err, tok != nil && tok.Cached, runCount(t, runs))
	}
	if err := os.RemoveAll(w.h.Paths.CacheDir); err != nil {
		t.Fatal(err)
	}
	posts := w.cloud.Count(http.MethodPost, "/v3/auth/tokens")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = w.h.Get(context.Background(), o) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := runCount(t, runs); n != 2 || w.cloud.Count(http.MethodPost, "/v3/auth/tokens") != posts+1 {
		t.Fatalf("20 cold gets ran the command %d times (want one more than 1) and posted %d times", n, w.cloud.Count(http.MethodPost, "/v3/auth/tokens")-posts)
	}
	w.untouched(t)
	w.noFileHolds(t, alicePW)

	list, err := w.h.List()
	if err != nil || len(list) != 1 || list[0].SecretCommand != command || list[0].Keyring != "" || list[0].KeyringItem != "" {
		t.Fatalf("list %+v, %v", list, err)
	}
	// Erase touches no keychain: it works with every backend failing.
	for _, kr := range w.krs {
		kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable)
	}
	if res, err := w.h.Erase(context.Background(), EraseOptions{Profile: "dev"}); err != nil || res.PasswordRemoved || res.SecretLeft != nil {
		t.Fatalf("erase: %+v, %v", res, err)
	}
}

// TestSecretCommandFailures: a command that fails, hangs, prints nothing
// or more than one line is a *SecretCommandError that stands for a
// keychain that does not answer; nothing reaches Keystone. One trailing
// newline, "\n" or "\r\n", is not part of the secret.
func TestSecretCommandFailures(t *testing.T) {
	w := newStoreWorld(t)
	w.h.KeyringTimeout = 500 * time.Millisecond
	r := w.request(t, "dev", Settings{ProjectID: dev.ID}, "")
	r.SecretCommand, r.Verify = "false", false
	w.store(t, r)
	for _, tt := range []struct {
		name, command string
		kind          error // nil: it works
		said          string
		lines         bool
	}{
		{"fails", `printf 'gpg: \033[31mdecryption failed\033[0m\nmore\n' >&2; exit 2`, shellcmd.ErrFailed, "gpg: \x1b[31mdecryption failed\x1b[0m", false},
		{"hangs", `sleep 100`, shellcmd.ErrTimeout, "", false},
		{"prints nothing", `echo`, errNoSecretPrinted, "", false},
		{"prints a pass entry whole", fmt.Sprintf(`printf '%%s\nurl: https://example.com\n' %q`, alicePW), errSecretLines, "", true},
		{"prints too much", `yes`, shellcmd.ErrTooMuchOutput, "", false},
		{"newline", fmt.Sprintf(`printf '%%s\n' %q`, alicePW), nil, "", false},
		{"CRLF", fmt.Sprintf(`printf '%%s\r\n' %q`, alicePW), nil, "", false},
		{"no newline", fmt.Sprintf(`printf '%%s' %q`, alicePW), nil, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(w.h.Paths.CacheDir)
			o := w.getOptions(t, "dev")
			o.SecretCommand = tt.command
			posts := w.cloud.Count(http.MethodPost, "/v3/auth/tokens")
			_, err := w.h.Get(context.Background(), o)
			if tt.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *SecretCommandError
			if !errors.As(err, &e) || !errors.Is(err, tt.kind) || !errors.Is(err, keyring.ErrUnavailable) || e.Profile != "dev" {
				t.Fatalf("error %v; want a *SecretCommandError of %v", err, tt.kind)
			}
			if timedOut := errors.Is(err, keyring.ErrTimeout); timedOut != (tt.kind == shellcmd.ErrTimeout) {
				t.Fatalf("matches keyring.ErrTimeout: %v", timedOut)
			}
			if e.Said() != tt.said || e.PrintedLines() != tt.lines {
				t.Fatalf("said %q, printed lines %v", e.Said(), e.PrintedLines())
			}
			if strings.Contains(err.Error(), alicePW) || strings.Contains(err.Error(), "url:") {
				t.Fatalf("the error shows what the command printed: %v", err)
			}
			if w.cloud.Count(http.MethodPost, "/v3/auth/tokens") != posts {
				t.Fatal("keystone was called")
			}
		})
	}
}

// TestSecretCommandSwitches: a profile moves from a keychain to a command
// and back. Its copy in the keychain goes only when no other profile of the
// identity uses it there; a store that names nothing keeps the command
// (and a new identity drops it); a backend named, or a password given,
// moves the secret back into a keychain.
func TestSecretCommandSwitches(t *testing.T) {
	w := newStoreWorld(t)
	w.store(t, w.request(t, "dev", Settings{ProjectID: dev.ID}, alicePW))
	w.store(t, w.request(t, "prod", Settings{ProjectID: prod.ID}, ""))
	item := secretItem(w.profile(t, "dev").Settings)
	command, runs := secretCommand(t, alicePW+"\n")

	r := w.request(t, "dev", Settings{}, "")
	r.SecretCommand = command
	w.store(t, r)
	if w.krs["os"].Items[item] != alicePW {
		t.Fatal("the copy prod uses was deleted")
	}
	r.Profile = "prod"
	w.store(t, r)
	if len(w.krs["os"].Items) != 0 {
		t.Fatalf("os still holds %v, which no profile uses", w.krs["os"].Items)
	}

	// A store that names nothing keeps the command, and runs it to verify.
	w.store(t, w.request(t, "prod", Settings{ProjectID: stage.ID}, ""))
	if p := w.profile(t, "prod"); p.SecretCommand != command || p.ProjectID != stage.ID || runCount(t, runs) != 3 {
		t.Fatalf("profile %+v after %d runs", p, runCount(t, runs))
	}

	// A backend named: the secret is asked for, as for a new profile (the
	// identity has no stored copy), and kept there.
	r = w.request(t, "prod", Settings{}, alicePW)
	r.Keyring = "pass"
	w.warns = nil
	out := w.store(t, r)
	if p := w.profile(t, "prod"); p.SecretCommand != "" || p.Keyring != "pass" || w.krs["pass"].Items[item] != alicePW || out.Stored[0].Keyring != "pass" {
		t.Fatalf("profile %+v, pass %v", p, w.krs["pass"].Items)
	}
	if len(w.warns) != 1 || !strings.Contains(w.warns[0], "profile prod no longer runs its secret command: its password is kept in pass") {
		t.Fatalf("warnings %q", w.warns)
	}
	// A password given: into the keychain auto chooses, and every copy.
	r = w.request(t, "dev", Settings{}, "")
	r.Secret = alicePW
	w.store(t, r)
	if p := w.profile(t, "dev"); p.SecretCommand != "" || p.Keyring != "os" || w.krs["os"].Items[item] != alicePW {
		t.Fatalf("profile %+v", p)
	}

	// A new identity does not inherit the old one's command.
	addUser(w.cloud, "bob", bobPW, dev)
	r = w.request(t, "dev", Settings{}, "")
	r.SecretCommand = command
	w.store(t, r)
	w.store(t, w.request(t, "dev", Settings{Username: "bob"}, bobPW))
	if p := w.profile(t, "dev"); p.SecretCommand != "" || p.Username != "bob" {
		t.Fatalf("profile %+v", p)
	}
}

// TestSecretCommandRejected: Keystone refuses what the command printed:
// the *RejectedError says so, at a first store (nothing saved) and at a
// get.
func TestSecretCommandRejected(t *testing.T) {
	w := newStoreWorld(t)
	command, _ := secretCommand(t, "not alice's password\n")
	r := w.request(t, "dev", Settings{ProjectID: dev.ID}, "")
	r.SecretCommand = command
	_, err := w.h.Store(context.Background(), r)
	var rej *RejectedError
	if !errors.As(err, &rej) || !rej.FromCommand || !rej.FirstStore || rej.Cause != RejectSecret {
		t.Fatalf("store: %v (%+v)", err, rej)
	}
	if _, err := w.h.Paths.LoadProfile("dev"); !errors.Is(err, ErrProfileNotFound) {
		t.Fatalf("a refused store saved the profile: %v", err)
	}
	r.Verify = false
	w.store(t, r)
	_, err = w.h.Get(context.Background(), w.getOptions(t, "dev"))
	if !errors.As(err, &rej) || !rej.FromCommand || rej.Profile != "dev" {
		t.Fatalf("get: %v", err)
	}
	w.untouched(t)
}

// TestSecretCommandAllProjectsAndApplicationCredential: --all-projects
// runs the command once for the listing and gives every profile the
// command; an application credential's secret comes from a command too.
func TestSecretCommandAllProjectsAndApplicationCredential(t *testing.T) {
	w := newStoreWorld(t)
	command, runs := secretCommand(t, alicePW+"\n")
	r := w.request(t, "", Settings{}, "")
	r.AllProjects, r.SecretCommand = true, command
	out := w.store(t, r)
	if len(out.Stored) != 3 || runCount(t, runs) != 1 {
		t.Fatalf("outcome %+v, %d runs", out, runCount(t, runs))
	}
	for _, res := range out.Stored {
		if p := w.profile(t, res.Profile); p.SecretCommand != command || p.Keyring != "" {
			t.Fatalf("profile %s: %+v", res.Profile, p)
		}
	}
	w.untouched(t)

	w.cloud.AddAppCred(keystonetest.AppCred{ID: "ac1", Name: "ci", Secret: "ac secret", User: "alice", Project: prod.ID})
	command, runs = secretCommand(t, "ac secret\n")
	r = w.request(t, "ci", Settings{ApplicationCredentialID: "ac1"}, "")
	r.Sources.Flags.Username, r.SecretCommand = "", command
	if out := w.store(t, r); out.Stored[0].Settings.ProjectID != prod.ID || runCount(t, runs) != 1 {
		t.Fatalf("outcome %+v", out.Stored[0])
	}
	os.RemoveAll(w.h.Paths.CacheDir)
	if tok, err := w.h.Get(context.Background(), w.getOptions(t, "ci")); err != nil || tok.Cached || runCount(t, runs) != 2 {
		t.Fatalf("get: %v", err)
	}
	w.untouched(t)
}
