package protocol

import "errors"

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

// An error says its class once, where it is made: it has a method
// Code() Code — a sentinel made by NewError, or an error type of its
// own — or it wraps (%w, Unwrap) an error that has one. CodeOf reads it.

// coded is an error that knows its class.
type coded interface {
	error
	Code() Code
}

// sentinel is an error value of a known class, made by NewError.
type sentinel struct {
	code Code
	text string
}

func (e *sentinel) Error() string { return e.text }

// Code returns the error's class.
func (e *sentinel) Code() Code { return e.code }

// NewError returns a new sentinel error of class code whose text is
// text: errors.Is tells it apart as errors.New's do, and an error that
// wraps it is of its class unless an error wrapped around it says
// otherwise (see CodeOf).
func NewError(code Code, text string) error { return &sentinel{code: code, text: text} }

// CodeOf returns the class of err: the Code of the first error in err's
// tree that has one, in the order errors.As visits the tree (err itself,
// then what it wraps, depth first, left to right) — so the outermost error
// that knows its class decides. An error that knows none is CodeInternal.
func CodeOf(err error) Code {
	var c coded
	if errors.As(err, &c) {
		return c.Code()
	}
	return CodeInternal
}
