package helper

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"vkc-credential/protocol"
)

// ErrLockBusy: another process held a lock for as long as the caller was
// willing to wait, or still uses a lock file that was to be removed;
// protocol.CodeKeystoneUnavailable (the wait is for another process's
// exchange with Keystone).
var ErrLockBusy = protocol.NewError(protocol.CodeKeystoneUnavailable, "another vkc-credential process holds the lock")

// lockPoll is how often lockFile tries again for a lock that is held.
const lockPoll = 10 * time.Millisecond

// lockFile takes an exclusive cross-process lock on the file at path,
// creating it (0600) when missing, and waits for it at most until ctx is
// done; then the error wraps ErrLockBusy. The file must be ours: a
// symbolic link, a special file or a file of another user at path is
// refused with ErrNotOurs, and nothing is created through a link.
//
// unlock releases the lock; calling it again does nothing. A lock file
// that removeLockFile deleted while this call waited is noticed, and the
// lock taken on a new file at path instead.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, fi, err := openOurs(path, os.O_CREATE|os.O_RDWR, 0o600, false)
		if err != nil {
			return nil, fmt.Errorf("cannot open the lock file: %w", err)
		}
		if err := waitLock(ctx, f, path); err != nil {
			f.Close()
			return nil, err
		}
		// The lock is on the file we opened; it guards path only if path
		// still names that file (removeLockFile unlinks it).
		if now, err := os.Lstat(path); err == nil && os.SameFile(fi, now) {
			var once sync.Once
			return func() {
				once.Do(func() {
					unlockFile(f)
					f.Close()
				})
			}, nil
		}
		f.Close()
	}
}

// waitLock takes the lock on f, trying again every lockPoll until ctx is
// done.
func waitLock(ctx context.Context, f *os.File, path string) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		ok, err := tryLockFile(f)
		if err != nil {
			return fmt.Errorf("cannot lock %s: %w", path, err)
		}
		if ok {
			return nil
		}
		t.Reset(lockPoll)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w %s", ErrLockBusy, path)
		case <-t.C:
		}
	}
}
