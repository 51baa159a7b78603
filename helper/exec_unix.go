//go:build !windows

package helper

import (
	"io"
	"os"
	"os/exec"
	"syscall"
)

// runCommand replaces this process with the command, so that signals,
// the terminal and the exit status are the command's own, with nothing in
// between. When the program's streams are not the process's own (in
// tests), the command runs as a child instead.
func runCommand(path string, args, environ []string, inv *invocation) (int, error) {
	if inv.stdin == io.Reader(os.Stdin) && inv.stdout == io.Writer(os.Stdout) && inv.stderr == io.Writer(os.Stderr) {
		err := syscall.Exec(path, args, environ)
		return 0, err // only reached when exec failed
	}
	cmd := exec.Command(path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.stdin, inv.stdout, inv.stderr
	return exitCode(cmd.Run())
}
