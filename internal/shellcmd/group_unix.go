//go:build !windows

package shellcmd

import (
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own and, when cmd's
// context ends, kills that whole group, so that what the shell started
// dies with it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
}

// killGroup kills the process group led by pid (ESRCH, an empty group, is
// no error of interest).
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
