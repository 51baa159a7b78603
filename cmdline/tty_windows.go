package cmdline

import (
	"fmt"
	"os"

	"golang.org/x/term"
)

// readPasswordFromTTY prompts on the console, with echo off. It never
// touches stdout, which carries data.
func readPasswordFromTTY(prompt string) (string, error) {
	in, err := os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return "", errNoTTY
	}
	defer in.Close()
	out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		return "", errNoTTY
	}
	defer out.Close()
	fmt.Fprint(out, prompt)
	pw, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(out)
	if err != nil {
		return "", fmt.Errorf("cannot read the password from the console: %w", err)
	}
	return string(pw), nil
}
