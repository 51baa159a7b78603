package cmdline

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/helper/clouds"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// maxPasswordBytes bounds a password read from stdin.
const maxPasswordBytes = 64 << 10

// maxOpenRCBytes bounds an openrc file; VK Cloud's is under 1 KiB.
const maxOpenRCBytes = 1 << 20

var errNoTTY = errors.New("no terminal")

// sourceFile is what an openrc file or a clouds.yaml entry gives store:
// settings, a project by name, and perhaps a secret (never printed).
type sourceFile struct {
	settings    helper.Settings
	projectName string
	secret      string // an application credential's secret (openrc) or a password (clouds.yaml)
	secretFrom  string // the file the secret is in, for the warning
	stanza      string // for --cloud: the clouds.yaml stanza that replaces it
}

// store saves a profile's settings and its password. The order matters:
// the settings are checked first, then whether the keychain answers (and
// holds a password already), and only then is anyone asked for a password
// or Keystone called.
func (inv *invocation) store(c *cli.Context) error {
	pwStdin := c.Bool("password-stdin")
	req, err := inv.setup(c, !pwStdin, true)
	if err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	var stored *helper.Profile
	switch p, err := h.Paths.LoadProfile(inv.profile); {
	case err == nil:
		stored = &p
	case !errors.Is(err, helper.ErrProfileNotFound):
		return err
	}
	src := helper.Sources{
		Flags: helper.Settings{
			AuthURL: c.String("auth-url"), ProjectID: c.String("project-id"), Username: c.String("username"),
			UserDomainName: c.String("user-domain-name"), Region: c.String("region"), Interface: c.String("interface"),
			ApplicationCredentialID: c.String("application-credential-id"),
		},
		Env: helper.SettingsFromVars(os.LookupEnv),
	}
	if stored != nil {
		src.Stored = &stored.Settings
	}
	if req != nil {
		src.Request = req.Settings
	}
	var file sourceFile
	switch {
	case c.String("openrc") != "" && c.String("cloud") != "":
		return usagef("give --openrc or --cloud, not both")
	case c.String("openrc") != "":
		file, err = readOpenRC(c.String("openrc"))
	case c.String("cloud") != "":
		file, err = inv.readCloud(c.String("cloud"), inv.profile)
	}
	if err != nil {
		return err
	}
	src.OpenRC = file.settings

	// The password: from the request, stdin, the file, or (below) the
	// keychain or a prompt.
	var password string
	given := pwStdin || (req != nil && req.Password != nil) || file.secret != ""
	switch {
	case req != nil && req.Password != nil:
		password = *req.Password
	case pwStdin:
		if password, err = inv.readPasswordStdin(); err != nil {
			return err
		}
	case file.secret != "":
		password = file.secret
	}
	// Said once the secret is in the keychain.
	plaintextLeft := func() {
		if file.secret != "" && password == file.secret {
			inv.warnf("the password from %s is now stored in the keychain, but its plaintext copy remains in that file; remove it from there", file.secretFrom)
		}
	}

	projectName := c.String("project-name")
	if projectName == "" {
		projectName = file.projectName
	}
	byName := projectName != "" && src.Flags.ProjectID == "" && src.Request.ProjectID == "" && src.OpenRC.ProjectID == "" &&
		(stored == nil || stored.ProjectID == "")
	if c.Bool("all-projects") || byName {
		s, err := helper.ResolveIdentity(src)
		if err != nil {
			return err
		}
		backend, previous, err := inv.chooseKeyring(c, stored)
		if err != nil {
			return err
		}
		if !given {
			if password, _, err = inv.storedOrPrompt(h, inv.profile, s, stored, backend, previous); err != nil {
				return err
			}
		}
		projects, err := h.Projects(c.Context, s, password, inv.passcode(c.String("totp-command")))
		if err != nil {
			return err
		}
		if c.Bool("all-projects") {
			if err := inv.storeAll(c, h, s, password, projects); err != nil {
				return err
			}
			plaintextLeft()
			return nil
		}
		id, err := projectByName(projects, projectName)
		if err != nil {
			return err
		}
		src.Flags.ProjectID = id
	}
	s, err := helper.Resolve(src)
	if err != nil {
		return err
	}
	res, backend, err := inv.storeOne(c, h, inv.profile, s, stored, password, given, !c.Bool("no-verify"))
	if err != nil {
		return err
	}
	plaintextLeft()
	return inv.writeJSON(protocol.StoreResponse{
		Version: protocol.Version, Profile: inv.profile, Stored: true, Verified: res.Verified,
		Settings: res.Settings, Keyring: backend, ExpiresAt: res.ExpiresAt, CloudsYAML: file.stanza,
		SecretSentTo: secretSentTo(res, byName),
	})
}

