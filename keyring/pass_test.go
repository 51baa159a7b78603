package keyring

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPassCommandKeepsTheSecretOffArgv builds the child of each call: the
// secret is nowhere in its argv or environment, and is all of a write's
// stdin.
func TestPassCommandKeepsTheSecretOffArgv(t *testing.T) {
	const secret = "hunter2-in-argv?"
	t.Setenv("OS_PASSWORD", secret)
	t.Setenv("PASSWORD_STORE_DIR", "/somewhere")
	for what, want := range map[op][]string{
		opRead:   {"show", "vkc-credential/prod"},
		opWrite:  {"insert", "--multiline", "--force", "vkc-credential/prod"},
		opDelete: {"rm", "--force", "vkc-credential/prod"},
	} {
		cmd := passCommand(context.Background(), "/usr/bin/pass", what, "vkc-credential/prod", secret)
		if !slices.Equal(cmd.Args[1:], want) {
			t.Errorf("%s: argv %q, want %q", what, cmd.Args[1:], want)
		}
		for _, s := range append(cmd.Args, cmd.Env...) {
			if strings.Contains(s, secret) {
				t.Errorf("%s: the secret is in %q", what, s)
			}
		}
		if !slices.Contains(cmd.Env, "PASSWORD_STORE_DIR=/somewhere") {
			t.Errorf("%s: the environment must reach pass", what)
		}
		switch {
		case what == opWrite:
			in, _ := io.ReadAll(cmd.Stdin)
			if string(in) != secret {
				t.Errorf("write: stdin %q, want the secret", in)
			}
		case cmd.Stdin != nil:
			t.Errorf("%s: stdin must be /dev/null", what)
		}
	}
}

func TestPassEntry(t *testing.T) {
	for item, want := range map[string]string{
		"prod":                 "vkc-credential/prod",
		".probe":               "vkc-credential/.probe",
		"..":                   "vkc-credential/%2E%2E",
		"a/../../b":            "vkc-credential/a%2F..%2F..%2Fb",
		"https://h/v3 users x": "vkc-credential/https:%2F%2Fh%2Fv3%20users%20x",
	} {
		if got, err := passEntry(item); err != nil || got != want {
			t.Errorf("passEntry(%q) = %q, %v; want %q", item, got, err, want)
		}
	}
	if _, err := passEntry(strings.Repeat("é", 90)); err == nil {
		t.Error("an entry whose file name exceeds 255 bytes must be refused")
	}
}

func TestPassError(t *testing.T) {
	// A store that is not initialised: the steps that set one up.
	store := t.TempDir()
	t.Setenv("PASSWORD_STORE_DIR", store)
	err := passError(opWrite, "vkc-credential/prod", "Error: You must run: /usr/bin/pass init your-gpg-id before you may use the password store.")
	if !errors.Is(err, ErrNotSetUp) || !strings.Contains(err.Error(), "`"+passMakeKey+"`, then `"+passInit+"`") {
		t.Errorf("not initialised: %v", err)
	}

	if err := os.WriteFile(filepath.Join(store, ".gpg-id"), []byte("someone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what op
		said string
		is   error
		says string
	}{
		{opRead, "Error: vkc-credential/prod is not in the password store.", ErrNotFound, ""},
		{opDelete, "Error: vkc-credential/prod is not in the password store.", ErrNotFound, ""},
		{opRead, "gpg: public key decryption failed: No pinentry; gpg: decryption failed: No secret key", ErrUnavailable, "`" + passPrimeAgent + "`"},
		{opWrite, "gpg: nobody@example.com: skipped: No public key; gpg: [stdin]: encryption failed: No public key", ErrUnavailable, "gpg --list-secret-keys"},
		{opRead, "/usr/bin/pass: line 12: gpg: command not found", ErrUnavailable, "apt-get install gnupg"},
		{opDelete, "rm: cannot remove 'x': Read-only file system", ErrUnavailable, "Read-only file system"},
	} {
		err := passError(c.what, "vkc-credential/prod", c.said)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.says) || strings.Contains(err.Error(), "--keyring") {
			t.Errorf("passError(%s, %q) = %v", c.what, c.said, err)
		}
	}
	// The hint to prime gpg-agent names no entry's file: the entry read may
	// be one that is gone by the time anyone reads the hint.
	err = passError(opRead, "vkc-credential/.roundtrip-3bf938de", "gpg: decryption failed: No secret key")
	if strings.Contains(err.Error(), ".roundtrip-3bf938de.gpg") || strings.Contains(err.Error(), "pass show") {
		t.Errorf("the hint names a file or an entry: %v", err)
	}
}

func TestReason(t *testing.T) {
	got := reason([]byte("gpg: \x1b[31mbad\x1b[0m\r\n\n  line two hunter2\t!\n\xff"), "hunter2")
	if want := "gpg: [31mbad [0m; line two [secret] !; ?"; got != want {
		t.Fatalf("reason = %q, want %q", got, want)
	}
	long := reason([]byte(strings.Repeat("é", maxPassStderr)), "")
	if len(long) > maxPassReason+len("…") || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "éé") {
		t.Fatalf("a long stderr must be cut on a character boundary: %q", long)
	}
}

func TestPassRefusesLineBreaks(t *testing.T) {
	err := pass{}.Set("prod", "first\nsecond")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "line break") {
		t.Fatalf("Set of a two-line secret: %v", err)
	}
}
