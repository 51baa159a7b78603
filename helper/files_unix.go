//go:build !windows

package helper

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// Open flags that the portable os package does not name. oNoFollow makes
// an open fail on a symbolic link instead of following it; oNonblock keeps
// an open of a named pipe from waiting for a writer; oDirectory makes an
// open fail on anything but a directory.
const (
	oNoFollow  = unix.O_NOFOLLOW
	oNonblock  = unix.O_NONBLOCK
	oDirectory = unix.O_DIRECTORY
)

// fileOwner returns the uid that owns the file fi describes.
func fileOwner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
