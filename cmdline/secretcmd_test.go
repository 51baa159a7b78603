//go:build !windows

package cmdline

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// printsFile is a secret command that prints a file holding output.
func printsFile(t *testing.T, output string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(output), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("cat '%s'", file)
}

// onlyPath makes PATH a directory with the programs named, and no other.
func onlyPath(t *testing.T, names ...string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(path, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
}

// storeArgs are the arguments of a store of profile for the fake Keystone
// with settings from flags.
func (w *world) storeArgs(profile string, extra ...string) []string {
	return append([]string{"store", "--profile", profile, "--auth-url", w.ks.URL + "/v3", "--project-id", "p1", "--username", "u@example.com"}, extra...)
}

// TestStoreSecretCommandRefusals: what does not go with --secret-command
// is refused with exit 2, naming both, before a keychain, the command or
// Keystone is asked anything.
func TestStoreSecretCommandRefusals(t *testing.T) {
	w := newWorld(t)
	for _, kr := range w.krs {
		kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable)
	}
	ran := filepath.Join(t.TempDir(), "ran")
	command := "touch '" + ran + "'; echo pw"
	acOpenRC := filepath.Join(t.TempDir(), "ac.sh")
	os.WriteFile(acOpenRC, []byte("export OS_AUTH_TYPE=v3applicationcredential\nexport OS_AUTH_URL="+w.ks.URL+"/v3\n"+
		"export OS_APPLICATION_CREDENTIAL_ID=ac1\nexport OS_APPLICATION_CREDENTIAL_SECRET=s3cret\n"), 0o600)
	for _, tt := range []struct {
		name, stdin string
		env         []string
		args        []string
		says        string
	}{
		{"password-stdin", testPassword, nil, w.storeArgs("a", "--secret-command", command, "--password-stdin"), "--password-stdin and --secret-command both give the password"},
		{"request password", `{"password":"x"}`, nil, w.storeArgs("a", "--secret-command", command), `the request's "password" and --secret-command`},
		{"keyring", "", nil, w.storeArgs("a", "--secret-command", command, "--keyring", "pass"), "--keyring pass (or VKC_KEYRING) does not apply"},
		{"VKC_KEYRING", "", []string{"VKC_KEYRING=keyctl"}, w.storeArgs("a", "--secret-command", command), "--keyring keyctl (or VKC_KEYRING) does not apply"},
		{"empty", "", nil, w.storeArgs("a", "--secret-command", " "), "--secret-command is empty"},
		{"openrc secret", "", nil, []string{"store", "--profile", "a", "--openrc", acOpenRC, "--secret-command", command},
			acOpenRC + " holds a application credential secret, and --secret-command gives one too"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, kv := range tt.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			r := w.run(tt.stdin, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.says) || !strings.Contains(r.stdout, `"code":"usage"`) {
				t.Fatalf("%+v; want exit 2 saying %q", r, tt.says)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Fatal("the command ran")
			}
		})
	}
	if w.posts() != 0 {
		t.Fatal("keystone was asked")
	}
}

// TestSecretCommandAtTheEdge: the answers of store and list name the
// command and no backend; a failing command exits 6 with its first stderr
// line escaped and a hint naming --secret-command; a hanging one exits 6
// naming --keyring-timeout; a refused password says the command printed
// it; doctor skips the command unless asked for the profile alone, and
// never shows what it prints.
func TestSecretCommandAtTheEdge(t *testing.T) {
	w := newWorld(t)
	for _, kr := range w.krs {
		kr.Err = fmt.Errorf("%w: locked", keyring.ErrUnavailable) // no keychain is asked
	}
	command := printsFile(t, testPassword+"\n")
	r := w.run("", w.storeArgs("p", "--secret-command", command)...)
	var answer map[string]any
	if json.Unmarshal([]byte(r.stdout), &answer); r.code != 0 || answer["secret_command"] != command || answer["keyring"] != nil || answer["verified"] != true {
		t.Fatalf("store: %+v", r)
	}
	if strings.Contains(r.stderr, "is kept in") {
		t.Fatalf("store said where the password is kept: %q", r.stderr)
	}
	var list []protocol.ProfileInfo
	if r := w.run("", "list"); json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 1 || list[0].SecretCommand != command ||
		strings.Contains(r.stdout, `"keyring`) {
		t.Fatalf("list: %+v", r)
	}

	fails := `printf 'gpg: decryption failed: \033]0;owned\007No secret key\n' >&2; exit 2`
	w.run("", w.storeArgs("p", "--secret-command", fails, "--no-verify")...)
	r = w.run("", "get", "--profile", "p", "--refresh")
	var e protocol.ErrorResponse
	if json.Unmarshal([]byte(r.stdout), &e); r.code != 6 || e.Error.Code != protocol.CodeKeyringUnavailable {
		t.Fatalf("failing command: %+v", r)
	}
	for _, want := range []string{"the secret command of profile p gave no secret: it failed (exit status 2)",
		`(it said: gpg: decryption failed: \x1b]0;owned\x07No secret key)`, "vkc-credential store --profile p --secret-command COMMAND"} {
		if !strings.Contains(r.stderr, want) || !strings.Contains(e.Error.Message, want) {
			t.Fatalf("failing command: %q lacks %q", r.stderr, want)
		}
	}
	if strings.ContainsAny(r.stderr+r.stdout, "\x1b\x07") {
		t.Fatalf("a control character reached the output: %q", r.stderr)
	}

	w.run("", w.storeArgs("p", "--secret-command", "sleep 60", "--no-verify")...)
	r = w.run("", "get", "--profile", "p", "--refresh", "--keyring-timeout", "300ms")
	if r.code != 6 || !strings.Contains(r.stderr, "it did not finish within 300ms and was stopped") || !strings.Contains(r.stderr, "raise the timeout") {
		t.Fatalf("hanging command: %+v", r)
	}

	w.run("", w.storeArgs("p", "--secret-command", "echo wrong", "--no-verify")...)
	r = w.run("", "get", "--profile", "p", "--refresh")
	if r.code != 4 || !strings.Contains(r.stderr, "check that the secret command prints the current password") || strings.Contains(r.stderr, "--password-stdin") {
		t.Fatalf("refused password: %+v", r)
	}

	w.run("", w.storeArgs("p", "--secret-command", command, "--no-verify")...)
	onlyPath(t, "sh", "cat") // no openstack, kubectl, pass: doctor's other checks are quick
	r = w.run("", "doctor")
	if !strings.Contains(r.stdout, "[SKIP] profile p: secret command: not run: it may ask you to unlock a password manager; `vkc-credential doctor --profile p` runs it") ||
		strings.Contains(r.stdout, "profile p: password in") {
		t.Fatalf("doctor: %+v", r)
	}
	r = w.run("", "doctor", "--profile", "p")
	if !strings.Contains(r.stdout, "[ OK ] profile p: secret command: it ran and printed a secret (not shown)") || strings.Contains(r.stdout+r.stderr, testPassword) {
		t.Fatalf("doctor --profile p: %+v", r)
	}
	w.run("", w.storeArgs("p", "--secret-command", fails, "--no-verify")...)
	r = w.run("", "doctor", "--profile", "p")
	if !strings.Contains(r.stdout, `[FAIL] profile p: secret command: the secret command of profile p gave no secret: it failed (exit status 2) (it said: gpg: decryption failed: \x1b]0;owned\x07No secret key)`) ||
		!strings.Contains(r.stdout, "hint: run it in a shell to see why") {
		t.Fatalf("doctor --profile p, failing: %+v", r)
	}
}
