// Package keystone is a minimal OpenStack Keystone v3 client: it issues
// tokens (password, application credential, password then TOTP passcode
// with an auth receipt, a token re-scoped to a project), lists the projects a token's user can use,
// creates, lists and deletes the user's application credentials, and
// revokes tokens.
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

// PasswordAuth is what IssuePassword needs to issue a project-scoped token,
// and IssuePasswordUnscoped an unscoped one (without ProjectID).
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
	// ProjectID is the token's scope, sent as auth.scope.project.id;
	// IssuePasswordUnscoped takes none.
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
	// ProjectID is the body's token.project.id: the project the token is
	// scoped to, "" for a token without a project (unscoped). For an
	// application credential it is the credential's project.
	ProjectID string
	// Body is the whole JSON answer body exactly as received:
	// {"token": {..., "catalog": [...]}}.
	Body json.RawMessage
}

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth struct {
		Identity identity `json:"identity"`
		// Scope is a projectScope, the string "unscoped", or nil for none
		// (an application credential fixes its own).
		Scope any `json:"scope,omitempty"`
	} `json:"auth"`
}

// identity is auth.identity: the methods and, for each, its credentials.
type identity struct {
	Methods               []string               `json:"methods"`
	Password              *passwordMethod        `json:"password,omitempty"`
	ApplicationCredential *applicationCredential `json:"application_credential,omitempty"`
	TOTP                  *totpMethod            `json:"totp,omitempty"`
	Token                 *tokenMethod           `json:"token,omitempty"`
}

// passwordMethod is auth.identity.password.
type passwordMethod struct {
	User struct {
		Name   string `json:"name"`
		Domain struct {
			Name string `json:"name"`
		} `json:"domain"`
		Password string `json:"password"`
	} `json:"user"`
}

// projectScope is auth.scope for a project.
type projectScope struct {
	Project struct {
		ID string `json:"id"`
	} `json:"project"`
}

// scope returns auth.scope for projectID: the project, or explicitly
// unscoped for "" (without a scope Keystone would scope the token to the
// user's default project).
func scope(projectID string) any {
	if projectID == "" {
		return "unscoped"
	}
	var s projectScope
	s.Project.ID = projectID
	return s
}

// checkFields refuses an empty or invalid UTF-8 value before anything is
// sent. The messages name fields, never their values.
func checkFields(fields ...[2]string) error {
	for _, f := range fields {
		name, value := f[0], f[1]
		if value == "" {
			return fmt.Errorf("keystone: no %s given", name)
		}
		if !utf8.ValidString(value) {
			return fmt.Errorf("keystone: the %s is not valid UTF-8", name)
		}
	}
	return nil
}

// check refuses an incomplete PasswordAuth before anything is sent; the
// project ID is checked only when withProject.
func (a *PasswordAuth) check(withProject bool) error {
	fields := [][2]string{
		{"username", a.Username},
		{"user domain name", a.UserDomainName},
		{"password", a.Password},
	}
	if withProject {
		fields = append(fields, [2]string{"project ID", a.ProjectID})
	} else if a.ProjectID != "" {
		return errors.New("keystone: an unscoped token takes no project ID")
	}
	return checkFields(fields...)
}

// request builds the POST of a password authentication.
func (a *PasswordAuth) request(withProject bool) (*request, error) {
	u, err := endpoint(a.AuthURL)
	if err != nil {
		return nil, err
	}
	if err := a.check(withProject); err != nil {
		return nil, err
	}
	var body authRequest
	pw := &passwordMethod{}
	pw.User.Name = a.Username
	pw.User.Domain.Name = a.UserDomainName
	pw.User.Password = a.Password
	body.Auth.Identity = identity{Methods: []string{"password"}, Password: pw}
	body.Auth.Scope = scope(a.ProjectID)
	return postRequest(u, &body, nil, a.Password)
}

// postRequest builds a POST of auth/tokens to u with body as JSON; secrets
// are masked in anything Keystone sends back.
func postRequest(u string, body *authRequest, header http.Header, secrets ...string) (*request, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("keystone: cannot encode the request: %w", err)
	}
	return &request{method: http.MethodPost, url: u, body: data, header: header, secrets: secrets}, nil
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
//
// A 401 that carries an auth receipt (the Openstack-Auth-Receipt header)
// means that Keystone accepted the password but the user's rules ask for
// more methods: when one of the rules is met by adding a TOTP passcode, the
// error is a *ReceiptError, which wraps ErrMFARequired and holds what
// IssueWithReceipt needs; a rule that needs anything else gives an error
// wrapping ErrAuthFailed that names the methods.
func (c *Client) IssuePassword(ctx context.Context, a PasswordAuth) (*Token, error) {
	r, err := a.request(true)
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, r, issueOpts{sent: []string{"password"}})
}

