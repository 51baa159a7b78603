//go:build !windows

package clouds

import (
	"io/fs"
	"syscall"
)

// oNonblock keeps an open of a named pipe from waiting for a writer; the
// file is then refused as not regular. oNoFollow makes an open fail on a
// symbolic link at the last component: openTrusted follows links itself,
// checking each, and opens what they lead to.
const (
	oNonblock = syscall.O_NONBLOCK
	oNoFollow = syscall.O_NOFOLLOW
)

// fileOwner returns the uid that owns the file fi describes.
func fileOwner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
