//go:build !windows

package clouds

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"vkc-credential/internal/planted"
	"vkc-credential/protocol"
)

// writeFile writes data to path with mode perm whatever the umask,
// creating its directory.
func writeFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

const (
	// userClouds is the user's own cloud, whose password is in secure.yaml.
	userClouds = "clouds:\n  vk:\n    auth:\n      auth_url: https://keystone.example.com/v3\n      username: alice\n"
	userSecure = "clouds:\n  vk:\n    auth:\n      password: us3r-s3cret\n"
	// plantedClouds names another host for the same cloud.
	plantedClouds = "clouds:\n  vk:\n    auth:\n      auth_url: https://planted.example.com/v3\n      username: alice\n"
)

// withHome is testEnv with the user's home at home.
func withHome(t *testing.T, dir, home string, vars map[string]string) Env {
	env := testEnv(t, dir, vars)
	env.Home = home
	return env
}

// TestLoadCloudRefusesAnotherUsersFiles: issue 15's planted files. A
// clouds.yaml or secure.yaml that another user owns is refused with an
// error naming it, and Load does not pass over it to the next file.
func TestLoadCloudRefusesAnotherUsersFiles(t *testing.T) {
	t.Run("a planted ./clouds.yaml beside the user's own ~/.config/openstack", func(t *testing.T) {
		home, cwd := t.TempDir(), t.TempDir()
		writeFile(t, filepath.Join(home, ".config", "openstack", "clouds.yaml"), userClouds, 0o600)
		writeFile(t, filepath.Join(home, ".config", "openstack", "secure.yaml"), userSecure, 0o600)
		path := filepath.Join(cwd, "clouds.yaml")
		writeFile(t, path, plantedClouds, 0o644)
		planted.ChownToOther(t, path)
		c, err := Load("vk", withHome(t, cwd, home, nil))
		wantErr(t, c, err, ErrUntrusted, []string{path, "owned by uid " + strconv.Itoa(planted.OtherUID)}, []string{"planted.example.com", "move it away"})
	})
	t.Run("another user's secure.yaml beside the user's clouds.yaml", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "clouds.yaml"), userClouds, 0o600)
		secure := filepath.Join(dir, "secure.yaml")
		writeFile(t, secure, userSecure, 0o644)
		planted.ChownToOther(t, secure)
		c, err := Load("vk", testEnv(t, dir, nil))
		wantErr(t, c, err, ErrUntrusted, []string{secure, "owned by uid"}, []string{"s3cret"})
	})
	t.Run("OS_CLIENT_CONFIG_FILE naming another user's file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "elsewhere.yaml")
		writeFile(t, path, plantedClouds, 0o644)
		planted.ChownToOther(t, path)
		c, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": path}))
		wantErr(t, c, err, ErrUntrusted, []string{path}, nil)
	})
}

// TestLoadCloudSymlinks: a link the user owns may lead to the clouds.yaml
// (a dotfiles repository), and secure.yaml is then looked for beside the
// link; a link another user owns, anywhere on the way, or a file another
// user owns at the end, is refused.
func TestLoadCloudSymlinks(t *testing.T) {
	t.Run("the user's link into a dotfiles repository", func(t *testing.T) {
		home := t.TempDir()
		dotfiles := filepath.Join(home, "dotfiles", "openstack")
		writeFile(t, filepath.Join(dotfiles, "clouds.yaml"), userClouds, 0o644)
		writeFile(t, filepath.Join(dotfiles, "secure.yaml"), "clouds:\n  vk:\n    auth:\n      password: n0t-this-one\n", 0o600)
		conf := filepath.Join(home, ".config", "openstack")
		symlink(t, "../../dotfiles/openstack/clouds.yaml", filepath.Join(conf, "clouds.yaml"))
		writeFile(t, filepath.Join(conf, "secure.yaml"), userSecure, 0o600)
		c, err := Load("vk", withHome(t, t.TempDir(), home, nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Settings.AuthURL != "https://keystone.example.com/v3" || c.Secret != "us3r-s3cret" || c.SecretFile != filepath.Join(conf, "secure.yaml") {
			t.Errorf("got %s, auth URL %s, secret from %s", c, c.Settings.AuthURL, c.SecretFile)
		}
	})
	t.Run("a relative link through a linked directory", func(t *testing.T) {
		// The kernel takes .. from where the linked directory really is:
		// real/sub/../clouds.yaml is real/clouds.yaml, not top/clouds.yaml.
		top := t.TempDir()
		writeFile(t, filepath.Join(top, "real", "clouds.yaml"), userClouds, 0o600)
		writeFile(t, filepath.Join(top, "clouds.yaml"), plantedClouds, 0o600)
		if err := os.MkdirAll(filepath.Join(top, "real", "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		symlink(t, filepath.Join(top, "real", "sub"), filepath.Join(top, "linked"))
		symlink(t, "../clouds.yaml", filepath.Join(top, "real", "sub", "clouds.yaml"))
		c, err := Load("vk", testEnv(t, filepath.Join(top, "linked"), nil))
		if err != nil || c.Settings.AuthURL != "https://keystone.example.com/v3" {
			t.Fatalf("Load = %v, %v", c, err)
		}
	})
	refused := map[string]func(t *testing.T, dir string) string{
		"another user's link to the user's file": func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "mine.yaml"), userClouds, 0o600)
			symlink(t, "mine.yaml", filepath.Join(dir, "clouds.yaml"))
			planted.ChownToOther(t, filepath.Join(dir, "clouds.yaml"))
			return "the symbolic link " + filepath.Join(dir, "clouds.yaml")
		},
		"the user's link to another user's file": func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "theirs.yaml"), plantedClouds, 0o644)
			planted.ChownToOther(t, filepath.Join(dir, "theirs.yaml"))
			symlink(t, "theirs.yaml", filepath.Join(dir, "clouds.yaml"))
			return "through links: " + filepath.Join(dir, "theirs.yaml")
		},
		"another user's link in the middle of a chain": func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "mine.yaml"), userClouds, 0o600)
			symlink(t, "mine.yaml", filepath.Join(dir, "middle.yaml"))
			planted.ChownToOther(t, filepath.Join(dir, "middle.yaml"))
			symlink(t, filepath.Join(dir, "middle.yaml"), filepath.Join(dir, "clouds.yaml"))
			return "through links: " + filepath.Join(dir, "middle.yaml")
		},
	}
	for name, plant := range refused {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			says := plant(t, dir)
			c, err := Load("vk", testEnv(t, dir, nil))
			wantErr(t, c, err, ErrUntrusted, []string{says, "owned by uid"}, nil)
		})
	}
}

