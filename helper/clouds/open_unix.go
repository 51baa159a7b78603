//go:build !windows

package clouds

import "syscall"

// oNonblock keeps an open of a named pipe from waiting for a writer; the
// file is then refused as not regular.
const oNonblock = syscall.O_NONBLOCK
