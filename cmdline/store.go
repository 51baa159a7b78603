package cmdline

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/helper/clouds"
	"vkc-credential/keyring"
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

// store saves a profile's settings and its secret. The edge reads the
// flags, the request on stdin and the files into a helper.StoreRequest,
// and prints what helper.Store did; the order of the work (settings, then
// the keychain, then a prompt or Keystone) is helper.Store's.
func (inv *invocation) store(c *cli.Context) error {
	r, file, err := inv.storeRequest(c)
	if err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	out, err := h.Store(c.Context, r)
	if err != nil {
		return err
	}
	return inv.answerStore(r, file, out)
}

// storeRequest is the one place that reads store's flags: with the
// request on stdin, an openrc or clouds.yaml file and the supplied secret,
// they make the StoreRequest.
func (inv *invocation) storeRequest(c *cli.Context) (helper.StoreRequest, sourceFile, error) {
	pwStdin := c.Bool("password-stdin")
	req, err := inv.setup(c, !pwStdin, true)
	if err != nil {
		return helper.StoreRequest{}, sourceFile{}, err
	}
	if c.String("project-name") != "" && c.String("project-id") != "" {
		return helper.StoreRequest{}, sourceFile{}, usagef("give --project-id or --project-name, not both")
	}
	file, err := inv.readSourceFile(c.String("openrc"), c.String("cloud"))
	if err != nil {
		return helper.StoreRequest{}, sourceFile{}, err
	}
	r := helper.StoreRequest{
		Profile: inv.profile,
		Sources: helper.Sources{
			Flags: helper.Settings{
				AuthURL: c.String("auth-url"), ProjectID: c.String("project-id"), Username: c.String("username"),
				UserDomainName: c.String("user-domain-name"), Region: c.String("region"), Interface: c.String("interface"),
				ApplicationCredentialID: c.String("application-credential-id"),
			},
			OpenRC: file.settings,
			Env:    helper.SettingsFromVars(os.LookupEnv),
		},
		ProjectName: c.String("project-name"), FileProjectName: file.projectName,
		AllProjects: c.Bool("all-projects"),
		Keyring:     c.String("keyring"), Verify: !c.Bool("no-verify"), TOTPCommand: c.String("totp-command"),
		SecretCommand: c.String("secret-command"),
		Prompt:        inv.promptSecret,
		Passcode: func(profile string, s helper.Settings, command string) (string, error) {
			return inv.passcode(profile, s, command)()
		},
	}
	if req != nil {
		r.Sources.Request = req.Settings
	}
	if r.SecretCommand != "" || c.IsSet("secret-command") {
		return r, file, checkSecretCommand(r, pwStdin, req, file)
	}
	r.Secret, err = inv.suppliedSecret(pwStdin, req, file)
	return r, file, err
}

// readSourceFile reads the --openrc or the --cloud file, when one is named.
func (inv *invocation) readSourceFile(openrc, cloud string) (sourceFile, error) {
	switch {
	case openrc != "" && cloud != "":
		return sourceFile{}, usagef("give --openrc or --cloud, not both")
	case openrc != "":
		return readOpenRC(openrc)
	case cloud != "":
		return inv.readCloud(cloud, inv.profile)
	}
	return sourceFile{}, nil
}

// suppliedSecret returns the secret supplied with the store, in order: the
// request's password, stdin (--password-stdin), the file's; "" when none
// was (the identity's stored secret or a prompt serve then). A supplied
// secret that is empty is an error.
func (inv *invocation) suppliedSecret(pwStdin bool, req *protocol.Request, file sourceFile) (string, error) {
	var secret string
	switch {
	case req != nil && req.Password != nil:
		secret = *req.Password
	case pwStdin:
		var err error
		if secret, err = inv.readPasswordStdin(); err != nil {
			return "", err
		}
	default:
		return file.secret, nil
	}
	if secret == "" {
		return "", helper.ErrEmptyPassword
	}
	return secret, nil
}

