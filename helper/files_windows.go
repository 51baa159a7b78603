package helper

import (
	"io/fs"
	"syscall"
)

// oNoFollow opens a symbolic link (a reparse point) itself rather than
// its target, which checkOurs then refuses. Windows has no named pipes in
// the file system nor O_DIRECTORY, hence no oNonblock and oDirectory.
const (
	oNoFollow  = syscall.FILE_FLAG_OPEN_REPARSE_POINT
	oNonblock  = 0
	oDirectory = 0
)

// fileOwner reports no owner: on Windows the user's profile directories
// are private by their ACLs, and there is no uid to compare, as there are
// no mode checks.
func fileOwner(fs.FileInfo) (uid int, ok bool) { return 0, false }
