package helper

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Paths are the directories vkc-credential keeps its files in.
type Paths struct {
	ConfigDir string // profiles, one JSON file each
	CacheDir  string // cached tokens and their lock files
}

// DefaultPaths returns the directories under os.UserConfigDir and
// os.UserCacheDir.
func DefaultPaths() (Paths, error) {
	cfg, err := os.UserConfigDir()
	if err != nil {
		return Paths{}, fmt.Errorf("cannot find the config directory (set XDG_CONFIG_HOME or HOME): %w", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return Paths{}, fmt.Errorf("cannot find the cache directory (set XDG_CACHE_HOME or HOME): %w", err)
	}
	return Paths{
		ConfigDir: filepath.Join(cfg, "vkc-credential"),
		CacheDir:  filepath.Join(cache, "vkc-credential"),
	}, nil
}

// maxFileSize bounds the config and cache files read; Keystone's token
// bodies with big catalogs are well under it.
const maxFileSize = 16 << 20

// ensureDir creates dir with mode 0700, or narrows an existing one that
// others could read. It returns a note when it had to repair the mode.
//
// dir itself must be a directory owned by the effective uid, not a
// symbolic link (its parents may be links, such as a ~/.cache that the
// user pointed elsewhere); otherwise the error wraps ErrNotOurs. The
// checks and the repair go through one descriptor of the directory, so a
// link swapped in after the check cannot redirect the chmod.
func ensureDir(dir string) (repaired string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if fi, lerr := os.Lstat(dir); lerr == nil {
			if err := checkOurs(dir, fi, true); err != nil {
				return "", err
			}
		}
		return "", fmt.Errorf("cannot create %s: %w", dir, err)
	}
	f, fi, err := openOurs(dir, os.O_RDONLY|oDirectory, 0, true)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && !windows {
		if err := f.Chmod(0o700); err != nil {
			return "", fmt.Errorf("%s has mode %04o and cannot be narrowed to 0700: %w", dir, perm, err)
		}
		return fmt.Sprintf("%s had mode %04o, which lets others read it; narrowed it to 0700", dir, perm), nil
	}
	return "", nil
}

// writeFileAtomic writes data to path through a new 0600 temporary file in
// the same directory and a rename, so readers see the old file or the new
// one, never a torn one.
//
// The directory must be ours (owned by the effective uid, not a symbolic
// link; else ErrNotOurs). The temporary file is created with O_EXCL, and
// the rename replaces whatever path names (a symbolic link too) without
// following it.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if fi, err := os.Lstat(dir); err == nil {
		if err := checkOurs(dir, fi, true); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := checkOurs(tmp, fi, false); err != nil {
		return err
	}
	// CreateTemp makes the file 0600 whatever the umask; check, for a
	// filesystem that does not keep modes.
	if fi.Mode().Perm()&0o077 != 0 && !windows {
		return fmt.Errorf("temporary file %s was created with mode %04o", tmp, fi.Mode().Perm())
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// readPrivateFile reads a file that must be ours and readable by its owner
// only. The errors are told apart with errors.Is: a missing file is
// fs.ErrNotExist; a symbolic link, a named pipe or other special file, or
// a file owned by another user is ErrNotOurs; one that others may read is
// ErrLooseMode.
//
// The file is opened without following a symbolic link and without
// blocking (a named pipe planted at path would otherwise wait for a writer
// forever), then checked through the descriptor before anything is read.
func readPrivateFile(path string) ([]byte, error) {
	f, fi, err := openOurs(path, os.O_RDONLY|oNonblock, 0, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Mode().Perm()&0o077 != 0 && !windows {
		return nil, fmt.Errorf("%w: %s has mode %04o", ErrLooseMode, path, fi.Mode().Perm())
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	// One read of the size Stat gave (and one byte more, to see growth).
	// A regular file ignores O_NONBLOCK.
	buf := make([]byte, fi.Size()+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	data := buf[:n]
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// openOurs opens path with flag (and perm, when flag creates it) without
// following a symbolic link at its last component, and checks through the
// descriptor that what it opened is ours: owned by the effective uid, and
// a directory when dir is true, else a regular file. A missing path is
// fs.ErrNotExist; anything not ours is ErrNotOurs.
func openOurs(path string, flag int, perm fs.FileMode, dir bool) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, flag|oNoFollow, perm)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		// A symbolic link fails with ELOOP (EMLINK on FreeBSD, ENOTDIR
		// with O_DIRECTORY on Linux): say what is there.
		if fi, lerr := os.Lstat(path); lerr == nil {
			if err := checkOurs(path, fi, dir); err != nil {
				return nil, nil, err
			}
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkOurs(path, fi, dir)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// checkOurs returns an ErrNotOurs error unless fi, the status of path, is
// a directory (dir true) or a regular file (dir false) owned by the
// effective uid. Windows has no owner check here, as it has no mode checks.
func checkOurs(path string, fi fs.FileInfo, dir bool) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link", ErrNotOurs, path)
	case dir && !fi.IsDir():
		return fmt.Errorf("%w: %s is %s, not a directory", ErrNotOurs, path, describeType(fi.Mode()))
	case !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s is %s, not a regular file", ErrNotOurs, path, describeType(fi.Mode()))
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, but vkc-credential runs as uid %d", ErrNotOurs, path, uid, os.Geteuid())
	}
	return nil
}

// describeType names the kind of file m is, for an error message.
func describeType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "a special file"
	}
}