// storeOne stores one profile: it chooses the backend, finds the stored
// password when none was given (or asks for it), proves it with Keystone
// when verify says so, and keeps it.
func (inv *invocation) storeOne(c *cli.Context, h *helper.Helper, profile string, s helper.Settings, stored *helper.Profile, password string, given, verify bool) (*helper.StoreResult, string, error) {
	backend, previous, err := inv.chooseKeyring(c, stored)
	if err != nil {
		return nil, "", err
	}
	if backend != previous {
		// The new home must take a secret before anyone is asked for a
		// password: a locked keychain answers a read but refuses a write.
		if err := h.ProveKeyring(backend); err != nil {
			return nil, "", err
		}
	}
	found := false
	if !given {
		if password, found, err = inv.storedOrPrompt(h, profile, s, stored, backend, previous); err != nil {
			return nil, "", err
		}
	}
	totp := c.String("totp-command")
	if totp == "" && stored != nil && helper.SameIdentity(s, stored.Settings) {
		totp = stored.TOTPCommand
	}
	res, err := h.Store(c.Context, helper.StoreOptions{
		Profile: profile, Settings: s, Password: password, Given: !found, Verify: verify,
		Keyring: backend, Stored: stored, TOTPCommand: totp, Passcode: inv.passcode(totp),
	})
	if err != nil {
		return nil, "", err
	}
	if backend != helper.DefaultKeyring {
		inv.warnf("the password of profile %s is kept in %s: %s", profile, backend, keyring.Describe(backend))
	}
	return res, backend, nil
}

// storedOrPrompt returns the identity's stored secret (found; a secret
// is only ever sent to the identity it was stored for), or asks for it on
// the terminal. stored is profile as stored before, or nil.
func (inv *invocation) storedOrPrompt(h *helper.Helper, profile string, s helper.Settings, stored *helper.Profile, backend, previous string) (secret string, found bool, err error) {
	legacy := "" // a 1.0 item under the profile's name holds this identity's secret
	if stored != nil && helper.SameIdentity(s, stored.Settings) {
		legacy = profile
	}
	first := previous
	if first == "" {
		first = backend
	}
	current, _, err := h.FindSecret(s, legacy, append(h.BackendsOf(s, first), backend)...)
	switch {
	case err == nil:
		inv.debugf("store: using the identity's stored password")
		return current, true, nil
	case !errors.Is(err, keyring.ErrNotFound):
		return "", false, err
	}
	secret, err = inv.promptPassword(s)
	return secret, false, err
}

