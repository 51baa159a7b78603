//go:build !windows

package helper

import (
	"bytes"
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

// writeFile writes data to path with mode perm whatever the umask.
func writeFile(t *testing.T, path string, data []byte, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// wantNotOurs fails unless err wraps ErrNotOurs, and only it, and names
// each of words. It says what is wrong, not how to mend it: that is the
// command line's hint.
func wantNotOurs(t *testing.T, err error, words ...string) {
	t.Helper()
	if !errors.Is(err, ErrNotOurs) || errors.Is(err, ErrLooseMode) || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotOurs alone", err)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "move it away") {
		t.Errorf("error %q says how to mend it below the edge", err)
	}
}

func TestReadPrivateFileClassifiesErrors(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.json")
	writeFile(t, ok, []byte(`{"a":1}`), 0o600)
	loose := filepath.Join(dir, "loose.json")
	writeFile(t, loose, []byte(`{}`), 0o644)

	if data, err := readPrivateFile(ok); err != nil || string(data) != `{"a":1}` {
		t.Errorf("own 0600 file: %q, %v", data, err)
	}
	_, err := readPrivateFile(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrNotOurs) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	_, err = readPrivateFile(loose)
	if !errors.Is(err, ErrLooseMode) || errors.Is(err, ErrNotOurs) {
		t.Errorf("0644 file: %v, want ErrLooseMode", err)
	}
}

// Root reading a cache directory that another user owns must not serve
// the token that user planted there.
func TestReadPrivateFileRefusesAnotherUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0123.json")
	writeFile(t, path, []byte(`{"token":"planted"}`), 0o600)
	planted.ChownToOther(t, path)
	data, err := readPrivateFile(path)
	wantNotOurs(t, err, path, "uid "+strconv.Itoa(planted.OtherUID))
	if data != nil {
		t.Errorf("returned %q", data)
	}
}

func TestReadPrivateFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	writeFile(t, target, []byte(`{"token":"planted"}`), 0o600)
	link := filepath.Join(dir, "0123.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	data, err := readPrivateFile(link)
	wantNotOurs(t, err, link, "symbolic link")
	if data != nil {
		t.Errorf("returned %q", data)
	}
}

// A named pipe planted at a cache path would block an open without
// O_NONBLOCK until someone writes to it, that is forever.
func TestReadPrivateFileRefusesFIFOWithoutBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0123.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := readPrivateFile(path)
		done <- err
	}()
	select {
	case err := <-done:
		wantNotOurs(t, err, path, "named pipe")
	case <-time.After(10 * time.Second):
		// Release the reader stuck in open(2) before failing.
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("readPrivateFile still blocked on a named pipe after 10s")
	}
}

func TestReadPrivateFileBoundsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	writeFile(t, path, nil, 0o600)
	if err := os.Truncate(path, maxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := readPrivateFile(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

// A symbolic link swapped in for the directory must not get its target
// chmodded; the old code's Lstat + Chmod(path) followed one placed between
// the two calls. Here the link is there from the start.
func TestEnsureDirRefusesSymlink(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "victim")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(target, 0o755) // whatever the umask
	link := filepath.Join(base, "vkc-credential")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	note, err := ensureDir(link)
	wantNotOurs(t, err, link, "symbolic link")
	if note != "" {
		t.Errorf("note %q", note)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o755 {
		t.Errorf("target's mode changed to %04o", fi.Mode().Perm())
	}

	// A dangling link is not created through either.
	dangling := filepath.Join(base, "dangling")
	if err := os.Symlink(filepath.Join(base, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	_, err = ensureDir(dangling)
	wantNotOurs(t, err, "symbolic link")
	if _, err := os.Lstat(filepath.Join(base, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("link target created: %v", err)
	}
}

func TestEnsureDirRefusesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vkc-credential")
	writeFile(t, path, nil, 0o600)
	_, err := ensureDir(path)
	wantNotOurs(t, err, path, "not a directory")
}

// A parent that is a link the user made (~/.cache pointing elsewhere) is
// fine; only the last component must be our own directory.
func TestEnsureDirFollowsLinkedParent(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real-cache")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(base, ".cache")
	if err := os.Symlink(real, cache); err != nil {
		t.Fatal(err)
	}
	if note, err := ensureDir(filepath.Join(cache, "vkc-credential")); note != "" || err != nil {
		t.Fatalf("note %q, err %v", note, err)
	}
	if fi, err := os.Lstat(filepath.Join(real, "vkc-credential")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("created %v, %v", fi, err)
	}
}

// Root with a cache directory that another user owns must neither use nor
// "repair" it.
func TestEnsureDirRefusesAnotherUsersDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vkc-credential")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	planted.ChownToOther(t, dir)
	_, err := ensureDir(dir)
	wantNotOurs(t, err, dir, "uid "+strconv.Itoa(planted.OtherUID))
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode changed to %04o", fi.Mode().Perm())
	}
}

// Files 0600 and directories 0700 whatever the umask.
func TestFilesAndDirPrivateUnderUmask000(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "a", "vkc-credential")
	if note, err := ensureDir(dir); note != "" || err != nil {
		t.Fatalf("ensureDir: %q, %v", note, err)
	}
	path := filepath.Join(dir, "p.json")
	if err := writeFileAtomic(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600} {
		if fi, err := os.Lstat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %04o", p, fi.Mode(), err, want)
		}
	}
}

// A symbolic link planted at the final path is replaced by our file, and
// the file it pointed to is left as it was.
func TestWriteFileAtomicReplacesPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	writeFile(t, target, []byte("victim's data"), 0o644)
	path := filepath.Join(dir, "0123.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte("ours")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(target); string(data) != "victim's data" {
		t.Errorf("target now holds %q", data)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("path is %v, %v; want a regular 0600 file", fi.Mode(), err)
	}
	if data, err := readPrivateFile(path); err != nil || !bytes.Equal(data, []byte("ours")) {
		t.Errorf("read back %q, %v", data, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

// Writing into a directory another user owns (root's cache path pointing
// into a user's home) is refused before anything is created there.
func TestWriteFileAtomicRefusesAnotherUsersDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vkc-credential")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	planted.ChownToOther(t, dir)
	err := writeFileAtomic(filepath.Join(dir, "0123.json"), []byte("ours"))
	wantNotOurs(t, err, dir, "uid "+strconv.Itoa(planted.OtherUID))
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("created %v", entries)
	}
}
