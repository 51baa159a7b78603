// Package keystone is a minimal OpenStack Keystone v3 client: it issues
// project-scoped tokens with the password method and revokes tokens.
package keystone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"vkc-credential/protocol"
)

// maxBodyBytes caps how much of an answer body is read.
const maxBodyBytes = 8 << 20

// userAgent is sent with every request.
const userAgent = "vkc-credential"

// maxTokenBytes caps the size of a token: Keystone's Fernet tokens are
// a few hundred bytes, and a token is copied into caches, headers and
// environments.
const maxTokenBytes = 8 << 10

// Hints appended to error messages. They name no command-line flag or
// environment variable: the command line adds its own hints, by the
// sentinel errors the messages wrap.
const (
	hintCredentials = "check the username, domain, project and password"
	hintAuthURL     = "check the auth URL: it must be keystone's v3 endpoint, e.g. " + protocol.VKCloudAuthURL
	hintCACert      = "if keystone uses a private CA, trust its certificate"
	hintRetryLater  = "keystone is overloaded or failing; try again later"
)

// Client talks to Keystone. The zero value is ready to use; its methods may
// be called from several goroutines at once, as long as the fields are not
// changed meanwhile.
type Client struct {
	// HTTP sends the requests; nil means NewHTTPClient(""). Whatever its
	// CheckRedirect, redirects are never followed.
	HTTP *http.Client
	// Debugf, when set, receives steps, statuses and timings. It never
	// receives a password, a token or a request body.
	Debugf func(format string, args ...any)
	// Now is the clock of Token.ReceivedAt and of Retry-After dates; nil
	// means time.Now. (Context deadlines are always on the real clock.)
	Now func() time.Time
	// BaseBackoff is the wait before the first retry, doubled for each
	// further retry, capped at MaxBackoff, with jitter; 0 means 200ms.
	BaseBackoff time.Duration
	// MaxBackoff caps each wait between attempts, Retry-After included;
	// 0 means 5s.
	MaxBackoff time.Duration

	// maxAttempts bounds the attempts of one call, the first included;
	// 0 (or less) means 4. Only tests change it.
	maxAttempts int
	// sleep waits d or until ctx is done; nil means sleepContext. Tests
	// replace it to record the waits without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// PasswordAuth is what IssuePassword needs to issue a project-scoped token.
type PasswordAuth struct {
	// AuthURL is Keystone's v3 endpoint as protocol.NormalizeAuthURL
	// returns it (IssuePassword checks it again).
	AuthURL string
	// Username is sent as auth.identity.password.user.name.
	Username string
	// UserDomainName is sent as auth.identity.password.user.domain.name.
	UserDomainName string
	// Password is sent as auth.identity.password.user.password and nowhere
	// else: no error, log line or Debugf call ever holds it.
	Password string
	// ProjectID is the token's scope, sent as auth.scope.project.id.
	ProjectID string
}

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
	// Body is the whole JSON answer body exactly as received:
	// {"token": {..., "catalog": [...]}}.
	Body json.RawMessage
}

