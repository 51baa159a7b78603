package keystone

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vkc-credential/protocol"
)

// Sentinel errors. Every error of this package about an exchange with
// Keystone wraps ErrAuthFailed, ErrUnavailable, ErrMFARequired, ErrNotFound
// or ErrConflict, so that the caller can tell them apart with errors.Is;
// a timeout also wraps ErrTimeout, and an untrusted certificate says so
// through its Problem. Each knows its class (protocol.CodeOf), named below. An auth
// URL that protocol.NormalizeAuthURL refuses gives that function's error,
// wrapping protocol.ErrInvalidAuthURL; NewHTTPClient's errors wrap
// ErrCAFile.
//
// The messages say what happened, never how to fix it: the caller knows
// where the auth URL, the CA file and the time limit are set. What a
// failed exchange points at — the auth URL, the certificate, the network —
// is its Problem, for the caller's hint.
var (
	// ErrAuthFailed means Keystone rejected the credentials (401 or 403);
	// protocol.CodeAuthFailed.
	ErrAuthFailed = protocol.NewError(protocol.CodeAuthFailed, "keystone rejected the credentials")

	// ErrMFARequired means Keystone accepted the password but the user's
	// multi-factor rules ask for a TOTP passcode too: the error is a
	// *ReceiptError, whose receipt IssueWithReceipt sends back with the
	// passcode. It wraps neither ErrAuthFailed nor ErrUnavailable;
	// protocol.CodeMFARequired.
	ErrMFARequired = protocol.NewError(protocol.CodeMFARequired, "keystone requires a second factor")

	// ErrUnavailable means Keystone could not be used: it was unreachable,
	// timed out, answered 5xx or 429 on every attempt, sent a malformed
	// answer or a redirect, presented a certificate that cannot be
	// verified, or answered any other unexpected status;
	// protocol.CodeKeystoneUnavailable.
	ErrUnavailable = protocol.NewError(protocol.CodeKeystoneUnavailable, "keystone unavailable")

	// ErrTimeout means the exchange ran out of time: the context's deadline
	// passed, or the next retry would have passed it. Such errors wrap
	// ErrUnavailable too. A context canceled without a deadline is not a
	// timeout. protocol.CodeKeystoneUnavailable.
	ErrTimeout = protocol.NewError(protocol.CodeKeystoneUnavailable, "the exchange with keystone ran out of time")

	// errUntrustedCertificate means Keystone's TLS certificate could not
	// be verified: an unknown authority, a wrong host name, or an invalid
	// certificate. Such errors wrap ErrUnavailable too;
	// protocol.CodeKeystoneUnavailable.
	errUntrustedCertificate = protocol.NewError(protocol.CodeKeystoneUnavailable, "the TLS certificate of keystone cannot be verified")

	// ErrNotFound means Keystone has no application credential of the ID
	// a deletion named (404 naming it); protocol.CodeNotFound.
	ErrNotFound = protocol.NewError(protocol.CodeNotFound, "keystone has no such application credential")

	// ErrConflict means Keystone refused to create an application
	// credential because the user has one of that name already (409);
	// protocol.CodeUsage.
	ErrConflict = protocol.NewError(protocol.CodeUsage, "keystone already has an application credential of that name")

	// ErrCAFile means the CA file given to NewHTTPClient cannot be read or
	// holds no PEM certificate; protocol.CodeUsage.
	ErrCAFile = protocol.NewError(protocol.CodeUsage, "cannot use the CA file")
)

// Problem names what a failed exchange points at, for the caller to say
// how to fix it. An error of this package that has one has a method
// Problem() Problem; the outermost such error in a chain (the order of
// errors.As) is the one that counts.
type Problem int

// The problems.
const (
	// ProblemNone: nothing to point at beyond the message.
	ProblemNone Problem = iota
	// ProblemAuthURL: the auth URL is not keystone's v3 endpoint (a 404,
	// a redirect, a URL no request can be built from).
	ProblemAuthURL
	// ProblemAuthURLOrLater: an answer no keystone should give (an
	// unexpected status, a malformed answer): a wrong auth URL, or a
	// passing failure.
	ProblemAuthURLOrLater
	// ProblemRequest: keystone found the request malformed (400): the
	// project ID, the user domain name or the auth URL.
	ProblemRequest
	// ProblemRoles: keystone did not find what an application
	// credential's creation named (404): a role name, or the auth URL.
	ProblemRoles
	// ProblemOverloaded: keystone answered 5xx or 429 on every attempt.
	ProblemOverloaded
	// ProblemTimeout: the exchange ran out of time (the error wraps
	// ErrTimeout).
	ProblemTimeout
	// ProblemNetwork: keystone could not be reached on any attempt.
	ProblemNetwork
	// ProblemHostName: the auth URL's host name does not resolve.
	ProblemHostName
	// ProblemCertificateHost: keystone's certificate is not for the auth
	// URL's host name, or comes from an authority not trusted here.
	ProblemCertificateHost
	// ProblemCertificateTime: keystone's certificate is not valid now (by
	// this machine's clock), or comes from an authority not trusted here.
	ProblemCertificateTime
	// ProblemCertificateAuthority: keystone's certificate comes from an
	// authority not trusted here (a private CA).
	ProblemCertificateAuthority
	// ProblemNotTLS: the server at the auth URL does not speak TLS.
	ProblemNotTLS
	// ProblemHandshake: the server at the auth URL refused the TLS
	// handshake.
	ProblemHandshake
)

