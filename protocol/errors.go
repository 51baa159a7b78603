package protocol

import (
	"errors"
	"fmt"
)

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
	default:
		return 1
	}
}

// Error is an error that carries its protocol code. Its message is meant
// for a person and must never hold a secret.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, if any; not shown beyond Message
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code c and a formatted message. A %w verb
// in format wraps its operand as the cause, as with fmt.Errorf.
func Errorf(c Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: c, Message: err.Error(), Err: errors.Unwrap(err)}
}

// CodeOf returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func CodeOf(err error) Code {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CodeInternal
}

// ErrorBody is the "error" member of an error answer.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse is what stdout carries on failure in the JSON formats.
type ErrorResponse struct {
	Version int       `json:"version"`
	Error   ErrorBody `json:"error"`
}

// NewErrorResponse builds the JSON error answer for err.
func NewErrorResponse(err error) ErrorResponse {
	return ErrorResponse{Version: Version, Error: ErrorBody{Code: CodeOf(err), Message: err.Error()}}
}
