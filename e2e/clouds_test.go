package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nobody owns the files that another local user plants.
const nobody = 65534

// plantAs writes data to path with mode 0644, owned by uid (another
// user) when uid is not -1. Only root can give a file away; CI runs the
// tests as root.
func plantAs(t *testing.T, path, data string, uid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if uid == -1 {
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("planting another user's file needs root (CI runs the tests as root)")
	}
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// storeCloudIn runs store --cloud CLOUD for profile with dir as the
// current directory.
func (s *sandbox) storeCloudIn(dir, profile, cloud string) result {
	cmd := exec.Command(binary, "store", "--profile", profile, "--cloud", cloud)
	cmd.Dir = dir
	return s.runCmd(cmd, nil, "")
}

// cloudStanza is a clouds.yaml of one cloud called prod at authURL for
// the e2e user, with password when it is not "".
func cloudStanza(authURL, password string) string {
	doc := fmt.Sprintf("clouds:\n  prod:\n    auth:\n      auth_url: %s\n      project_id: %s\n      username: %s\n      user_domain_name: %s\n",
		authURL, ks.ProjectID, ks.Username, ks.Domain)
	if password != "" {
		pw, _ := json.Marshal(password)
		doc += "      password: " + string(pw) + "\n"
	}
	return doc
}

// userOpenStackDir is the sandbox user's ~/.config/openstack.
func userOpenStackDir(t *testing.T, s *sandbox) string {
	dir := filepath.Join(s.home, ".config", "openstack")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlantedCloudsYAMLIsRefused: issue 15 item 1 (a). In a shared
// directory, another user's ./clouds.yaml names their own host for the
// cloud whose password is in the user's ~/.config/openstack/secure.yaml.
// store --cloud refuses it with exit 2 naming the file, and the
// attacker's host sees no connection.
func TestPlantedCloudsYAMLIsRefused(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	addr, conns := countingListener(t)
	pw, _ := json.Marshal(ks.Password)
	os.WriteFile(filepath.Join(userOpenStackDir(t, s), "secure.yaml"), []byte("clouds:\n  prod:\n    auth:\n      password: "+string(pw)+"\n"), 0o600)
	shared := t.TempDir()
	planted := filepath.Join(shared, "clouds.yaml")
	plantAs(t, planted, cloudStanza("http://"+addr+"/v3", ""), nobody)

	r := s.storeCloudIn(shared, s.profileName("planted"), "prod")
	wantError(t, r, 2, "usage", true, planted)
	if !strings.Contains(r.stderr, fmt.Sprintf("owned by uid %d", nobody)) || strings.Contains(r.stdout+r.stderr, ks.Password) {
		t.Fatalf("the refusal must say whose file it is, and no secret: %s", r)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("the planted clouds.yaml's host got %d connections", n)
	}
}

// TestPlantedSecureYAMLIsIgnored: issue 15 item 1 (b). A ./secure.yaml
// that sets only auth_url, beside no clouds.yaml, is never read for the
// user's own ~/.config/openstack/clouds.yaml, whether another user planted
// it or it came with a repository the user cloned; and a secure.yaml
// beside the clouds.yaml gives only the secret (its auth_url is ignored
// with a warning). In every case the password goes only to the real
// Keystone, which the answer names.
func TestPlantedSecureYAMLIsIgnored(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	addr, conns := countingListener(t)
	realHost := mustHost(t, ks.AuthURL)
	conf := userOpenStackDir(t, s)
	os.WriteFile(filepath.Join(conf, "clouds.yaml"), []byte(cloudStanza(ks.AuthURL, ks.Password)), 0o600)
	plantedSecure := "clouds:\n  prod:\n    auth:\n      auth_url: http://" + addr + "/v3\n"

	for _, c := range []struct {
		name string
		uid  int
	}{{"planted by another user", nobody}, {"in a repository the user cloned", -1}} {
		t.Run(c.name, func(t *testing.T) {
			cwd := t.TempDir()
			plantAs(t, filepath.Join(cwd, "secure.yaml"), plantedSecure, c.uid)
			r := s.storeCloudIn(cwd, s.profileName("secure"), "prod")
			wantStoredAt(t, r, realHost)
		})
	}
	t.Run("beside the clouds.yaml, with an auth_url", func(t *testing.T) {
		pw, _ := json.Marshal(ks.Password)
		os.WriteFile(filepath.Join(conf, "clouds.yaml"), []byte(cloudStanza(ks.AuthURL, "")), 0o600)
		beside := filepath.Join(conf, "secure.yaml")
		os.WriteFile(beside, []byte(plantedSecure+"      password: "+string(pw)+"\n"), 0o600)
		r := s.storeCloudIn(t.TempDir(), s.profileName("beside"), "prod")
		wantStoredAt(t, r, realHost)
		if !strings.Contains(r.stderr, beside+": ignored clouds.prod.auth.auth_url") || strings.Contains(r.stderr, addr) {
			t.Fatalf("the warning must name the file and the key, not the value: %s", r.stderr)
		}
	})
	if n := conns.Load(); n != 0 {
		t.Fatalf("the planted secure.yaml's host got %d connections", n)
	}
}

// wantStoredAt fails unless r is a store answer, verified, that names
// host as where the secret went.
func wantStoredAt(t *testing.T, r result, host string) {
	t.Helper()
	var a struct {
		Verified     bool   `json:"verified"`
		SecretSentTo string `json:"secret_sent_to"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || r.code != 0 || !a.Verified || a.SecretSentTo != host {
		t.Fatalf("want a verified store whose secret went to %s: %s", host, r)
	}
}

func mustHost(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