// storeAll stores one profile per project of the identity, named after
// the project, and answers with one store answer each. The unscoped token
// that listed the projects proved the password, so the profiles are not
// verified one by one (with a second factor, that would want a passcode
// for each, and Keystone refuses a passcode used twice).
func (inv *invocation) storeAll(c *cli.Context, h *helper.Helper, s helper.Settings, password string, projects []keystone.Project) error {
	var answers []protocol.StoreResponse
	for _, p := range projects {
		if !p.Enabled {
			continue
		}
		name := profileNameFor(p.Name)
		if err := protocol.CheckProfileName(name); err != nil {
			inv.warnf("project %q (%s) has no usable profile name; store it with --profile NAME --project-id %s", p.Name, p.ID, p.ID)
			continue
		}
		one := s
		one.ProjectID = p.ID
		var stored *helper.Profile
		if prof, err := h.Paths.LoadProfile(name); err == nil {
			stored = &prof
		}
		res, b, err := inv.storeOne(c, h, name, one, stored, password, true, false)
		if err != nil {
			return fmt.Errorf("profile %s (project %s): %w", name, p.Name, err)
		}
		answers = append(answers, protocol.StoreResponse{Version: protocol.Version, Profile: name, Stored: true,
			Verified: res.Verified, Settings: res.Settings, Keyring: b, ExpiresAt: res.ExpiresAt, SecretSentTo: authHost(res.Settings.AuthURL)})
	}
	if len(answers) == 0 {
		return usagef("the user has no enabled project to store a profile for")
	}
	return inv.writeJSON(answers)
}

// profileNameFor makes a profile name of a project name: characters a
// profile name cannot hold become '-'.
func profileNameFor(project string) string {
	b := []byte(project)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return strings.TrimLeft(string(b), ".")
}

// projectByName finds the one project called name.
func projectByName(projects []keystone.Project, name string) (string, error) {
	var ids, names []string
	for _, p := range projects {
		names = append(names, p.Name)
		if p.Name == name {
			ids = append(ids, p.ID)
		}
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
		return "", usagef("the user has no project called %q (it has: %s); give --project-id or another --project-name", name, strings.Join(names, ", "))
	}
	return "", usagef("%d projects are called %q (in different domains); give --project-id (one of %s)", len(ids), name, strings.Join(ids, ", "))
}

// chooseKeyring picks the backend for the password: the one --keyring (or
// VKC_KEYRING) names; for auto, the stored profile's, or for a new
// profile the first that works here (keyring.Auto). previous is the
// backend the password is kept in now ("" for a new profile).
func (inv *invocation) chooseKeyring(c *cli.Context, stored *helper.Profile) (backend, previous string, err error) {
	if stored != nil {
		previous = stored.Keyring
	}
	name := c.String("keyring")
	switch {
	case name == "auto" && stored != nil:
		return previous, previous, nil
	case name == "auto" && inv.autoChoice != "":
		return inv.autoChoice, previous, nil // a store of several profiles probes once
	case name == "auto":
		_, name, skipped, err := inv.autoKeyring(c.Duration("keyring-timeout"))
		if err != nil {
			return "", "", err
		}
		for _, why := range skipped {
			inv.debugf("keychain: passed over %v", why)
		}
		inv.autoChoice = name
		return name, previous, nil
	case slices.Contains(keyring.Names(), name):
		return name, previous, nil
	}
	return "", "", usagef("unknown --keyring %q; use auto, %s", name, strings.Join(keyring.Names(), ", "))
}

