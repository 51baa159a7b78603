//go:build !windows

package helper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// tryLockFile takes an exclusive flock on f without waiting; it reports
// false when another open file holds one.
func tryLockFile(f *os.File) (bool, error) {
	return flock(f, unix.LOCK_EX|unix.LOCK_NB)
}

// unlockFile releases the flock on f (closing f would too).
func unlockFile(f *os.File) {
	flock(f, unix.LOCK_UN)
}

// flock applies how to f's descriptor; it reports false when a
// non-blocking lock is held elsewhere.
func flock(f *os.File, how int) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if ferr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	if errors.Is(ferr, unix.EWOULDBLOCK) {
		return false, nil
	}
	return ferr == nil, ferr
}

// removeLockFile deletes the lock file at path, so lock files do not pile
// up after their identity is gone. Call it after unlock, never while
// holding the lock. It takes the lock itself, without waiting, and deletes
// the file while holding it: a process that waited on the old file
// notices (see lockFile) and locks a new one. A missing file is no error;
// one another process holds is left in place with an error wrapping
// ErrLockBusy; anything not ours at path is left alone with ErrNotOurs.
func removeLockFile(path string) error {
	f, fi, err := openOurs(path, os.O_RDWR, 0, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot remove the lock file: %w", err)
	}
	defer f.Close()
	ok, err := tryLockFile(f)
	if err != nil {
		return fmt.Errorf("cannot lock %s: %w", path, err)
	}
	if !ok {
		return fmt.Errorf("%w %s; leaving it in place", ErrLockBusy, path)
	}
	if now, err := os.Lstat(path); err != nil || !os.SameFile(fi, now) {
		return nil // already removed, maybe replaced by a newer one in use
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
