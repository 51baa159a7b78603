package cmdline

import (
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
)

func TestExecServeEnvironment(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	w := newWorld(t)
	w.store(t, "prod")
	for _, kv := range [][2]string{{"OS_PASSWORD", "hunter2"}, {"OS_TOKEN", "stale"}, {"OS_AUTH_TOKEN", "stale"}, {"OS_CLOUD", "vk"},
		{"OS_PROJECT_NAME", "other"}, {"KEEP_ME", "yes"}} {
		t.Setenv(kv[0], kv[1])
	}
	r := w.run("", "exec", "--serve", "--profile", "prod", "--", sh, "-c", "env")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	child := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			child[k] = v
		}
	}
	if !strings.HasPrefix(child["OS_AUTH_URL"], "http://127.0.0.1:") || !strings.HasSuffix(child["OS_AUTH_URL"], "/v3") ||
		!strings.HasPrefix(child["OS_PASSWORD"], "vkc-session-") {
		t.Fatalf("OS_AUTH_URL %q, OS_PASSWORD %q", child["OS_AUTH_URL"], child["OS_PASSWORD"])
	}
	for k, v := range map[string]string{"OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3", "OS_USERNAME": "u@example.com",
		"OS_USER_DOMAIN_NAME": "users", "OS_PROJECT_ID": "p1", "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public",
		"VKC_PROFILE": "prod", execMarker: "prod", "KEEP_ME": "yes"} {
		if child[k] != v {
			t.Errorf("%s=%q, want %q", k, child[k], v)
		}
	}
	for _, gone := range []string{"OS_TOKEN", "OS_AUTH_TOKEN", "OS_CLOUD", "OS_PROJECT_NAME"} {
		if _, ok := child[gone]; ok {
			t.Errorf("%s reached the child", gone)
		}
	}
	if strings.Contains(r.stdout, "hunter2") || strings.Contains(r.stdout, testPassword) {
		t.Fatal("a password reached the child")
	}
	if r := w.run("", "exec", "--serve", "--profile", "prod", "--", sh, "-c", "exit 7"); r.code != 7 {
		t.Fatalf("exit status: %+v", r)
	}
	if r := w.run("", "exec", "--serve", "--profile", "prod", "--", sh, "-c", "kill -9 $$"); r.code != 128+9 {
		t.Fatalf("killed child: %+v", r)
	}
	// A profile that cannot sign in fails before the command runs.
	if r := w.run("", "exec", "--serve", "--profile", "nope", "--", sh, "-c", "echo ran"); r.code != 3 || strings.Contains(r.stdout, "ran") {
		t.Fatalf("unknown profile: %+v", r)
	}
}

// The unset lines never undo a set line.
func TestStandinEnvUnsetsWhatItDoesNotSet(t *testing.T) {
	set := map[string]bool{}
	for _, name := range []string{"OS_USERNAME", "OS_USER_DOMAIN_NAME", "OS_PASSWORD"} {
		set[name] = true
	}
	unset := standinUnset(set)
	for _, name := range unset {
		if set[name] {
			t.Errorf("%s is both set and unset", name)
		}
	}
	for _, must := range []string{"OS_TOKEN", "OS_AUTH_TOKEN", "OS_CLOUD", "OS_PROJECT_NAME", "OS_APPLICATION_CREDENTIAL_SECRET"} {
		if !strings.Contains(" "+strings.Join(unset, " ")+" ", " "+must+" ") {
			t.Errorf("%s is not removed", must)
		}
	}
}

func TestServeRefusesBeforeAnyWork(t *testing.T) {
	w := newWorld(t)
	w.kr.Err = fmt.Errorf("%w: reaching it would show", keyring.ErrUnavailable)
	for _, args := range [][]string{
		{"serve", "--profile", "prod", "--listen", "0.0.0.0:0"},
		{"serve", "--profile", "prod", "--listen", "192.168.1.1:35357"},
		{"serve", "--profile", "prod", "--listen", "127.0.0.1"},
		{"serve", "--profile", "prod", "--listen", "127.0.0.1:99999"},
		{"serve", "--profile", "prod", "--shell", "tcsh"},
		{"serve", "--profile", "prod", "extra"},
	} {
		if r := w.run("", args...); r.code != 2 {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

func TestLoopbackAddress(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:0": "127.0.0.1:0", "localhost:35357": "127.0.0.1:35357", "127.0.0.1:65535": "127.0.0.1:65535"} {
		if got, err := loopbackAddress(in); err != nil || got != want {
			t.Errorf("%s: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"[::1]:80", ":80", "127.0.0.2:80", "127.0.0.1:-1", "127.0.0.1:x", "0.0.0.0:80"} {
		if _, err := loopbackAddress(in); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestStandinErrorStatus(t *testing.T) {
	inv := newInvocation(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	inv.profile = "prod"
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", keystone.ErrAuthFailed), http.StatusUnauthorized},
		{fmt.Errorf("x: %w", keyring.ErrNotFound), http.StatusUnauthorized},
		{fmt.Errorf("%w (no terminal)", errNoPasscode), http.StatusUnauthorized},
		{fmt.Errorf("x: %w", keystone.ErrUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", keyring.ErrUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("x: %w", helper.ErrLockBusy), http.StatusServiceUnavailable},
		{errors.New("a bug"), http.StatusInternalServerError},
	} {
		if got, msg := inv.standinError(tc.err); got != tc.want || msg == "" {
			t.Errorf("%v: %d %q, want %d", tc.err, got, msg, tc.want)
		}
	}
	// The stand-in's failures are told on stderr too, once in a row.
	var errb strings.Builder
	inv = newInvocation(strings.NewReader(""), &strings.Builder{}, &errb)
	inv.standinError(keyring.ErrUnavailable)
	inv.standinError(keyring.ErrUnavailable)
	if strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "the stand-in could not hand out a token") {
		t.Fatalf("stderr: %q", errb.String())
	}
}
