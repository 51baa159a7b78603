package cmdline

import (
	"errors"
	"strings"
	"testing"

	"vkc-credential/helper"
)

func TestInteractiveAllowed(t *testing.T) {
	for info, want := range map[string]bool{
		"": true,
		`{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`:  true,
		`{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`: false,
		`{"apiVersion":"client.authentication.k8s.io/v1beta1"}`:                         false,
		`not json`: false,
	} {
		if got := interactiveAllowed(info); got != want {
			t.Errorf("interactiveAllowed(%q) = %t, want %t", info, got, want)
		}
	}
}

func TestPasscodeCommand(t *testing.T) {
	t.Setenv("OS_PASSWORD", "hunter2")
	for _, tt := range []struct {
		command, want, wantErr string
	}{
		{"echo 123456", "123456", ""},
		{"printf '654321\\nsecond line\\n'", "654321", ""},
		{"echo '  987654  '", "987654", ""},
		{"printf %s \"$OS_PASSWORD\"", "", "no passcode"}, // the password is not in the command's environment
		{"exit 3", "", "failed (exit status 3)"},
		// The first line of its stderr, escaped (a terminal title change
		// and a right-to-left override stay inert).
		{"printf '\\n  \\033]0;x\\007 bad \\342\\200\\256seed\\nmore\\n' >&2; exit 1", "", `failed (exit status 1) (it said: \x1b]0;x\x07 bad \u202eseed)`},
		// Issue 15 item 7: a child that keeps the pipe open no longer
		// holds us (nor the token lock) until it ends; a flood of output
		// is cut.
		{"echo 123456; sleep 1000 &", "", "kept its output open"},
		{"yes 123456", "", "printed more than 65536 bytes"},
		{"echo", "", "no passcode"},
		{"printf 'a\\tb'", "", "characters no passcode has"},
	} {
		got, err := runPasscodeCommand(tt.command)
		if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: %q, %v; want %q, %q", tt.command, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, errPasscodeCommand) {
			t.Errorf("%q: %v does not match errPasscodeCommand", tt.command, err)
		}
	}
}

// TestNoPasscodeWithoutATerminal: kubectl saying not interactive means no
// prompt, and the answer is exit 7 with what to do.
func TestNoPasscodeWithoutATerminal(t *testing.T) {
	t.Setenv("KUBERNETES_EXEC_INFO", `{"spec":{"interactive":false}}`)
	noAskpass(t)
	inv := newInvocation(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	inv.profile = "prod"
	inv.readTTY = func(string) (string, error) { t.Fatal("the terminal was used"); return "", nil }
	_, err := inv.passcode("prod", helper.Settings{}, "")()
	code, msg := inv.describe(err)
	if !errors.Is(err, errNoPasscode) || code.ExitCode() != 7 || !strings.Contains(msg, "vkc-credential get --profile prod") {
		t.Fatalf("%v: %s %s", err, code, msg)
	}
}
