package keystone

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"vkc-credential/protocol"
)

// Defaults of the Client fields.
const (
	defaultMaxAttempts = 4
	defaultBaseBackoff = 200 * time.Millisecond
	defaultMaxBackoff  = 5 * time.Second
)

// maxCAFileBytes caps how much of a CA file is read.
const maxCAFileBytes = 16 << 20

// NewHTTPClient returns an *http.Client for Keystone: it never follows
// redirects, trusts the system roots plus the PEM certificates in caFile
// when caFile is not empty, speaks TLS 1.2 or later, takes its proxy from
// the environment (HTTPS_PROXY, NO_PROXY...) except for plain http to a
// loopback host, which never goes through a proxy, and has no overall
// Timeout: the caller's context bounds each exchange. It fails when caFile
// cannot be read or holds no PEM certificate; its errors wrap ErrCAFile.
func NewHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return newHTTPClient(nil), nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := readCAFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrCAFile, caFile)
	}
	return newHTTPClient(pool), nil
}

// newHTTPClient is NewHTTPClient with the roots already loaded; nil roots
// means the system's.
func newHTTPClient(roots *x509.CertPool) *http.Client {
	transport := &http.Transport{
		Proxy: proxyFunc(http.ProxyFromEnvironment),
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: transport, CheckRedirect: noRedirect}
}

// proxyFunc returns the Transport.Proxy of NewHTTPClient: no proxy for
// plain http to a loopback host, which must not leave the machine (a proxy
// would see the password in clear); fromEnv's choice for anything else.
func proxyFunc(fromEnv func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		if req.URL.Scheme == "http" && protocol.IsLoopbackHost(req.URL.Hostname()) {
			return nil, nil
		}
		return fromEnv(req)
	}
}

// readCAFile reads at most maxCAFileBytes of a CA file. The errors of the
// os package name the file.
func readCAFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAFile, err)
	}
	return data, nil
}

// noRedirect makes an http.Client hand back a redirect instead of following
// it: following one would send the password (307, 308) or the token to
// wherever the Location points.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// request is one logical call to Keystone, retried as a whole.
type request struct {
	method  string
	url     string      // the full URL, already checked by endpoint
	body    []byte      // nil for no body; never logged nor shown
	header  http.Header // extra headers (tokens); never logged nor shown
	secrets []string    // masked in anything Keystone sends back
	// noRetry makes do send the request one time only, whatever it gets:
	// the request creates something, and a retry after a lost answer
	// could create it twice.
	noRetry bool
}

// answer is an HTTP answer with its body read.
type answer struct {
	status     int
	header     http.Header
	body       []byte
	tooLarge   bool     // the body was longer than maxBodyBytes; body is cut
	location   *url.URL // the Location header resolved against the request's URL; nil for none
	receivedAt time.Time
}

// permanentError is a transport failure that a retry would not cure.
type permanentError struct {
	err     error // what failed, its text cleaned
	problem Problem
}

// Error returns the failure.
func (e *permanentError) Error() string { return e.err.Error() }

// cutOffError is a failure to read the body of an answer.
type cutOffError struct {
	status int
	err    error
}

// Error says which answer was cut off and how.
func (e *cutOffError) Error() string {
	return fmt.Sprintf("reading the answer of %d %s: %v", e.status, http.StatusText(e.status), e.err)
}

// Unwrap returns the read error.
func (e *cutOffError) Unwrap() error { return e.err }

