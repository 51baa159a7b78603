package keystone

import (
	"context"
	"net/http"
)

// Revoke revokes token: DELETE {authURL}/auth/tokens with the token as both
// X-Auth-Token and X-Subject-Token. 204 or 200 is success, and so is 404
// (the token is already gone). Retries are as for IssuePassword; 401 and 403
// give an error wrapping ErrAuthFailed, anything else that fails an
// error wrapping ErrUnavailable (and ErrTimeout or errUntrustedCertificate
// as for IssuePassword). An authURL that protocol.NormalizeAuthURL refuses,
// or a token that no Keystone issues (see IssuePassword), is refused before
// anything is sent.
func (c *Client) Revoke(ctx context.Context, authURL, token string) error {
	r, err := revokeRequest(authURL, token)
	if err != nil {
		return err
	}
	return c.remove(ctx, r, "token revoked", "keystone refused to revoke the token, which may have expired already", func(*answer) error {
		c.debugf("keystone: token already gone (404), nothing to revoke")
		return nil
	})
}

// revokeRequest builds the DELETE request of Revoke.
func revokeRequest(authURL, token string) (*request, error) {
	u, err := endpoint(authURL)
	if err != nil {
		return nil, err
	}
	return withToken(http.MethodDelete, u, token, true)
}
