package keystone

// The HTTP client: TLS, proxies, no redirects.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
	"vkc-credential/protocol"
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
