package keystone

// Judging an answer: the errors of a failing status or a malformed body.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// answer is an HTTP answer with its body read.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	tooLarge   bool     // the body was longer than maxBodyBytes; body is cut
	location   *url.URL // the Location header resolved against the request's URL; nil for none
	receivedAt time.Time
}

// answerError builds the error for an answer of a failing status: of
// kind, pointing at problem, with detail saying what the answer suggests
// ("" for nothing more than the status and Keystone's message).
func (r *request) answerError(ans *answer, kind error, problem Problem, detail string) *statusError {
	return &statusError{
		status:  ans.status,
		message: keystoneMessage(ans.body, r.secrets),
		kind:    kind,
		method:  r.method,
		url:     displayURL(r.url),
		detail:  detail,
		problem: problem,
	}
}

// unexpectedStatus builds the ErrUnavailable error for a status that none of
// the methods expects, saying what the status suggests.
func (r *request) unexpectedStatus(ans *answer) *statusError {
	switch {
	case ans.status >= 300 && ans.status < 400:
		serr := r.answerError(ans, ErrUnavailable, ProblemAuthURL, "")
		if ans.location != nil {
			serr.redirect = cleanText(displayURL(ans.location.String()), nil, maxNetworkRunes)
		}
		return serr
	case ans.status == http.StatusBadRequest && r.body != nil:
		return r.answerError(ans, ErrUnavailable, ProblemRequest, "keystone found the request malformed")
	case ans.status == http.StatusNotFound:
		return r.answerError(ans, ErrUnavailable, ProblemAuthURL, "")
	default:
		return r.answerError(ans, ErrUnavailable, ProblemAuthURLOrLater, "")
	}
}

// decodeBody decodes the JSON body of a successful answer into v: a body
// cut at maxBodyBytes, or one that is not the JSON v expects, is an error
// for malformed.
func decodeBody(ans *answer, v any) error {
	if ans.tooLarge {
		return fmt.Errorf("a body larger than %d MiB", maxBodyBytes>>20)
	}
	if err := json.Unmarshal(ans.body, v); err != nil {
		return fmt.Errorf("a body that is not the expected JSON object (%v)", err)
	}
	return nil
}

// malformed is the ErrUnavailable error for an answer that cannot be used;
// err says what is wrong with it and holds no secret.
func (r *request) malformed(ans *answer, err error) error {
	return &problemError{ProblemAuthURLOrLater, fmt.Errorf("%w: malformed answer from keystone: %s %s answered %d with %s",
		ErrUnavailable, r.method, displayURL(r.url), ans.status, cleanText(err.Error(), r.secrets, maxNetworkRunes))}
}

// namesID reports whether message holds id as a word of its own: not
// within a longer run of letters, digits, '-' and '_'.
func namesID(message, id string) bool {
	isIDByte := func(b byte) bool {
		return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
	}
	for i := 0; id != ""; {
		j := strings.Index(message[i:], id)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(id)
		if (start == 0 || !isIDByte(message[start-1])) && (end == len(message) || !isIDByte(message[end])) {
			return true
		}
		i = start + 1
	}
	return false
}
