//go:build linux

package shellcmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const long = time.Minute // a bound no test below reaches unless it means to

func TestRunReturnsStdout(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Command
		want string
	}{
		{"output", Command{Line: `printf 'a\nb'`}, "a\nb"},
		{"positional argument", Command{Line: `printf '%s|%s' "$0" "$1"`, Args: []string{"Passcode for prod: "}}, "sh|Passcode for prod: "},
		{"stdin given", Command{Line: `cat`, Stdin: []byte("secret\n")}, "secret\n"},
		{"no stdin is /dev/null", Command{Line: `cat; echo end`}, "end\n"},
		{"stderr beyond its cap is read and dropped", Command{Line: `head -c 1000000 /dev/zero | tr '\0' x >&2; echo ok`}, "ok\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Timeout = long
			out, err := Run(context.Background(), tt.c)
			if err != nil || string(out) != tt.want {
				t.Fatalf("%q, %v; want %q", out, err, tt.want)
			}
		})
	}
}

// TestProgramRunsWithoutAShell: a Program (an askpass program) is run
// itself: its argument reaches it as one argv entry, unexpanded, and a
// path with a space is a path. What it starts dies with it at the bound.
func TestProgramRunsWithoutAShell(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "with space")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "marker")
	prog := filepath.Join(dir, "ask pass")
	script := "#!/bin/sh\nprintf '%s|%s|%d' \"$0\" \"$1\" $#\n"
	if err := os.WriteFile(prog, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	arg := "Password for \"$(touch " + marker + ")\" `touch " + marker + "` ; $HOME: "
	out, err := Run(context.Background(), Command{Program: prog, Args: []string{arg}, Timeout: long})
	if err != nil || string(out) != prog+"|"+arg+"|1" {
		t.Fatalf("%q, %v; want the path, the argument as given, and one argument", out, err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a shell expanded the argument")
	}
	// Found in PATH by name, as ssh finds SSH_ASKPASS.
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := Run(context.Background(), Command{Program: "ask pass", Timeout: long}); err != nil || string(out) != prog+"||0" {
		t.Fatalf("by name: %q, %v", out, err)
	}
	var e *Error
	if _, err := Run(context.Background(), Command{Program: filepath.Join(dir, "missing"), Timeout: long}); !errors.As(err, &e) ||
		!errors.Is(err, ErrFailed) || e.ExitStatus() != -1 || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing program: %v", err)
	}
	pidFile := filepath.Join(t.TempDir(), "pgid")
	hang := filepath.Join(dir, "hang")
	os.WriteFile(hang, []byte("#!/bin/sh\necho $$ >\"$1\"\nsleep 1000 & wait\n"), 0o700)
	if _, err := Run(context.Background(), Command{Program: hang, Args: []string{pidFile}, Timeout: time.Second}); !errors.As(err, &e) ||
		!errors.Is(err, ErrTimeout) || e.ExitStatus() != -1 {
		t.Fatalf("a program that hangs: %v", err)
	}
	waitGroupGone(t, readPID(t, pidFile, true))
}

// TestExitStatus: a command that exits by itself with a status other than
// 0 (an askpass program's Cancel) says which; one killed says -1.
func TestExitStatus(t *testing.T) {
	for line, want := range map[string]int{`exit 1`: 1, `echo no >&2; exit 5`: 5, `kill -9 $$`: -1} {
		var e *Error
		if _, err := Run(context.Background(), Command{Line: line, Timeout: long}); !errors.As(err, &e) || e.ExitStatus() != want {
			t.Errorf("%s: %v; want exit status %d", line, err, want)
		}
	}
}

// TestGrandchildHoldingThePipe: the passcode command's child kept the pipe
// open, and `get` waited 60 s past a 2 s bound (issue 15 item 7). Now the
// whole group is killed at the bound, and a process outside the group
// (setsid) that holds the pipe holds Run for waitDelay at most.
func TestGrandchildHoldingThePipe(t *testing.T) {
	for _, tt := range []struct {
		name    string
		line    string
		timeout time.Duration
		kind    error
		said    string
	}{
		// sh waits on a background child that holds stdout: the bound
		// passes, the group dies.
		{"at the bound", `echo $$ >"$1"; sleep 1000 & wait`, 2 * time.Second, ErrTimeout, "did not finish within 2s"},
		// sh exits at once; its background child holds stdout.
		{"after the shell exits", `echo $$ >"$1"; sleep 1000 &`, long, ErrFailed, "kept its output open"},
		// A child in a session of its own is out of the group's reach:
		// its pipe is closed after waitDelay.
		{"outside the group", `echo $$ >"$1"; setsid sleep 1000 & echo $! >"$1.escaped"; wait`, 2 * time.Second, ErrTimeout, "did not finish"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pgid")
			_, err := Run(context.Background(), Command{Line: tt.line, Args: []string{pidFile}, Timeout: tt.timeout})
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.said) {
				t.Fatalf("error %v; want %v saying %q", err, tt.kind, tt.said)
			}
			if escaped := readPID(t, pidFile+".escaped", false); escaped > 0 {
				syscall.Kill(escaped, syscall.SIGKILL)
			}
			waitGroupGone(t, readPID(t, pidFile, true))
		})
	}
}