// TestLoadCloudLinksThatLeadNowhere: a dangling link is passed over (as
// openstacksdk does); a loop of links is an error that names the file.
func TestLoadCloudLinksThatLeadNowhere(t *testing.T) {
	home, cwd := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(home, ".config", "openstack", "clouds.yaml"), userClouds, 0o600)
	symlink(t, "gone.yaml", filepath.Join(cwd, "clouds.yaml"))
	if c, err := Load("vk", withHome(t, cwd, home, nil)); err != nil || c.Files[0] != filepath.Join(home, ".config", "openstack", "clouds.yaml") {
		t.Errorf("a dangling ./clouds.yaml: %v, %v", c, err)
	}
	loop := t.TempDir()
	symlink(t, "b.yaml", filepath.Join(loop, "clouds.yaml"))
	symlink(t, "clouds.yaml", filepath.Join(loop, "b.yaml"))
	c, err := Load("vk", testEnv(t, loop, nil))
	wantErr(t, c, err, errInvalid, []string{filepath.Join(loop, "clouds.yaml"), "symbolic links"}, nil)
}

// TestLoadCloudModes: a file others may read is used, with a warning
// (LooseSecretFile) when it holds the secret; one others may write is
// refused.
func TestLoadCloudModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clouds.yaml")
	writeFile(t, path, userClouds+"      password: pl41n-s3cret\n", 0o600)
	c, err := Load("vk", testEnv(t, dir, nil))
	if err != nil || c.LooseSecretFile || len(c.Files) != 1 || c.SecretFile != path {
		t.Fatalf("a 0600 file alone: %v (loose %v, files %q), %v", c, c != nil && c.LooseSecretFile, c.Files, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err = Load("vk", testEnv(t, dir, nil)); err != nil || !c.LooseSecretFile {
		t.Errorf("a 0644 file: loose = %v, %v", c != nil && c.LooseSecretFile, err)
	}
	if s := c.String() + c.GoString(); strings.Contains(s, "s3cret") {
		t.Errorf("String shows the secret: %s", s)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	c, err = Load("vk", testEnv(t, dir, nil))
	wantErr(t, c, err, ErrUntrusted, []string{path, "0666", "any user may write it"}, []string{"s3cret", "chmod"})
}

// TestLoadCloudRefusesBigAndSpecialFiles: a file over the size bound, a
// directory and a named pipe are refused, and the pipe without waiting
// for a writer.
func TestLoadCloudRefusesBigAndSpecialFiles(t *testing.T) {
	big := filepath.Join(t.TempDir(), "clouds.yaml")
	writeFile(t, big, "clouds: {}\n"+strings.Repeat("#", maxFileSize), 0o600)
	c, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": big}))
	wantErr(t, c, err, errInvalid, []string{big, "larger"}, nil)

	notFile := t.TempDir()
	if err := os.Mkdir(filepath.Join(notFile, "clouds.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err = Load("vk", testEnv(t, notFile, nil))
	wantErr(t, c, err, errInvalid, []string{"not a regular file"}, nil)

	fifo := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load("vk", testEnv(t, filepath.Dir(fifo), nil))
	wantErr(t, c, err, errInvalid, []string{fifo, "not a regular file"}, nil)
}

// TestLoadCloudUnreadableFile: a file that is there but cannot be read
// (here a path through a regular file, which fails as root too) is an
// error of class usage that names it, as every error of Load: the user's
// to mend.
func TestLoadCloudUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "file"), "x", 0o600)
	path := filepath.Join(dir, "file", "clouds.yaml")
	c, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": path}))
	wantErr(t, c, err, errUnreadable, []string{"cannot read " + path + ": ", "not a directory"}, nil)
	if code := protocol.CodeOf(err); code != protocol.CodeUsage {
		t.Errorf("class %s, want usage", code)
	}
}

func TestParentOf(t *testing.T) {
	for in, want := range map[string]string{
		"clouds.yaml": "", "/clouds.yaml": "/", "a/b/../c": "a/b/../", "/x/y/": "/x/y/",
	} {
		if got := parentOf(in); got != want {
			t.Errorf("parentOf(%q) = %q, want %q", in, got, want)
		}
	}
}
