package clouds

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// Env is where Load looks: the environment, the home directory and the
// current directory. Tests give their own.
type Env struct {
	LookupEnv func(string) (string, bool) // os.LookupEnv
	Home      string                      // the user's home directory
	Dir       string                      // the current directory
}

// DefaultEnv is the process's environment, home and current directory.
func DefaultEnv() (Env, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Env{}, fmt.Errorf("cannot find the home directory: %w", err)
	}
	dir, err := os.Getwd()
	if err != nil {
		return Env{}, fmt.Errorf("cannot find the current directory: %w", err)
	}
	return Env{LookupEnv: os.LookupEnv, Home: home, Dir: dir}, nil
}

// extensions are the endings openstacksdk tries for each file, in order.
var extensions = []string{".yaml", ".yml", ".json"}

// findClouds reads and parses the clouds.yaml that openstacksdk would
// use: $OS_CLIENT_CONFIG_FILE, else the first of clouds.yaml, clouds.yml
// and clouds.json in each directory of configDirs. None is errNoFile,
// naming the paths searched.
func findClouds(env Env) (*file, error) {
	var paths []string
	if p, ok := env.LookupEnv("OS_CLIENT_CONFIG_FILE"); ok && p != "" {
		paths = append(paths, p)
	}
	for _, dir := range configDirs(env) {
		paths = append(paths, candidates(dir, "clouds")...)
	}
	f, err := findFile(paths)
	if err == nil && f == nil {
		err = fmt.Errorf("%w; searched %s (set OS_CLIENT_CONFIG_FILE to use another file)", errNoFile, strings.Join(paths, ", "))
	}
	return f, err
}

// findSecure reads and parses the secure.yaml that completes the
// clouds.yaml at cloudsPath: $OS_CLIENT_SECURE_FILE when the user names
// one, else the first of secure.yaml, secure.yml and secure.json in the
// directory cloudsPath was found in (the directory of the path, not of a
// symbolic link's target). None is (nil, nil).
//
// openstacksdk searches secure.yaml on the whole search path, so that a
// secure.yaml in the current directory completes ~/.config's clouds.yaml;
// here it cannot, since a file the user did not mean would be merged into
// the cloud the user did mean.
func findSecure(env Env, cloudsPath string) (*file, error) {
	if p, ok := env.LookupEnv("OS_CLIENT_SECURE_FILE"); ok && p != "" {
		return findFile([]string{p})
	}
	return findFile(candidates(filepath.Dir(cloudsPath), "secure"))
}

// candidates are the files of kind ("clouds" or "secure") that
// openstacksdk tries in dir.
func candidates(dir, kind string) []string {
	paths := make([]string, 0, len(extensions))
	for _, ext := range extensions {
		paths = append(paths, filepath.Join(dir, kind+ext))
	}
	return paths
}

// findFile reads and parses the first of paths that exists; none is
// (nil, nil).
func findFile(paths []string) (*file, error) {
	for _, p := range paths {
		data, fi, err := readFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return parse(p, data, fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows")
	}
	return nil, nil
}

// configDirs are openstacksdk's CONFIG_SEARCH_PATH: the current
// directory, platformdirs' user config directory, ~/.config/openstack,
// platformdirs' site config directory, /etc/openstack; without repeats.
func configDirs(env Env) []string {
	var dirs []string
	add := func(ds ...string) {
		for _, d := range ds {
			if d != "" && !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	add(env.Dir, userConfigDir(env))
	if env.Home != "" {
		add(filepath.Join(env.Home, ".config", "openstack"))
	}
	add(siteConfigDirs(env)...)
	if runtime.GOOS != "windows" {
		add("/etc/openstack")
	}
	return dirs
}

// userConfigDir is platformdirs' user config directory for openstack, or
// "" when the environment does not say.
func userConfigDir(env Env) string {
	switch runtime.GOOS {
	case "windows":
		if d, _ := env.LookupEnv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "OpenStack", "openstack")
		}
	case "darwin":
		if env.Home != "" {
			return filepath.Join(env.Home, "Library", "Application Support", "openstack")
		}
	default:
		if d, _ := env.LookupEnv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
			return filepath.Join(d, "openstack")
		}
		if env.Home != "" {
			return filepath.Join(env.Home, ".config", "openstack")
		}
	}
	return ""
}

// siteConfigDirs are platformdirs' site config directories for openstack.
func siteConfigDirs(env Env) []string {
	switch runtime.GOOS {
	case "windows":
		if d, _ := env.LookupEnv("PROGRAMDATA"); d != "" {
			return []string{filepath.Join(d, "OpenStack", "openstack")}
		}
		return nil
	case "darwin":
		return []string{"/Library/Application Support/openstack"}
	}
	xdg, _ := env.LookupEnv("XDG_CONFIG_DIRS")
	if xdg == "" {
		xdg = "/etc/xdg"
	}
	var dirs []string
	for _, d := range filepath.SplitList(xdg) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, filepath.Join(d, "openstack"))
		}
	}
	return dirs
}
