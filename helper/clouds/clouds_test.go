package clouds

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

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
		name: "secure.yaml is deep-merged over clouds.yaml", dir: "testdata/split", cloud: "vk",
		want: Cloud{
			Settings: protocol.Settings{AuthURL: "https://infra.mail.ru:35357/v3/", ProjectID: "0123456789abcdef0123456789abcdef",
				Username: "alice@example.com", UserDomainName: "users", Region: "RegionOne", Interface: "internal"},
			AuthType: AuthPassword, Secret: "s3cure-s3cret", SecretFile: "testdata/split/secure.yaml",
		},
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
			AuthType: AuthPassword, Secret: "stale-pl41n", SecretFile: "testdata/split/clouds.yaml",
		},
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
		errIs: ErrNoFile, errHas: []string{"clouds.yaml", "clouds.yml", "clouds.json", "openstack", "OS_CLIENT_CONFIG_FILE"},
	}, {
		name: "YAML syntax error: file and line, no secret", dir: "testdata/bad", cloud: "vk",
		errIs: ErrInvalid, errHas: []string{"testdata/bad/clouds.yaml", "line "}, errNot: []string{"s3cret", "unclosed"},
	}, {
		name: "token auth is refused", dir: "testdata/plain", cloud: "tokenauth",
		errIs: ErrUnsupported, errHas: []string{`"token"`}, errNot: []string{"t0ken"},
	}, {
		name: "already vkc", dir: "testdata/plain", cloud: "migrated",
		errIs: ErrUnsupported, errHas: []string{"already uses vkc-credential"},
	}, {
		name: "a number that is not decimal", dir: "testdata/plain", cloud: "octal",
		errIs: ErrInvalid, errHas: []string{"line 43", "clouds.octal.auth.password", "a number", "quotes"}, errNot: []string{"0o17"},
	}, {
		name: "user domain by id", dir: "testdata/plain", cloud: "domainid",
		errIs: ErrUnsupported, errHas: []string{"user_domain_id", "user_domain_name"}, errNot: []string{"s3cret"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.cloud, testEnv(t, tt.dir, tt.vars))
			if tt.errIs != nil || tt.errHas != nil {
				if err == nil {
					t.Fatalf("Load = %v, want an error", c)
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("error %q is not %v", err, tt.errIs)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				for _, s := range tt.errNot {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q says %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Name = tt.cloud
			tt.want.LooseSecretFile = c.LooseSecretFile // checked below
			got := *c
			got.Files, tt.want.Files = nil, nil // checked below
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load =\n%#v\nwant\n%#v", fields(got), fields(tt.want))
			}
			if len(c.Files) == 0 || !strings.HasSuffix(c.Files[0], "clouds.yaml") {
				t.Errorf("Files = %q", c.Files)
			}
		})
	}
}

func TestLoadCloudFiles(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/split/clouds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clouds.yaml"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load("vk", testEnv(t, dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.LooseSecretFile || len(c.Files) != 1 || c.SecretFile != filepath.Join(dir, "clouds.yaml") {
		t.Errorf("a 0600 file alone: %+v (loose %v, files %q)", c, c.LooseSecretFile, c.Files)
	}
	if err := os.Chmod(filepath.Join(dir, "clouds.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err = Load("vk", testEnv(t, dir, nil)); err != nil || !c.LooseSecretFile {
		t.Errorf("a 0644 file: loose = %v, %v", c != nil && c.LooseSecretFile, err)
	}
	if s := c.String() + c.GoString(); strings.Contains(s, "s3cret") || strings.Contains(s, "pl41n") {
		t.Errorf("String shows the secret: %s", s)
	}

	// Too big, and not a regular file: refused, not read.
	big := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(big, []byte("clouds: {}\n"+strings.Repeat("#", maxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": big})); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "larger") {
		t.Errorf("a big file: %v", err)
	}
	notFile := t.TempDir()
	if err := os.Mkdir(filepath.Join(notFile, "clouds.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("vk", testEnv(t, notFile, nil)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
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

func TestStanza(t *testing.T) {
	for _, tt := range []struct{ name, profile, region, iface string }{
		{"vk", "vk", "RegionOne", "public"},
		{"vk", "prod", "", ""},
		{"yes", "null", "1e3", "on"},
		{"a: b #c", "- x\n'\"", "*a", "&b !t %"},
		{"", "~", "0o17", "\u2028\x00"},
		{"my-cloud", "1:20", "1_000", "Y"},
	} {
		s := Stanza(tt.name, tt.profile, tt.region, tt.iface)
		var doc struct {
			Clouds map[string]map[string]any
		}
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		c, ok := doc.Clouds[tt.name]
		auth, _ := c["auth"].(map[string]any)
		if !ok || c["auth_type"] != "vkc" || auth["vkc_profile"] != tt.profile || len(doc.Clouds) != 1 {
			t.Errorf("%q read back as %#v", s, doc)
		}
		for k, want := range map[string]string{"region_name": tt.region, "interface": tt.iface} {
			if got, ok := c[k]; want == "" && ok || want != "" && got != want {
				t.Errorf("%q: %s = %#v, want %q", s, k, got, want)
			}
		}
		// PyYAML reads YAML 1.1, where yes and on are booleans: they must
		// come out quoted.
		if strings.Contains(s, ": yes") || strings.Contains(s, ": on\n") || strings.Contains(s, "  yes:") || strings.Contains(s, ": null") {
			t.Errorf("%q: a YAML 1.1 boolean is not quoted", s)
		}
	}
	const want = "clouds:\n  vk:\n    auth_type: vkc\n    auth:\n      vkc_profile: prod\n    region_name: RegionOne\n"
	if got := Stanza("vk", "prod", "RegionOne", ""); got != want {
		t.Errorf("Stanza =\n%s\nwant\n%s", got, want)
	}
	// The stanza, read as a clouds.yaml, is a vkc cloud, which Load
	// declines to import again.
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(want), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": path})); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Load of the stanza: %v", err)
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
