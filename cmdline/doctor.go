package cmdline

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// A check is one line of doctor's report: it runs, and says ok, fail (with
// a hint) or skip, with a detail. Checks never print a secret.
type check struct {
	name string
	run  func() checkResult
}

type checkResult struct {
	status string // "ok", "fail" or "skip"
	detail string
	hint   string // for a failure: what to do
}

func ok(format string, args ...any) checkResult {
	return checkResult{status: "ok", detail: fmt.Sprintf(format, args...)}
}

func skip(format string, args ...any) checkResult {
	return checkResult{status: "skip", detail: fmt.Sprintf(format, args...)}
}

func fail(detail, hint string) checkResult {
	return checkResult{status: "fail", detail: detail, hint: hint}
}

// doctor diagnoses this machine: the keychain backends, our directories,
// each stored profile, and the tools that call vkc-credential.
func (inv *invocation) doctor(c *cli.Context) error {
	req, err := inv.setup(c, true, false)
	if err != nil {
		return err
	}
	format := c.String("format") // a choice flag: text or json
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	only := c.String("profile")
	if only == "" && req != nil {
		only = req.Profile
	}
	checks, err := inv.doctorChecks(c, h, only)
	if err != nil {
		return err
	}
	report := runChecks(checks)
	if format == formatJSON {
		if err := inv.writeJSON(report); err != nil {
			return err
		}
	} else {
		inv.printReport(report)
	}
	switch {
	case report.Failed == 0:
		return nil
	case format == formatJSON:
		// The report is the answer, and it says which checks failed.
		return &exitStatus{code: protocol.CodeChecksFailed.ExitCode()}
	}
	inv.jsonErrors = false
	return errChecksFailed
}

// doctorChecks lists the checks, in the order of the report: each backend,
// the directories, each stored profile (only that one when only is not
// empty), the tools.
func (inv *invocation) doctorChecks(c *cli.Context, h *helper.Helper, only string) ([]check, error) {
	names, err := h.ProfileNames()
	if err != nil {
		return nil, err
	}
	if only != "" {
		names = []string{only}
	}
	profiles := map[string]*helper.Profile{}
	used := map[string]bool{}
	for _, name := range names {
		if p, err := h.Paths.LoadProfile(name); err == nil {
			profiles[name] = &p
			if p.Keyring != "" {
				used[p.Keyring] = true
			}
		}
	}

	cfg := keyring.Config{Timeout: c.Duration("keyring-timeout")}
	var checks []check
	for _, name := range keyring.Names() {
		checks = append(checks, check{"keychain " + name, func() checkResult { return inv.checkBackend(h, name, used[name], cfg) }})
	}
	checks = append(checks,
		check{"config directory", func() checkResult { return checkDir(h.Paths.ConfigDir) }},
		check{"cache directory", func() checkResult { return checkDir(h.Paths.CacheDir) }},
	)
	for _, name := range names {
		checks = append(checks, inv.profileChecks(c, h, name, profiles[name], only != "")...)
	}
	return append(checks,
		check{"openstack CLI plugin", checkOpenStackPlugin},
		check{"kubectl", func() checkResult {
			if path, err := exec.LookPath("kubectl"); err == nil {
				return ok("%s", path)
			}
			return skip("not on PATH (needed only for Kubernetes)")
		}},
		check{"vkc-credential on PATH", checkOnPath},
	), nil
}

// runChecks runs the checks in order and counts their verdicts.
func runChecks(checks []check) protocol.DoctorResponse {
	report := protocol.DoctorResponse{Version: protocol.Version}
	for _, ch := range checks {
		r := ch.run()
		report.Checks = append(report.Checks, protocol.Check{Name: ch.name, Status: r.status, Detail: r.detail, Hint: r.hint})
		switch r.status {
		case "ok":
			report.Passed++
		case "fail":
			report.Failed++
		default:
			report.Skipped++
		}
	}
	return report
}

// errChecksFailed ends doctor's text report with exit 8.
var errChecksFailed = protocol.NewError(protocol.CodeChecksFailed, "some checks failed; see the hints above")

