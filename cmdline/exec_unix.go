//go:build !windows

package cmdline

import "syscall"

// replaceProcess replaces this process with the command, so that
// signals, the terminal and the exit status are the command's own, with
// nothing in between. It returns only when that fails.
func replaceProcess(path string, args, environ []string) error {
	return syscall.Exec(path, args, environ)
}