// do sends r, retrying connection errors, 5xx and 429 with backoff, and
// returns the first answer of any other status for the caller to judge.
// Every error it returns wraps ErrUnavailable; see IssuePassword for the
// others.
func (c *Client) do(ctx context.Context, r *request) (*answer, error) {
	hc := c.httpClient()
	if c.HTTP == nil {
		defer hc.CloseIdleConnections()
	}
	maxAttempts := c.attempts(r)
	shown := displayURL(r.url)
	start := time.Now()
	var last string // the last failure, for a timeout's message

	for attempt := 1; ; attempt++ {
		c.debugf("keystone: %s %s (attempt %d of %d)", r.method, shown, attempt, maxAttempts)
		t0 := time.Now()
		ans, err := c.once(ctx, hc, r)
		if err != nil && ctx.Err() != nil {
			return nil, r.contextError(ctx, start, attempt, last)
		}
		var wait time.Duration
		var failure error
		if err != nil {
			c.debugf("keystone: attempt %d failed after %s: %v", attempt, roundDuration(time.Since(t0)), err)
			var perm *permanentError
			if errors.As(err, &perm) {
				return nil, &problemError{perm.problem, fmt.Errorf("%w: %s %s failed: %w", ErrUnavailable, r.method, shown, perm.err)}
			}
			last = "the last attempt failed: " + err.Error()
			what := "cannot reach keystone"
			var cut *cutOffError
			if errors.As(err, &cut) {
				what = "the answer of keystone was cut off"
			}
			failure = &problemError{ProblemNetwork, fmt.Errorf("%w: %s: %s %s failed: %w (%s)",
				ErrUnavailable, what, r.method, shown, err, attemptsText(attempt))}
			wait = c.backoff(attempt)
		} else {
			c.debugf("keystone: answered %d %s in %s", ans.status, http.StatusText(ans.status), roundDuration(time.Since(t0)))
			if !retryableStatus(ans.status) {
				return ans, nil
			}
			last = fmt.Sprintf("the last answer was %d %s", ans.status, http.StatusText(ans.status))
			serr := r.answerError(ans, ErrUnavailable, ProblemOverloaded, "")
			serr.attempts = attempt
			failure = serr
			wait = c.backoff(attempt)
			if ra, ok := c.retryAfter(ans); ok {
				wait = ra
			}
		}
		if attempt >= maxAttempts {
			return nil, failure
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			c.debugf("keystone: not retrying: waiting %s would pass the deadline", roundDuration(wait))
			return nil, withGiveUp(failure, wait)
		}
		c.debugf("keystone: retrying in %s", roundDuration(wait))
		if err := c.sleepFunc()(ctx, wait); err != nil {
			return nil, r.contextError(ctx, start, attempt, last)
		}
	}
}

// attempts returns how many attempts r may take: one when r.noRetry,
// else maxAttempts or its default.
func (c *Client) attempts(r *request) int {
	switch {
	case r.noRetry:
		return 1
	case c.maxAttempts <= 0:
		return defaultMaxAttempts
	default:
		return c.maxAttempts
	}
}

// once makes one attempt. A transport error it returns is either a
// *permanentError or one worth retrying.
func (c *Client) once(ctx context.Context, hc *http.Client, r *request) (*answer, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, &permanentError{err: errors.New("cannot build the request"), problem: ProblemAuthURL}
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := hc.Do(req)
	if err != nil {
		return nil, classify(err, r.secrets)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, &cutOffError{status: resp.StatusCode, err: classify(err, r.secrets)}
	}
	ans := &answer{status: resp.StatusCode, header: resp.Header, body: data, receivedAt: c.now()}
	if loc, err := resp.Location(); err == nil {
		ans.location = loc
	}
	if len(data) > maxBodyBytes {
		ans.body, ans.tooLarge = data[:maxBodyBytes], true
	}
	return ans, nil
}

// classify strips what net/http adds around a transport error (the method
// and URL), cleans its text (which may quote the network, such as the names
// in a certificate) with cleanText, masking the request's secrets, and
// marks the failures a retry would not cure as permanent. A header that
// cannot be parsed is not shown at all: net/http quotes the whole line,
// which may be X-Subject-Token with a token.
func classify(err error, secrets []string) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var protoErr textproto.ProtocolError
	if errors.As(err, &protoErr) {
		return &permanentError{err: errors.New("malformed answer from keystone: a header that cannot be parsed (not shown: it may hold a token)"),
			problem: ProblemAuthURLOrLater}
	}
	err = &cleanError{err: err, secrets: secrets}
	var cverr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalidErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &hostErr):
		return &permanentError{err: fmt.Errorf("%w: %w", ErrUntrustedCertificate, err), problem: ProblemCertificateHost}
	case errors.As(err, &invalidErr):
		return &permanentError{err: fmt.Errorf("%w: %w", ErrUntrustedCertificate, err), problem: ProblemCertificateTime}
	case errors.As(err, &cverr), errors.As(err, &authErr):
		return &permanentError{err: fmt.Errorf("%w: %w", ErrUntrustedCertificate, err), problem: ProblemCertificateAuthority}
	case errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &recErr):
		return &permanentError{err: fmt.Errorf("the server does not speak TLS: %w", err), problem: ProblemNotTLS}
	case errors.As(err, &alert):
		return &permanentError{err: fmt.Errorf("the TLS handshake was refused: %w", err), problem: ProblemHandshake}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &permanentError{err: err, problem: ProblemHostName}
	}
	return err
}

