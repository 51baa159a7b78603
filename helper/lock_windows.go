package helper

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	win "golang.org/x/sys/windows"
)

// tryLockFile takes an exclusive LockFileEx lock on the first byte of f
// without waiting; it reports false when another handle holds it.
func tryLockFile(f *os.File) (bool, error) {
	ol := new(win.Overlapped)
	err := win.LockFileEx(win.Handle(f.Fd()),
		win.LOCKFILE_EXCLUSIVE_LOCK|win.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, win.ERROR_LOCK_VIOLATION) || errors.Is(err, win.ERROR_IO_PENDING) {
		return false, nil
	}
	return err == nil, err
}

// unlockFile releases the lock tryLockFile took on f.
func unlockFile(f *os.File) {
	win.UnlockFileEx(win.Handle(f.Fd()), 0, 1, 0, new(win.Overlapped))
}

// removeLockFile deletes the lock file at path, so lock files do not pile
// up after their identity is gone. Call it after unlock. Windows refuses
// to delete a file that any process has open (our lock files are opened
// without FILE_SHARE_DELETE), so a file held or waited on is left in place
// with an error wrapping ErrLockBusy. A missing file is no error; anything
// not ours at path is left alone with ErrNotOurs.
func removeLockFile(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := checkOurs(path, fi, false); err != nil {
		return fmt.Errorf("cannot remove the lock file: %w", err)
	}
	err = os.Remove(path)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, win.ERROR_SHARING_VIOLATION), errors.Is(err, win.ERROR_ACCESS_DENIED):
		return fmt.Errorf("%w %s; leaving it in place", ErrLockBusy, path)
	}
	return err
}
