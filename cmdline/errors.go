package cmdline

import (
	"errors"
	"fmt"
	"strings"

	"vkc-credential/helper"
	"vkc-credential/helper/clouds"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// usageError is a mistake on the command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Code returns protocol.CodeUsage.
func (e *usageError) Code() protocol.Code { return protocol.CodeUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// settingSources names, for each required setting, where a user gives it.
var settingSources = map[string]string{
	"auth_url":   "--auth-url, the request's \"auth_url\", an openrc file or OS_AUTH_URL (VK Cloud's is " + protocol.VKCloudAuthURL + ")",
	"project_id": "--project-id, the request's \"project_id\", an openrc file or OS_PROJECT_ID",
	"username":   "--username, the request's \"username\", an openrc file or OS_USERNAME",
}

// noStdinHint is said when stdin does not hold a JSON request: most
// often it is a loop's input, read by a command that was not meant to.
const noStdinHint = "a stdin that is not a terminal is read as a JSON request: add --no-stdin to leave it alone (in a `while read` loop, for one)"

// pickProfileHint says how to choose among the stored profiles when none
// was named and there is no "default".
func (inv *invocation) pickProfileHint() string {
	var names []string
	if paths, err := helper.DefaultPaths(); err == nil {
		names, _ = (&helper.Helper{Paths: paths}).ProfileNames()
	}
	if len(names) == 0 {
		return "none is stored yet; create one with `vkc-credential store --profile NAME --openrc FILE` (without --profile it is named default)"
	}
	const most = 10
	list := strings.Join(names[:min(len(names), most)], ", ")
	if len(names) > most {
		list += fmt.Sprintf(", … (%d in all: `vkc-credential list`)", len(names))
	}
	return "the stored profiles are " + list + ": pick one with --profile NAME or VKC_PROFILE=NAME"
}

// describe returns err's class and the message the user sees: the error's
// own text and, where the edge knows one, how to fix it. The class is the
// one the error carries from where it was made (protocol.CodeOf); the hint
// is the edge's (hint). This is the one place that turns errors into exit
// codes and messages.
func (inv *invocation) describe(err error) (protocol.Code, string) {
	msg := err.Error()
	if e := (*helper.SecretCommandError)(nil); errors.As(err, &e) {
		msg = secretCommandDetail(msg, e) // what the command said, escaped
	}
	if h := inv.hint(err); h != "" {
		msg += "; " + h
	}
	return protocol.CodeOf(err), msg
}

// hint says how to fix err: the hint of the first error in err's tree that
// the edge has one for, visited in the order of errors.As and
// protocol.CodeOf (the outermost first), so one error gets one hint. ""
// when there is none, or when that error needs none.
func (inv *invocation) hint(err error) string {
	var hint string
	walkErrors(err, func(e error) bool {
		var ok bool
		hint, ok = inv.hintOf(e)
		return ok
	})
	return hint
}

// walkErrors calls visit on err and on each error it wraps, in the order
// errors.As visits them (err, then what it wraps, depth first, left to
// right), until visit returns true; it says whether one did.
func walkErrors(err error, visit func(error) bool) bool {
	for err != nil {
		if visit(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walkErrors(e, visit) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// hintOf is the edge's hint for e itself, not for what it wraps; ok says
// whether the edge has one (which may be "": nothing to add).
func (inv *invocation) hintOf(e error) (hint string, ok bool) {
	for _, row := range sentinelHints {
		if e == row.err {
			return row.hint(inv), true
		}
	}
	switch e := e.(type) {
	case *helper.RejectedError:
		return rejectedHint(e), true
	case *helper.ProjectNameError:
		if len(e.Matches) == 0 {
			return "give --project-id or another --project-name", true
		}
		return "give --project-id with one of them", true
	case *helper.MissingSettingError:
		return "give it with " + settingSources[e.Field], true
	case *helper.NoSecretError:
		return inv.storeHint(), true
	case *noAnswerError:
		return e.hint(inv.profile), true
	case *helper.SecretCommandError:
		return secretCommandHint(e), true
	case *appCredRefused:
		return fmt.Sprintf("keystone lets only the user's own sign-in (a password profile, or an unrestricted application credential) "+
			"manage application credentials: give --profile such a profile; if its token was revoked, run `vkc-credential get --profile %s --refresh` first", inv.profile), true
	case interface{ Problem() keystone.Problem }:
		hint, ok = problemHints[e.Problem()]
		return hint, ok
	}
	return "", false
}

// sentinelHints are the hints of the sentinel errors the edge has one
// for: an error that is (or wraps, first) one of them gets its hint.
var sentinelHints = []struct {
	err  error
	hint func(*invocation) string
}{
	{protocol.ErrNotJSON, (*invocation).notJSONHint},
	{protocol.ErrInvalidAuthURL, said("give the auth URL with " + settingSources["auth_url"])},
	{keystone.ErrCAFile, said("check --cacert or OS_CACERT")},
	{keystone.ErrMFARequired, (*invocation).passcodeHint},
	{errNoPasscode, (*invocation).passcodeHint},
	{helper.ErrProfileNotFound, (*invocation).profileNotFoundHint},
	{keyring.ErrNotFound, (*invocation).storeHint},
	{keyring.ErrTimeout, said("or raise --keyring-timeout or VKC_KEYRING_TIMEOUT")},
	{helper.ErrLockBusy, said("try again, or remove the lock file if no vkc-credential runs")},
	{helper.ErrClock, said("check this machine's clock and Keystone's")},
	{helper.ErrLooseMode, said("run `chmod 600` on it")},
	{helper.ErrNotOurs, said("move it away")},
	{clouds.ErrUntrusted, said("if the file is yours, take write access away from others (chmod o-w); if not, move it away, or set OS_CLIENT_CONFIG_FILE to a clouds.yaml of your own")},
	{helper.ErrDamaged, func(inv *invocation) string {
		return fmt.Sprintf("run `vkc-credential store --profile %s` again", inv.profile)
	}},
	{keystone.ErrConflict, func(inv *invocation) string {
		return fmt.Sprintf("choose another --name (`vkc-credential appcred list --profile %s` shows the user's)", inv.profile)
	}},
	{keystone.ErrNotFound, func(inv *invocation) string {
		return fmt.Sprintf("`vkc-credential appcred list --profile %s` shows the user's", inv.profile)
	}},
}

// said is a hint that is the same for every invocation.
func said(hint string) func(*invocation) string { return func(*invocation) string { return hint } }

// caHint says what to do about a certificate from a private CA.
const caHint = "if keystone uses a private CA, pass its certificate with --cacert FILE or OS_CACERT"

// problemHints say how to fix what a failed exchange with Keystone points
// at; every keystone.Problem but ProblemNone has one.
var problemHints = map[keystone.Problem]string{
	keystone.ProblemAuthURL:              "check the auth URL: it must be keystone's own v3 endpoint, e.g. " + protocol.VKCloudAuthURL,
	keystone.ProblemAuthURLOrLater:       "check the auth URL (keystone's own v3 endpoint, e.g. " + protocol.VKCloudAuthURL + "), or try again later",
	keystone.ProblemRequest:              "check the project ID, the user domain name and the auth URL",
	keystone.ProblemRoles:                "check the role names and the auth URL",
	keystone.ProblemOverloaded:           "keystone is overloaded or failing; try again later",
	keystone.ProblemTimeout:              "raise --timeout or VKC_TIMEOUT, or try again later",
	keystone.ProblemNetwork:              "check the network, a proxy (HTTPS_PROXY) and the auth URL, or try again later",
	keystone.ProblemHostName:             "check the auth URL's host name",
	keystone.ProblemCertificateHost:      "check the auth URL's host name; " + caHint,
	keystone.ProblemCertificateTime:      "check this machine's clock; " + caHint,
	keystone.ProblemCertificateAuthority: caHint,
	keystone.ProblemNotTLS:               "check the auth URL's scheme and port",
	keystone.ProblemHandshake:            "check the auth URL's host and port",
}

// notJSONHint: stdin held something that is not a JSON request.
func (inv *invocation) notJSONHint() string {
	if inv.command == "store" {
		return "to pipe a password in, add --password-stdin; " + noStdinHint
	}
	return noStdinHint
}

// passcodeHint: Keystone wants a TOTP passcode, and none could be had.
func (inv *invocation) passcodeHint() string {
	return fmt.Sprintf("run `vkc-credential get --profile %s` once in a terminal (the token it caches then serves every tool for its lifetime), "+
		"store a --totp-command that prints a passcode, or %s", inv.profile, noAskpassHint())
}

// profileNotFoundHint: the profile is not stored.
func (inv *invocation) profileNotFoundHint() string {
	if inv.profileDefaulted {
		return inv.pickProfileHint()
	}
	return fmt.Sprintf("create it with `vkc-credential store --profile %s --openrc FILE`", inv.profile)
}

// storeHint: the profile's secret is not stored.
func (inv *invocation) storeHint() string {
	return fmt.Sprintf("run `vkc-credential store --profile %s`", inv.profile)
}

// rejectedHint says what to do when Keystone refused a secret, by what it
// refused (as far as can be told) and whether anything was stored.
func rejectedHint(e *helper.RejectedError) string {
	s := e.Settings
	switch {
	case e.FromCommand && (e.Cause == helper.RejectSecret || e.Cause == helper.RejectUnknown):
		return commandRejectedHint(e)
	case s.ApplicationCredentialID != "":
		return appCredRejectedHint(e)
	case e.Cause == helper.RejectProject:
		return fmt.Sprintf("the password is right, but the user has no role on project %s, or there is no such project%s; give --project-id or --project-name of one of the user's projects%s",
			s.ProjectID, projectList(e.Projects), nothingSaved(e))
	case e.Cause == helper.RejectAfterPasscode && s.ProjectID != "":
		return "keystone accepted the password, then refused the TOTP passcode or the project: check the --totp-command (or the passcode typed) and the project ID" + nothingSaved(e)
	case e.Cause == helper.RejectAfterPasscode:
		return "keystone accepted the password, then refused the TOTP passcode: check the --totp-command (or the passcode typed)" + nothingSaved(e)
	case e.Cause == helper.RejectSecret:
		return passwordRejectedHint(e)
	}
	return fmt.Sprintf("keystone gives this answer both for a wrong password and for a project the user has no role on: "+
		"if the password changed, store the new one with `vkc-credential store --profile %s --password-stdin` (the password on stdin); otherwise check the project ID", e.Profile)
}

// appCredRejectedHint: an application credential has no password and
// names no project; Keystone's own message says it may be wrong, expired
// or deleted.
func appCredRejectedHint(e *helper.RejectedError) string {
	if e.FirstStore {
		return "nothing was saved"
	}
	return fmt.Sprintf("if the credential was replaced, store the new one with "+
		"`vkc-credential store --profile %s --application-credential-id NEW_ID --password-stdin` (its secret on stdin)", e.Profile)
}

// passwordRejectedHint: Keystone refused the password without a project
// too.
func passwordRejectedHint(e *helper.RejectedError) string {
	const wrong = "the password, the user name or the domain is wrong; "
	switch {
	case !e.NewSecret:
		return fmt.Sprintf("the stored password was refused; if it changed, store the new one with `vkc-credential store --profile %s --password-stdin` (the password on stdin)", e.Profile)
	case !e.FirstStore:
		return wrong + "the stored password is kept"
	case e.Profile != "" && e.Settings.ProjectID != "":
		return wrong + "nothing was saved: run the store again with the right password: `" + storeCommand(e.Profile, e.Settings) + "`"
	}
	return wrong + "nothing was saved: run the same store again with the right password"
}

// nothingSaved ends a hint of a first store.
func nothingSaved(e *helper.RejectedError) string {
	if e.FirstStore {
		return "; nothing was saved"
	}
	return ""
}

// projectList renders the user's projects for a hint.
func projectList(projects []keystone.Project) string {
	if len(projects) == 0 {
		return ""
	}
	names := make([]string, len(projects))
	for i, p := range projects {
		names[i] = fmt.Sprintf("%s (%s)", p.Name, p.ID)
	}
	return "; the user's projects: " + strings.Join(names, ", ")
}

// storeCommand is the store command line that gives profile the settings
// s, to copy.
func storeCommand(profile string, s helper.Settings) string {
	args := []string{"vkc-credential", "store", "--profile", profile, "--auth-url", s.AuthURL, "--username", s.Username,
		"--user-domain-name", s.UserDomainName, "--project-id", s.ProjectID}
	if s.Region != helper.DefaultRegion {
		args = append(args, "--region", s.Region)
	}
	if s.Interface != helper.DefaultInterface {
		args = append(args, "--interface", s.Interface)
	}
	for i, a := range args {
		if strings.ContainsFunc(a, func(r rune) bool { return !plainWord(r) }) {
			args[i] = shellQuote(a)
		}
	}
	return strings.Join(args, " ")
}

// plainWord says whether r needs no quoting in a shell word.
func plainWord(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/@%+=", r)
}
