package protocol

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// VKCloudAuthURL is VK Cloud's Keystone auth URL, shown in hints as an
// example. It is never used unless a user names it.
const VKCloudAuthURL = "https://infra.mail.ru:35357/v3/"

// ErrInvalidAuthURL is wrapped by every refusal of NormalizeAuthURL.
var ErrInvalidAuthURL = NewError(CodeUsage, "invalid auth URL")

// NormalizeAuthURL checks a Keystone auth URL and returns it in the form
// that is stored, compared and sent to.
//
// Surrounding space is trimmed. The host is normalised before anything is
// decided about it, and in the result: lower case, one trailing dot removed
// ("LOCALHOST." is "localhost"). It must be printable ASCII (an
// internationalised name in its xn-- form) and carry no IPv6 zone. The
// scheme must be https, or http when the host is a loopback host (see
// IsLoopbackHost). User info, a query and a fragment are refused. A path
// ending in "/v3" or "/v3/" is kept as is; a path without a version gets
// "/v3" appended ("https://h:5000" and "https://h:5000/" become
// "https://h:5000/v3"); a path naming another API version (such as "/v2.0")
// is refused.
//
// Every error wraps ErrInvalidAuthURL and says how to fix the URL; none
// repeats the URL's user info, query or fragment.
func NormalizeAuthURL(raw string) (string, error) {
	u, err := parseAuthURL(strings.TrimSpace(raw))
	if err != nil {
		return "", err
	}
	host := normalizeHost(u.Hostname())
	if u.Opaque != "" || host == "" {
		return "", invalidAuthURL("the auth URL has no host; write it like %s", VKCloudAuthURL)
	}
	if err := checkHost(host); err != nil {
		return "", err
	}
	if u.Scheme == "http" && !IsLoopbackHost(host) {
		return "", invalidAuthURL("the auth URL uses plain http:// to %q, a host that is not loopback, which would send the password unencrypted; use https:// (http:// is allowed only for localhost, 127.0.0.0/8 and [::1])", host)
	}
	path, err := v3Path(u.EscapedPath())
	if err != nil {
		return "", err
	}
	hostPort := host
	if strings.Contains(host, ":") {
		hostPort = "[" + host + "]"
	}
	if port := u.Port(); port != "" {
		hostPort += ":" + port
	}
	return u.Scheme + "://" + hostPort + path, nil
}

// parseAuthURL parses raw (trimmed) as NormalizeAuthURL wants it: an
// http or https URL without user info, query or fragment.
func parseAuthURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, invalidAuthURL("the auth URL is empty; give keystone's v3 endpoint, e.g. %s", VKCloudAuthURL)
	}
	u, err := url.Parse(raw)
	if err != nil && strings.Contains(raw, "@") {
		// The reason url.Parse gives may quote a piece of a password.
		return nil, invalidAuthURL("the auth URL cannot be parsed; it must not hold a user name or password, write it like %s", VKCloudAuthURL)
	}
	if err != nil {
		// url.Error repeats the whole URL: keep only the reason, which
		// quotes what it cites with %q.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, invalidAuthURL("the auth URL cannot be parsed (%v); write it like %s", err, VKCloudAuthURL)
	}
	if u.User != nil {
		return nil, invalidAuthURL("the auth URL must not hold a user name or password; remove the part before \"@\" and give the user name separately")
	}
	switch u.Scheme {
	case "https", "http":
	case "":
		return nil, invalidAuthURL("the auth URL has no scheme; write it with https://, e.g. %s", VKCloudAuthURL)
	default:
		return nil, invalidAuthURL("the auth URL must start with https://, not %q, e.g. %s", u.Scheme+":", VKCloudAuthURL)
	}
	if u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "?") {
		return nil, invalidAuthURL("the auth URL must not have a query (\"?...\"); remove it")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, invalidAuthURL("the auth URL must not have a fragment (\"#...\"); remove it")
	}
	return u, nil
}

// v3Path is the path of an auth URL: one ending in /v3 or /v3/ as is,
// one without a version with /v3 appended; another version is an error.
func v3Path(path string) (string, error) {
	trimmed := strings.TrimSuffix(path, "/")
	last := trimmed[strings.LastIndex(trimmed, "/")+1:]
	switch {
	case last == "v3":
		return path, nil // trailing slash included
	case isVersionSegment(last):
		return "", invalidAuthURL("the auth URL names identity API %q, but only v3 is spoken; end the URL in /v3 instead", last)
	default:
		return trimmed + "/v3", nil
	}
}

// invalidAuthURL returns an error wrapping ErrInvalidAuthURL.
func invalidAuthURL(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidAuthURL}, args...)...)
}

// IsLoopbackHost reports whether host names the local machine: "localhost",
// an IPv4 address in 127.0.0.0/8, or ::1 (with or without brackets). host
// carries no port; it is normalised first as NormalizeAuthURL does (lower
// case, one trailing dot removed), so "LOCALHOST." is loopback too.
func IsLoopbackHost(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = normalizeHost(host)
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// normalizeHost lowers the case of a host name (without port or brackets)
// and removes one trailing dot.
func normalizeHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// checkHost refuses a normalised host that no DNS name or IP literal has:
// one that is not printable ASCII, holds an empty label or an IPv6 zone.
// The messages quote the host with %q, which escapes what is not printable.
func checkHost(host string) error {
	for i := 0; i < len(host); i++ {
		if host[i] <= ' ' || host[i] >= 0x7f {
			return invalidAuthURL("the auth URL's host %q is not printable ASCII; write an internationalised host name in its ASCII form (xn--...)", host)
		}
	}
	if strings.Contains(host, "%") {
		return invalidAuthURL("the auth URL's host %q has an IPv6 zone; remove the part from \"%%25\"", host)
	}
	if strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return invalidAuthURL("the auth URL's host %q has an empty label; remove the extra dots", host)
	}
	return nil
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