// IssuePasswordUnscoped issues an unscoped token with the password method,
// for a caller that does not know a project ID yet: with the token,
// Projects lists the user's projects, so that a project name can be turned
// into an ID. It sends "scope": "unscoped", so that Keystone does not scope
// the token to the user's default project, and refuses a PasswordAuth with
// a ProjectID. Everything else, the auth receipt of a user who needs a TOTP
// passcode included, is as for IssuePassword.
func (c *Client) IssuePasswordUnscoped(ctx context.Context, a PasswordAuth) (*Token, error) {
	r, err := a.request(false)
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, r, issueOpts{sent: []string{"password"}})
}

// issueOpts says how issue judges an answer.
type issueOpts struct {
	sent        []string // the methods sent
	refused     string   // what a 401 or 403 suggests, beyond Keystone's message; "" for nothing
	needProject bool     // a token without a project is a malformed answer
	// missingID, when set, is the ID of the credential sent: a 404 whose
	// message names it means the credential does not exist (Keystone
	// answers so for an application credential that was deleted or never
	// was), which is ErrAuthFailed saying missing.
	missingID, missing string
	// goneIs404: a 404 means Keystone cannot validate the token sent (it
	// expired or was revoked), which is ErrAuthFailed saying refused.
	goneIs404 bool
}

// issue sends r, a POST of auth/tokens, and judges the answer (see
// IssuePassword) as o says.
func (c *Client) issue(ctx context.Context, r *request, o issueOpts) (*Token, error) {
	ans, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	switch ans.status {
	case http.StatusCreated, http.StatusOK:
	case http.StatusUnauthorized:
		if ans.header.Get(receiptHeader) != "" {
			return nil, c.receiptError(r, ans, o.sent)
		}
		return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.refused)
	case http.StatusForbidden:
		return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.refused)
	case http.StatusNotFound:
		if o.missingID != "" && namesID(keystoneMessage(ans.body, r.secrets), o.missingID) {
			return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.missing)
		}
		if o.goneIs404 {
			return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.refused)
		}
		return nil, r.unexpectedStatus(ans)
	default:
		return nil, r.unexpectedStatus(ans)
	}
	tok, err := parseToken(ans)
	if err == nil && o.needProject && tok.ProjectID == "" {
		err = errors.New("a token without a project, which this method always gives")
	}
	if err != nil {
		return nil, r.malformed(ans, err)
	}
	tok.ReceivedAt = ans.receivedAt
	scoped := "unscoped"
	if tok.ProjectID != "" {
		scoped = "scoped to a project"
	}
	c.debugf("keystone: token of %d bytes, %s, issued at %s, expires at %s (lifetime %s), body of %d bytes",
		len(tok.ID), scoped, tok.IssuedAt.Format(time.RFC3339), tok.ExpiresAt.Format(time.RFC3339),
		tok.ExpiresAt.Sub(tok.IssuedAt), len(tok.Body))
	return tok, nil
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

// malformed is the ErrUnavailable error for an answer that cannot be used;
// err says what is wrong with it and holds no secret.
func (r *request) malformed(ans *answer, err error) error {
	return &problemError{ProblemAuthURLOrLater, fmt.Errorf("%w: malformed answer from keystone: %s %s answered %d with %s",
		ErrUnavailable, r.method, displayURL(r.url), ans.status, cleanText(err.Error(), r.secrets, maxNetworkRunes))}
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
		return r.answerError(ans, ErrAuthFailed, ProblemNone, "keystone refused to revoke the token, which may have expired already")
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
	return withToken(http.MethodDelete, u, token, true)
}

// withToken builds a request that carries token as X-Auth-Token (and as
// X-Subject-Token when subject), after refusing a token no Keystone
// issues.
func withToken(method, url, token string, subject bool) (*request, error) {
	if token == "" {
		return nil, errors.New("keystone: no token given")
	}
	if err := checkToken(token); err != nil {
		return nil, fmt.Errorf("keystone: cannot send %v", err)
	}
	h := http.Header{}
	h.Set("X-Auth-Token", token)
	if subject {
		h.Set("X-Subject-Token", token)
	}
	return &request{method: method, url: url, header: h, secrets: []string{token}}, nil
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
