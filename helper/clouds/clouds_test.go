package clouds

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vkc-credential/protocol"
)

// testEnv searches dir (as the current directory) and an empty home,
// with vars as the environment; the site directories point at an empty
// directory too, so that the machine's own files stay out of the tests.
func testEnv(t testing.TB, dir string, vars map[string]string) Env {
	empty := t.TempDir()
	all := map[string]string{"XDG_CONFIG_DIRS": empty, "XDG_CONFIG_HOME": empty}
	for k, v := range vars {
		all[k] = v
	}
	return Env{
		LookupEnv: func(k string) (string, bool) { v, ok := all[k]; return v, ok },
		Home:      empty,
		Dir:       dir,
	}
}

func TestLoadCloud(t *testing.T) {
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	tests := []struct {
		name   string
		dir    string
		vars   map[string]string
		cloud  string
		want   Cloud
		errIs  error
		errHas []string
		errNot []string
		warns  []string // each is in a warning
	}{{
		name: "plaintext password", dir: "testdata/plain", cloud: "vk",
		want: Cloud{
			Settings: protocol.Settings{AuthURL: "https://infra.mail.ru:35357/v3/", ProjectID: "0123456789abcdef0123456789abcdef",
				Username: "alice@example.com", UserDomainName: "users", Region: "RegionOne", Interface: "public"},
			AuthType: AuthPassword, Secret: "pl41n-s3cret", SecretFile: "testdata/plain/clouds.yaml",
		},
	}, {
		name: "project name, merge key, dashed key, numeric password", dir: "testdata/plain", cloud: "byname",
		want: Cloud{
			Settings:    protocol.Settings{AuthURL: "https://infra.mail.ru:35357/v3/", Username: "bob", UserDomainName: "users"},
			ProjectName: "dev", ProjectDomainName: "users",
			AuthType: AuthPassword, Secret: "123456", SecretFile: "testdata/plain/clouds.yaml",
		},
	}, {
		name: "application credential", dir: "testdata/plain", cloud: "appcred",
		want: Cloud{
			Settings:                protocol.Settings{AuthURL: "https://keystone.example.com/v3", Region: "ru-msk"},
			AuthType:                AuthApplicationCredential,
			ApplicationCredentialID: "21c1d8d6b6a64f7a9d5c6b7a8e9f0a1b",
			Secret:                  "appcr3d-s3cret", SecretFile: "testdata/plain/clouds.yaml",
		},
	}, {
		name: "secure.yaml gives the secret only; its other keys are ignored", dir: "testdata/split", cloud: "vk",
		want: Cloud{
			Settings: protocol.Settings{AuthURL: "https://infra.mail.ru:35357/v3/", ProjectID: "0123456789abcdef0123456789abcdef",
				Username: "alice@example.com", UserDomainName: "users", Region: "RegionOne"},
			AuthType: AuthPassword, Secret: "s3cure-s3cret", SecretFile: "testdata/split/secure.yaml",
		},
		warns: []string{"testdata/split/secure.yaml", "clouds.vk.auth.auth_url", "clouds.vk.interface", "only auth.password and auth.application_credential_secret"},
	}, {
		name: "password only in secure.yaml", dir: "testdata/split", cloud: "other",
		want: Cloud{
			Settings: protocol.Settings{AuthURL: "https://keystone.example.com/v3", Username: "erin"},
			AuthType: AuthPassword, Secret: "3rin-s3cret", SecretFile: "testdata/split/secure.yaml",
		},
	}, {
		name: "OS_CLIENT_CONFIG_FILE wins over ./clouds.yaml", dir: "testdata/cwd", cloud: "vk",
		vars: map[string]string{"OS_CLIENT_CONFIG_FILE": "testdata/split/clouds.yaml"},
		want: Cloud{
			Settings: protocol.Settings{AuthURL: "https://infra.mail.ru:35357/v3/", ProjectID: "0123456789abcdef0123456789abcdef",
				Username: "alice@example.com", UserDomainName: "users", Region: "RegionOne"},
			AuthType: AuthPassword, Secret: "s3cure-s3cret", SecretFile: "testdata/split/secure.yaml",
		},
		warns: []string{"testdata/split/secure.yaml"}, // beside the file named, not ./secure.yaml
	}, {
		name: "a secure.yaml in the current directory completes no other directory's clouds.yaml", dir: "testdata/planted", cloud: "cwd-only",
		vars: map[string]string{"XDG_CONFIG_HOME": abs("testdata/xdg")},
		want: Cloud{Settings: protocol.Settings{AuthURL: "https://cwd.example.com/v3", Username: "frank"}, AuthType: AuthPassword},
	}, {
		name: "OS_CLIENT_SECURE_FILE names the secure.yaml", dir: "testdata/cwd", cloud: "cwd-only",
		vars: map[string]string{"OS_CLIENT_SECURE_FILE": "testdata/planted/secure.yaml"},
		want: Cloud{Settings: protocol.Settings{AuthURL: "https://cwd.example.com/v3", Username: "frank"}, AuthType: AuthPassword,
			Secret: "pl4nted-s3cret", SecretFile: "testdata/planted/secure.yaml"},
		warns: []string{"testdata/planted/secure.yaml", "clouds.cwd-only.auth.auth_url"},
	}, {
		name: "./clouds.yaml", dir: "testdata/cwd", cloud: "cwd-only",
		want: Cloud{Settings: protocol.Settings{AuthURL: "https://cwd.example.com/v3", Username: "frank"}, AuthType: AuthPassword},
	}, {
		name: "XDG_CONFIG_HOME", dir: t.TempDir(), cloud: "cwd-only",
		vars: map[string]string{"XDG_CONFIG_HOME": abs("testdata/xdg")},
		want: Cloud{Settings: protocol.Settings{AuthURL: "https://cwd.example.com/v3", Username: "frank"}, AuthType: AuthPassword},
	}, {
		name: "unknown cloud lists the names", dir: "testdata/plain", cloud: "nope",
		errIs: ErrNoCloud, errHas: []string{"testdata/plain/clouds.yaml", `"vk"`, `"byname"`, `"appcred"`},
		errNot: []string{"s3cret"},
	}, {
		name: "no file names the paths searched", dir: t.TempDir(), cloud: "vk",
		errIs: errNoFile, errHas: []string{"clouds.yaml", "clouds.yml", "clouds.json", "openstack", "OS_CLIENT_CONFIG_FILE"},
	}, {
		name: "YAML syntax error: file and line, no secret", dir: "testdata/bad", cloud: "vk",
		errIs: errInvalid, errHas: []string{"testdata/bad/clouds.yaml", "line "}, errNot: []string{"s3cret", "unclosed"},
	}, {
		name: "token auth is refused", dir: "testdata/plain", cloud: "tokenauth",
		errIs: errUnsupported, errHas: []string{`"token"`}, errNot: []string{"t0ken"},
	}, {
		name: "already vkc", dir: "testdata/plain", cloud: "migrated",
		errIs: errUnsupported, errHas: []string{"already uses vkc-credential"},
	}, {
		name: "a number that is not decimal", dir: "testdata/plain", cloud: "octal",
		errIs: errInvalid, errHas: []string{"line 43", "clouds.octal.auth.password", "a number", "quotes"}, errNot: []string{"0o17"},
	}, {
		name: "user domain by id", dir: "testdata/plain", cloud: "domainid",
		errIs: errUnsupported, errHas: []string{"user_domain_id", "user_domain_name"}, errNot: []string{"s3cret"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.cloud, testEnv(t, tt.dir, tt.vars))
			if tt.errIs != nil || tt.errHas != nil {
				wantErr(t, c, err, tt.errIs, tt.errHas, tt.errNot)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Name = tt.cloud
			tt.want.LooseSecretFile = c.LooseSecretFile // checked in TestLoadCloudModes
			got := *c
			got.Files, tt.want.Files = nil, nil // checked below
			got.Warnings = nil                  // checked below
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load =\n%#v\nwant\n%#v", fields(got), fields(tt.want))
			}
			if len(c.Files) == 0 || !strings.HasSuffix(c.Files[0], "clouds.yaml") {
				t.Errorf("Files = %q", c.Files)
			}
			wantWarnings(t, c.Warnings, tt.warns)
		})
	}
}

