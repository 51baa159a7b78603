package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestExecHandsTokenNotPassword(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("exec")
	s.store(profile)
	want := decodeToken(t, s.must("", "get", "--profile", profile)).Token

	// The parent shell has the old openrc variables, password included.
	parent := []string{"OS_USERNAME=" + ks.Username, "OS_PASSWORD=" + ks.Password, "OS_PROJECT_NAME=vkc-test",
		"OS_USER_DOMAIN_NAME=users", "OS_PROJECT_DOMAIN_ID=default", "OS_CLOUD=vk", "KEEP_ME=yes"}
	r := s.run(parent, "", "exec", "--profile", profile, "--", "env")
	if r.code != 0 {
		t.Fatalf("exec env: %s", r)
	}
	child := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			child[k] = v
		}
	}
	if strings.Contains(r.stdout, ks.Password) {
		t.Fatal("the password reached the child's environment")
	}
	for _, gone := range []string{"OS_PASSWORD", "OS_USERNAME", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID", "OS_CLOUD"} {
		if _, ok := child[gone]; ok {
			t.Errorf("%s reached the child", gone)
		}
	}
	for k, v := range map[string]string{"OS_AUTH_TYPE": "v3token", "OS_TOKEN": want, "OS_AUTH_TOKEN": want, "OS_AUTH_URL": ks.AuthURL,
		"OS_PROJECT_ID": ks.ProjectID, "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public", "OS_IDENTITY_API_VERSION": "3",
		"VKC_PROFILE": profile, "KEEP_ME": "yes"} {
		if child[k] != v {
			t.Errorf("child %s=%q, want %q", k, child[k], v)
		}
	}
}

func TestExecPassesStdinAndStatus(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("status")
	s.store(profile)
	// stdin belongs to the command: a JSON-looking stdin is not a request.
	if r := s.run(nil, `{"profile":"x"}`, "exec", "--profile", profile, "--", "cat"); r.code != 0 || r.stdout != `{"profile":"x"}` {
		t.Fatalf("exec cat: %s", r)
	}
	if r := s.run(nil, "", "exec", "--profile", profile, "--", "sh", "-c", "exit 7"); r.code != 7 {
		t.Fatalf("exit status: %s", r)
	}
	if r := s.run(nil, "", "exec", "--profile", profile, "--", "sh", "-c", "kill -TERM $$"); r.code != -1 && r.code != 143 {
		t.Fatalf("killed by SIGTERM: %s", r)
	}
	wantError(t, s.run(nil, "", "exec", "--profile", profile), 2, "", false, "needs a command")
	// Nested exec is refused unless asked for.
	r := s.run(nil, "", "exec", "--profile", profile, "--", binary, "exec", "--profile", profile, "--", "true")
	wantError(t, r, 2, "", false, "--allow-nested")
	r = s.run(nil, "", "exec", "--profile", profile, "--", binary, "exec", "--allow-nested", "--profile", profile, "--", "true")
	if r.code != 0 {
		t.Fatalf("--allow-nested: %s", r)
	}
}

// TestExecNotRunnable: the binary exits as a shell and env(1) do for a
// command it cannot run: 127 when there is no such command, 126 when the
// file is no executable (a plain file, a directory) or exec(2) refuses it
// (a file with the execute bit that is no program), with the message on
// stderr and stdout empty.
func TestExecNotRunnable(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("notrun")
	s.store(profile)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.sh")
	garbage := filepath.Join(dir, "garbage")
	if os.WriteFile(plain, []byte("#!/bin/sh\necho ran\n"), 0o644) != nil || os.WriteFile(garbage, []byte("\x00\x01\x02 no program"), 0o755) != nil {
		t.Fatal("cannot write the test files")
	}
	for _, tt := range []struct {
		cmd  string
		code int
		msg  string
	}{
		{"no-such-command-here", 127, `cannot run "no-such-command-here": no such command in PATH`},
		{filepath.Join(dir, "missing"), 127, "no such file"},
		{plain, 126, "not an executable file"},
		{dir, 126, "is a directory"},
		{garbage, 126, "exec format error"},
	} {
		wantError(t, s.run(nil, "", "exec", "--profile", profile, "--", tt.cmd), tt.code, "", false, tt.msg)
	}
	// As a shell has them.
	r := s.runCmd(exec.Command("sh", "-c", `no-such-command-here 2>/dev/null; echo $?; "$0" 2>/dev/null; echo $?`, plain), nil, "")
	if r.stdout != "127\n126\n" {
		t.Fatalf("sh gives %q", r.stdout)
	}
}

func TestExecAndEnvWithOpenstackCLI(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("osc")
	s.store(profile)
	tok := decodeToken(t, s.must("", "get", "--profile", profile)).Token

	// exec: the parent's password variables would make openstack ignore
	// OS_TOKEN; exec removes them.
	parent := []string{"OS_USERNAME=" + ks.Username, "OS_PASSWORD=" + ks.Password, "OS_PROJECT_NAME=vkc-test", "OS_USER_DOMAIN_NAME=users"}
	r := s.run(parent, "", "exec", "--profile", profile, "--", "/usr/bin/openstack", "catalog", "list", "-f", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"identity"`) {
		t.Fatalf("exec -- openstack catalog list: %s", r)
	}
	r = s.run(parent, "", "exec", "--profile", profile, "--", "/usr/bin/openstack", "token", "issue", "-f", "json")
	var issued struct{ ID, Project_ID string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &issued) != nil || issued.Project_ID != ks.ProjectID {
		t.Fatalf("exec -- openstack token issue: %s", r)
	}

	// env: eval the lines in a shell, then run openstack.
	script := `eval "$("$VKC" env --profile "$P")" && /usr/bin/openstack token issue -f value -c project_id`
	r = s.runCmd(exec.Command("bash", "-c", script), append(parent, "VKC="+binary, "P="+profile), "")
	if r.code != 0 || strings.TrimSpace(r.stdout) != ks.ProjectID {
		t.Fatalf("eval env; openstack token issue: %s", r)
	}
	// The env lines carry the same cached token and no password.
	lines := s.must("", "env", "--profile", profile).stdout
	if !strings.Contains(lines, "export OS_TOKEN='"+tok+"'") || !strings.Contains(lines, "unset OS_PASSWORD") || strings.Contains(lines, ks.Password) {
		t.Fatalf("env lines: %s", lines)
	}
	if got := s.must("", "get", "--profile", profile, "--format", "env").stdout; got != lines {
		t.Fatal("get --format env differs from env")
	}
}
