//go:build !windows

package cmdline

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vkc-credential/helper"
	"vkc-credential/internal/keystonetest"
	"vkc-credential/internal/shellcmd"
)

// noTTY is readTTY on a machine with no terminal.
func noTTY(string) (string, error) { return "", errNoTTY }

// noAskpass clears the variables that name an askpass program, so that a
// developer's desktop session opens no dialog in a test.
func noAskpass(tb testing.TB) {
	for _, name := range []string{"VKC_ASKPASS", "SSH_ASKPASS", "DISPLAY", "WAYLAND_DISPLAY"} {
		tb.Setenv(name, "")
		os.Unsetenv(name)
	}
}

// askpassScript writes an askpass program that records its arguments and
// environment in the returned file, then runs body.
func askpassScript(t *testing.T, body string) (program, record string) {
	t.Helper()
	dir := t.TempDir()
	program, record = filepath.Join(dir, "askpass"), filepath.Join(dir, "record")
	script := "#!/bin/sh\n{ echo \"argc=$#\"; printf 'arg=%s\\n' \"$1\"; env; } >'" + record + "'\n" + body + "\n"
	if err := os.WriteFile(program, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return program, record
}

func readRecord(t *testing.T, record string) string {
	t.Helper()
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("the askpass program did not run: %v", err)
	}
	return string(data)
}

func TestAskpassProgram(t *testing.T) {
	for _, tt := range []struct {
		env           map[string]string
		program, from string
	}{
		{map[string]string{}, "", ""},
		{map[string]string{"VKC_ASKPASS": "/bin/vkc-ask"}, "/bin/vkc-ask", "VKC_ASKPASS"},
		{map[string]string{"VKC_ASKPASS": "/bin/vkc-ask", "SSH_ASKPASS": "/bin/ssh-ask", "DISPLAY": ":0"}, "/bin/vkc-ask", "VKC_ASKPASS"},
		// SSH_ASKPASS only with a display, as ssh uses it.
		{map[string]string{"SSH_ASKPASS": "/bin/ssh-ask"}, "", ""},
		{map[string]string{"SSH_ASKPASS": "/bin/ssh-ask", "DISPLAY": ":0"}, "/bin/ssh-ask", "SSH_ASKPASS"},
		{map[string]string{"SSH_ASKPASS": "/bin/ssh-ask", "WAYLAND_DISPLAY": "wayland-0"}, "/bin/ssh-ask", "SSH_ASKPASS"},
		// Set to "" is unset: a kubeconfig's exec env turns both off.
		{map[string]string{"VKC_ASKPASS": "", "SSH_ASKPASS": "", "DISPLAY": ":0"}, "", ""},
		{map[string]string{"VKC_ASKPASS": "", "SSH_ASKPASS": "/bin/ssh-ask", "DISPLAY": ":0"}, "/bin/ssh-ask", "SSH_ASKPASS"},
	} {
		program, from := askpassProgram(func(k string) string { return tt.env[k] })
		if program != tt.program || from != tt.from {
			t.Errorf("%v: %q from %q; want %q from %q", tt.env, program, from, tt.program, tt.from)
		}
	}
}

