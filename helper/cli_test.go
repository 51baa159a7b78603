package helper

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefusesBadInput runs the program in-process over stdin and
// arguments that must be refused with exit 2 before the keychain or the
// network is touched (the bus address points nowhere: a keychain call
// would fail with 6, not 2).
func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	t.Setenv("VKC_PROFILE", "")
	tests := []struct {
		name     string
		args     []string
		stdin    string
		jsonOut  bool
		wantCode int
		wantMsg  string
	}{
		{"unknown flag", []string{"get", "--nope"}, "", true, 2, "nope"},
		{"unknown format", []string{"get", "--format", "yaml"}, "", false, 2, "yaml"},
		{"bad min-ttl", []string{"get", "--min-ttl", "soon"}, "", true, 2, "soon"},
		{"negative min-ttl", []string{"get", "--min-ttl", "-1s"}, "", true, 2, "between 0 and 24h"},
		{"bad profile flag", []string{"get", "--profile", "a/b"}, "", true, 2, "invalid profile name"},
		{"bad profile in request", []string{"get"}, `{"profile":"../etc"}`, true, 2, "invalid profile name"},
		{"truncated request", []string{"get", "--format", "token"}, `{"profile":`, false, 2, "truncated"},
		{"unknown field", []string{"list"}, `{"profiel":"x"}`, true, 2, "unknown field"},
		{"password in get", []string{"get"}, `{"password":"hunter2"}`, true, 2, "only taken by `store`"},
		{"version 2", []string{"erase"}, `{"version":2}`, true, 2, "version 2"},
		{"http remote store", []string{"store", "--auth-url", "http://infra.mail.ru:35357/v3/", "--project-id", "p", "--username", "u"}, `{"password":"hunter2"}`, true, 2, "http"},
		{"missing project", []string{"store", "--username", "u"}, `{"password":"hunter2"}`, true, 2, "project_id is not set"},
		{"no password source", []string{"store", "--project-id", "p", "--username", "u"}, ``, true, 2, "--password-stdin"},
		{"empty password", []string{"store", "--project-id", "p", "--username", "u", "--password-stdin"}, "\n", true, 2, "empty"},
		{"stray argument", []string{"list", "extra"}, "", true, 2, "extra"},
		{"unknown command", []string{"fetch"}, "", false, 2, "fetch"},
		{"zero timeout", []string{"get", "--timeout", "0s"}, "", true, 2, "--timeout must be positive"},
		{"not stored", []string{"get", "--profile", "ghost"}, "", true, 3, "ghost"},
		{"erase unknown", []string{"erase", "--profile", "ghost"}, "", true, 6, "Secret Service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := Run(append([]string{"vkc-credential"}, tt.args...), strings.NewReader(tt.stdin), &out, &errb)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, errb.String())
			}
			if !strings.HasPrefix(errb.String(), "vkc-credential: ") || !strings.Contains(errb.String(), tt.wantMsg) {
				t.Fatalf("stderr %q must start with vkc-credential: and mention %q", errb.String(), tt.wantMsg)
			}
			if strings.Contains(out.String()+errb.String(), "hunter2") {
				t.Fatal("a password was echoed")
			}
			if !tt.jsonOut {
				if out.Len() != 0 {
					t.Fatalf("stdout must be empty, got %q", out.String())
				}
				return
			}
			var resp struct {
				Version int
				Error   struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(out.String()), &resp); err != nil || resp.Version != 1 || resp.Error.Message == "" {
				t.Fatalf("stdout is not a JSON error: %q", out.String())
			}
		})
	}
}

func TestLiftCommonFlags(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x get --profile p", "x --profile p get"},
		{"x get --format token --profile=p --debug --min-ttl 5m", "x --profile=p --debug get --format token --min-ttl 5m"},
		{"x --timeout 3s store --cacert f.pem --openrc o.sh", "x --timeout 3s --cacert f.pem store --openrc o.sh"},
		{"x --profile p get", "x --profile p get"},
		{"x exec --profile p -- cmd --profile q", "x --profile p exec -- cmd --profile q"},
		{"x exec cmd --profile q", "x exec cmd --profile q"},
		{"x get --format --profile", "x get --format --profile"},
		{"x get --help", "x get --help"},
		{"x --help", "x --help"},
		{"x", "x"},
		{"x get --profile", "x --profile get"},
	}
	for _, tt := range tests {
		got := strings.Join(liftCommonFlags(strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("lift(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
