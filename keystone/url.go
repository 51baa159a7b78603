package keystone

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// exampleAuthURL is VK Cloud's auth URL, shown in hints.
const exampleAuthURL = "https://infra.mail.ru:35357/v3/"

// NormalizeAuthURL checks a Keystone auth URL and returns it in the form the
// client uses.
//
// Surrounding space is trimmed. The scheme must be https, or http when the
// host is a loopback host (see IsLoopbackHost). User info, a query and a
// fragment are refused. A path ending in "/v3" or "/v3/" is kept as is; a
// path without a version gets "/v3" appended ("https://h:5000" and
// "https://h:5000/" become "https://h:5000/v3"); a path naming another API
// version (such as "/v2.0") is refused. Every error wraps ErrInvalidURL and
// says how to fix the URL; none repeats user info that the URL held.
func NormalizeAuthURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("%w: the auth URL is empty; set --auth-url or OS_AUTH_URL, e.g. %s", ErrInvalidURL, exampleAuthURL)
	}
	const noUserInfo = "the auth URL must not hold a user name or password; remove the part before \"@\" and give the user with --username"
	u, err := url.Parse(raw)
	if err != nil && strings.Contains(raw, "@") {
		// The reason url.Parse gives may quote a piece of a password.
		return "", fmt.Errorf("%w: the auth URL cannot be parsed; it must not hold a user name or password, write it like %s", ErrInvalidURL, exampleAuthURL)
	}
	if err != nil {
		// url.Error repeats the whole URL: keep only the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", fmt.Errorf("%w: the auth URL cannot be parsed (%v); write it like %s", ErrInvalidURL, err, exampleAuthURL)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: %s", ErrInvalidURL, noUserInfo)
	}
	switch u.Scheme {
	case "https", "http":
	case "":
		return "", fmt.Errorf("%w: the auth URL %q has no scheme; write it with https://, e.g. %s", ErrInvalidURL, raw, exampleAuthURL)
	default:
		return "", fmt.Errorf("%w: the auth URL %q must start with https://, e.g. %s", ErrInvalidURL, raw, exampleAuthURL)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%w: the auth URL %q has no host; write it like %s", ErrInvalidURL, raw, exampleAuthURL)
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "?") {
		return "", fmt.Errorf("%w: the auth URL %q must not have a query (\"?...\"); remove it", ErrInvalidURL, raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("%w: the auth URL %q must not have a fragment (\"#...\"); remove it", ErrInvalidURL, raw)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%w: the auth URL %q uses plain http:// to a host that is not loopback, which would send the password unencrypted; use https:// (http:// is allowed only for localhost, 127.0.0.0/8 and [::1])", ErrInvalidURL, raw)
	}

	path := u.EscapedPath()
	trimmed := strings.TrimSuffix(path, "/")
	last := trimmed[strings.LastIndex(trimmed, "/")+1:]
	switch {
	case last == "v3":
		// Kept as is, trailing slash included.
	case isVersionSegment(last):
		return "", fmt.Errorf("%w: the auth URL %q names identity API %s, but vkc-credential speaks only v3; end the URL in /v3 instead", ErrInvalidURL, raw, last)
	default:
		path = trimmed + "/v3"
	}
	return u.Scheme + "://" + u.Host + path, nil
}

// IsLoopbackHost reports whether host names the local machine: "localhost"
// (any case, with or without a trailing dot), an IPv4 address in
// 127.0.0.0/8, or ::1 (with or without brackets). host carries no port.
func IsLoopbackHost(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// endpoint returns the tokens URL under authURL, after checking authURL
// again: a caller that skipped NormalizeAuthURL must still never send a
// password over plain http to a remote host.
func endpoint(authURL string) (string, error) {
	base, err := NormalizeAuthURL(authURL)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + "/auth/tokens", nil
}

// displayURL renders a URL for a message: scheme, host and path only, so no
// user info, query or fragment can carry a secret into it.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an unparsable address)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// isVersionSegment reports whether a path segment names an API version, like
// "v2.0" or "v3" (a regexp would cost start-up time for every command).
func isVersionSegment(s string) bool {
	if len(s) < 2 || (s[0] != 'v' && s[0] != 'V') {
		return false
	}
	major, minor, hasMinor := strings.Cut(s[1:], ".")
	return allDigits(major) && (!hasMinor || allDigits(minor))
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