// retryableStatus reports whether an answer of this status is worth another
// attempt.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// backoff returns the wait before retry number attempt (1 for the first
// retry): BaseBackoff doubled per retry, capped at MaxBackoff, then jittered
// into [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	base, maxWait := c.backoffBounds()
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}

// backoffBounds returns BaseBackoff and MaxBackoff with their defaults.
func (c *Client) backoffBounds() (base, maxWait time.Duration) {
	base, maxWait = c.BaseBackoff, c.MaxBackoff
	if base <= 0 {
		base = defaultBaseBackoff
	}
	if maxWait <= 0 {
		maxWait = defaultMaxBackoff
	}
	return min(base, maxWait), maxWait
}

// retryAfter returns the wait a 429 or 503 answer asks for in Retry-After
// (seconds or an HTTP date), capped at MaxBackoff.
func (c *Client) retryAfter(ans *answer) (time.Duration, bool) {
	if ans.status != http.StatusTooManyRequests && ans.status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(ans.header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	_, maxWait := c.backoffBounds()
	var d time.Duration
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil {
		if secs > uint64(maxWait/time.Second) {
			return maxWait, true
		}
		d = time.Duration(secs) * time.Second
	} else if when, err := http.ParseTime(v); err == nil {
		d = when.Sub(c.now())
	} else {
		return 0, false
	}
	return min(max(d, 0), maxWait), true
}

// contextError is the error for a call cut short by its context: a timeout
// when the deadline passed.
func (r *request) contextError(ctx context.Context, start time.Time, attempts int, last string) error {
	detail := attemptsText(attempts)
	if last != "" {
		detail += "; " + last
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		limit := time.Since(start)
		if deadline, ok := ctx.Deadline(); ok {
			limit = deadline.Sub(start)
		}
		return &timeoutError{fmt.Errorf("%w: %s %s timed out after %s (%w, %s)",
			ErrUnavailable, r.method, displayURL(r.url), roundDuration(limit), ctx.Err(), detail)}
	}
	return fmt.Errorf("%w: %s %s was canceled (%w, %s)", ErrUnavailable, r.method, displayURL(r.url), ctx.Err(), detail)
}

// withGiveUp marks a retryable failure as a timeout: the next retry was
// not made because its wait would pass the deadline.
func withGiveUp(failure error, wait time.Duration) error {
	var serr *statusError
	if errors.As(failure, &serr) {
		serr.gaveUp, serr.nextWait = true, wait
		return serr
	}
	return &timeoutError{fmt.Errorf("%w; %s", failure, gaveUpText(wait))}
}

// gaveUpText says that no retry was made because waiting would pass the
// deadline.
func gaveUpText(wait time.Duration) string {
	return fmt.Sprintf("gave up: the next retry, %s away, would pass the deadline", roundDuration(wait))
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

// attemptsText says how many attempts were made.
func attemptsText(n int) string {
	if n == 1 {
		return "after 1 attempt"
	}
	return fmt.Sprintf("after %d attempts", n)
}

// roundDuration rounds d for messages: whole seconds from 10s, tenths
// from 1s, milliseconds below.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}

// sleepContext waits d, or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// httpClient returns the client to send with: c.HTTP, or a new default one,
// in both cases made to never follow a redirect.
func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return newHTTPClient(nil)
	}
	hc := *c.HTTP
	hc.CheckRedirect = noRedirect
	return &hc
}

// sleepFunc returns the sleep to wait between attempts.
func (c *Client) sleepFunc() func(context.Context, time.Duration) error {
	if c.sleep != nil {
		return c.sleep
	}
	return sleepContext
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
