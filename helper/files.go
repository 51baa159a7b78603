package helper

import (
	"errors"
	"fmt"
	"io"
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

// ensureDir creates dir with mode 0700, or narrows an existing one that
// others could read. It returns a note when it had to repair the mode.
func ensureDir(dir string) (repaired string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory; move it away", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && !windows {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", fmt.Errorf("%s has mode %04o and cannot be narrowed to 0700: %w", dir, perm, err)
		}
		return fmt.Sprintf("%s had mode %04o, which lets others read it; narrowed it to 0700", dir, perm), nil
	}
	return "", nil
}

// writeFileAtomic writes data to path through a new 0600 temporary file in
// the same directory and a rename, so readers see the old file or the new
// one, never a torn one.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
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
	// CreateTemp makes the file 0600 whatever the umask; check, for a
	// filesystem that does not keep modes.
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 && !windows {
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

// readPrivateFile reads a file that must be readable by its owner only. A
// missing file is fs.ErrNotExist; one that others may read is errLooseMode.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 && !windows {
		return nil, fmt.Errorf("%w: %s has mode %04o", errLooseMode, path, fi.Mode().Perm())
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	// One read of the size Stat gave (and one byte more, to see growth).
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

// maxFileSize bounds the config and cache files read; Keystone's token
// bodies with big catalogs are well under it.
const maxFileSize = 16 << 20

var errLooseMode = errors.New("file readable by others")
