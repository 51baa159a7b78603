// Package keystone is a minimal OpenStack Keystone v3 client: it issues
// tokens (password, application credential, password then TOTP passcode
// with an auth receipt, a token re-scoped to a project), lists the
// projects a token's user can use, creates, lists and deletes the user's
// application credentials, and revokes tokens.
//
// The package is split by what it does. The calls: password.go,
// appcred.go, mfa.go and rescope.go issue tokens, on issue.go (the body of
// POST auth/tokens, and judging its answer) and token.go (parsing the
// token); projects.go, appcredmanage.go, revoke.go and reachable.go make
// the other calls, those that carry a token on withtoken.go (a GET of a
// list, a DELETE); tokeninfo.go reads a token's body. What every call
// shares: request.go builds a request and url.go its URL; retry.go sends
// it, retrying with backoff; each attempt is an exchange of transport.go
// over the HTTP client of httpclient.go (TLS, proxies, no redirects);
// answer.go and errors.go turn what comes back into errors.
package keystone

import (
	"context"
	"net/http"
	"time"
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

// now reads the Client's clock.
func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// debugf passes a diagnostic line to Debugf, if set.
func (c *Client) debugf(format string, args ...any) {
	if c.Debugf != nil {
		c.Debugf(format, args...)
	}
}
