package clouds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

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
		checkStanza(t, s, tt.name, tt.profile, map[string]string{"region_name": tt.region, "interface": tt.iface})
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
	if _, err := Load("vk", testEnv(t, t.TempDir(), map[string]string{"OS_CLIENT_CONFIG_FILE": path})); !errors.Is(err, errUnsupported) {
		t.Errorf("Load of the stanza: %v", err)
	}
}

// checkStanza reads s back and fails unless it is one vkc cloud called
// name for profile, with the top-level settings of want ("" for absent).
func checkStanza(t *testing.T, s, name, profile string, want map[string]string) {
	t.Helper()
	var doc struct {
		Clouds map[string]map[string]any
	}
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	c, ok := doc.Clouds[name]
	auth, _ := c["auth"].(map[string]any)
	if !ok || c["auth_type"] != "vkc" || auth["vkc_profile"] != profile || len(doc.Clouds) != 1 {
		t.Errorf("%q read back as %#v", s, doc)
	}
	for k, w := range want {
		if got, ok := c[k]; w == "" && ok || w != "" && got != w {
			t.Errorf("%q: %s = %#v, want %q", s, k, got, w)
		}
	}
}
