// Package shellcmd runs a command the user configured (a --totp-command
// or --secret-command line, or an askpass program) the careful way: a
// line with `sh -c`, a program by itself; its stdin given or /dev/null, in
// a process group of its own that is killed as a whole when the caller's
// bound passes, its output read with a cap, and without the OpenStack
// variables in its environment.
package shellcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The kinds of failure. An *Error matches exactly one of them with
// errors.Is (or context.Canceled when the caller's context was cancelled).
// They carry no class (protocol.CodeOf): what a failure means (no
// passcode, no secret) is the caller's to say, with an error of its own
// wrapped around them.
var (
	// ErrTimeout: the command outlived its bound and was killed.
	ErrTimeout = errors.New("did not finish in time")
	// ErrTooMuchOutput: it printed more than the cap on stdout and was
	// killed.
	ErrTooMuchOutput = errors.New("printed too much")
	// ErrFailed: it could not start, exited with a status other than 0,
	// was killed by a signal, or exited while a process it started kept
	// its output open.
	ErrFailed = errors.New("failed")
)

// Limits of what is kept. A command's stdout beyond MaxStdout ends it
// (ErrTooMuchOutput); its stderr beyond maxStderr is read and dropped.
const (
	defaultMaxStdout = 64 << 10
	maxStderr        = 4 << 10
	maxStderrLine    = 300
)

// waitDelay is how long Run waits, after the command has exited or been
// killed, for its output to close: a process that left the group, or was
// started in the background, may hold the pipes open.
const waitDelay = time.Second

// Command is one run of a user's command line or program.
type Command struct {
	// Line is run as `sh -c Line` when Program is empty.
	Line string
	// Program, when not empty, is run itself instead of a Line: a path,
	// or a name looked up in PATH, as ssh runs SSH_ASKPASS. No shell sees
	// it or its Args.
	Program string
	// Args are Program's arguments, or Line's positional parameters $1,
	// $2 … (then $0 is "sh").
	Args []string
	// Stdin is all of the command's standard input; nil means /dev/null.
	Stdin []byte
	// Timeout bounds the whole run; it must be positive.
	Timeout time.Duration
	// MaxStdout caps what is read of its stdout (0: defaultMaxStdout).
	MaxStdout int
}

// Error is a run that did not succeed. Its text says what happened ("it
// failed (exit status 3)"), never what the command printed; the first
// line of its stderr is FirstStderrLine, for the caller to escape and show.
type Error struct {
	kind   error
	detail string
	stderr []byte
	status int // the exit status, when it exited by itself with one other than 0; else -1
}

func (e *Error) Error() string { return e.detail }

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool { return target == e.kind }

// ExitStatus is the status the command exited with, when it ran and
// exited by itself with one other than 0 (an askpass program's Cancel);
// else -1 (it could not start, was killed, or outlived its bound).
func (e *Error) ExitStatus() int { return e.status }

// FirstStderrLine is the first non-blank line of what the command wrote to
// stderr, trimmed and cut to 300 bytes, as it was: it may hold control
// characters, and the caller escapes it before it reaches a terminal.
func (e *Error) FirstStderrLine() string {
	for _, line := range strings.Split(string(e.stderr), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > maxStderrLine {
				line = strings.ToValidUTF8(line[:maxStderrLine], "")
			}
			return line
		}
	}
	return ""
}

// Run runs c and returns what it printed on stdout. It returns when the
// command has exited and its output has closed, or at most waitDelay after
// the bound (c.Timeout, or ctx's end) has passed and its process group was
// killed. Whatever the outcome, the command's process group is killed
// before Run returns: nothing it started outlives it there. The command's
// environment is ours without the OpenStack variables (OS_*), which may
// hold a password, a token or a session secret.
func Run(ctx context.Context, c Command) ([]byte, error) {
	if c.Timeout <= 0 {
		return nil, &Error{kind: ErrFailed, detail: "no time bound was given", status: -1}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	limit := c.MaxStdout
	if limit <= 0 {
		limit = defaultMaxStdout
	}
	stdout := &capped{max: limit, onFull: cancel}
	stderr := &capped{max: maxStderr}

	name, args := "sh", append([]string{"-c", c.Line, "sh"}, c.Args...)
	if c.Program != "" {
		name, args = c.Program, c.Args
	}
	cmd := exec.CommandContext(ctx, name, args...)
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = environ(os.Environ())
	cmd.WaitDelay = waitDelay
	ownGroup(cmd)

	err := cmd.Run()
	if cmd.Process != nil {
		killGroup(cmd.Process.Pid)
	}
	fail := func(kind error, format string, args ...any) *Error {
		return &Error{kind: kind, detail: fmt.Sprintf(format, args...), stderr: stderr.b, status: -1}
	}
	var exit *exec.ExitError
	switch {
	case stdout.full:
		return stdout.b, fail(ErrTooMuchOutput, "it printed more than %d bytes on stdout and was stopped", limit)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return stdout.b, fail(ErrTimeout, "it did not finish within %s and was stopped", c.Timeout)
	case ctx.Err() != nil:
		return stdout.b, fail(ctx.Err(), "it was stopped: %v", ctx.Err())
	case errors.Is(err, exec.ErrWaitDelay):
		return stdout.b, fail(ErrFailed, "it exited, but a process it started kept its output open (redirect the output of background processes)")
	case errors.As(err, &exit) && exit.Exited():
		e := fail(ErrFailed, "it failed (%v)", err)
		e.status = exit.ExitCode()
		return stdout.b, e
	case err != nil:
		return stdout.b, fail(ErrFailed, "it failed (%v)", err)
	}
	return stdout.b, nil
}

// environ is environment without the OpenStack variables.
func environ(environment []string) []string {
	kept := make([]string, 0, len(environment))
	for _, kv := range environment {
		if !strings.HasPrefix(kv, "OS_") {
			kept = append(kept, kv)
		}
	}
	return kept
}

// capped keeps the first max bytes written to it and drops the rest; the
// first write past max sets full and calls onFull (when set).
type capped struct {
	b      []byte
	max    int
	full   bool
	onFull func()
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - len(c.b)
	if room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	if len(p) > room && !c.full {
		c.full = true
		if c.onFull != nil {
			c.onFull()
		}
	}
	return len(p), nil
}
