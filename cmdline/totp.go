package cmdline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"vkc-credential/helper"
	"vkc-credential/internal/shellcmd"
	"vkc-credential/protocol"
)

// errNoPasscode means Keystone wants a TOTP passcode and none can be had:
// no --totp-command, no terminal and no askpass program;
// protocol.CodeMFARequired (exit 7).
var errNoPasscode = protocol.NewError(protocol.CodeMFARequired, "keystone wants a second factor (a TOTP passcode), and there is no --totp-command, no terminal to ask on and no askpass program")

// errPasscodeCommand means the --totp-command gave no passcode;
// protocol.CodeMFARequired as well.
var errPasscodeCommand = protocol.NewError(protocol.CodeMFARequired, "the --totp-command gave no passcode")

// errNotAPasscode means what a person typed (or the askpass program
// printed) is no passcode; protocol.CodeMFARequired as well.
var errNotAPasscode = protocol.NewError(protocol.CodeMFARequired, "the answer is not a TOTP passcode")

// maxPasscodeBytes bounds a passcode: TOTP passcodes are a few digits.
const maxPasscodeBytes = 64

// passcodeTimeout bounds a --totp-command.
const passcodeTimeout = 2 * time.Minute

// passcode returns how to get a TOTP passcode for s (of profile, "" when
// for all projects) when Keystone asks for one: from command (run with
// `sh -c`, its first output line), else from a person (inv.ask: the
// terminal when there is one, for kubectl only when KUBERNETES_EXEC_INFO
// says interactive; else the askpass program), else errNoPasscode. The
// passcode is never cached or logged.
func (inv *invocation) passcode(profile string, s helper.Settings, command string) func() (string, error) {
	return func() (string, error) {
		if command != "" {
			return runPasscodeCommand(command)
		}
		text := fmt.Sprintf("TOTP passcode for %s at %s", terminalSafe(s.Username), authHost(s.AuthURL))
		if profile != "" {
			text += fmt.Sprintf(" (profile %s)", profile)
		}
		code, err := inv.ask(question{text: text + ": ", passcode: true, noTerminal: !interactiveAllowed(os.Getenv("KUBERNETES_EXEC_INFO"))})
		switch {
		case errors.Is(err, errNobodyToAsk):
			return "", errNoPasscode
		case err != nil:
			return "", err
		}
		if code, err = checkPasscode(strings.TrimSpace(code)); err != nil {
			return "", fmt.Errorf("%w: %v", errNotAPasscode, err)
		}
		return code, nil
	}
}

// interactiveAllowed reads KUBERNETES_EXEC_INFO: kubectl says whether its
// exec plugin may talk to the terminal. Outside kubectl (empty), it may.
func interactiveAllowed(execInfo string) bool {
	if execInfo == "" {
		return true
	}
	var info struct {
		Spec struct {
			Interactive bool `json:"interactive"`
		} `json:"spec"`
	}
	return json.Unmarshal([]byte(execInfo), &info) == nil && info.Spec.Interactive
}

// runPasscodeCommand runs command through shellcmd (`sh -c`, stdin
// /dev/null, no OS_* variables, its process group killed at
// passcodeTimeout, its output capped) and returns the first line it
// prints. A failure's message carries the first line of its stderr,
// escaped.
func runPasscodeCommand(command string) (string, error) {
	out, err := shellcmd.Run(context.Background(), shellcmd.Command{Line: command, Timeout: passcodeTimeout})
	if err != nil {
		var said string
		var e *shellcmd.Error
		if errors.As(err, &e) && e.FirstStderrLine() != "" {
			said = fmt.Sprintf(" (it said: %s)", terminalSafe(e.FirstStderrLine()))
		}
		return "", fmt.Errorf("%w: %v%s; check the command stored with store --totp-command", errPasscodeCommand, err, said)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	code, err := checkPasscode(strings.TrimSpace(line))
	if err != nil {
		return "", fmt.Errorf("%w: it printed %v", errPasscodeCommand, err)
	}
	return code, nil
}

// checkPasscode refuses what no passcode is: empty, long, or not printable
// ASCII. The error never holds the value.
func checkPasscode(code string) (string, error) {
	if code == "" || len(code) > maxPasscodeBytes {
		return "", fmt.Errorf("no passcode (%d bytes)", len(code))
	}
	for i := 0; i < len(code); i++ {
		if code[i] < 0x21 || code[i] > 0x7e {
			return "", errors.New("a passcode with characters no passcode has")
		}
	}
	return code, nil
}
