package clouds

import "io/fs"

// Windows has no named pipes in the file system, and openTrusted has
// followed the links itself (unchecked: there is no owner to compare).
const (
	oNonblock = 0
	oNoFollow = 0
)

// fileOwner reports no owner: on Windows the user's profile directories
// are private by their ACLs, and there is no uid to compare (as in the
// helper package's own files).
func fileOwner(fs.FileInfo) (uid int, ok bool) { return 0, false }
