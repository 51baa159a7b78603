package keystone

// A token Keystone issued: its answer's parsing, and the checks of an
// opaque value (a token, a receipt, a secret) before it goes into a header.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxTokenBytes caps the size of a token: Keystone's Fernet tokens are
// a few hundred bytes, and a token is copied into caches, headers and
// environments.
const maxTokenBytes = 8 << 10

// Token is a token Keystone issued.
type Token struct {
	// ID is the token itself, from the X-Subject-Token header.
	ID string
	// IssuedAt is the body's token.issued_at, in UTC.
	IssuedAt time.Time
	// ExpiresAt is the body's token.expires_at, in UTC.
	ExpiresAt time.Time
	// ReceivedAt is the Client's clock when the answer arrived.
	ReceivedAt time.Time
	// ProjectID is the body's token.project.id: the project the token is
	// scoped to, "" for a token without a project (unscoped). For an
	// application credential it is the credential's project.
	ProjectID string
	// Body is the whole JSON answer body exactly as received:
	// {"token": {..., "catalog": [...]}}.
	Body json.RawMessage
}

// checkToken refuses a token that no Keystone issues: larger than
// maxTokenBytes, or with a byte that is not printable ASCII (0x21 to 0x7e).
// Its errors never hold the token.
func checkToken(id string) error { return checkOpaque("a token", id) }

// checkOpaque refuses an opaque value of Keystone's that goes into a header
// (a token, an auth receipt), naming it what ("a token"): larger than
// maxTokenBytes, or with a byte that is not printable ASCII. Its errors
// never hold the value.
func checkOpaque(what, v string) error {
	if len(v) > maxTokenBytes {
		return fmt.Errorf("%s of %d bytes, larger than %d KiB", what, len(v), maxTokenBytes>>10)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return fmt.Errorf("%s with a byte that is not printable ASCII at offset %d", what, i)
		}
	}
	return nil
}

// parseToken checks a successful answer of POST auth/tokens and builds the
// Token. Its errors never hold the token.
func parseToken(ans *answer) (*Token, error) {
	if ans.tooLarge {
		return nil, fmt.Errorf("a body larger than %d MiB", maxBodyBytes>>20)
	}
	id := strings.TrimSpace(ans.header.Get("X-Subject-Token"))
	if id == "" {
		return nil, errors.New("no X-Subject-Token header")
	}
	if err := checkToken(id); err != nil {
		return nil, err
	}
	var env struct {
		Token json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(ans.body, &env); err != nil {
		return nil, fmt.Errorf("a body that is not a JSON object (%v)", err)
	}
	if t := bytes.TrimSpace(env.Token); len(t) == 0 || t[0] != '{' {
		return nil, errors.New(`a body without a "token" object`)
	}
	var times struct {
		IssuedAt  *string `json:"issued_at"`
		ExpiresAt *string `json:"expires_at"`
	}
	if err := json.Unmarshal(env.Token, &times); err != nil {
		return nil, fmt.Errorf("a token whose issued_at or expires_at is not a string (%v)", err)
	}
	issued, err := parseTime("issued_at", times.IssuedAt)
	if err != nil {
		return nil, err
	}
	expires, err := parseTime("expires_at", times.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if !expires.After(issued) {
		return nil, fmt.Errorf("a token that expires (%s) no later than it was issued (%s)",
			expires.Format(time.RFC3339Nano), issued.Format(time.RFC3339Nano))
	}
	projectID, err := tokenProject(env.Token)
	if err != nil {
		return nil, err
	}
	return &Token{ID: id, IssuedAt: issued, ExpiresAt: expires, ProjectID: projectID, Body: json.RawMessage(ans.body)}, nil
}

// tokenProject returns the token's project.id; "" when it has no project
// (or a null one).
func tokenProject(token json.RawMessage) (string, error) {
	var t struct {
		Project json.RawMessage `json:"project"`
	}
	if err := json.Unmarshal(token, &t); err != nil {
		return "", fmt.Errorf("a token that cannot be decoded (%v)", err)
	}
	if p := bytes.TrimSpace(t.Project); len(p) == 0 || string(p) == "null" {
		return "", nil
	}
	var p struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(t.Project, &p); err != nil || p.ID == nil {
		return "", errors.New("a token whose project has no string id")
	}
	if err := checkID(*p.ID); err != nil {
		return "", fmt.Errorf("a token whose project id is %v", err)
	}
	return *p.ID, nil
}

// parseTime parses one of the token's times (see keystoneTime).
func parseTime(field string, s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, fmt.Errorf("a token without %s", field)
	}
	t, err := keystoneTime(*s)
	if err != nil {
		return time.Time{}, fmt.Errorf("a token whose %s %q is not an RFC 3339 time", field, cleanText(*s, nil, maxMessageRunes))
	}
	return t, nil
}

// keystoneTime parses a time as Keystone writes it, in UTC: RFC 3339 with
// or without fractional seconds ("2023-01-18T16:02:04.000000Z"), or the
// same without a zone, which Keystone writes for an application
// credential's expires_at, and for the expires_at of a token that such a
// credential's expiry cut short ("2023-01-18T16:02:04.123456").
func keystoneTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
}
