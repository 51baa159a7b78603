package protocol

// Code is a machine-readable error class; each maps to one exit status.
type Code string

// The error codes of the protocol, in the order of their exit statuses.
const (
	CodeInternal            Code = "internal"
	CodeUsage               Code = "usage"
	CodeNotFound            Code = "not_found"
	CodeAuthFailed          Code = "auth_failed"
	CodeKeystoneUnavailable Code = "keystone_unavailable"
	CodeKeyringUnavailable  Code = "keyring_unavailable"
	CodeMFARequired         Code = "mfa_required"
	CodeChecksFailed        Code = "checks_failed"
)

// ExitCode returns the process exit status that belongs to c.
func (c Code) ExitCode() int {
	switch c {
	case CodeUsage:
		return 2
	case CodeNotFound:
		return 3
	case CodeAuthFailed:
		return 4
	case CodeKeystoneUnavailable:
		return 5
	case CodeKeyringUnavailable:
		return 6
	case CodeMFARequired:
		return 7
	case CodeChecksFailed:
		return 8
	default:
		return 1
	}
}
