package clouds

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// maxFileSize bounds a clouds.yaml or secure.yaml read.
const maxFileSize = 1 << 20

// maxLinks bounds the symbolic links followed from one path (Linux's own
// bound is 40).
const maxLinks = 40

// readFile reads path if it is a file the user may trust (openTrusted)
// of at most maxFileSize bytes. A path that does not exist (a dangling
// link too, which openstacksdk also passes over) is fs.ErrNotExist.
func readFile(path string) ([]byte, fs.FileInfo, error) {
	f, fi, err := openTrusted(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: %w", errUnreadable, path, err)
	}
	if len(data) > maxFileSize {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", errInvalid, path, maxFileSize)
	}
	return data, fi, nil
}

// openTrusted opens path for reading if nobody but the user or root
// could have written what it reads there, since a clouds.yaml's auth_url
// decides where the user's secret is sent:
//
//   - each symbolic link followed (path itself, and each link a link
//     leads to) is owned by the effective uid or root. A link is allowed
//     (openstacksdk users link ~/.config/openstack/clouds.yaml into a
//     dotfiles repository), as long as it is the user's; links among the
//     directories above are followed unchecked, as for the helper
//     package's own files;
//   - the file it leads to is a regular file, owned by the effective uid
//     or root, and not writable by others (writable by its group is
//     allowed: many systems give each user a group of their own).
//
// Anything else is ErrUntrusted (errInvalid for a file that is not
// regular), naming the file. The file is opened without following a link
// at its last component and without blocking (a named pipe), then checked
// through the descriptor: the file read is the file checked. Windows has
// no owner and mode checks, as for the helper package's own files.
func openTrusted(path string) (*os.File, fs.FileInfo, error) {
	target, err := followLinks(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(target, os.O_RDONLY|oNonblock|oNoFollow, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w %s: %w", errUnreadable, path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		err = fmt.Errorf("%w %s: %w", errUnreadable, path, err)
	} else {
		err = checkFile(describe(path, target), fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// followLinks returns the path that path leads to through symbolic
// links, each of which must be owned by the effective uid or root. A
// relative target is taken from the link's own directory, as the kernel
// does, without cleaning ".." away (the directory may itself be a link).
func followLinks(path string) (string, error) {
	p := path
	for i := 0; ; i++ {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if err != nil {
			return "", fmt.Errorf("%w %s: %w", errUnreadable, path, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		if err := checkOwner("the symbolic link "+describe(path, p), fi); err != nil {
			return "", err
		}
		if i == maxLinks {
			return "", fmt.Errorf("%w: %s: more than %d symbolic links", errInvalid, path, maxLinks)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("%w %s: %w", errUnreadable, path, err)
		}
		if !filepath.IsAbs(target) {
			target = parentOf(p) + target
		}
		p = target
	}
}

// parentOf is p up to and including its last separator ("" for a bare
// name), uncleaned.
func parentOf(p string) string {
	i := len(p) - 1
	for i >= 0 && !os.IsPathSeparator(p[i]) {
		i--
	}
	return p[:i+1]
}

// describe names the file path leads to: path itself, or path and the
// file reached through links.
func describe(path, reached string) string {
	if reached == path {
		return path
	}
	return fmt.Sprintf("%s (through links: %s)", path, reached)
}

// checkFile checks fi, the status of the file called name: a regular
// file, owned by the user or root, that others may not write.
func checkFile(name string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", errInvalid, name)
	}
	if err := checkOwner(name, fi); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o002 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("%w: %s has mode %04o: any user may write it, and so decide where your secret is sent", ErrUntrusted, name, perm)
	}
	return nil
}

// checkOwner refuses what fi describes (name says what it is) unless the
// effective uid or root owns it.
func checkOwner(name string, fi fs.FileInfo) error {
	uid, ok := fileOwner(fi)
	if !ok || uid == os.Geteuid() || uid == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s is owned by uid %d, not by you (uid %d) or root; another user may have planted it to learn your secret, "+
		"so it is not read", ErrUntrusted, name, uid, os.Geteuid())
}
