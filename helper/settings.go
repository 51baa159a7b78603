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

	"vkc-credential/protocol"
)

// The defaults of a profile's settings where no source gives one: VK
// Cloud's. There is no default auth URL: a password is sent only to an
// auth URL the user named.
const (
	DefaultUserDomainName = "users"
	DefaultRegion         = "RegionOne"
	DefaultInterface      = "public"
)

// Settings are a profile's non-secret settings (one type for the wire,
// the profile file and the answers).
type Settings = protocol.Settings

// Sources are the places settings come from, in order of precedence: a
// field set in an earlier one wins.
type Sources struct {
	Flags   Settings  // the command line
	Request Settings  // the JSON request on stdin
	OpenRC  Settings  // --openrc FILE
	Stored  *Settings // the profile as stored; nil when there is none
	Env     Settings  // OS_* variables
}

// Resolve merges the sources and the defaults, checks the values and
// normalizes the auth URL. A required field that no source gives is a
// *MissingSettingError: the auth URL always; the project and the user
// unless an application credential fixes them. For a stored profile, a
// request may change the project, region and interface for one call but
// not the identity the secret belongs to: an auth URL, user name, user
// domain or application credential in the request that differs from the
// stored one is ErrIdentityChanged. OS_* variables never fill in a stored
// profile's identity (auth URL, user, domain, application credential):
// for a stored profile, only the project, region and interface come from
// them, where neither the profile nor a higher source gives one.
func Resolve(src Sources) (Settings, error) { return resolve(src, true) }

// resolveIdentity is Resolve without the need of a project: for a store
// that looks the project up by name, or stores them all.
func resolveIdentity(src Sources) (Settings, error) { return resolve(src, false) }

func resolve(src Sources, needProject bool) (Settings, error) {
	s := src.Flags
	s.Fill(src.Request)
	s.Fill(src.OpenRC)
	env := src.Env
	if src.Stored != nil {
		s.Fill(*src.Stored)
		// A stored profile's identity is never filled in from OS_*
		// variables: only where and how its token is used may be.
		env = Settings{ProjectID: env.ProjectID, Region: env.Region, Interface: env.Interface}
	}
	s.Fill(env)
	s.Fill(Settings{UserDomainName: DefaultUserDomainName, Region: DefaultRegion, Interface: DefaultInterface})
	required := []struct{ name, value string }{{"auth_url", s.AuthURL}}
	if s.ApplicationCredentialID == "" {
		required = append(required, struct{ name, value string }{"username", s.Username})
		if needProject {
			required = append(required, struct{ name, value string }{"project_id", s.ProjectID})
		}
	}
	for _, f := range required {
		if f.value == "" {
			return Settings{}, &MissingSettingError{Field: f.name}
		}
	}
	if err := s.Check(); err != nil {
		return Settings{}, err
	}
	s.AuthURL, _ = protocol.NormalizeAuthURL(s.AuthURL) // Check passed it
	if src.Stored != nil && src.Request != (Settings{}) {
		req := src.Request
		req.Fill(*src.Stored)
		if err := checkSameIdentity(req, *src.Stored); err != nil {
			return Settings{}, err
		}
	}
	return s, nil
}

// SameIdentity reports whether a and b name the same user (or the same
// application credential) on the same Keystone: the identity a stored
// secret belongs to. Auth URLs that differ only by a trailing slash name
// the same Keystone.
func SameIdentity(a, b Settings) bool {
	return checkSameIdentity(a, b) == nil
}

func checkSameIdentity(a, b Settings) error {
	ua, _ := protocol.NormalizeAuthURL(a.AuthURL)
	ub, _ := protocol.NormalizeAuthURL(b.AuthURL)
	ua, ub = identityURL(ua), identityURL(ub)
	for _, f := range []struct{ name, a, b string }{
		{"auth_url", ua, ub}, {"username", a.Username, b.Username}, {"user_domain_name", a.UserDomainName, b.UserDomainName},
		{"application_credential_id", a.ApplicationCredentialID, b.ApplicationCredentialID},
	} {
		if f.a != f.b {
			return tag(ErrIdentityChanged, "the request's %s differs from the stored profile's, and the stored password is sent only to the identity it was stored for", f.name)
		}
	}
	return nil
}

// SettingsFromVars returns the settings named by OS_* variables, as
// lookup finds them (os.LookupEnv, or an openrc file's exports).
func SettingsFromVars(lookup func(string) (string, bool)) Settings {
	get := func(name string) string { v, _ := lookup(name); return strings.TrimSpace(v) }
	return Settings{
		AuthURL:        get("OS_AUTH_URL"),
		ProjectID:      get("OS_PROJECT_ID"),
		Username:       get("OS_USERNAME"),
		UserDomainName: get("OS_USER_DOMAIN_NAME"),
		Region:         get("OS_REGION_NAME"),
		Interface:      get("OS_INTERFACE"),

		ApplicationCredentialID: get("OS_APPLICATION_CREDENTIAL_ID"),
	}
}

