// Package clouds reads one cloud of openstacksdk's clouds.yaml and
// secure.yaml, for `store --cloud`, and writes the clouds.yaml stanza that
// replaces it with the vkc auth type.
//
// The package is split by what it does: search.go finds the files (the
// search path), files.go opens them (whose files are trusted), yaml.go
// decodes them within bounds, merge.go puts a cloud together from
// clouds.yaml and secure.yaml, cloud.go reads its settings, and stanza.go
// writes the replacement.
//
// It is a package of its own so that the YAML library stays out of the
// helper package and of everything that imports only helper. A binary that
// links this package still runs the library's package init (two regexps
// and a few maps, about 0.1 ms) at every start, whichever command runs.
package clouds

import (
	"fmt"
	"strings"

	"vkc-credential/protocol"
)

// The auth types a Cloud can have. A cloud without auth_type is
// AuthPassword, as in openstacksdk.
const (
	AuthPassword              = "password"
	AuthApplicationCredential = "v3applicationcredential"
)

// The errors of Load, each of class protocol.CodeUsage: a file the user
// named, or must mend.

// errNoFile means no clouds.yaml was found on the search path.
var errNoFile = protocol.NewError(protocol.CodeUsage, "no clouds.yaml found")

// ErrNoCloud means the clouds.yaml found has no cloud of that name.
var ErrNoCloud = protocol.NewError(protocol.CodeUsage, "cloud not found")

// errUnsupported means the cloud is configured in a way vkc-credential
// cannot use: another auth type, a vendor profile, a user domain by id.
var errUnsupported = protocol.NewError(protocol.CodeUsage, "unsupported cloud")

// errInvalid means a clouds.yaml or secure.yaml cannot be used as it
// stands: not YAML, not a regular file, too big, too costly to decode, or
// a value of the wrong type. Its message names the file and line, never a
// value.
var errInvalid = protocol.NewError(protocol.CodeUsage, "invalid clouds file")

// ErrUntrusted means a clouds.yaml or secure.yaml that someone other than
// the user could have written: owned by another user (root excepted),
// reached through a symbolic link another user owns, or writable by
// others. Its message names the file and says which.
var ErrUntrusted = protocol.NewError(protocol.CodeUsage, "clouds file not trusted")

// errUnreadable means a clouds.yaml or secure.yaml that is there but
// cannot be read (no permission, an I/O error); its message, "cannot read
// FILE: why", names the file.
var errUnreadable = protocol.NewError(protocol.CodeUsage, "cannot read")

// Cloud is what a cloud of clouds.yaml (with its secret from secure.yaml)
// says. Fields the files do not give are empty: defaults are the caller's.
type Cloud struct {
	Name string
	// Settings: auth.auth_url, auth.project_id, auth.username,
	// auth.user_domain_name (else auth.domain_name), region_name,
	// interface.
	Settings protocol.Settings
	// ProjectName and its domain, for a cloud that names its project
	// rather than giving its id (auth.project_domain_name or _id, else
	// auth.domain_name or _id).
	ProjectName       string
	ProjectDomainName string
	ProjectDomainID   string
	// AuthType is AuthPassword or AuthApplicationCredential.
	AuthType                  string
	ApplicationCredentialID   string
	ApplicationCredentialName string
	// Secret is auth.password (AuthPassword) or
	// auth.application_credential_secret (AuthApplicationCredential),
	// empty when neither file holds one. Never print it.
	Secret string
	// SecretFile is the file the secret was found in, for the warning
	// that a plaintext copy remains there; LooseSecretFile says that
	// others than its owner may read that file.
	SecretFile      string
	LooseSecretFile bool
	// Files are the files read: the clouds.yaml, then the secure.yaml if
	// one was found.
	Files []string
	// Warnings are things the user should know that did not stop the
	// import (keys of secure.yaml that were ignored). They name files and
	// keys, never a value.
	Warnings []string
}

// String describes c without its secret, so that a Cloud printed with
// %v by mistake does not leak it.
func (c *Cloud) String() string {
	return fmt.Sprintf("cloud %q from %s (%s)", c.Name, strings.Join(c.Files, ", "), c.AuthType)
}

// GoString is String, for %#v.
func (c *Cloud) GoString() string { return c.String() }

// Load returns cloud name of the first clouds.yaml on openstacksdk's
// search path (see searchPath), with its secret taken from the
// secure.yaml beside that file when there is one (see findSecure and
// mergeSecure).
//
// Unlike openstacksdk, which skips a file it cannot read or parse and
// takes the next, Load stops at the first file that exists and reports
// what is wrong with it: a cloud imported from a file the user did not
// mean would be worse than an error. A file that someone else could have
// written is refused (ErrUntrusted; see openTrusted): its auth_url would
// decide where the user's secret goes.
func Load(name string, env Env) (*Cloud, error) {
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	cf, err := findClouds(env)
	if err != nil {
		return nil, err
	}
	c := &Cloud{Name: name, Files: []string{cf.path}}
	top, auth, err := cloudOf(cf, name)
	if err != nil {
		return nil, err
	}
	sf, err := findSecure(env, cf.path)
	if err != nil {
		return nil, err
	}
	if sf != nil {
		c.Files = append(c.Files, sf.path)
		if c.Warnings, err = mergeSecure(auth, sf, name); err != nil {
			return nil, err
		}
	}
	if err := c.fill(top, auth); err != nil {
		return nil, err
	}
	return c, nil
}