// wantErr fails unless err is errIs (when set), says each of has and none
// of not.
func wantErr(t *testing.T, c *Cloud, err, errIs error, has, not []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Load = %v, want an error", c)
	}
	if errIs != nil && !errors.Is(err, errIs) {
		t.Errorf("error %q is not %v", err, errIs)
	}
	for _, s := range has {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	for _, s := range not {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q says %q", err, s)
		}
	}
}

// wantWarnings fails unless there is one warning that says each of has
// (none when has is empty), and no warning quotes a value of the
// fixtures' secure.yaml files.
func wantWarnings(t *testing.T, warnings, has []string) {
	t.Helper()
	if len(has) == 0 && len(warnings) != 0 || len(has) != 0 && len(warnings) != 1 {
		t.Fatalf("warnings %q, want one saying %q", warnings, has)
	}
	for _, s := range has {
		if !strings.Contains(warnings[0], s) {
			t.Errorf("warning %q does not say %q", warnings[0], s)
		}
	}
	for _, w := range warnings {
		for _, v := range []string{"planted.example.com", "internal", "s3cret"} {
			if strings.Contains(w, v) {
				t.Errorf("warning %q quotes the value %q", w, v)
			}
		}
	}
}

// TestLoadCloudNoLeak: whatever is wrong with a file, the error quotes no
// value from it; the library's own messages do (an unknown anchor's name,
// a scalar that does not fit).
func TestLoadCloudNoLeak(t *testing.T) {
	for _, doc := range []string{
		"clouds:\n  vk:\n    auth:\n      password: *hunter2secret\n",
		"clouds: hunter2secret\n",
		"clouds:\n  vk: hunter2secret\n",
		"clouds:\n  vk:\n    auth: hunter2secret\n",
		"clouds:\n  vk:\n    auth:\n      password: [hunter2secret]\n",
		"clouds:\n  vk:\n    auth:\n      password: {hunter2secret: 1}\n",
		"clouds:\n  vk:\n    auth:\n      password: 'hunter2secret\n",
		"clouds:\n  vk:\n    auth:\n      password: !!binary hunter2secret\n",
		"clouds:\n  vk:\n    auth_type: hunter2secret\n", // not a secret: it is named
		"clouds:\n  vk:\n    auth:\n      password: hunter2secret\n  vk: \t\n\t- x\n",
	} {
		path := filepath.Join(t.TempDir(), "clouds.yaml")
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": path}))
		if err == nil {
			continue
		}
		if strings.Contains(err.Error(), "hunter2") && !strings.Contains(doc, "auth_type") {
			t.Errorf("%q: error %q quotes the secret", doc, err)
		}
	}
}