// issueRequest is the body of POST /v3/auth/tokens with the password method
// and a project scope.
type issueRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					Name   string `json:"name"`
					Domain struct {
						Name string `json:"name"`
					} `json:"domain"`
					Password string `json:"password"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope struct {
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

// check refuses an incomplete PasswordAuth before anything is sent. The
// messages name fields, never their values.
func (a *PasswordAuth) check() error {
	for _, f := range []struct{ name, value string }{
		{"username", a.Username},
		{"user domain name", a.UserDomainName},
		{"password", a.Password},
		{"project ID", a.ProjectID},
	} {
		if f.value == "" {
			return fmt.Errorf("keystone: no %s given", f.name)
		}
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("keystone: the %s is not valid UTF-8", f.name)
		}
	}
	return nil
}

// IssuePassword issues a project-scoped token with the password method:
// POST {AuthURL}/auth/tokens, expecting 201 (or 200).
//
// ctx bounds the whole exchange, retries included. Connection errors, 5xx
// and 429 are tried up to 4 times in all, with capped exponential backoff
// and jitter (429 and 503 honour Retry-After); a wait that would pass ctx's
// deadline is not started. 401 and 403 give an error wrapping ErrAuthFailed
// that names the status and quotes Keystone's message; any other status, a redirect, a certificate that
// cannot be verified (also ErrUntrustedCertificate), running out of time
// (also ErrTimeout) or a malformed answer give an error wrapping
// ErrUnavailable. A token larger than 8 KiB or with anything but printable
// ASCII is a malformed answer. An AuthURL that protocol.NormalizeAuthURL
// refuses gives that function's error, wrapping protocol.ErrInvalidAuthURL,
// and nothing is sent.
func (c *Client) IssuePassword(ctx context.Context, a PasswordAuth) (*Token, error) {
	u, err := endpoint(a.AuthURL)
	if err != nil {
		return nil, err
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	var body issueRequest
	body.Auth.Identity.Methods = []string{"password"}
	body.Auth.Identity.Password.User.Name = a.Username
	body.Auth.Identity.Password.User.Domain.Name = a.UserDomainName
	body.Auth.Identity.Password.User.Password = a.Password
	body.Auth.Scope.Project.ID = a.ProjectID
	data, err := json.Marshal(&body)
	if err != nil {
		return nil, fmt.Errorf("keystone: cannot encode the request: %w", err)
	}

	r := &request{method: http.MethodPost, url: u, body: data, secrets: []string{a.Password}}
	ans, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	switch ans.status {
	case http.StatusCreated, http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, r.answerError(ans, ErrAuthFailed, hintCredentials)
	default:
		return nil, r.unexpectedStatus(ans)
	}
	tok, err := parseToken(ans)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed answer from keystone: %s %s answered %d with %s; check the auth URL, or try again later",
			ErrUnavailable, r.method, displayURL(r.url), ans.status, cleanText(err.Error(), nil, maxNetworkRunes))
	}
	tok.ReceivedAt = ans.receivedAt
	c.debugf("keystone: token of %d bytes issued at %s, expires at %s (lifetime %s), body of %d bytes",
		len(tok.ID), tok.IssuedAt.Format(time.RFC3339), tok.ExpiresAt.Format(time.RFC3339),
		tok.ExpiresAt.Sub(tok.IssuedAt), len(tok.Body))
	return tok, nil
}

// Revoke revokes token: DELETE {authURL}/auth/tokens with the token as both
// X-Auth-Token and X-Subject-Token. 204 or 200 is success, and so is 404
// (the token is already gone). Retries are as for IssuePassword; 401 and 403
// give an error wrapping ErrAuthFailed, anything else that fails an
// error wrapping ErrUnavailable (and ErrTimeout or ErrUntrustedCertificate
// as for IssuePassword). An authURL that protocol.NormalizeAuthURL refuses,
// or a token that no Keystone issues (see IssuePassword), is refused before
// anything is sent.
func (c *Client) Revoke(ctx context.Context, authURL, token string) error {
	r, err := revokeRequest(authURL, token)
	if err != nil {
		return err
	}
	ans, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	switch ans.status {
	case http.StatusNoContent, http.StatusOK:
		c.debugf("keystone: token revoked")
		return nil
	case http.StatusNotFound:
		c.debugf("keystone: token already gone (404), nothing to revoke")
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return r.answerError(ans, ErrAuthFailed, "keystone refused to revoke the token, which may have expired already")
	default:
		return r.unexpectedStatus(ans)
	}
}

// revokeRequest builds the DELETE request of Revoke.
func revokeRequest(authURL, token string) (*request, error) {
	u, err := endpoint(authURL)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("keystone: no token given")
	}
	if err := checkToken(token); err != nil {
		return nil, fmt.Errorf("keystone: cannot revoke %v", err)
	}
	h := http.Header{}
	h.Set("X-Auth-Token", token)
	h.Set("X-Subject-Token", token)
	return &request{method: http.MethodDelete, url: u, header: h, secrets: []string{token}}, nil
}

// checkToken refuses a token that no Keystone issues: larger than
// maxTokenBytes, or with a byte that is not printable ASCII (0x21 to 0x7e).
// Its errors never hold the token.
func checkToken(id string) error {
	if len(id) > maxTokenBytes {
		return fmt.Errorf("a token of %d bytes, larger than %d KiB", len(id), maxTokenBytes>>10)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Errorf("a token with a byte that is not printable ASCII at offset %d", i)
		}
	}
	return nil
}

// parseToken checks a successful IssuePassword answer and builds the Token.
// Its errors never hold the token.
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
	return &Token{ID: id, IssuedAt: issued, ExpiresAt: expires, Body: json.RawMessage(ans.body)}, nil
}

// parseTime parses one of the token's times: RFC 3339 with or without
// fractional seconds, as Keystone writes them ("2023-01-18T16:02:04.000000Z").
func parseTime(field string, s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, fmt.Errorf("a token without %s", field)
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, fmt.Errorf("a token whose %s %q is not an RFC 3339 time", field, cleanText(*s, nil, maxMessageRunes))
	}
	return t.UTC(), nil
}

// Reachable checks that Keystone answers at authURL without sending any
// credential: GET {authURL} (the API's version document). Any answer
// below 500 counts, since it proves a server is there; a 5xx or 429 is
// retried as for IssuePassword, and what fails wraps ErrUnavailable (and
// ErrTimeout or ErrUntrustedCertificate).
func (c *Client) Reachable(ctx context.Context, authURL string) error {
	u, err := protocol.NormalizeAuthURL(authURL)
	if err != nil {
		return err
	}
	ans, err := c.do(ctx, &request{method: http.MethodGet, url: u})
	if err != nil {
		return err
	}
	c.debugf("keystone: %s answered %d", displayURL(u), ans.status)
	return nil
}
