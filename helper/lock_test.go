//go:build !windows

package helper

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vkc-credential/internal/planted"
)

// busyCtx is a context for a lock attempt that is meant to give up: the
// lock is held throughout, so its length only sets how long the test runs.
func busyCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// wantBusy fails unless err says that the lock at path is held.
func wantBusy(t *testing.T, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrLockBusy) {
		t.Fatalf("err = %v, want ErrLockBusy", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

func TestLockFileExcludesAnotherHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0123.lock")
	unlock, err := lockFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	// Another open file of the same path, from another goroutine, is kept
	// out until the holder unlocks; flock works so across processes too.
	done := make(chan error)
	go func() {
		_, err := lockFile(busyCtx(t), path)
		done <- err
	}()
	wantBusy(t, <-done, path)

	got := make(chan func())
	go func() {
		u, err := lockFile(t.Context(), path)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	unlock()
	unlock() // a second call does nothing
	u2 := <-got
	if u2 == nil {
		t.FailNow()
	}
	_, err = lockFile(busyCtx(t), path)
	wantBusy(t, err, path)
	u2()
	u3, err := lockFile(t.Context(), path)
	if err != nil {
		t.Fatalf("after both unlocked: %v", err)
	}
	u3()
}

// A symbolic link planted at the lock path must not make us create or
// truncate a file at its target (O_CREATE follows links).
func TestLockFileRefusesPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	for _, existing := range []bool{false, true} {
		target := filepath.Join(dir, "target"+strconv.FormatBool(existing))
		if existing {
			writeFile(t, target, []byte("victim's data"), 0o644)
		}
		path := filepath.Join(dir, "link"+strconv.FormatBool(existing)+".lock")
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		unlock, err := lockFile(t.Context(), path)
		wantNotOurs(t, err, path, "symbolic link")
		if unlock != nil {
			t.Error("got an unlock func")
		}
		fi, err := os.Lstat(target)
		switch {
		case !existing && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("link target created: %v", err)
		case existing && (err != nil || fi.Mode().Perm() != 0o644):
			t.Errorf("link target changed: %v, %v", fi, err)
		case existing:
			if data, _ := os.ReadFile(target); string(data) != "victim's data" {
				t.Errorf("link target holds %q", data)
			}
		}
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the link itself was replaced: %v, %v", fi, err)
		}
	}
}

func TestLockFileRefusesAnotherUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0123.lock")
	writeFile(t, path, nil, 0o600)
	planted.ChownToOther(t, path)
	_, err := lockFile(t.Context(), path)
	wantNotOurs(t, err, path, "uid "+strconv.Itoa(planted.OtherUID))
}

// A lock file removed while a waiter has it open must not leave the
// waiter holding a lock on the unlinked file while a third process locks
// the new file at the same path.
func TestLockFileNoticesRemovedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0123.lock")
	unlock, err := lockFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func())
	go func() {
		u, err := lockFile(t.Context(), path)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	waitOpenedTwice(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	unlock()
	u := <-got
	if u == nil {
		t.FailNow()
	}
	defer u()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the waiter holds no file at the path: %v", err)
	}
	_, err = lockFile(busyCtx(t), path)
	wantBusy(t, err, path)
}

// waitOpenedTwice waits until this process has path open twice (the
// holder and the waiter), as /proc/self/fd tells; without /proc it waits
// a moment instead.
func waitOpenedTwice(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		time.Sleep(100 * time.Millisecond)
		return
	}
	for {
		n := 0
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if l, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); l == path {
				n++
			}
		}
		if n >= 2 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRemoveLockFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0123.lock")
	if err := removeLockFile(path); err != nil {
		t.Errorf("missing file: %v", err)
	}

	unlock, err := lockFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	wantBusy(t, removeLockFile(path), path)
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("a held lock file was removed: %v", err)
	}
	unlock()
	if err := removeLockFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("still there: %v", err)
	}

	target := filepath.Join(dir, "target")
	writeFile(t, target, nil, 0o600)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	wantNotOurs(t, removeLockFile(path), path, "symbolic link")
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("the link was removed: %v", err)
	}
}

func TestLockFileIs0600UnderUmask000(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "0123.lock")
	unlock, err := lockFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if fi, err := os.Lstat(path); err != nil || fi.Mode() != 0o600 {
		t.Errorf("%v, %v; want a regular 0600 file", fi.Mode(), err)
	}
}
