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
	switch {
	case errors.As(err, new(*usageError)):
		return protocol.CodeUsage, msg
	case errors.Is(err, errChecksFailed):
		return protocol.CodeChecksFailed, msg
	case errors.Is(err, protocol.ErrNotJSON) && inv.command == "store":
		return protocol.CodeUsage, msg + "; to pipe a password in, add --password-stdin; " + noStdinHint
	case errors.Is(err, protocol.ErrNotJSON):
		return protocol.CodeUsage, msg + "; " + noStdinHint
	case errors.Is(err, protocol.ErrBadRequest), errors.Is(err, helper.ErrIdentityChanged), errors.Is(err, helper.ErrEmptyPassword):
		return protocol.CodeUsage, msg
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
	case errors.Is(err, keyring.ErrTimeout):
		return protocol.CodeKeyringUnavailable, msg + " (or raise --keyring-timeout or VKC_KEYRING_TIMEOUT)"
	case errors.Is(err, keyring.ErrUnavailable):
		return protocol.CodeKeyringUnavailable, msg
	case errors.As(err, &revoke):
		return protocol.CodeKeystoneUnavailable, msg
	case errors.Is(err, errPasscodeCommand):
		return protocol.CodeMFARequired, msg
	case errors.Is(err, errNoPasscode), errors.Is(err, keystone.ErrMFARequired):
		return protocol.CodeMFARequired, fmt.Sprintf("%s; run `vkc-credential get --profile %s` once in a terminal (the token it caches then serves every tool for its lifetime), "+
			"or store a --totp-command that prints a passcode", msg, p)
	case errors.Is(err, keystone.ErrAuthFailed):
		return protocol.CodeAuthFailed, fmt.Sprintf("%s; keystone gives this answer both for a wrong password and for a project the user has no role on: "+
			"if the password changed, run `vkc-credential store --profile %s` again; otherwise check the project ID", msg, p)
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