// readPasswordStdin reads a password piped to stdin; one trailing
// newline is dropped.
func (inv *invocation) readPasswordStdin() (string, error) {
	if inv.stdinIsTTY {
		return "", usagef("--password-stdin needs the password piped in, not a terminal; drop the flag to be prompted")
	}
	data, err := io.ReadAll(io.LimitReader(inv.stdin, maxPasswordBytes+1))
	if err != nil {
		return "", usagef("cannot read the password from stdin: %v", err)
	}
	if len(data) > maxPasswordBytes {
		return "", usagef("the password on stdin is longer than 64 KiB")
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"), nil
}

// promptPassword asks on the terminal, naming the host the password will
// be sent to.
func (inv *invocation) promptPassword(s helper.Settings) (string, error) {
	host := s.AuthURL
	if u, err := url.Parse(s.AuthURL); err == nil {
		host = u.Host
	}
	prompt := fmt.Sprintf("Password for %s at %s (profile %s): ", terminalSafe(s.Username), host, inv.profile)
	if s.ApplicationCredentialID != "" {
		prompt = fmt.Sprintf("Secret of application credential %s at %s (profile %s): ", s.ApplicationCredentialID, host, inv.profile)
	}
	pw, err := readPasswordFromTTY(prompt)
	if errors.Is(err, errNoTTY) {
		msg := "no terminal to ask for the password on; pipe it in with --password-stdin, or send {\"password\": ...} as the JSON request"
		if _, ok := os.LookupEnv("OS_PASSWORD"); ok {
			msg += "; OS_PASSWORD is deliberately not read (it would leak into every child process): " +
				"pipe it once with `printf '%s' \"$OS_PASSWORD\" | vkc-credential store --password-stdin ...`, then unset it"
		}
		return "", usagef("%s", msg)
	}
	if err != nil {
		return "", usagef("%v", err)
	}
	return pw, nil
}

// secretSentTo is the store answer's secret_sent_to: the host the secret
// went to when Store verified it or the project was looked up by name
// with it, else "".
func secretSentTo(res *helper.StoreResult, lookedUp bool) string {
	if !res.Verified && !lookedUp {
		return ""
	}
	return authHost(res.Settings.AuthURL)
}

// authHost is the host (and port) of authURL, which the store answer
// names as where the secret went (as the password prompt does).
func authHost(authURL string) string {
	if u, err := url.Parse(authURL); err == nil {
		return u.Host
	}
	return authURL
}

// readOpenRC reads the settings of an openrc file, parsed, never run. A
// v2 file gets a message that says what to do; a v3 file that names its
// project only by name has it looked up; an application credential's
// secret (OS_APPLICATION_CREDENTIAL_SECRET) is taken to be stored.
func readOpenRC(path string) (sourceFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return sourceFile{}, usagef("cannot read the openrc file: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxOpenRCBytes+1))
	if err != nil {
		return sourceFile{}, usagef("cannot read the openrc file: %v", err)
	}
	if len(data) > maxOpenRCBytes {
		return sourceFile{}, usagef("the openrc file %s is larger than 1 MiB; is it an openrc file?", path)
	}
	vars := helper.ParseOpenRC(data)
	s := helper.SettingsFromVars(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	_, tenant := vars["OS_TENANT_ID"]
	_, tenantName := vars["OS_TENANT_NAME"]
	if (tenant || tenantName || strings.Contains(s.AuthURL, "/v2.0")) && s.ProjectID == "" {
		return sourceFile{}, usagef("%s is an openrc file of identity API v2.0; download the v3 file (VK Cloud: Project settings, API access, \"Download openrc version 3\")", path)
	}
	file := sourceFile{settings: s, projectName: vars["OS_PROJECT_NAME"]}
	if vars["OS_AUTH_TYPE"] == "v3applicationcredential" || s.ApplicationCredentialID != "" {
		file.secret, file.secretFrom = vars["OS_APPLICATION_CREDENTIAL_SECRET"], path
		file.settings.Username, file.settings.ProjectID, file.projectName = "", "", ""
	}
	return file, nil
}

// readCloud reads cloud name of clouds.yaml (and secure.yaml) for profile.
func (inv *invocation) readCloud(name, profile string) (sourceFile, error) {
	env, err := clouds.DefaultEnv()
	if err != nil {
		return sourceFile{}, err
	}
	cl, err := clouds.Load(name, env)
	if err != nil {
		return sourceFile{}, usagef("%v", err)
	}
	file := sourceFile{settings: cl.Settings, projectName: cl.ProjectName, secret: cl.Secret, secretFrom: cl.SecretFile,
		stanza: clouds.Stanza(name, profile, cl.Settings.Region, cl.Settings.Interface)}
	if cl.AuthType == clouds.AuthApplicationCredential {
		file.settings.ApplicationCredentialID = cl.ApplicationCredentialID
		file.settings.Username, file.settings.ProjectID, file.projectName = "", "", ""
	}
	if cl.LooseSecretFile {
		inv.warnf("%s holds a secret and others than its owner may read it", cl.SecretFile)
	}
	for _, w := range cl.Warnings {
		inv.warnf("%s", w)
	}
	return file, nil
}
