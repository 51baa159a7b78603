package keystone

import (
	"context"
	"net/http"
	"vkc-credential/protocol"
)

// Reachable checks that Keystone answers at authURL without sending any
// credential: GET {authURL} (the API's version document). Any answer
// below 500 counts, since it proves a server is there; a 5xx or 429 is
// retried as for IssuePassword, and what fails wraps ErrUnavailable (and
// ErrTimeout or errUntrustedCertificate).
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
