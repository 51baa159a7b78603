package keystone

// Issuing a token with a password.

import (
	"context"
	"errors"
)

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

// IssuePassword issues a project-scoped token with the password method:
// POST {AuthURL}/auth/tokens, expecting 201 (or 200).
//
// ctx bounds the whole exchange, retries included. Connection errors, 5xx
// and 429 are tried up to 4 times in all, with capped exponential backoff
// and jitter (429 and 503 honour Retry-After); a wait that would pass ctx's
// deadline is not started. 401 and 403 give an error wrapping ErrAuthFailed
// that names the status and quotes Keystone's message; any other status, a redirect, a certificate that
// cannot be verified (also errUntrustedCertificate), running out of time
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