// TestRunAskpass: the program's stdout, one trailing newline dropped, is
// the answer; Cancel, a hang (killed at the bound) and a flood are no
// answer, each of its kind; the prompt is its one argument, and no OS_*
// variable reaches it.
func TestRunAskpass(t *testing.T) {
	t.Setenv("OS_PASSWORD", "pw-hunter2")
	t.Setenv("OS_TOKEN", "gAAAA-token")
	q := question{text: `Password for "alice" at keystone.example.com:5000 (profile prod): `}
	for _, tt := range []struct {
		name, body, want string
		kind             error // of the error; nil: an answer
		said             string
	}{
		{"answers", `printf '%s\n' 'pä ss "wörd'"'"' 1'`, `pä ss "wörd' 1`, nil, ""},
		{"one newline only is dropped", `printf 'pw\n\n'`, "pw\n", nil, ""},
		{"a CRLF line end is dropped", `printf 'pw\r\n'`, "pw", nil, ""},
		{"no newline", `printf pw`, "pw", nil, ""},
		{"cancelled", `echo 'Cancelled by the user' >&2; exit 1`, "", shellcmd.ErrFailed, "was cancelled (it exited with status 1) (it said: Cancelled by the user)"},
		{"another status", `exit 127`, "", shellcmd.ErrFailed, "was cancelled or failed (it exited with status 127)"},
		{"killed by a signal", `kill -9 $$`, "", shellcmd.ErrFailed, "killed"},
		{"prints too much", `yes`, "", shellcmd.ErrTooMuchOutput, "printed more than"},
		// x11-ssh-askpass's answer for "pä": Latin-1.
		{"not UTF-8", `printf 'p\344\n'`, "", errNotUTF8, "its answer is not UTF-8 text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			program, record := askpassScript(t, tt.body)
			got, err := runAskpass(context.Background(), program, "VKC_ASKPASS", q, time.Minute)
			if tt.kind == nil {
				if err != nil || got != tt.want {
					t.Fatalf("%q, %v; want %q", got, err, tt.want)
				}
			} else if !errors.Is(err, tt.kind) || !errors.As(err, new(*noAnswerError)) || !strings.Contains(err.Error(), tt.said) || got != "" {
				t.Fatalf("%q, %v; want a *noAnswerError of kind %v saying %q", got, err, tt.kind, tt.said)
			}
			rec := readRecord(t, record)
			// One argument, the prompt; a double quote in it is a single
			// quote (a Windows .cmd wrapper would end the argument there).
			if !strings.Contains(rec, "argc=1\narg=Password for 'alice' at keystone.example.com:5000 (profile prod): \n") {
				t.Errorf("the program did not get the prompt as its one argument:\n%s", rec)
			}
			if strings.Contains(rec, "OS_") || strings.Contains(rec, "hunter2") || strings.Contains(rec, "gAAAA") {
				t.Errorf("an OS_* variable reached the askpass program:\n%s", rec)
			}
		})
	}
}

// TestAskpassHangsIsKilled: an askpass program that never answers is
// stopped at the bound, with what it started, and that is no answer.
func TestAskpassHangsIsKilled(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	program, _ := askpassScript(t, `echo $$ >'`+pidFile+`'; sleep 1000 & wait`)
	_, err := runAskpass(context.Background(), program, "VKC_ASKPASS", question{text: "TOTP passcode: ", passcode: true}, time.Second)
	var noAnswer *noAnswerError
	if !errors.Is(err, shellcmd.ErrTimeout) || !errors.As(err, &noAnswer) || !noAnswer.passcode {
		t.Fatalf("%v; want a *noAnswerError of kind shellcmd.ErrTimeout", err)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pgid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	// The group was sent SIGKILL before Run returned; dying takes a moment.
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(-pgid, 0) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the askpass program's process group %d outlived its bound", pgid)
		}
	}
}

// TestStoreAsksThroughAskpass: store with no terminal takes the password
// from VKC_ASKPASS (or SSH_ASKPASS with a display), naming the host and
// the profile; a cancelled dialog and no askpass program exit 2 saying so.
func TestStoreAsksThroughAskpass(t *testing.T) {
	w := newWorld(t)
	t.Setenv("OS_PASSWORD", "hunter2") // never read, never handed on
	// Each profile its own user: a stored identity's password is not asked again.
	storeNew := func(profile string) result {
		w.ks.AddUser(keystonetest.User{Name: profile + "@example.com", Password: testPassword, AnyProject: true})
		return w.run("", "store", "--profile", profile, "--auth-url", w.ks.URL, "--project-id", "p1", "--username", profile+"@example.com")
	}
	program, record := askpassScript(t, `printf '%s\n' '`+strings.ReplaceAll(testPassword, `'`, `'"'"'`)+`'`)
	t.Setenv("VKC_ASKPASS", program)
	r := storeNew("desk")
	if r.code != 0 || !strings.Contains(r.stdout, `"verified":true`) {
		t.Fatalf("store through VKC_ASKPASS: %+v", r)
	}
	rec := readRecord(t, record)
	host := strings.TrimPrefix(w.ks.URL, "http://")
	if !strings.Contains(rec, "arg=Password for desk@example.com at "+host+" (profile desk): \n") || strings.Contains(rec, "hunter2") {
		t.Fatalf("the askpass program's argument or environment:\n%s", rec)
	}
	if !slices.Contains(slices.Collect(maps.Values(w.kr.Items)), testPassword) {
		t.Fatal("the answer is not what was stored")
	}

	cancel, _ := askpassScript(t, "exit 1")
	t.Setenv("VKC_ASKPASS", cancel)
	posts := w.posts()
	r = storeNew("cancelled")
	if r.code != 2 || !strings.Contains(r.stderr, "the askpass program "+cancel+" (from VKC_ASKPASS) gave no password: it was cancelled") ||
		!strings.Contains(r.stdout, `"code":"usage"`) || w.posts() != posts {
		t.Fatalf("a cancelled askpass: %+v", r)
	}

	// SSH_ASKPASS, only with a display.
	t.Setenv("VKC_ASKPASS", "")
	t.Setenv("SSH_ASKPASS", program)
	r = storeNew("nodisplay")
	if r.code != 2 || !strings.Contains(r.stderr, "no askpass program") || !strings.Contains(r.stderr, "set VKC_ASKPASS") ||
		!strings.Contains(r.stderr, "SSH_ASKPASS is used only when DISPLAY or WAYLAND_DISPLAY is set") {
		t.Fatalf("SSH_ASKPASS without a display: %+v", r)
	}
	os.Remove(record)
	t.Setenv("WAYLAND_DISPLAY", "wayland-0")
	if r := storeNew("ssh"); r.code != 0 || !strings.Contains(readRecord(t, record), "(profile ssh): \n") {
		t.Fatalf("store through SSH_ASKPASS: %+v", r)
	}
}