// answerStore prints what store did: a warning for each project that got
// no profile and for each secret kept elsewhere than the OS keychain, then
// the answer (one object, or an array for --all-projects).
func (inv *invocation) answerStore(r helper.StoreRequest, file sourceFile, out *helper.StoreOutcome) error {
	for _, sk := range out.Skipped {
		inv.warnSkipped(sk)
	}
	answers := make([]protocol.StoreResponse, 0, len(out.Stored))
	for _, res := range out.Stored {
		answers = append(answers, inv.storeResponse(res))
	}
	if file.secret != "" && r.Secret == file.secret && len(answers) > 0 {
		inv.warnf("the %s from %s is now stored in the keychain, but its plaintext copy remains in that file; remove it from there",
			helper.SecretNoun(answers[0].Settings), file.secretFrom)
	}
	switch {
	case !r.AllProjects:
		answers[0].CloudsYAML = file.stanza
		return inv.writeJSON(answers[0])
	case len(answers) == 0:
		return usagef("no profile was stored; see the warnings above")
	}
	return inv.writeJSON(answers)
}

// storeResponse is the answer for a profile stored; a secret kept
// elsewhere than the OS keychain is said on stderr, with what it survives.
func (inv *invocation) storeResponse(res helper.StoreResult) protocol.StoreResponse {
	if res.SecretCommand == "" && res.Keyring != helper.DefaultKeyring {
		inv.warnf("the %s of profile %s is kept in %s: %s", helper.SecretNoun(res.Settings), res.Profile, res.Keyring, keyring.Describe(res.Keyring))
	}
	return protocol.StoreResponse{Version: protocol.Version, Profile: res.Profile, Stored: true,
		Verified: res.Verified, Settings: res.Settings, Keyring: res.Keyring, SecretCommand: res.SecretCommand,
		ExpiresAt: res.ExpiresAt, SecretSentTo: secretSentTo(res)}
}

// warnSkipped says why --all-projects made no profile of a project, and
// how to store it anyway.
func (inv *invocation) warnSkipped(sk helper.SkippedProject) {
	p := sk.Project
	how := fmt.Sprintf("store it with --profile NAME --project-id %s", p.ID)
	switch sk.Reason {
	case helper.SkipNoName:
		inv.warnf("project %q (%s) has no usable profile name; %s", p.Name, p.ID, how)
	case helper.SkipSameName:
		var others []string
		for _, o := range sk.Clashes {
			others = append(others, fmt.Sprintf("%q (%s)", o.Name, o.ID))
		}
		inv.warnf("project %q (%s) was not stored: project %s would be profile %s too; %s", p.Name, p.ID, strings.Join(others, " and "), sk.Profile, how)
	case helper.SkipOtherIdentity:
		inv.warnf("project %q (%s) of %s was not stored: profile %s belongs to %s and is left as it is; %s",
			p.Name, p.ID, helper.Identity(sk.Settings), sk.Profile, helper.Identity(sk.Existing.Settings), how)
	case helper.SkipOtherProject:
		inv.warnf("project %q (%s) was not stored: profile %s is for project %s and is left as it is; %s", p.Name, p.ID, sk.Profile, sk.Existing.ProjectID, how)
	case helper.SkipUnreadable:
		inv.warnf("project %q (%s) was not stored: %v; %s", p.Name, p.ID, sk.Err, how)
	}
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

// promptSecret asks a person (inv.ask: the terminal, else the askpass
// program) for the secret of s, naming the host it will be sent to (and
// profile, when not empty).
func (inv *invocation) promptSecret(profile string, s helper.Settings) (string, error) {
	host := authHost(s.AuthURL)
	prompt := fmt.Sprintf("Password for %s at %s", terminalSafe(s.Username), host)
	if s.ApplicationCredentialID != "" {
		prompt = fmt.Sprintf("Secret of application credential %s at %s", s.ApplicationCredentialID, host)
	}
	if profile != "" {
		prompt += fmt.Sprintf(" (profile %s)", profile)
	}
	pw, err := inv.ask(question{text: prompt + ": "})
	if errors.Is(err, errNobodyToAsk) {
		msg := "no terminal to ask for the password on, and no askpass program; pipe it in with --password-stdin, send {\"password\": ...} as the JSON request, or " + noAskpassHint()
		if _, ok := os.LookupEnv("OS_PASSWORD"); ok {
			msg += "; OS_PASSWORD is deliberately not read (it would leak into every child process): " +
				"pipe it once with `printf '%s' \"$OS_PASSWORD\" | vkc-credential store --password-stdin ...`, then unset it"
		}
		return "", usagef("%s", msg)
	}
	if err != nil && !errors.As(err, new(*noAnswerError)) {
		return "", usagef("%v", err)
	}
	return pw, err
}

// secretSentTo is the store answer's secret_sent_to: the host the secret
// went to (to prove it, or to list the user's projects with it), else "".
func secretSentTo(res helper.StoreResult) string {
	if !res.SecretSent {
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
		return sourceFile{}, err
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
