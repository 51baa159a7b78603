package keystone

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors; every error of this package that is about Keystone wraps
// exactly one of them, so callers map them to exit codes with errors.Is.
var (
	// ErrAuthFailed means Keystone rejected the credentials (401 or 403).
	ErrAuthFailed = errors.New("keystone rejected the credentials")

	// ErrUnavailable means Keystone could not be used: it was unreachable,
	// timed out, answered 5xx or 429 on every attempt, sent a malformed
	// answer or a redirect, or answered any other unexpected status.
	ErrUnavailable = errors.New("keystone unavailable")

	// ErrInvalidURL means an auth URL is unparsable, does not use https://,
	// or uses http:// to a host that is not loopback.
	ErrInvalidURL = errors.New("invalid auth URL")
)

// maxMessageRunes caps StatusError.Message.
const maxMessageRunes = 200

// StatusError is the error for an HTTP answer from Keystone that was not a
// success. It wraps ErrAuthFailed or ErrUnavailable, so errors.Is works on
// it, and errors.As gives the status and Keystone's own message.
type StatusError struct {
	// StatusCode is the HTTP status Keystone answered.
	StatusCode int
	// Message is Keystone's error.message from the answer body, if it had
	// one, on one line and trimmed to 200 characters, with any secret sent
	// in the request masked.
	Message string

	kind   error  // ErrAuthFailed or ErrUnavailable
	method string // the request's method
	url    string // the request's URL, as displayURL renders it
	note   string // what happened around the answer, e.g. "after 4 attempts"
	hint   string // how to fix it
}

// Error says which request got which status, what Keystone said, and how to
// fix it.
func (e *StatusError) Error() string {
	var b strings.Builder
	if e.kind != nil {
		b.WriteString(e.kind.Error())
		b.WriteString(": ")
	}
	if e.method != "" || e.url != "" {
		fmt.Fprintf(&b, "%s %s answered ", e.method, e.url)
	} else {
		b.WriteString("keystone answered ")
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (keystone said %q)", e.Message)
	}
	if e.note != "" {
		if !strings.HasPrefix(e.note, ",") {
			b.WriteString(" ")
		}
		b.WriteString(e.note)
	}
	if e.hint != "" {
		b.WriteString("; " + e.hint)
	}
	return b.String()
}

// Unwrap returns ErrAuthFailed or ErrUnavailable.
func (e *StatusError) Unwrap() error { return e.kind }

// keystoneMessage extracts error.message from a Keystone error body
// ({"error": {"code": 401, "title": "...", "message": "..."}}), masks the
// secrets in it, folds it onto one line and trims it to maxMessageRunes.
func keystoneMessage(body []byte, secrets []string) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return ""
	}
	return cleanMessage(e.Error.Message, secrets)
}

// cleanMessage masks secrets in s (before trimming, so that no prefix of a
// secret survives a cut), turns control characters into spaces, collapses
// runs of space and keeps at most maxMessageRunes runes.
func cleanMessage(s string, secrets []string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if utf8.RuneCountInString(s) > maxMessageRunes {
		s = string([]rune(s)[:maxMessageRunes])
	}
	return s
}
