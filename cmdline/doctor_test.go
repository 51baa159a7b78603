package cmdline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// TestDoctorBackendVerdicts: a backend that is not set up is skipped when
// no profile uses it and fails when one does; one that is set up and fails
// fails; each with the backend's own setup steps as the hint, a command a
// line.
func TestDoctorBackendVerdicts(t *testing.T) {
	inv := newInvocation(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	notSetUp := fmt.Errorf("%w: %w: nothing here", keyring.ErrUnavailable, keyring.ErrNotSetUp)
	locked := fmt.Errorf("%w: locked", keyring.ErrUnavailable)
	for _, name := range keyring.Names() {
		setup := keyring.HowToSetUp(name)
		want := setup.Do
		if len(setup.Commands) > 0 {
			want += ":\n" + strings.Join(setup.Commands, "\n")
		}
		for _, c := range []struct {
			used   bool
			err    error
			status string
		}{
			{false, nil, "ok"},
			{false, notSetUp, "skip"},
			{true, notSetUp, "fail"},
			{false, locked, "fail"},
			{true, locked, "fail"},
		} {
			r := inv.backendResult(name, c.used, func() error { return c.err })
			if r.status != c.status {
				t.Errorf("%s, used %t, %v: %s, want %s", name, c.used, c.err, r.status, c.status)
			}
			if c.err != nil && (r.hint != want || !strings.Contains(r.detail, c.err.Error())) {
				t.Errorf("%s, used %t, %v: detail %q, hint %q", name, c.used, c.err, r.detail, r.hint)
			}
		}
	}
}

// TestDoctorExitAndStderr: a failed check exits 8; the text report ends
// with a line on stderr pointing at its hints, the JSON report is the
// whole answer and stderr stays empty.
func TestDoctorExitAndStderr(t *testing.T) {
	w := newWorld(t)
	t.Setenv("PATH", t.TempDir()) // no openstack, kubectl, pass or vkc-credential
	r := w.run("", "doctor", "--format", "json", "--profile", "nosuch")
	var rep protocol.DoctorResponse
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 8 || rep.Failed == 0 || r.stderr != "" {
		t.Fatalf("doctor --format json with a failed check: %v; %+v", err, r)
	}
	r = w.run("", "doctor", "--profile", "nosuch")
	if r.code != 8 || !strings.Contains(r.stdout, "[FAIL] profile nosuch: settings") || r.stderr != "vkc-credential: some checks failed; see the hints above\n" {
		t.Fatalf("doctor with a failed check: %+v", r)
	}
}

// TestDoctorPrintsEachCommandOnALine: a hint's first line follows "hint:",
// each command after it has a line of its own, and no control character
// reaches the terminal.
func TestDoctorPrintsEachCommandOnALine(t *testing.T) {
	var out strings.Builder
	inv := newInvocation(strings.NewReader(""), &out, &strings.Builder{})
	inv.printReport(protocol.DoctorResponse{Checks: []protocol.Check{
		{Name: "keychain x", Status: "skip", Detail: "not here", Hint: "set it up:\nread -rsp 'p: ' P; echo\nprintf '%s' \"$P\" | tool\x1b[2J"},
	}, Skipped: 1})
	want := "[SKIP] keychain x: not here\n" +
		"       hint: set it up:\n" +
		"         read -rsp 'p: ' P; echo\n" +
		"         printf '%s' \"$P\" | tool\\x1b[2J\n" +
		"0 passed, 0 failed, 1 skipped\n"
	if out.String() != want {
		t.Fatalf("report:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestPluginProbeIgnoresTheCurrentDirectory: doctor asks the openstack
// CLI's Python for the plugin; a keystoneauth1.py planted in the directory
// doctor runs in must not be imported (it would run as the user, or root).
func TestPluginProbeIgnoresTheCurrentDirectory(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("VKC_E2E_REQUIRED") != "" {
			t.Fatal("python3 is not installed")
		}
		t.Skip("python3 is not installed")
	}
	bin, checkout := t.TempDir(), t.TempDir()
	// An openstack CLI whose shebang names the Python to probe.
	if err := os.WriteFile(filepath.Join(bin, "openstack"), []byte("#!"+python+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	planted := fmt.Sprintf("open(%q, 'w').write('planted module ran')\n", marker)
	if err := os.WriteFile(filepath.Join(checkout, "keystoneauth1.py"), []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Chdir(checkout)
	r := checkOpenStackPlugin()
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the planted keystoneauth1.py ran: %v (check: %+v)", err, r)
	}
	if !strings.Contains(r.detail, python) || strings.Contains(r.detail, checkout) {
		t.Fatalf("check: %+v", r)
	}
}

// TestDoctorProfileChecks: each stored profile's checks, against the fake
// Keystone and keychains in memory: its settings, its password in its
// backend, its cached token, and its Keystone reachable by a GET that
// sends no credentials. Doctor asks Keystone for no token and prints no
// secret.
func TestDoctorProfileChecks(t *testing.T) {
	w := newWorld(t)
	t.Setenv("PATH", t.TempDir()) // no openstack, kubectl, pass or vkc-credential
	w.store(t, "good")            // verified: its token is cached
	w.storeAt(t, "down", "http://127.0.0.1:1/v3")
	before := maps.Clone(w.kr.Items)
	w.storeAt(t, "nopw", "http://127.0.0.1:2/v3")
	for item := range w.kr.Items {
		if _, ok := before[item]; !ok {
			delete(w.kr.Items, item) // nopw's password, gone from the keychain
		}
	}
	req, _ := json.Marshal(map[string]string{"auth_url": "http://127.0.0.1:3/v3", "project_id": "p1", "username": "u@example.com", "password": testPassword})
	if r := w.run(string(req), "store", "--profile", "locked", "--keyring", "keyctl", "--no-verify"); r.code != 0 {
		t.Fatalf("store locked: %+v", r)
	}
	w.krs["keyctl"].Err = fmt.Errorf("%w: the keyring is locked", keyring.ErrUnavailable)
	broken := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "vkc-credential", "profiles", "broken.json")
	if err := os.WriteFile(broken, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	posts := w.posts()
	hits := w.ks.Count(http.MethodGet, "")

	r := w.run("", "doctor", "--format", "json")
	var rep protocol.DoctorResponse
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 8 {
		t.Fatalf("doctor: %v; %+v", err, r)
	}
	got := map[string]protocol.Check{}
	for _, c := range rep.Checks {
		got[c.Name] = c
	}
	for _, want := range []struct{ name, status, detail, hint string }{
		{"profile good: settings", "ok", w.ks.URL + "/v3 as u@example.com (domain users), project p1, region RegionOne", ""},
		{"profile good: password in os", "ok", "stored", ""},
		{"profile good: cached token", "ok", "valid until ", ""},
		{"profile good: keystone reachable", "ok", "GET " + w.ks.URL + "/v3 answered (no credentials sent)", ""},
		{"profile down: cached token", "skip", "none cached; the next get issues one", ""},
		{"profile down: keystone reachable", "fail", "127.0.0.1:1", "check the network, a proxy (HTTPS_PROXY) and the auth URL"},
		{"profile nopw: password in os", "fail", "no password is stored in os", "run `vkc-credential store --profile nopw`"},
		{"profile locked: password in keyctl", "fail", "the keyring is locked", keyring.HowToSetUp("keyctl").Do},
		{"profile broken: settings", "fail", "broken", "run `vkc-credential store --profile broken`"},
	} {
		c, ok := got[want.name]
		if !ok || c.Status != want.status || !strings.Contains(c.Detail, want.detail) || !strings.Contains(c.Hint, want.hint) {
			t.Errorf("%s: %+v, want %s with %q, hint %q", want.name, c, want.status, want.detail, want.hint)
		}
	}
	if w.posts() != posts || w.ks.Count(http.MethodGet, "") != hits+1 {
		t.Errorf("doctor sent %d token requests and %d GETs to the fake Keystone, want none and one", w.posts()-posts, w.ks.Count(http.MethodGet, "")-hits)
	}
	if reqs := w.ks.Requests(); reqs[len(reqs)-1].Header.Get("X-Auth-Token") != "" {
		t.Error("the reachability GET carried a token")
	}
	if strings.Contains(r.stdout+r.stderr, testPassword) || strings.Contains(r.stdout, "gAAAA") {
		t.Errorf("doctor printed a secret: %s", r.stdout)
	}
}
