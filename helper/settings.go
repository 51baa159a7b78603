package helper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// The defaults of a profile's settings: VK Cloud's.
const (
	DefaultAuthURL        = "https://infra.mail.ru:35357/v3/"
	DefaultUserDomainName = "users"
	DefaultRegion         = "RegionOne"
	DefaultInterface      = "public"
)

// Settings are a profile's non-secret settings.
type Settings struct {
	AuthURL        string `json:"auth_url"`
	ProjectID      string `json:"project_id"`
	Username       string `json:"username"`
	UserDomainName string `json:"user_domain_name"`
	Region         string `json:"region"`
	Interface      string `json:"interface"`
}

// Fill sets each empty field of s from lower, a source of lower
// precedence.
func (s *Settings) Fill(lower Settings) {
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&s.AuthURL, lower.AuthURL)
	fill(&s.ProjectID, lower.ProjectID)
	fill(&s.Username, lower.Username)
	fill(&s.UserDomainName, lower.UserDomainName)
	fill(&s.Region, lower.Region)
	fill(&s.Interface, lower.Interface)
}

// Defaults are the settings used where no source gives one.
func Defaults() Settings {
	return Settings{AuthURL: DefaultAuthURL, UserDomainName: DefaultUserDomainName, Region: DefaultRegion, Interface: DefaultInterface}
}

// FromRequest returns the settings a JSON request carries.
func FromRequest(r *protocol.Request) Settings {
	if r == nil {
		return Settings{}
	}
	return Settings{AuthURL: r.AuthURL, ProjectID: r.ProjectID, Username: r.Username,
		UserDomainName: r.UserDomainName, Region: r.Region, Interface: r.Interface}
}

// FromVars returns the settings named by OS_* variables, as lookup finds
// them (os.LookupEnv, or an openrc file's exports).
func FromVars(lookup func(string) (string, bool)) Settings {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	return Settings{
		AuthURL:        get("OS_AUTH_URL"),
		ProjectID:      get("OS_PROJECT_ID"),
		Username:       get("OS_USERNAME"),
		UserDomainName: get("OS_USER_DOMAIN_NAME"),
		Region:         get("OS_REGION_NAME"),
		Interface:      get("OS_INTERFACE"),
	}
}

// Check normalizes the auth URL and refuses settings Keystone cannot use.
func (s *Settings) Check() error {
	fields := []struct{ name, flag, env, value string }{
		{"project_id", "--project-id", "OS_PROJECT_ID", s.ProjectID},
		{"username", "--username", "OS_USERNAME", s.Username},
	}
	for _, f := range fields {
		if f.value == "" {
			return protocol.Errorf(protocol.CodeUsage, "%s is not set; give it with %s, the request's %q field, an openrc file or %s", f.name, f.flag, f.name, f.env)
		}
	}
	for name, v := range map[string]string{"auth_url": s.AuthURL, "project_id": s.ProjectID, "username": s.Username,
		"user_domain_name": s.UserDomainName, "region": s.Region, "interface": s.Interface} {
		if err := protocol.CheckSetting(name, v); err != nil {
			return err
		}
	}
	u, err := keystone.NormalizeAuthURL(s.AuthURL)
	if err != nil {
		return protocol.Errorf(protocol.CodeUsage, "%v", err)
	}
	s.AuthURL = u
	return nil
}

// profileFile is the JSON form of a stored profile.
type profileFile struct {
	Version int    `json:"version"`
	Profile string `json:"profile"`
	Settings
}

func (p Paths) profilePath(name string) string {
	return filepath.Join(p.ConfigDir, "profiles", name+".json")
}

// LoadProfile reads the stored settings of profile name. A profile that
// is not stored is an error of code CodeNotFound.
func (p Paths) LoadProfile(name string) (Settings, error) {
	data, err := readPrivateFile(p.profilePath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, protocol.Errorf(protocol.CodeNotFound, "no profile %q is stored; create it with `vkc-credential store --profile %s --openrc FILE`", name, name)
	}
	if errors.Is(err, errLooseMode) {
		return Settings{}, protocol.Errorf(protocol.CodeUsage, "%v, which lets others read it; run `chmod 600` on it", err)
	}
	if err != nil {
		return Settings{}, protocol.Errorf(protocol.CodeInternal, "cannot read profile %q: %w", name, err)
	}
	var pf profileFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return Settings{}, protocol.Errorf(protocol.CodeInternal, "profile file %s is damaged (%v); run `vkc-credential store --profile %s` again", p.profilePath(name), err, name)
	}
	return pf.Settings, nil
}

// SaveProfile stores the settings of profile name, atomically, 0600.
func (p Paths) SaveProfile(name string, s Settings) (note string, err error) {
	note, err = ensureDir(p.ConfigDir)
	if err != nil {
		return note, err
	}
	dir := filepath.Dir(p.profilePath(name))
	if n, err := ensureDir(dir); err != nil {
		return note, err
	} else if n != "" {
		note = n
	}
	data, err := json.MarshalIndent(profileFile{Version: protocol.Version, Profile: name, Settings: s}, "", "  ")
	if err != nil {
		return note, err
	}
	return note, writeFileAtomic(p.profilePath(name), append(data, '\n'))
}

// DeleteProfile removes the stored settings of profile name; it reports
// whether there were any.
func (p Paths) DeleteProfile(name string) (bool, error) {
	err := os.Remove(p.profilePath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// ProfileNames lists the stored profiles, sorted.
func (p Paths) ProfileNames() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(p.ConfigDir, "profiles"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list profiles: %w", err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && e.Type().IsRegular() && protocol.CheckProfileName(name) == nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}