// TestFloodIsCut: 1.5 GB of output took 5.6 GB of memory (issue 15 item
// 7). Output past the cap stops the command; `yes` would never end by
// itself.
func TestFloodIsCut(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pgid")
	out, err := Run(context.Background(), Command{Line: `echo $$ >"$1"; yes 123456`, Args: []string{pidFile}, Timeout: long, MaxStdout: 1000})
	if !errors.Is(err, ErrTooMuchOutput) || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Fatalf("error %v; want ErrTooMuchOutput", err)
	}
	if len(out) != 1000 || !strings.HasPrefix(string(out), "123456\n123456\n") {
		t.Fatalf("kept %d bytes: %.40q…", len(out), out)
	}
	waitGroupGone(t, readPID(t, pidFile, true))

	if _, err := Run(context.Background(), Command{Line: `head -c 65537 /dev/zero`, Timeout: long}); !errors.Is(err, ErrTooMuchOutput) {
		t.Fatalf("one byte past defaultMaxStdout: %v", err)
	}
	if out, err := Run(context.Background(), Command{Line: `head -c 65536 /dev/zero`, Timeout: long}); err != nil || len(out) != defaultMaxStdout {
		t.Fatalf("defaultMaxStdout bytes: %d, %v", len(out), err)
	}
}

func TestFailureCarriesTheFirstStderrLine(t *testing.T) {
	out, err := Run(context.Background(), Command{Line: `echo partial; printf '\n \t\n  oathtool: \033[31mbad key\033[0m  \nsecond line\n' >&2; exit 3`, Timeout: long})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrFailed) {
		t.Fatalf("error %v; want an *Error of kind ErrFailed", err)
	}
	if !strings.Contains(e.Error(), "exit status 3") || strings.Contains(e.Error(), "bad key") {
		t.Fatalf("Error() = %q: want the status, not the command's words", e.Error())
	}
	if got, want := e.FirstStderrLine(), "oathtool: \x1b[31mbad key\x1b[0m"; got != want {
		t.Fatalf("FirstStderrLine() = %q, want %q (raw: the caller escapes)", got, want)
	}
	if string(out) != "partial\n" {
		t.Fatalf("stdout %q", out)
	}

	_, err = Run(context.Background(), Command{Line: `printf 'é%.0s' $(seq 400) >&2; exit 1`, Timeout: long})
	if !errors.As(err, &e) || len(e.FirstStderrLine()) > maxStderrLine || !strings.HasPrefix(e.FirstStderrLine(), "éé") ||
		!strings.HasSuffix(e.FirstStderrLine(), "é") {
		t.Fatalf("a long line: %q", e.FirstStderrLine())
	}
	if _, err := Run(context.Background(), Command{Line: `kill -9 $$`, Timeout: long}); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("killed by a signal: %v", err)
	}
	if _, err := Run(context.Background(), Command{Line: `true`}); !errors.Is(err, ErrFailed) {
		t.Fatalf("no bound: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Command{Line: `true`, Timeout: long}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context: %v", err)
	}
}

func TestNoSecretVariableReachesTheChild(t *testing.T) {
	secrets := map[string]string{
		"OS_PASSWORD": "pw-hunter2", "OS_APPLICATION_CREDENTIAL_SECRET": "ac-s3cret", "OS_TOKEN": "gAAAA-token",
		"OS_AUTH_TOKEN": "gAAAA-auth-token", "OS_PASSCODE": "123456", "OS_CLIENT_SECRET": "oidc-secret",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("VKC_SHELLCMD_KEPT", "kept")
	out, err := Run(context.Background(), Command{Line: `env`, Timeout: long})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range secrets {
		if strings.Contains(string(out), k) || strings.Contains(string(out), v) {
			t.Errorf("%s reached the child", k)
		}
	}
	if !strings.Contains(string(out), "VKC_SHELLCMD_KEPT=kept\n") {
		t.Error("the rest of the environment did not reach the child")
	}
}

// readPID reads the pid a test command wrote to file.
func readPID(t *testing.T, file string, must bool) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		if must {
			t.Fatalf("the command did not start (it wrote no %s): %v", filepath.Base(file), err)
		}
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("%s: %q", file, data)
	}
	return pid
}

// waitGroupGone fails unless process group pgid has no live member (a
// zombie, dead but not yet reaped by init, does not count). A SIGKILLed
// process takes a moment to die; it gets 10 s.
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		live := liveMembers(pgid)
		if len(live) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has live members: %v", pgid, live)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveMembers lists the processes of group pgid that are not zombies, as
// /proc/PID/stat says ("pid (comm) state ppid pgrp …").
func liveMembers(pgid int) []string {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var live []string
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" && fields[0] != "X" {
			live = append(live, s[:strings.LastIndexByte(s, ')')+1])
		}
	}
	return live
}
