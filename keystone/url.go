package keystone

import (
	"net/url"
	"strings"

	"vkc-credential/protocol"
)

// endpoint returns the tokens URL under authURL, after checking authURL
// again with protocol.NormalizeAuthURL, whose error it returns as is: a
// caller that skipped the check must still never send a password over
// plain http to a remote host.
func endpoint(authURL string) (string, error) { return apiURL(authURL, "auth/tokens") }

// apiURL returns the URL of path under authURL, checked as for endpoint.
func apiURL(authURL, path string) (string, error) {
	base, err := protocol.NormalizeAuthURL(authURL)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + "/" + path, nil
}

// displayURL renders a URL for a message: scheme, host and path only, so no
// user info, query or fragment can carry a secret into it. The host may
// come from the network (a redirect's Location): a message that shows one
// passes it through cleanText.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an unparsable address)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
