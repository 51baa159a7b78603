// Package cmdline is vkc-credential's command line: flags, the choice of
// password source, output formats, messages, and the mapping of errors to
// exit codes and hints. The operations themselves are in package helper.
package cmdline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// invocation is one run of the program: its streams and what it learned
// about how to report errors.
type invocation struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdinIsTTY     bool
	// jsonErrors: stdout carries a JSON answer, so it carries the error
	// object too (unless stdout is a terminal, where a person reads the
	// stderr line).
	jsonErrors bool
	// replaceProcess: `exec` may replace this process with the command
	// (Main); otherwise the command runs as a child (run, in tests).
	replaceProcess bool
	// openKeyring and autoKeyring are keyring.Open and keyring.Auto;
	// tests keep their keychains in memory.
	openKeyring func(name string, cfg keyring.Config) (keyring.Store, error)
	autoKeyring func(timeout time.Duration) (keyring.Store, string, []error, error)
	// readTTY is readPasswordFromTTY; tests have no terminal.
	readTTY func(prompt string) (string, error)
	debug   bool
	start   time.Time
	profile string // once known, for hints
	command string // the command named in the arguments, for hints
	// profileDefaulted: no flag, request or VKC_PROFILE named the
	// profile, so it is "default" (for the hint when there is none).
	profileDefaulted bool
	// lastStandinError is the stand-in's last failure printed on stderr.
	lastStandinError string
}

// Main runs the program as this process, with its arguments and
// standard streams, and returns the exit status for os.Exit.
func Main() int {
	inv := newInvocation(os.Stdin, os.Stdout, os.Stderr)
	inv.replaceProcess = true
	return inv.run(os.Args)
}

func newInvocation(stdin io.Reader, stdout, stderr io.Writer) *invocation {
	inv := &invocation{stdin: stdin, stdout: stdout, stderr: stderr, start: time.Now(),
		openKeyring: keyring.Open, autoKeyring: keyring.Auto, readTTY: readPasswordFromTTY}
	if f, ok := stdin.(*os.File); ok {
		inv.stdinIsTTY = term.IsTerminal(int(f.Fd()))
	}
	return inv
}

// run runs the program with args (args[0] is the program name) and
// returns its exit status. It never calls os.Exit.
func (inv *invocation) run(args []string) int {
	s := inv.surface()
	if c, at, end := s.commandSpan(args); c != nil {
		inv.command = commandPath(args, at, end)
	}
	inv.jsonErrors = s.jsonAnswer(args)
	if f, ok := inv.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		inv.jsonErrors = false
	}
	args, err := s.lift(args)
	if err != nil {
		return inv.fail(err)
	}
	// urfave/cli adds this flag to every command; a package variable of
	// theirs, set to the same value on every run.
	cli.HelpFlag = fast(&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help"})[0]
	if err := s.appFor(inv, args).Run(args); err != nil {
		return inv.fail(err)
	}
	return 0
}

// fail reports err on stderr (and as the JSON error object where stdout
// carries JSON) and returns its exit status.
func (inv *invocation) fail(err error) int {
	if exit, ok := err.(*exitStatus); ok {
		if exit.msg != "" {
			fmt.Fprintf(inv.stderr, "vkc-credential: %s\n", terminalSafe(exit.msg))
		}
		return exit.code
	}
	code, msg := inv.describe(err)
	msg = terminalSafe(msg)
	fmt.Fprintf(inv.stderr, "vkc-credential: %s\n", msg)
	if inv.jsonErrors {
		inv.writeJSON(protocol.ErrorResponse{Version: protocol.Version, Error: protocol.ErrorBody{Code: code, Message: msg}})
	}
	return code.ExitCode()
}

// exitStatus ends the program with a status outside the protocol's
// codes: with no message of ours, as `exec` does with its child's status,
// or with msg on stderr, as `exec` does for a command it cannot run (127,
// 126). stdout stays empty.
type exitStatus struct {
	code int
	msg  string
}

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// terminalSafe folds s onto one line and escapes every control and format
// character left (an escape sequence or a bidirectional override from the
// network must not reach the user's terminal).
func terminalSafe(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf)
}

func (inv *invocation) writeJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cannot encode the answer: %w", err)
	}
	_, err = inv.stdout.Write(append(data, '\n'))
	return err
}

func (inv *invocation) debugf(format string, args ...any) {
	if inv.debug {
		fmt.Fprintf(inv.stderr, "vkc-credential: debug: [%8.3fms] %s\n",
			float64(time.Since(inv.start).Microseconds())/1000, terminalSafe(fmt.Sprintf(format, args...)))
	}
}

func (inv *invocation) warnf(format string, args ...any) {
	fmt.Fprintf(inv.stderr, "vkc-credential: warning: %s\n", terminalSafe(fmt.Sprintf(format, args...)))
}

// maskToken shows enough of a token to tell two apart in a log, and no
// more.
func maskToken(tok string) string {
	if len(tok) <= 12 {
		return "***"
	}
	return tok[:4] + "…" + tok[len(tok)-4:] + fmt.Sprintf(" (%d chars)", len(tok))
}
