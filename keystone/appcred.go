package keystone

import "context"

// hintApplicationCredential says how to fix a refused application
// credential.
const hintApplicationCredential = "check the application credential's ID and secret; it may have expired or been deleted"

// ApplicationCredentialAuth is what IssueApplicationCredential needs.
type ApplicationCredentialAuth struct {
	// AuthURL is Keystone's v3 endpoint as protocol.NormalizeAuthURL
	// returns it (IssueApplicationCredential checks it again).
	AuthURL string
	// ID is the credential's ID, sent as
	// auth.identity.application_credential.id.
	ID string
	// Secret is the credential's secret, sent as
	// auth.identity.application_credential.secret and nowhere else: no
	// error, log line or Debugf call ever holds it.
	Secret string
}

// applicationCredential is auth.identity.application_credential.
type applicationCredential struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// IssueApplicationCredential issues a token with the application_credential
// method: POST {AuthURL}/auth/tokens with
// {"methods": ["application_credential"], "application_credential": {"id",
// "secret"}} and no scope, since the credential fixes the user and the
// project. The token's project is Token.ProjectID; an answer without one is
// malformed.
//
// A wrong secret or an expired credential is 401, a deleted or unknown one
// 404 with a message that names the ID: both give an error wrapping
// ErrAuthFailed (any other 404 wraps ErrUnavailable, as for
// IssuePassword). Everything else is as for IssuePassword.
func (c *Client) IssueApplicationCredential(ctx context.Context, a ApplicationCredentialAuth) (*Token, error) {
	u, err := endpoint(a.AuthURL)
	if err != nil {
		return nil, err
	}
	if err := checkFields([2]string{"application credential ID", a.ID}, [2]string{"application credential secret", a.Secret}); err != nil {
		return nil, err
	}
	var body authRequest
	body.Auth.Identity = identity{Methods: []string{"application_credential"},
		ApplicationCredential: &applicationCredential{ID: a.ID, Secret: a.Secret}}
	r, err := postRequest(u, &body, nil, a.Secret)
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, r, issueOpts{sent: body.Auth.Identity.Methods, hint: hintApplicationCredential, needProject: true,
		missingID: a.ID, missingHint: "keystone has no application credential of this ID: check the ID; the credential may have been deleted"})
}