// DefaultKeyring is the backend of a profile stored before there was a
// choice: the OS keychain.
const DefaultKeyring = "os"

// Profile is a stored profile: its settings and where its secret comes
// from: the keychain backend it is kept in, or the command that prints it.
type Profile struct {
	Settings
	// Keyring is the backend the secret is kept in; "" when SecretCommand
	// gives it (such a profile keeps nothing in a keychain).
	Keyring string
	// SecretCommand, when set, is run with `sh -c` for the secret each
	// time a token must be issued (see runSecretCommand); it wins over a
	// "keyring" in the file.
	SecretCommand string
	// TOTPCommand, when set, is run with `sh -c` for a TOTP passcode when
	// Keystone asks for one; its first output line is the passcode.
	TOTPCommand string
	// v10: the file records no backend, as vkc-credential 1.0 wrote it;
	// only such a profile may have its secret under its own name.
	v10 bool
}

// profileFile is the JSON form of a stored profile.
type profileFile struct {
	Version int    `json:"version"`
	Name    string `json:"profile"`
	Settings
	Keyring       string `json:"keyring,omitempty"`
	SecretCommand string `json:"secret_command,omitempty"`
	TOTPCommand   string `json:"totp_command,omitempty"`
}

func (p Paths) profilePath(name string) string {
	return filepath.Join(p.ConfigDir, "profiles", name+".json")
}

// LoadProfile reads the stored profile name. A profile that is not
// stored is ErrProfileNotFound; one stored before there was a choice of
// backend (with neither a backend nor a secret command) is kept in
// DefaultKeyring.
func (p Paths) LoadProfile(name string) (Profile, error) {
	path := p.profilePath(name)
	data, err := readPrivateFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Profile{}, tag(ErrProfileNotFound, "no profile %q is stored", name)
	case errors.Is(err, ErrLooseMode):
		return Profile{}, tag(ErrUnsafeFile, "%w, which lets others read it", err)
	case errors.Is(err, ErrNotOurs):
		return Profile{}, tag(ErrUnsafeFile, "%w", err)
	case err != nil:
		return Profile{}, fmt.Errorf("cannot read profile %q: %w", name, err)
	}
	pf, err := decodeProfileFile(data)
	if err != nil {
		return Profile{}, tag(ErrDamaged, "profile file %s cannot be parsed (%v)", path, err)
	}
	if pf.Version != protocol.Version {
		return Profile{}, tag(ErrDamaged, "profile file %s is of version %d; this vkc-credential reads version %d", path, pf.Version, protocol.Version)
	}
	v10 := pf.Keyring == "" && pf.SecretCommand == ""
	switch {
	case v10:
		pf.Keyring = DefaultKeyring
	case pf.SecretCommand != "":
		pf.Keyring = ""
	}
	return Profile{Settings: pf.Settings, Keyring: pf.Keyring, SecretCommand: pf.SecretCommand, TOTPCommand: pf.TOTPCommand, v10: v10}, nil
}

// decodeProfileFile decodes a profile file without reflection on
// profileFile (see flatjson.go); saveProfile writes it with encoding/json.
func decodeProfileFile(data []byte) (profileFile, error) {
	var pf profileFile
	o, err := decodeFlat(data)
	if err != nil {
		return pf, err
	}
	if pf.Version, err = o.num("version"); err != nil {
		return pf, err
	}
	type f = field[string]
	err = o.strings(f{"profile", &pf.Name}, f{"auth_url", &pf.AuthURL}, f{"project_id", &pf.ProjectID}, f{"username", &pf.Username},
		f{"user_domain_name", &pf.UserDomainName}, f{"region", &pf.Region}, f{"interface", &pf.Interface},
		f{"application_credential_id", &pf.ApplicationCredentialID}, f{"keyring", &pf.Keyring}, f{"secret_command", &pf.SecretCommand},
		f{"totp_command", &pf.TOTPCommand})
	return pf, err
}

// saveProfile stores profile name, atomically, 0600. It returns a note
// when it had to narrow a directory's mode.
func (p Paths) saveProfile(name string, prof Profile) (note string, err error) {
	note, err = ensureDir(p.ConfigDir)
	if err != nil {
		return note, err
	}
	if n, err := ensureDir(filepath.Dir(p.profilePath(name))); err != nil {
		return note, err
	} else if n != "" {
		note = n
	}
	data, err := json.MarshalIndent(profileFile{Version: protocol.Version, Name: name, Settings: prof.Settings, Keyring: prof.Keyring,
		SecretCommand: prof.SecretCommand, TOTPCommand: prof.TOTPCommand}, "", "  ")
	if err != nil {
		return note, err
	}
	return note, writeFileAtomic(p.profilePath(name), append(data, '\n'))
}

// deleteProfile removes the stored settings of profile name; a profile
// that is not stored is no error.
func (p Paths) deleteProfile(name string) error {
	err := os.Remove(p.profilePath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// profileNames lists the stored profiles, sorted.
func (p Paths) profileNames() ([]string, error) {
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
