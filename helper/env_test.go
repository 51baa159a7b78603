package helper

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	values := []string{"plain", "", "with space", `it's`, `"dq"`, "$HOME", "`id`", "a\nb", `back\slash`, "ünï"}
	for _, v := range values {
		out, err := exec.Command(sh, "-c", "eval \"$1\"; printf %s \"$X\"", "sh", Env{Set: [][2]string{{"X", v}}}.Render(ShellPOSIX)).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(out) != v {
			t.Errorf("round trip of %q gave %q", v, out)
		}
	}
	if got := (Env{Unset: []string{"OS_PASSWORD"}}).Render(ShellPOSIX); !strings.Contains(got, "unset OS_PASSWORD\n") {
		t.Errorf("unset line missing: %q", got)
	}
}

func TestEnvApplyRemovesPasswordVariables(t *testing.T) {
	tok := &Token{Profile: "prod", Settings: Settings{AuthURL: "https://k/v3/", ProjectID: "p", Region: "RegionOne", Interface: "public"},
		entry: &cacheEntry{Token: "tok"}}
	parent := []string{"PATH=/bin", "OS_PASSWORD=hunter2", "OS_USERNAME=u", "OS_PROJECT_NAME=n", "OS_TOKEN=old", "HOME=/h", "OS_CACERT=/ca.pem", "OS_CLOUD=vk"}
	got := TokenEnv(tok).Apply(parent)
	want := map[string]string{"PATH": "/bin", "HOME": "/h", "OS_CACERT": "/ca.pem", "OS_AUTH_TYPE": "v3token", "OS_TOKEN": "tok",
		"OS_AUTH_TOKEN": "tok", "OS_AUTH_URL": "https://k/v3/", "OS_PROJECT_ID": "p", "OS_REGION_NAME": "RegionOne",
		"OS_INTERFACE": "public", "OS_IDENTITY_API_VERSION": "3", "VKC_PROFILE": "prod"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for _, kv := range got {
		name, value, _ := strings.Cut(kv, "=")
		if want[name] != value {
			t.Errorf("%s=%q, want %q", name, value, want[name])
		}
		if strings.Contains(kv, "hunter2") {
			t.Fatal("the password reached the child's environment")
		}
	}
}

func TestEnvRenderShells(t *testing.T) {
	e := Env{Set: [][2]string{{"A", `it's \ "x"`}}, Unset: []string{"B"}}
	tests := map[string]string{
		ShellPOSIX:      "export A='it'\\''s \\ \"x\"'\nunset B\n",
		ShellFish:       "set -gx A 'it\\'s \\\\ \"x\"';\nset -e B;\n",
		ShellPowerShell: "$Env:A = 'it''s \\ \"x\"'\nRemove-Item Env:B -ErrorAction SilentlyContinue\n",
	}
	for shell, want := range tests {
		if got := e.Render(shell); got != want {
			t.Errorf("%s:\n got %q\nwant %q", shell, got, want)
		}
	}
}
