package keystone

// One attempt: an HTTP exchange, its answer read within bounds, its
// failure told apart as worth a retry or not.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
)

// maxBodyBytes caps how much of an answer body is read.
const maxBodyBytes = 8 << 20

// userAgent is sent with every request.
const userAgent = "vkc-credential"

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
		return &permanentError{err: fmt.Errorf("%w: %w", errUntrustedCertificate, err), problem: ProblemCertificateHost}
	case errors.As(err, &invalidErr):
		return &permanentError{err: fmt.Errorf("%w: %w", errUntrustedCertificate, err), problem: ProblemCertificateTime}
	case errors.As(err, &cverr), errors.As(err, &authErr):
		return &permanentError{err: fmt.Errorf("%w: %w", errUntrustedCertificate, err), problem: ProblemCertificateAuthority}
	case errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &recErr):
		return &permanentError{err: fmt.Errorf("the server does not speak TLS: %w", err), problem: ProblemNotTLS}
	case errors.As(err, &alert):
		return &permanentError{err: fmt.Errorf("the TLS handshake was refused: %w", err), problem: ProblemHandshake}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &permanentError{err: err, problem: ProblemHostName}
	}
	return err
}
