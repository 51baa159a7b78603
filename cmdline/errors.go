package cmdline

import (
	"errors"
	"fmt"
	"strings"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// usageError is a mistake on the command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

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

// describe maps err to its protocol code and the message the user sees:
// the error's own text and, where the edge knows one, how to fix it. This
// is the one place that turns errors into exit codes.
func (inv *invocation) describe(err error) (protocol.Code, string) {
	msg := err.Error()
	p := inv.profile
	var missing *helper.MissingSettingError
	var revoke *helper.RevokeError
	var rejected *helper.RejectedError
	var projectName *helper.ProjectNameError
	var noAnswer *noAnswerError
	var secretCmd *helper.SecretCommandError
	switch {
	case errors.As(err, new(*usageError)):
		return protocol.CodeUsage, msg
	case errors.Is(err, errChecksFailed):
		return protocol.CodeChecksFailed, msg
	case errors.Is(err, protocol.ErrNotJSON) && inv.command == "store":
		return protocol.CodeUsage, msg + "; to pipe a password in, add --password-stdin; " + noStdinHint
	case errors.Is(err, protocol.ErrNotJSON):
		return protocol.CodeUsage, msg + "; " + noStdinHint
	case errors.Is(err, protocol.ErrBadRequest), errors.Is(err, helper.ErrIdentityChanged), errors.Is(err, helper.ErrEmptyPassword), errors.Is(err, helper.ErrNoProject):
		return protocol.CodeUsage, msg
	case errors.As(err, &projectName) && len(projectName.Matches) == 0:
		return protocol.CodeUsage, msg + "; give --project-id or another --project-name"
	case errors.As(err, &projectName):
		return protocol.CodeUsage, msg + "; give --project-id with one of them"
	case errors.Is(err, protocol.ErrInvalidAuthURL):
		return protocol.CodeUsage, msg + "; give the auth URL with " + settingSources["auth_url"]
	case errors.As(err, &missing):
		return protocol.CodeUsage, fmt.Sprintf("%s; give it with %s", msg, settingSources[missing.Field])
	case errors.Is(err, keystone.ErrCAFile):
		return protocol.CodeUsage, msg + "; check --cacert or OS_CACERT"
	case errors.Is(err, helper.ErrProfileNotFound) && inv.profileDefaulted:
		return protocol.CodeNotFound, msg + "; " + inv.pickProfileHint()
	case errors.Is(err, helper.ErrProfileNotFound):
		return protocol.CodeNotFound, fmt.Sprintf("%s; create it with `vkc-credential store --profile %s --openrc FILE`", msg, p)
	case errors.Is(err, keyring.ErrNotFound):
		return protocol.CodeNotFound, fmt.Sprintf("no password is stored for profile %q; run `vkc-credential store --profile %s`", p, p)
	case errors.As(err, &secretCmd):
		return protocol.CodeKeyringUnavailable, secretCommandDetail(msg, secretCmd) + "; " + secretCommandHint(secretCmd)
	case errors.Is(err, keyring.ErrTimeout):
		return protocol.CodeKeyringUnavailable, msg + " (or raise --keyring-timeout or VKC_KEYRING_TIMEOUT)"
	case errors.Is(err, keyring.ErrUnavailable):
		return protocol.CodeKeyringUnavailable, msg
	case errors.As(err, &revoke):
		return protocol.CodeKeystoneUnavailable, msg
	case errors.Is(err, errPasscodeCommand), errors.Is(err, errNotAPasscode):
		return protocol.CodeMFARequired, msg
	case errors.As(err, &noAnswer):
		return noAnswer.describe(msg, p)
	case errors.Is(err, errNoPasscode), errors.Is(err, keystone.ErrMFARequired):
		return protocol.CodeMFARequired, fmt.Sprintf("%s; run `vkc-credential get --profile %s` once in a terminal (the token it caches then serves every tool for its lifetime), "+
			"store a --totp-command that prints a passcode, or %s", msg, p, noAskpassHint())
	case errors.Is(err, helper.ErrAppCredOption):
		return protocol.CodeUsage, msg
	case errors.Is(err, keystone.ErrConflict):
		return protocol.CodeUsage, fmt.Sprintf("%s; choose another --name (`vkc-credential appcred list --profile %s` shows the user's)", msg, p)
	case errors.Is(err, keystone.ErrNotFound):
		return protocol.CodeNotFound, fmt.Sprintf("%s; `vkc-credential appcred list --profile %s` shows the user's", msg, p)
	case errors.As(err, new(*appCredRefused)):
		return protocol.CodeAuthFailed, fmt.Sprintf("%s; keystone lets only the user's own sign-in (a password profile, or an unrestricted application credential) "+
			"manage application credentials: give --profile such a profile; if its token was revoked, run `vkc-credential get --profile %s --refresh` first", msg, p)
	case errors.As(err, &rejected):
		return protocol.CodeAuthFailed, msg + "; " + rejectedHint(rejected)
	case errors.Is(err, keystone.ErrAuthFailed):
		return protocol.CodeAuthFailed, msg + "; " + rejectedHint(&helper.RejectedError{Profile: p})
	case errors.Is(err, keystone.ErrTimeout):
		return protocol.CodeKeystoneUnavailable, msg + "; raise --timeout or VKC_TIMEOUT, or try again later"
	case errors.Is(err, keystone.ErrUntrustedCertificate):
		return protocol.CodeKeystoneUnavailable, msg + "; if keystone uses a private CA, pass its certificate with --cacert FILE or OS_CACERT"
	case errors.Is(err, keystone.ErrUnavailable), errors.Is(err, helper.ErrClock):
		return protocol.CodeKeystoneUnavailable, msg
	case errors.Is(err, helper.ErrLockBusy):
		return protocol.CodeKeystoneUnavailable, msg
	case errors.Is(err, helper.ErrUnsafeFile):
		return protocol.CodeUsage, msg
	case errors.Is(err, helper.ErrDamaged):
		return protocol.CodeInternal, fmt.Sprintf("%s; run `vkc-credential store --profile %s` again", msg, p)
	}
	return protocol.CodeInternal, msg
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