// FuzzLoadCloud: any bytes as clouds.yaml never panic Load, and an error
// never quotes a value written after "password:".
func FuzzLoadCloud(f *testing.F) {
	for _, p := range []string{"testdata/plain/clouds.yaml", "testdata/split/clouds.yaml", "testdata/split/secure.yaml", "testdata/bad/clouds.yaml"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "clouds:", "clouds: []", "clouds: {vk: {auth: {password: p4ss-w0rd!}}}",
		"clouds:\n  vk: &a\n    <<: *a\n", "clouds:\n  vk:\n    <<: [*x]\n",
		"clouds:\n  vk:\n    auth:\n      password: *p4ssw0rd\n", "a: &a [*a]\nclouds:\n  vk: *a\n",
		"clouds:\n  vk:\n    auth:\n      password: \"p4ss\\q\"\n",
		"a: &a {x: 1}\nb: &b {<<: [*a, *a, *a, *a]}\nc: &c {<<: [*b, *b, *b, *b]}\nd: &d {<<: [*c, *c, *c, *c]}\nclouds:\n  vk: {<<: [*d, *d, *d, *d]}\n", "clouds:\n  vk:\n    auth:\n      password: !x p4ssw0rd\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "clouds.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		env := testEnv(t, dir, map[string]string{"OS_CLIENT_CONFIG_FILE": path})
		_, err := Load("vk", env)
		if err == nil {
			return
		}
		msg := strings.ReplaceAll(err.Error(), path, "")
		input := string(data)
		for _, line := range strings.Split(input, "\n") {
			_, v, ok := strings.Cut(line, "password:")
			v = strings.Trim(strings.TrimSpace(v), `"'*&!`)
			// A value that could also be a word of the message, or that
			// the input holds elsewhere (as a cloud's name), proves
			// nothing.
			if !ok || len(v) < 6 || strings.ContainsAny(v, " \t") || strings.Count(input, v) != 1 || isLetters(v) {
				continue
			}
			if strings.Contains(msg, v) {
				t.Fatalf("error %q quotes the password %q", msg, v)
			}
		}
	})
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// fields shows a Cloud's fields, secret included (test fixtures only):
// Cloud's own String hides it.
func fields(c Cloud) []any {
	return []any{c.Name, c.Settings, c.ProjectName, c.ProjectDomainName, c.ProjectDomainID, c.AuthType,
		c.ApplicationCredentialID, c.ApplicationCredentialName, c.Secret, c.SecretFile, c.LooseSecretFile}
}
