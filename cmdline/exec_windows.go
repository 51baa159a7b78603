package cmdline

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// replaceProcess runs the command as a child with the process's streams
// and returns its status as an *exitStatus: Windows cannot replace a
// process. Ctrl-C reaches the child through the console; this process only
// waits for it.
func replaceProcess(path string, args, environ []string) error {
	signal.Ignore(os.Interrupt)
	cmd := exec.Command(path, args[1:]...)
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) {
		return &exitStatus{code: cmd.ProcessState.ExitCode()}
	}
	return err
}