// TestTerminalFirst: with a terminal, the askpass program is not run.
func TestTerminalFirst(t *testing.T) {
	noAskpass(t)
	program, record := askpassScript(t, "echo from-askpass")
	t.Setenv("VKC_ASKPASS", program)
	inv := newInvocation(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	var asked string
	inv.readTTY = func(prompt string) (string, error) { asked = prompt; return "typed", nil }
	got, err := inv.ask(question{text: "Password for u at h (profile p): "})
	if err != nil || got != "typed" || asked != "Password for u at h (profile p): " {
		t.Fatalf("%q, %v (asked %q)", got, err, asked)
	}
	if _, err := os.Stat(record); err == nil {
		t.Fatal("the askpass program ran although there is a terminal")
	}
}

// TestPasscodeThroughAskpass: a TOTP passcode from the askpass program,
// also where kubectl forbids the terminal; no passcode in the answer, or
// a cancelled dialog, exits 7.
func TestPasscodeThroughAskpass(t *testing.T) {
	noAskpass(t)
	t.Setenv("KUBERNETES_EXEC_INFO", `{"spec":{"interactive":false}}`)
	s := helper.Settings{AuthURL: "https://infra.mail.ru:35357/v3/", Username: "alice@example.com"}
	inv := newInvocation(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	inv.profile = "prod"
	inv.readTTY = func(string) (string, error) {
		t.Fatal("the terminal was used where kubectl forbids it")
		return "", nil
	}
	for _, tt := range []struct {
		body, want string
		code       int
		said       string
	}{
		{`echo ' 123456 '`, "123456", 0, ""},
		{`echo`, "", 7, "not a TOTP passcode: no passcode (0 bytes)"},
		{`echo 'oops I typed the password'`, "", 7, "characters no passcode has"},
		{`exit 1`, "", 7, "gave no TOTP passcode: it was cancelled (it exited with status 1); answer the dialog"},
	} {
		program, record := askpassScript(t, tt.body)
		t.Setenv("VKC_ASKPASS", program)
		got, err := inv.passcode("prod", s, "")()
		if tt.code == 0 {
			if err != nil || got != tt.want {
				t.Errorf("%s: %q, %v; want %q", tt.body, got, err, tt.want)
			}
		} else if err == nil {
			t.Errorf("%s: %q; want exit %d", tt.body, got, tt.code)
		} else if code, msg := inv.describe(err); got != "" || code.ExitCode() != tt.code || !strings.Contains(msg, tt.said) {
			t.Errorf("%s: %q, %v (%s: %s); want exit %d saying %q", tt.body, got, err, code, msg, tt.code, tt.said)
		}
		if rec := readRecord(t, record); !strings.Contains(rec, "arg=TOTP passcode for alice@example.com at infra.mail.ru:35357 (profile prod): \n") {
			t.Errorf("the prompt does not name the user, host and profile:\n%s", rec)
		}
	}
	// Without one: exit 7, naming VKC_ASKPASS among the ways out.
	t.Setenv("VKC_ASKPASS", "")
	_, err := inv.passcode("prod", s, "")()
	if code, msg := inv.describe(err); !errors.Is(err, errNoPasscode) || code.ExitCode() != 7 || !strings.Contains(msg, "set VKC_ASKPASS") {
		t.Fatalf("%v: %s %s", err, code, msg)
	}
}
