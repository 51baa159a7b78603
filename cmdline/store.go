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
	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// maxPasswordBytes bounds a password read from stdin.
const maxPasswordBytes = 64 << 10

// maxOpenRCBytes bounds an openrc file; VK Cloud's is under 1 KiB.
const maxOpenRCBytes = 1 << 20

var errNoTTY = errors.New("no terminal")

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
		},
		Env: helper.SettingsFromVars(os.LookupEnv),
	}
	if stored != nil {
		src.Stored = &stored.Settings
	}
	if req != nil {
		src.Request = req.Settings
	}
	if path := c.String("openrc"); path != "" {
		if src.OpenRC, err = readOpenRC(path); err != nil {
			return err
		}
	}
	s, err := helper.Resolve(src)
	if err != nil {
		return err
	}

	var password string
	given := pwStdin || (req != nil && req.Password != nil)
	switch {
	case req != nil && req.Password != nil:
		password = *req.Password
	case pwStdin:
		if password, err = inv.readPasswordStdin(); err != nil {
			return err
		}
	}
	// Where the password goes, whether it is there already (kept once per
	// identity, in each backend its profiles use), and whether the
	// keychains involved answer at all.
	backend, previous, err := inv.chooseKeyring(c, stored)
	if err != nil {
		return err
	}
	legacy := "" // a 1.0 item under the profile's name holds this identity's secret
	if stored != nil && helper.SameIdentity(s, stored.Settings) {
		legacy = inv.profile
	}
	first := previous
	if first == "" {
		first = backend
	}
	current := ""
	if !given {
		current, _, err = h.FindSecret(s, legacy, append(h.BackendsOf(s, first), backend)...)
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	if backend != previous {
		// The new home must take a secret before anyone is asked for a
		// password: a locked keychain answers a read but refuses a write.
		if err := h.ProveKeyring(backend); err != nil {
			return err
		}
	}
	// A stored secret serves when none is given: it belongs to this very
	// identity (a secret is only ever sent to the identity it was stored for).
	if !given {
		if current != "" {
			password = current
			inv.debugf("store: using the identity's stored password")
		} else if password, err = inv.promptPassword(s); err != nil {
			return err
		}
	}
	res, err := h.Store(c.Context, helper.StoreOptions{
		Profile: inv.profile, Settings: s, Password: password, Given: given || current == "", Verify: !c.Bool("no-verify"),
		Keyring: backend, Stored: stored,
	})
	if err != nil {
		return err
	}
	if backend != helper.DefaultKeyring {
		inv.warnf("the password of profile %s is kept in %s: %s", inv.profile, backend, keyring.Describe(backend))
	}
	return inv.writeJSON(protocol.StoreResponse{
		Version: protocol.Version, Profile: inv.profile, Stored: true, Verified: res.Verified,
		Settings: s, Keyring: backend, ExpiresAt: res.ExpiresAt,
	})
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
	case name == "auto":
		_, name, skipped, err := inv.autoKeyring(c.Duration("keyring-timeout"))
		if err != nil {
			return "", "", err
		}
		for _, why := range skipped {
			inv.debugf("keychain: passed over %v", why)
		}
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
	pw, err := readPasswordFromTTY(fmt.Sprintf("Password for %s at %s (project %s, profile %s): ",
		terminalSafe(s.Username), host, s.ProjectID, inv.profile))
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

// readOpenRC reads the settings of an openrc file, parsed, never run. A
// v2 file and a v3 file that names its project only by name get a
// message that says what to do.
func readOpenRC(path string) (helper.Settings, error) {
	f, err := os.Open(path)
	if err != nil {
		return helper.Settings{}, usagef("cannot read the openrc file: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxOpenRCBytes+1))
	if err != nil {
		return helper.Settings{}, usagef("cannot read the openrc file: %v", err)
	}
	if len(data) > maxOpenRCBytes {
		return helper.Settings{}, usagef("the openrc file %s is larger than 1 MiB; is it an openrc file?", path)
	}
	vars := helper.ParseOpenRC(data)
	s := helper.SettingsFromVars(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	_, tenant := vars["OS_TENANT_ID"]
	_, tenantName := vars["OS_TENANT_NAME"]
	if (tenant || tenantName || strings.Contains(s.AuthURL, "/v2.0")) && s.ProjectID == "" {
		return s, usagef("%s is an openrc file of identity API v2.0; download the v3 file (VK Cloud: Project settings, API access, \"Download openrc version 3\")", path)
	}
	if s.ProjectID == "" && vars["OS_PROJECT_NAME"] != "" {
		return s, usagef("%s names the project only by name (OS_PROJECT_NAME=%q); vkc-credential needs its ID: give it with --project-id "+
			"(`openstack project list` or the cloud's console shows it)", path, vars["OS_PROJECT_NAME"])
	}
	return s, nil
}