func (inv *invocation) printReport(r protocol.DoctorResponse) {
	w := bufio.NewWriter(inv.stdout)
	for _, ch := range r.Checks {
		tag := map[string]string{"ok": "[ OK ]", "fail": "[FAIL]", "skip": "[SKIP]"}[ch.Status]
		fmt.Fprintf(w, "%s %s: %s\n", tag, ch.Name, terminalSafe(ch.Detail))
		if ch.Hint != "" {
			lines := strings.Split(ch.Hint, "\n")
			fmt.Fprintf(w, "       hint: %s\n", terminalSafe(lines[0]))
			for _, line := range lines[1:] {
				fmt.Fprintf(w, "         %s\n", terminalSafe(line))
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", r.Passed, r.Failed, r.Skipped)
	w.Flush()
}

// checkBackend proves a backend with a round trip of a throwaway secret.
// A backend that is not set up here and that no profile uses is skipped;
// one that fails, or that a profile uses and is not set up, fails. Either
// way the hint is the backend's own: how to set it up, or mend it.
func (inv *invocation) checkBackend(h *helper.Helper, name string, used bool, cfg keyring.Config) checkResult {
	return inv.backendResult(name, used, func() error {
		if err := keyring.Ready(name, cfg); err != nil {
			return err
		}
		return h.ProveKeyring(name)
	})
}

// backendResult is the verdict on the backend called name, which a profile
// uses or not, from prove's error.
func (inv *invocation) backendResult(name string, used bool, prove func() error) checkResult {
	err := prove()
	if err == nil {
		return ok("a throwaway secret was written, read back and deleted; %s", keyring.Describe(name))
	}
	_, msg := inv.describe(err)
	if errors.Is(err, keyring.ErrNotSetUp) && !used {
		return checkResult{status: "skip", detail: msg + "; no profile uses it", hint: setupHint(name)}
	}
	return fail(msg, setupHint(name))
}

// setupHint is the backend's own word on how to set it up here, or mend
// it: a sentence, then each command on a line of its own.
func setupHint(backend string) string {
	s := keyring.HowToSetUp(backend)
	if len(s.Commands) == 0 {
		return s.Do
	}
	return s.Do + ":\n" + strings.Join(s.Commands, "\n")
}

func checkDir(dir string) checkResult {
	err := helper.CheckDir(dir)
	switch {
	case err == nil:
		return ok("%s: yours, 0700, writable", dir)
	case errors.Is(err, fs.ErrNotExist):
		return ok("%s does not exist yet; the first store creates it 0700", dir)
	}
	return fail(err.Error(), "the directory must be yours and private: `chmod 700 "+dir+"`, or move it away and let vkc-credential create it")
}

// profileChecks are the checks of one stored profile: its settings, its
// password (or its secret command, run only when the doctor is of this
// profile alone), its cached token and whether its Keystone answers.
func (inv *invocation) profileChecks(c *cli.Context, h *helper.Helper, name string, p *helper.Profile, alone bool) []check {
	prefix := "profile " + name + ": "
	if p == nil {
		return []check{{prefix + "settings", func() checkResult {
			_, err := h.Paths.LoadProfile(name)
			return fail(err.Error(), "run `vkc-credential store --profile "+name+"` (with --openrc FILE or the settings' flags)")
		}}}
	}
	var secret check
	if p.SecretCommand != "" {
		secret = secretCommandCheck(c.Context, h, name, p, alone)
	} else {
		secret = inv.secretCheck(h, name, p)
	}
	return []check{
		{prefix + "settings", func() checkResult {
			if _, err := helper.Resolve(helper.Sources{Stored: &p.Settings}); err != nil {
				return fail(err.Error(), "run `vkc-credential store --profile "+name+"` with the missing settings")
			}
			return ok("%s as %s (domain %s), project %s, region %s", p.AuthURL, p.Username, p.UserDomainName, p.ProjectID, p.Region)
		}},
		secret,
		{prefix + "cached token", func() checkResult {
			if exp := h.TokenState(p.Settings); exp != nil {
				return ok("valid until %s (%s left)", exp.UTC().Format(time.RFC3339), time.Until(*exp).Round(time.Second))
			}
			return skip("none cached; the next get issues one")
		}},
		{prefix + "keystone reachable", func() checkResult {
			if err := h.Reachable(c.Context, p.AuthURL); err != nil {
				// The edge's hint for what the failure points at (the
				// certificate, the host name...), said once.
				hint := inv.hint(err)
				if hint == "" {
					hint = "check the network, a proxy (HTTPS_PROXY) and the auth URL; a private CA needs --cacert FILE"
				}
				return fail(err.Error(), hint)
			}
			return ok("GET %s answered (no credentials sent)", p.AuthURL)
		}},
	}
}

// secretCheck is the check that a profile's password is in its backend.
func (inv *invocation) secretCheck(h *helper.Helper, name string, p *helper.Profile) check {
	return check{"profile " + name + ": password in " + p.Keyring, func() checkResult {
		_, _, err := h.FindSecret(p.Settings, name, p.Keyring)
		switch {
		case err == nil:
			return ok("stored")
		case errors.Is(err, keyring.ErrNotFound):
			return fail("no password is stored in "+p.Keyring, "run `vkc-credential store --profile "+name+"`")
		}
		_, msg := inv.describe(err)
		return fail(msg, setupHint(p.Keyring))
	}}
}

// checkOpenStackPlugin asks the openstack CLI's own Python whether it
// has the vkc auth type.
func checkOpenStackPlugin() checkResult {
	path, err := exec.LookPath("openstack")
	if err != nil {
		return skip("the openstack CLI is not on PATH")
	}
	py := "python3"
	if f, err := os.Open(path); err == nil {
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if interp, ok := strings.CutPrefix(strings.TrimSpace(line), "#!"); ok && strings.Contains(interp, "python") {
			f := strings.Fields(interp) // "/usr/bin/python3" or "/usr/bin/env python3"
			py = f[0]
			if filepath.Base(py) == "env" && len(f) > 1 {
				py = f[1]
			}
		}
	}
	const probe = "from keystoneauth1 import loading; loading.get_plugin_loader('vkc')"
	cmd := exec.Command(py, "-c", probe)
	// Python puts the current directory first on the path of a -c
	// program: a keystoneauth1.py planted in an untrusted checkout would
	// run. So the probe runs in /, which is root's, and PYTHONSAFEPATH
	// (Python 3.11 and later) leaves even that off the path. Not -I: it
	// would also drop PYTHONPATH and the user's site-packages, which the
	// openstack CLI reads and where install.sh puts the plugin for a user
	// who is not root.
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "PYTHONSAFEPATH=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fail(fmt.Sprintf("the auth type vkc does not load in %s (%s)", py, lines[len(lines)-1]),
			"install it: `bash integrations/keystoneauth/install.sh` from the source, or `pip install vkc_keystoneauth-*.whl` with that Python")
	}
	return ok("the auth type vkc loads in %s", py)
}

func checkOnPath() checkResult {
	path, err := exec.LookPath("vkc-credential")
	if err != nil {
		self, _ := os.Executable()
		return fail("not found on PATH", fmt.Sprintf("the openstack plugin and kubectl run vkc-credential by name: add %s to PATH", filepath.Dir(self)))
	}
	return ok("%s", path)
}