// Caps of text from the network that goes into a message, in runes.
const (
	maxMessageRunes = 200 // Keystone's error.message
	maxNetworkRunes = 500 // a transport error, TLS errors included
)

// statusError is the error for an HTTP answer from Keystone that was not a
// success. It wraps its kind (and ErrTimeout when the retries stopped at
// the deadline), so errors.Is works on it.
type statusError struct {
	status  int    // the HTTP status Keystone answered
	message string // Keystone's error.message, cleaned by keystoneMessage; "" for none

	kind     error         // ErrAuthFailed, ErrUnavailable, ErrNotFound or ErrConflict
	method   string        // the request's method
	url      string        // the request's URL, as displayURL renders it
	redirect string        // for a 3xx: where the Location pointed, cleaned; "" for none
	attempts int           // how many attempts were made; 0 when not worth saying
	gaveUp   bool          // no retry was made: waiting nextWait would pass the deadline
	nextWait time.Duration // the wait before the retry not made
	detail   string        // what the answer suggests happened; "" for nothing more
	problem  Problem       // what the answer points at
}

// Error says which request got which status, what Keystone said, and what
// that suggests.
func (e *statusError) Error() string {
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
	b.WriteString(strconv.Itoa(e.status))
	if text := http.StatusText(e.status); text != "" {
		b.WriteString(" " + text)
	}
	if e.status >= 300 && e.status < 400 {
		b.WriteString(", a redirect")
		if e.redirect != "" {
			b.WriteString(" to " + e.redirect)
		}
		b.WriteString(" that is not followed")
	}
	if e.message != "" {
		fmt.Fprintf(&b, " (keystone said %q)", e.message)
	}
	if e.attempts > 0 {
		b.WriteString(" " + attemptsText(e.attempts))
	}
	if e.gaveUp {
		b.WriteString("; " + gaveUpText(e.nextWait))
	}
	if e.detail != "" {
		b.WriteString("; " + e.detail)
	}
	return b.String()
}

// Problem returns what the answer points at; ProblemTimeout when the
// retries stopped at the deadline.
func (e *statusError) Problem() Problem {
	if e.gaveUp {
		return ProblemTimeout
	}
	return e.problem
}

// Unwrap returns the error's kind (ErrAuthFailed, ErrUnavailable...), and
// ErrTimeout when the retries stopped at the deadline.
func (e *statusError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.gaveUp {
		errs = append(errs, ErrTimeout)
	}
	return errs
}

// timeoutError marks an error as a timeout without changing its message.
type timeoutError struct{ err error }

// Error returns the message of the error it marks.
func (e *timeoutError) Error() string { return e.err.Error() }

// Unwrap returns the error it marks and ErrTimeout.
func (e *timeoutError) Unwrap() []error { return []error{e.err, ErrTimeout} }

// Problem returns ProblemTimeout.
func (e *timeoutError) Problem() Problem { return ProblemTimeout }

// problemError gives an error the Problem it points at, without changing
// its message.
type problemError struct {
	problem Problem
	err     error
}

// Error returns the message of the error it marks.
func (e *problemError) Error() string { return e.err.Error() }

// Unwrap returns the error it marks.
func (e *problemError) Unwrap() error { return e.err }

// Problem returns what the error points at.
func (e *problemError) Problem() Problem { return e.problem }

// cleanError is an error from the network whose message is made safe to
// print with cleanText, secrets masked; errors.Is and errors.As still see
// the original.
type cleanError struct {
	err     error
	secrets []string
}

// Error returns the original message, cleaned.
func (e *cleanError) Error() string { return cleanText(e.err.Error(), e.secrets, maxNetworkRunes) }

// Unwrap returns the original error.
func (e *cleanError) Unwrap() error { return e.err }

// keystoneMessage extracts error.message from a Keystone error body
// ({"error": {"code": 401, "title": "...", "message": "..."}}) and cleans it
// with cleanText.
func keystoneMessage(body []byte, secrets []string) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return ""
	}
	return cleanText(e.Error.Message, secrets, maxMessageRunes)
}

// cleanText makes text from the network fit for a one-line message: it
// masks secrets (before anything else, so that no piece of a secret
// survives a cut), turns white space and control characters (Unicode Cc)
// into single spaces, trims them at both ends, writes every other rune that
// is not graphic (format characters, Unicode Cf, such as U+202E, private and
// unassigned code points) as a \uXXXX escape, turns invalid UTF-8 into
// U+FFFD, and keeps at most maxRunes runes of the result.
func cleanText(s string, secrets []string, maxRunes int) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		piece := string(r)
		switch {
		case unicode.IsGraphic(r):
		case r > 0xFFFF:
			piece = fmt.Sprintf(`\U%08X`, r)
		default:
			piece = fmt.Sprintf(`\u%04X`, r)
		}
		if space {
			piece = " " + piece
			space = false
		}
		if n += utf8.RuneCountInString(piece); n > maxRunes {
			break
		}
		b.WriteString(piece)
	}
	return b.String()
}
