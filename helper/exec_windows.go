package helper

import (
	"os"
	"os/exec"
	"os/signal"
)

// runCommand runs the command as a child with the program's streams and
// returns its exit status. Ctrl-C reaches the child through the console;
// this process only waits for it.
func runCommand(path string, args, environ []string, inv *invocation) (int, error) {
	signal.Ignore(os.Interrupt)
	cmd := exec.Command(path, args[1:]...)
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.stdin, inv.stdout, inv.stderr
	return exitCode(cmd.Run())
}
