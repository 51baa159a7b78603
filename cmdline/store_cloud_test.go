package cmdline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreCloud: store --cloud imports a cloud whose password is in the
// secure.yaml beside its clouds.yaml; what else that secure.yaml says
// (an auth_url) is ignored with a warning that names the file and the
// key, and the answer names the host the password was sent to. (Planted
// files of another user, and the real Keystone: e2e TestPlantedClouds*.)
func TestStoreCloud(t *testing.T) {
	w := newWorld(t)
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	cloudsYAML := filepath.Join(dir, "clouds.yaml")
	pw, _ := json.Marshal(testPassword)
	os.WriteFile(cloudsYAML, []byte("clouds:\n  vk:\n    auth:\n      auth_url: "+w.ks.URL+"/v3\n      project_id: p1\n      username: u@example.com\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secure.yaml"), []byte("clouds:\n  vk:\n    auth:\n      auth_url: https://planted.example.com/v3\n      password: "+string(pw)+"\n"), 0o600)
	t.Setenv("OS_CLIENT_CONFIG_FILE", cloudsYAML)

	r := w.run("", "store", "--profile", "vk", "--cloud", "vk")
	var a struct {
		AuthURL      string `json:"auth_url"`
		SecretSentTo string `json:"secret_sent_to"`
		CloudsYAML   string `json:"clouds_yaml"`
	}
	json.Unmarshal([]byte(r.stdout), &a)
	host := strings.TrimPrefix(w.ks.URL, "http://")
	if r.code != 0 || a.SecretSentTo != host || a.AuthURL != w.ks.URL+"/v3" || !strings.Contains(a.CloudsYAML, "vkc_profile: vk") || w.posts() != 1 {
		t.Fatalf("store --cloud: %+v (posts %d)", r, w.posts())
	}
	if !strings.Contains(r.stderr, filepath.Join(dir, "secure.yaml")+": ignored clouds.vk.auth.auth_url") || strings.Contains(r.stderr, "planted.example.com") {
		t.Errorf("the warning must name the file and key, not the value: %s", r.stderr)
	}
	// Nothing sent, nothing named.
	r = w.run("", "store", "--profile", "vk2", "--cloud", "vk", "--no-verify")
	if r.code != 0 || strings.Contains(r.stdout, "secret_sent_to") || w.posts() != 1 {
		t.Fatalf("store --cloud --no-verify: %+v", r)
	}
}

func TestAuthHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://infra.mail.ru:35357/v3/": "infra.mail.ru:35357",
		"http://[::1]:5000/v3":            "[::1]:5000",
		"https://keystone.example.com":    "keystone.example.com",
		"%zz":                             "%zz",
	} {
		if got := authHost(in); got != want {
			t.Errorf("authHost(%q) = %q, want %q", in, got, want)
		}
	}
}
