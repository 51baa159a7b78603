//go:build !windows

package cmdline

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// readPasswordFromTTY prompts on the controlling terminal, with echo off.
// It never touches stdout, which carries data.
func readPasswordFromTTY(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errNoTTY
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return "", errNoTTY
	}
	fmt.Fprint(tty, prompt)
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("cannot read the password from the terminal: %w", err)
	}
	return string(pw), nil
}
