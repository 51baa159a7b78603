package protocol

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// checkAuthURLError checks what every refusal of NormalizeAuthURL promises:
// it wraps ErrInvalidAuthURL, is one line, repeats no secret of the URL and
// names no command-line flag or environment variable.
func checkAuthURLError(t *testing.T, in string, err error) {
	t.Helper()
	if !errors.Is(err, ErrInvalidAuthURL) {
		t.Errorf("NormalizeAuthURL(%q) error %q does not wrap ErrInvalidAuthURL", in, err)
	}
	msg := err.Error()
	for _, bad := range []string{"hunter2", "s3cret", "alice", " --", "OS_", "VKC_", "\n", "\u202e"} {
		if strings.Contains(msg, bad) {
			t.Errorf("NormalizeAuthURL(%q) error %q holds %q", in, msg, bad)
		}
	}
}

func TestNormalizeAuthURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
		mention  string
	}{
		{"https://infra.mail.ru:35357/v3/", "https://infra.mail.ru:35357/v3/", ""},
		{VKCloudAuthURL, VKCloudAuthURL, ""},
		{"  https://infra.mail.ru:35357/v3/\n", "https://infra.mail.ru:35357/v3/", ""},
		{"https://infra.mail.ru:35357/v3", "https://infra.mail.ru:35357/v3", ""},
		{"https://h:5000", "https://h:5000/v3", ""},
		{"https://h:5000/", "https://h:5000/v3", ""},
		{"https://h:/v3", "https://h/v3", ""},
		{"https://h/identity", "https://h/identity/v3", ""},
		{"https://h/identity/v3/", "https://h/identity/v3/", ""},
		{"https://h/Identity/V3", "", "end the URL in /v3"},
		{"https://h/a%20b", "https://h/a%20b/v3", ""},
		{"HTTPS://h:5000", "https://h:5000/v3", ""},
		{"https://Infra.Mail.RU:35357/v3/", "https://infra.mail.ru:35357/v3/", ""},
		{"https://infra.mail.ru.:35357/v3/", "https://infra.mail.ru:35357/v3/", ""},
		{"https://xn--e1afmkfd.xn--p1ai/v3", "https://xn--e1afmkfd.xn--p1ai/v3", ""},
		{"https://[2001:DB8::1]:5000", "https://[2001:db8::1]:5000/v3", ""},
		{"http://localhost:5000", "http://localhost:5000/v3", ""},
		{"http://LocalHost/v3", "http://localhost/v3", ""},
		{"http://LOCALHOST:5000/v3", "http://localhost:5000/v3", ""},
		{"http://localhost.:5000/v3/", "http://localhost:5000/v3/", ""},
		{"http://LOCALHOST./v3", "http://localhost/v3", ""},
		{"http://127.0.0.1:5000/v3/", "http://127.0.0.1:5000/v3/", ""},
		{"http://127.0.0.5/v3", "http://127.0.0.5/v3", ""},
		{"http://[::1]:5000/", "http://[::1]:5000/v3", ""},
		{"http://[::1]", "http://[::1]/v3", ""},
		{"http://infra.mail.ru:35357/v3/", "", "https://"},
		{"http://128.0.0.1/v3", "", "not loopback"},
		{"http://localhost.evil.com/v3", "", "not loopback"},
		{"http://LOCALHOST.EVIL.COM/v3", "", `"localhost.evil.com"`},
		{"http://localhost../v3", "", "empty label"},
		{"https://a..b/v3", "", "empty label"},
		{"https://.h/v3", "", "empty label"},
		{"http://127.1/v3", "", "not loopback"},
		{"http://[::2]/v3", "", "not loopback"},
		{"http://[fe80::1%25lo]/v3", "", "zone"},
		{"https://h%C3%A9/v3", "", "ASCII"},
		{"https://h\u202e.com/v3", "", `\u202e`},
		{"ftp://infra.mail.ru/v3", "", "https://"},
		{"infra.mail.ru:35357/v3", "", "https://"},
		{"//infra.mail.ru/v3", "", "no scheme"},
		{"https://alice:hunter2@infra.mail.ru/v3", "", "user name or password"},
		{"https://alice@infra.mail.ru/v3", "", "user name or password"},
		{"https://alice:s3cret@h:port/v3", "", "user name or password"},
		{"https://h/v3?password=hunter2", "", "query"},
		{"https://h/v3?", "", "query"},
		{"https://h/v3#s3cret", "", "fragment"},
		{"https://h/v2.0", "", "v3"},
		{"https://h/v2.0/", "", `"v2.0"`},
		{"https:///v3", "", "no host"},
		{"https://./v3", "", "no host"},
		{"https:h/v3", "", "no host"},
		{"https://h:port/v3", "", "cannot be parsed"},
		{"", "", "empty"},
		{"   ", "", "empty"},
	}
	for _, tt := range tests {
		got, err := NormalizeAuthURL(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeAuthURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			// Normalizing again changes nothing.
			if again, err := NormalizeAuthURL(got); err != nil || again != got {
				t.Errorf("NormalizeAuthURL(%q) = %q, %v; not idempotent", got, again, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeAuthURL(%q) = %q, want an error", tt.in, got)
			continue
		}
		checkAuthURLError(t, tt.in, err)
		if !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("NormalizeAuthURL(%q) error %q does not mention %q", tt.in, err, tt.mention)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "LocalHost.": true,
		"127.0.0.1": true, "127.0.0.5": true, "127.255.255.254": true,
		"::1": true, "[::1]": true, "[0:0:0:0:0:0:0:1]": true,
		"": false, "[]": false, "example.com": false, "localhost.example.com": false, "localhost..": false,
		"128.0.0.1": false, "10.0.0.1": false, "::2": false, "0.0.0.0": false, "127.1": false,
		"0x7f.0.0.1": false, "[127.0.0.1]": true,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestIsVersionSegment(t *testing.T) {
	for s, want := range map[string]bool{
		"v3": true, "V3": true, "v2.0": true, "v10": true,
		"": false, "v": false, "v.": false, "v3.": false, "v.3": false, "x3": false, "v3a": false, "identity": false,
	} {
		if got := isVersionSegment(s); got != want {
			t.Errorf("isVersionSegment(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzNormalizeAuthURL checks that whatever NormalizeAuthURL accepts is
// stable and safe to send a password to, and that its refusals keep their
// promises.
func FuzzNormalizeAuthURL(f *testing.F) {
	for _, s := range []string{
		VKCloudAuthURL, "http://LOCALHOST.:5000", "http://[::1]/v3/", "https://h/v2.0",
		"https://a:b@h/v3", "https://h/v3?q#f", "http://127.0.0.1./", "https://H./x/v3/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeAuthURL(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidAuthURL) {
				t.Fatalf("NormalizeAuthURL(%q) error %q does not wrap ErrInvalidAuthURL", in, err)
			}
			return
		}
		again, err := NormalizeAuthURL(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeAuthURL(%q) = %q; again %q, %v", in, got, again, err)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("NormalizeAuthURL(%q) = %q, which does not parse: %v", in, got, err)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("NormalizeAuthURL(%q) = %q keeps user info, a query or a fragment", in, got)
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !IsLoopbackHost(u.Hostname())) {
			t.Fatalf("NormalizeAuthURL(%q) = %q: plain http to a remote host", in, got)
		}
		if u.Hostname() != strings.ToLower(u.Hostname()) || strings.HasSuffix(u.Hostname(), ".") {
			t.Fatalf("NormalizeAuthURL(%q) = %q: host not normalised", in, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] <= ' ' || got[i] >= 0x7f {
				t.Fatalf("NormalizeAuthURL(%q) = %q: not printable ASCII", in, got)
			}
		}
	})
}
