package cmdline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"vkc-credential/internal/shellcmd"
	"vkc-credential/protocol"
)

// The one way a person is asked for a password or a passcode: on the
// terminal when there is one, else through an askpass program (a dialog
// on the desktop, as ssh, git and sudo ask), else not at all.

// askpassTimeout bounds an askpass program: a person answering a dialog
// takes seconds, a minute at most (a TOTP passcode changes every 30 s);
// one who walked away must not hold the command, and the token lock other
// commands wait on, for ever.
const askpassTimeout = 2 * time.Minute

// errNobodyToAsk: there is no terminal (or it may not be used) and no
// askpass program.
var errNobodyToAsk = errors.New("no terminal and no askpass program")

// question is what ask asks a person.
type question struct {
	// text names what is asked for, the host the answer goes to and the
	// profile, and ends in ": ". An askpass program gets it as its
	// argument, which every local user can read in the process list: it
	// never holds a secret.
	text string
	// passcode: a TOTP passcode (exit 7 when there is none), not a
	// password or secret (exit 2).
	passcode bool
	// noTerminal: the terminal may not be used (kubectl said the exec
	// plugin is not interactive); an askpass program may.
	noTerminal bool
}

// ask returns a person's answer to q: typed on the terminal with echo off
// when there is one, else printed by the askpass program (askpassProgram),
// else errNobodyToAsk. An askpass program that gives no answer (Cancel,
// a failure, its bound) is a *noAnswerError.
func (inv *invocation) ask(q question) (string, error) {
	if !q.noTerminal {
		answer, err := inv.readTTY(q.text)
		if !errors.Is(err, errNoTTY) {
			return answer, err
		}
	}
	program, from := askpassProgram(os.Getenv)
	if program == "" {
		return "", errNobodyToAsk
	}
	inv.debugf("asking through the askpass program %s (%s)", program, from)
	return runAskpass(context.Background(), program, from, q, askpassTimeout)
}

// askpassProgram is the program that asks without a terminal, and the
// variable that names it: VKC_ASKPASS, else SSH_ASKPASS when there is a
// display (DISPLAY or WAYLAND_DISPLAY), as ssh uses it. A variable set to
// "" counts as unset (so a kubeconfig's exec env can turn both off).
func askpassProgram(getenv func(string) string) (program, from string) {
	if p := getenv("VKC_ASKPASS"); p != "" {
		return p, "VKC_ASKPASS"
	}
	if p := getenv("SSH_ASKPASS"); p != "" && (getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "") {
		return p, "SSH_ASKPASS"
	}
	return "", ""
}

// noAskpassHint says, for the message of a question nobody could be
// asked, how to have one asked without a terminal.
func noAskpassHint() string {
	hint := "set VKC_ASKPASS to a program that asks in a dialog (see docs/desktop.md)"
	if os.Getenv("SSH_ASKPASS") != "" {
		hint += "; SSH_ASKPASS is used only when DISPLAY or WAYLAND_DISPLAY is set"
	}
	return hint
}

// runAskpass runs program itself (no shell) with q's text as its one
// argument, through shellcmd: stdin /dev/null, no OS_* variables, its
// process group killed at timeout, its stdout capped. Its stdout, one
// trailing newline dropped, is the answer.
func runAskpass(ctx context.Context, program, from string, q question, timeout time.Duration) (string, error) {
	// A double quote would end the argument early for a Windows .cmd
	// wrapper (cmd.exe parses its own command line).
	arg := strings.ReplaceAll(q.text, `"`, "'")
	out, err := shellcmd.Run(ctx, shellcmd.Command{Program: program, Args: []string{arg}, Timeout: timeout, MaxStdout: maxPasswordBytes + 2})
	if err == nil && !utf8.Valid(out) {
		err = errNotUTF8
	}
	if err != nil {
		return "", &noAnswerError{program: program, from: from, passcode: q.passcode, err: err}
	}
	answer := strings.TrimSuffix(string(out), "\n")
	return strings.TrimSuffix(answer, "\r"), nil
}

// errNotUTF8: the askpass program's answer is not UTF-8, as Keystone
// wants it. x11-ssh-askpass prints Latin-1 for a character beyond ASCII;
// sent as it is, such a password would only be refused.
var errNotUTF8 = errors.New("its answer is not UTF-8 text (x11-ssh-askpass gives Latin-1 for characters beyond ASCII: use zenity, kdialog or ksshaskpass for such a password)")

// noAnswerError: the askpass program gave no answer. Its class is its
// question's with no one to ask: protocol.CodeMFARequired (exit 7) for a
// passcode, protocol.CodeUsage (2) for a password.
type noAnswerError struct {
	program, from string
	passcode      bool
	err           error // from shellcmd.Run
}

// Code is the error's class: as with no one to ask, mfa_required for a
// passcode and usage for a password.
func (e *noAnswerError) Code() protocol.Code {
	if e.passcode {
		return protocol.CodeMFARequired
	}
	return protocol.CodeUsage
}

// hint says what to do, for the profile asked about.
func (e *noAnswerError) hint(profile string) string {
	if e.passcode {
		return fmt.Sprintf("answer the dialog, or run `vkc-credential get --profile %s` once in a terminal", profile)
	}
	return "answer the dialog, or pipe the password in with --password-stdin"
}

// Unwrap gives shellcmd's error, whose kind (shellcmd.ErrTimeout …) says
// what happened.
func (e *noAnswerError) Unwrap() error { return e.err }

func (e *noAnswerError) Error() string {
	what := "password"
	if e.passcode {
		what = "TOTP passcode"
	}
	why := e.err.Error()
	var run *shellcmd.Error
	if errors.As(e.err, &run) {
		// Cancel exits 1 in zenity, kdialog, ksshaskpass, ssh-askpass
		// and osascript; another status may be a failure too.
		switch status := run.ExitStatus(); {
		case status == 1:
			why = "it was cancelled (it exited with status 1)"
		case status > 1:
			why = fmt.Sprintf("it was cancelled or failed (it exited with status %d)", status)
		}
		if line := run.FirstStderrLine(); line != "" {
			why += fmt.Sprintf(" (it said: %s)", terminalSafe(line))
		}
	}
	return fmt.Sprintf("the askpass program %s (from %s) gave no %s: %s", e.program, e.from, what, why)
}
