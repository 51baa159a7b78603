package cmdline

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	format := c.String("format")
	if format != "text" && format != formatJSON {
		return usagef("unknown --format %q; use text or json", format)
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	only := c.String("profile")
	if only == "" && req != nil {
		only = req.Profile
	}
	names, err := h.ProfileNames()
	if err != nil {
		return err
	}
	if only != "" {
		names = []string{only}
	}
	profiles := map[string]*helper.Profile{}
	used := map[string]bool{}
	for _, name := range names {
		if p, err := h.Paths.LoadProfile(name); err == nil {
			profiles[name] = &p
			used[p.Keyring] = true
		}
	}

	var checks []check
	for _, name := range keyring.Names() {
		checks = append(checks, check{"keychain " + name, func() checkResult { return inv.checkBackend(h, name, used[name]) }})
	}
	checks = append(checks,
		check{"config directory", func() checkResult { return checkDir(h.Paths.ConfigDir) }},
		check{"cache directory", func() checkResult { return checkDir(h.Paths.CacheDir) }},
	)
	for _, name := range names {
		checks = append(checks, inv.profileChecks(c, h, name, profiles[name])...)
	}
	checks = append(checks,
		check{"openstack CLI plugin", checkOpenStackPlugin},
		check{"kubectl", func() checkResult {
			if path, err := exec.LookPath("kubectl"); err == nil {
				return ok("%s", path)
			}
			return skip("not on PATH (needed only for Kubernetes)")
		}},
		check{"vkc-credential on PATH", checkOnPath},
	)

	var report protocol.DoctorResponse
	report.Version = protocol.Version
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
	if format == formatJSON {
		if err := inv.writeJSON(report); err != nil {
			return err
		}
	} else {
		inv.printReport(report)
	}
	if report.Failed > 0 {
		inv.jsonErrors = false // the report is the answer
		return errChecksFailed
	}
	return nil
}

// errChecksFailed ends doctor with exit 8 after its report.
var errChecksFailed = errors.New("some checks failed; see the hints above")

func (inv *invocation) printReport(r protocol.DoctorResponse) {
	w := bufio.NewWriter(inv.stdout)
	for _, ch := range r.Checks {
		tag := map[string]string{"ok": "[ OK ]", "fail": "[FAIL]", "skip": "[SKIP]"}[ch.Status]
		fmt.Fprintf(w, "%s %s: %s\n", tag, ch.Name, terminalSafe(ch.Detail))
		if ch.Hint != "" {
			fmt.Fprintf(w, "       hint: %s\n", terminalSafe(ch.Hint))
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", r.Passed, r.Failed, r.Skipped)
	w.Flush()
}

// checkBackend proves a backend with a round trip of a throwaway secret.
// A backend that is not set up here and that no profile uses is skipped.
func (inv *invocation) checkBackend(h *helper.Helper, name string, used bool) checkResult {
	what := keyring.Describe(name)
	if !used {
		if why := notSetUp(name); why != "" {
			return skip("%s; %s", why, what)
		}
	}
	if err := h.ProveKeyring(name); err != nil {
		_, msg := inv.describe(err)
		return fail(msg, backendHints[name])
	}
	return ok("a throwaway secret was written, read back and deleted; %s", what)
}

var backendHints = map[string]string{
	"os":     "run inside a desktop session with an unlocked keychain (Linux: a Secret Service such as gnome-keyring in the D-Bus session), or use another backend: store --keyring pass or --keyring keyctl",
	"keyctl": "the kernel's persistent keyrings must be available (CONFIG_PERSISTENT_KEYRINGS) and keyctl(2) allowed (containers often block it with seccomp)",
	"pass":   "install pass and gnupg, create a gpg key and run `pass init KEY-ID`; if gpg asks for a passphrase, unlock the key once in a terminal (e.g. `pass show` of any entry)",
}

// notSetUp says why a backend that nobody set up on this machine is not a
// failure: keyctl off Linux, pass without its program or its store.
func notSetUp(name string) string {
	switch name {
	case "keyctl":
		if runtime.GOOS != "linux" {
			return "the kernel keyring exists only on Linux"
		}
	case "pass":
		if _, err := exec.LookPath("pass"); err != nil {
			return "pass is not installed"
		}
		dir := os.Getenv("PASSWORD_STORE_DIR")
		if dir == "" {
			home, _ := os.UserHomeDir()
			dir = filepath.Join(home, ".password-store")
		}
		if _, err := os.Stat(filepath.Join(dir, ".gpg-id")); err != nil {
			return "no password store is initialised (" + dir + ")"
		}
	}
	return ""
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
// password, its cached token and whether its Keystone answers.
func (inv *invocation) profileChecks(c *cli.Context, h *helper.Helper, name string, p *helper.Profile) []check {
	prefix := "profile " + name + ": "
	if p == nil {
		return []check{{prefix + "settings", func() checkResult {
			_, err := h.Paths.LoadProfile(name)
			_, msg := inv.describe(err)
			return fail(msg, "run `vkc-credential store --profile "+name+"` (with --openrc FILE or the settings' flags)")
		}}}
	}
	return []check{
		{prefix + "settings", func() checkResult {
			if _, err := helper.Resolve(helper.Sources{Stored: &p.Settings}); err != nil {
				_, msg := inv.describe(err)
				return fail(msg, "run `vkc-credential store --profile "+name+"` with the missing settings")
			}
			return ok("%s as %s (domain %s), project %s, region %s", p.AuthURL, p.Username, p.UserDomainName, p.ProjectID, p.Region)
		}},
		{prefix + "password in " + p.Keyring, func() checkResult {
			_, _, err := h.FindSecret(p.Settings, name, p.Keyring)
			switch {
			case err == nil:
				return ok("stored")
			case errors.Is(err, keyring.ErrNotFound):
				return fail("no password is stored in "+p.Keyring, "run `vkc-credential store --profile "+name+"`")
			}
			_, msg := inv.describe(err)
			return fail(msg, backendHints[p.Keyring])
		}},
		{prefix + "cached token", func() checkResult {
			if exp := h.TokenState(p.Settings); exp != nil {
				return ok("valid until %s (%s left)", exp.UTC().Format(time.RFC3339), time.Until(*exp).Round(time.Second))
			}
			return skip("none cached; the next get issues one")
		}},
		{prefix + "keystone reachable", func() checkResult {
			if err := h.Reachable(c.Context, p.AuthURL); err != nil {
				_, msg := inv.describe(err)
				return fail(msg, "check the network, a proxy (HTTPS_PROXY) and the auth URL; a private CA needs --cacert FILE")
			}
			return ok("GET %s answered (no credentials sent)", p.AuthURL)
		}},
	}
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
	out, err := exec.Command(py, "-c", probe).CombinedOutput()
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
