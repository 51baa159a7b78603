package helper

import (
	"errors"
	"os/exec"
	"syscall"
)

// exitCode turns the result of running a child into the status a shell
// would report: its exit code, or 128+N when signal N killed it.
func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ee.ExitCode(), nil
}
