package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseRequestAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(*testing.T, *Request)
	}{
		{"empty", "", func(t *testing.T, r *Request) {
			if r != nil {
				t.Fatalf("want no request, got %+v", r)
			}
		}},
		{"white space", " \n\t ", func(t *testing.T, r *Request) {
			if r != nil {
				t.Fatalf("want no request, got %+v", r)
			}
		}},
		{"empty object", "{}", func(t *testing.T, r *Request) {
			if r == nil || r.Profile != "" || r.MinTTLSeconds != nil {
				t.Fatalf("got %+v", r)
			}
		}},
		{"every field", `{"version":1,"profile":"prod","auth_url":"https://k/v3/","project_id":"p","username":"u@e.com",
			"user_domain_name":"users","region":"RegionOne","interface":"public","min_ttl_seconds":0,"refresh":true,"password":"pw"}`,
			func(t *testing.T, r *Request) {
				if r.Profile != "prod" || r.AuthURL != "https://k/v3/" || r.ProjectID != "p" || r.Username != "u@e.com" ||
					r.UserDomainName != "users" || r.Region != "RegionOne" || r.Interface != "public" ||
					r.MinTTLSeconds == nil || *r.MinTTLSeconds != 0 || !r.Refresh || r.Password == nil || *r.Password != "pw" {
					t.Fatalf("got %+v", r)
				}
			}},
		{"max min_ttl", `{"min_ttl_seconds":86400}`, func(t *testing.T, r *Request) {
			if *r.MinTTLSeconds != 86400 {
				t.Fatalf("got %d", *r.MinTTLSeconds)
			}
		}},
		{"null fields", `{"profile":null,"password":null}`, func(t *testing.T, r *Request) {
			if r.Profile != "" || r.Password != nil {
				t.Fatalf("got %+v", r)
			}
		}},
		{"trailing newline", "{\"profile\":\"a\"}\n", func(t *testing.T, r *Request) {
			if r.Profile != "a" {
				t.Fatalf("got %+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRequest([]byte(tt.in))
			if err != nil {
				t.Fatalf("parseRequest(%q): %v", tt.in, err)
			}
			tt.check(t, r)
		})
	}
}

func TestParseRequestRefuses(t *testing.T) {
	tests := []struct{ name, in, wantMsg string }{
		{"array", `[]`, "one JSON object"},
		{"null", `null`, "one JSON object"},
		{"string", `"x"`, "one JSON object"},
		{"truncated", `{"profile":"a"`, "truncated"},
		{"trailing object", `{}{}`, "data after"},
		{"trailing garbage", `{} x`, "data after"},
		{"unknown field", `{"pasword":"x"}`, `unknown field "pasword"`},
		{"wrong type string", `{"profile":1}`, `"profile"`},
		{"wrong type number", `{"min_ttl_seconds":"60"}`, `"min_ttl_seconds"`},
		{"wrong type bool", `{"refresh":"yes"}`, `"refresh"`},
		{"fractional ttl", `{"min_ttl_seconds":1.5}`, `"min_ttl_seconds"`},
		{"version 2", `{"version":2}`, "version 2"},
		{"version 0", `{"version":0}`, "version 0"},
		{"negative ttl", `{"min_ttl_seconds":-1}`, "between 0 and 86400"},
		{"absurd ttl", `{"min_ttl_seconds":86401}`, "between 0 and 86400"},
		{"huge ttl", `{"min_ttl_seconds":1e30}`, `"min_ttl_seconds"`},
		{"bad profile", `{"profile":"../x"}`, "invalid profile name"},
		{"profile slash", `{"profile":"a/b"}`, "invalid profile name"},
		{"invalid utf8", "{\"profile\":\"\xff\"}", "UTF-8"},
		{"nul byte", "{\"profile\":\"a\x00\"}", "invalid"},
		{"escaped nul in setting", `{"username":"a\u0000b"}`, "username holds a control"},
		{"newline in setting", `{"project_id":"a\nb"}`, "project_id holds a control"},
		{"syntax", `{"profile":}`, "invalid JSON at byte 12"},
		{"http remote auth_url", `{"auth_url":"http://infra.mail.ru:35357/v3/"}`, "auth URL"},
		{"ftp auth_url", `{"auth_url":"ftp://127.0.0.1/v3"}`, "auth URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRequest([]byte(tt.in))
			if err == nil {
				t.Fatalf("parseRequest(%q) = %+v, want an error", tt.in, r)
			}
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

// TestRefusalsQuoteNoSecret: a malformed request that holds a password
// is refused without a piece of it.
func TestRefusalsQuoteNoSecret(t *testing.T) {
	for _, in := range []string{`{"password":"pa"ss"}`, `{"password":"pa\qss"}`, `{"password":"x" "y"}`} {
		_, err := parseRequest([]byte(in))
		if err == nil || strings.Contains(err.Error(), "s'") || strings.Contains(err.Error(), "'q") || strings.Contains(err.Error(), "'y") {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestDecodeRequestSizeCap(t *testing.T) {
	big := `{"profile":"` + strings.Repeat("a", maxRequestSize) + `"}`
	_, err := DecodeRequest(strings.NewReader(big))
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
	// Exactly at the cap is read (and refused for the long name, not the size).
	atCap := `{"region":"` + strings.Repeat("r", maxRequestSize-len(`{"region":""}`)) + `"}`
	_, err = DecodeRequest(bytes.NewReader([]byte(atCap)))
	if err == nil || strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a refusal of the value, not of the size", err)
	}
}

func TestCheckProfileName(t *testing.T) {
	good := []string{"default", "prod", "a", "A.b_c-9", strings.Repeat("x", 64), "x."}
	good = append(good, "identity", "identity-", "identity-prod", "identity-12g4", "my-identity-abc", "identity_abc", "identity-abc.d")
	bad := []string{"", ".hidden", "..", "a/b", `a\b`, "a b", "é", strings.Repeat("x", 65), "a\x00", "../etc",
		// The shape of an identity's keychain item (helper.secretItem), in any case.
		"identity-3f6c0a1b2c3d4e5f60718293", "identity-0", "IDENTITY-ABC", "Identity-dEaD"}
	for _, n := range good {
		if err := CheckProfileName(n); err != nil {
			t.Errorf("CheckProfileName(%q) = %v", n, err)
		}
	}
	for _, n := range bad {
		if err := CheckProfileName(n); err == nil {
			t.Errorf("CheckProfileName(%q) accepted", n)
		}
	}
}

func TestCodesAndExitStatuses(t *testing.T) {
	want := map[Code]int{CodeInternal: 1, CodeUsage: 2, CodeNotFound: 3, CodeAuthFailed: 4, CodeKeystoneUnavailable: 5, CodeKeyringUnavailable: 6}
	for c, n := range want {
		if c.ExitCode() != n {
			t.Errorf("%s.ExitCode() = %d, want %d", c, c.ExitCode(), n)
		}
	}
}

func TestSettingsCheck(t *testing.T) {
	good := Settings{AuthURL: "https://k.example:5000/v3/", ProjectID: "p1", Username: "Jürgen@example.com",
		UserDomainName: "users", Region: "RegionOne", Interface: "public"}
	if err := good.Check(); err != nil {
		t.Fatalf("good settings refused: %v", err)
	}
	tests := []struct {
		name    string
		mutate  func(*Settings)
		wantMsg string
	}{
		{"powershell quote in region", func(s *Settings) { s.Region = "RegionOne\u2019; New-Item x; \u2018" }, "region holds a character that is not printable ASCII"},
		{"RTL override in username", func(s *Settings) { s.Username = "u\u202eexe" }, "username holds a control or format character"},
		{"newline in project", func(s *Settings) { s.ProjectID = "a\nb" }, "project_id holds a control"},
		{"non-ASCII interface", func(s *Settings) { s.Interface = "publíc" }, "interface holds a character that is not printable ASCII"},
		{"long domain", func(s *Settings) { s.UserDomainName = strings.Repeat("d", 1025) }, "user_domain_name is longer"},
		{"http remote URL", func(s *Settings) { s.AuthURL = "http://k.example/v3" }, "http"},
		// Two bad fields: the first in wire order is reported, every time.
		{"fixed order", func(s *Settings) { s.Interface = "\x00"; s.ProjectID = "\x00" }, "project_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 {
				s := good
				tt.mutate(&s)
				err := s.Check()
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Check() = %v, want it to mention %q", err, tt.wantMsg)
				}
			}
		})
	}
}

func TestFillKeepsHigherPrecedence(t *testing.T) {
	s := Settings{ProjectID: "mine"}
	s.Fill(Settings{ProjectID: "theirs", Region: "R2"})
	s.Fill(Settings{Region: "R3", Interface: "internal"})
	if s != (Settings{ProjectID: "mine", Region: "R2", Interface: "internal"}) {
		t.Fatalf("Fill: %+v", s)
	}
}
