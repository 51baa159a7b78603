package keystone

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// methodToken is the name of Keystone's token auth method.
const methodToken = "token"

// refusedRescope says what a refused re-scope suggests.
const refusedRescope = "keystone no longer accepts the token (it expired or was revoked), or the user has no role on the project"

// TokenAuth is what IssueToken needs: a token Keystone issued, and the
// project to scope a new one to.
type TokenAuth struct {
	// AuthURL is Keystone's v3 endpoint, the one that issued Token.
	AuthURL string
	// Token is sent as auth.identity.token.id and nowhere else: no error,
	// log line or Debugf call ever holds it.
	Token string
	// ProjectID is the new token's scope, sent as auth.scope.project.id.
	ProjectID string
}

// tokenMethod is auth.identity.token.
type tokenMethod struct {
	ID string `json:"id"`
}

// request builds the POST of IssueToken.
func (a *TokenAuth) request() (*request, error) {
	u, err := endpoint(a.AuthURL)
	if err != nil {
		return nil, err
	}
	if a.Token == "" {
		return nil, errors.New("keystone: no token given")
	}
	if err := checkToken(a.Token); err != nil {
		return nil, fmt.Errorf("keystone: cannot send %v", err)
	}
	if a.ProjectID == "" || !utf8.ValidString(a.ProjectID) {
		return nil, errors.New("keystone: no project ID given, or one that is not valid UTF-8")
	}
	var body authRequest
	body.Auth.Identity = identity{Methods: []string{methodToken}, Token: &tokenMethod{ID: a.Token}}
	body.Auth.Scope = scope(a.ProjectID)
	return postRequest(u, &body, nil, a.Token)
}

// IssueToken re-scopes a token: it issues a token scoped to ProjectID with
// the token method, POST {AuthURL}/auth/tokens with {"methods": ["token"],
// "token": {"id": Token}}, expecting 201 (or 200). Keystone gives the new
// token the expires_at of the one it was given, and its methods plus
// "token", so a user's multi-factor rules met by the first token are met by
// the new one, and no chain of re-scopes outlives the first sign-in.
//
// 401 and 403 (Keystone refuses the token, or the user has no role on the
// project) and 404 (Keystone cannot validate the token: it expired or was
// revoked) give an error wrapping ErrAuthFailed. Everything else is as for
// IssuePassword; the token given is never in an error or a Debugf line.
func (c *Client) IssueToken(ctx context.Context, a TokenAuth) (*Token, error) {
	r, err := a.request()
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, r, issueOpts{sent: []string{methodToken}, refused: refusedRescope, needProject: true, goneIs404: true})
}
