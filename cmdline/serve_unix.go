//go:build !windows

package cmdline

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals `exec --serve` passes on to the
// command.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// deliveredByTerminal reports whether sig has reached the command
// already: a terminal sends SIGINT, SIGQUIT and SIGHUP to its whole
// foreground process group, which the command shares with this process.
// Sent twice, a second Ctrl-C would make Terraform abort at once.
func deliveredByTerminal(sig os.Signal) bool {
	if sig == syscall.SIGTERM {
		return false
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}
