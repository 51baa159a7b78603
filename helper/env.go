package helper

import (
	"os"
	"strings"
)

// Env is what `exec` and `env` hand to tools: variables to set and
// variables to remove.
type Env struct {
	Set   [][2]string
	Unset []string
}

// RemovedVars are removed from a tool's environment: with any of them
// set, the openstack CLI ignores OS_TOKEN, and none of them may leak.
// OS_CLOUD goes too: it points tools at a clouds.yaml entry (perhaps with a
// password) that would take precedence over the token.
var RemovedVars = []string{
	"OS_PASSWORD", "OS_USERNAME", "OS_USER_ID", "OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID",
	"OS_PROJECT_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID", "OS_CLOUD",
}

// ExecMarker is set in the environment of a command run by `exec`, so
// that a nested `exec` can tell.
const ExecMarker = "VKC_EXEC_PROFILE"

// TokenEnv returns the environment that carries tok to a tool.
func TokenEnv(tok *Token) Env {
	return Env{
		Set: [][2]string{
			{"OS_AUTH_TYPE", "v3token"},
			{"OS_TOKEN", tok.ID()},
			{"OS_AUTH_TOKEN", tok.ID()},
			{"OS_AUTH_URL", tok.Settings.AuthURL},
			{"OS_PROJECT_ID", tok.Settings.ProjectID},
			{"OS_REGION_NAME", tok.Settings.Region},
			{"OS_INTERFACE", tok.Settings.Interface},
			{"OS_IDENTITY_API_VERSION", "3"},
			{"VKC_PROFILE", tok.Profile},
		},
		Unset: RemovedVars,
	}
}

// Apply returns environ (NAME=value entries) with e's variables removed
// and set.
func (e Env) Apply(environ []string) []string {
	drop := map[string]bool{}
	for _, n := range e.Unset {
		drop[n] = true
	}
	for _, kv := range e.Set {
		drop[kv[0]] = true
	}
	out := make([]string, 0, len(environ)+len(e.Set))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[envKey(name)] {
			out = append(out, kv)
		}
	}
	for _, kv := range e.Set {
		out = append(out, kv[0]+"="+kv[1])
	}
	return out
}

// envKey folds a variable name the way the OS compares them.
func envKey(name string) string {
	if windows {
		return strings.ToUpper(name)
	}
	return name
}

// The shells `env` writes for.
const (
	ShellPOSIX      = "posix"
	ShellFish       = "fish"
	ShellPowerShell = "powershell"
)

// Render writes e as lines for shell to evaluate.
func (e Env) Render(shell string) string {
	var b strings.Builder
	for _, kv := range e.Set {
		switch shell {
		case ShellFish:
			b.WriteString("set -gx " + kv[0] + " " + fishQuote(kv[1]) + ";\n")
		case ShellPowerShell:
			b.WriteString("$Env:" + kv[0] + " = " + powershellQuote(kv[1]) + "\n")
		default:
			b.WriteString("export " + kv[0] + "=" + shellQuote(kv[1]) + "\n")
		}
	}
	for _, name := range e.Unset {
		switch shell {
		case ShellFish:
			b.WriteString("set -e " + name + ";\n")
		case ShellPowerShell:
			b.WriteString("Remove-Item Env:" + name + " -ErrorAction SilentlyContinue\n")
		default:
			b.WriteString("unset " + name + "\n")
		}
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special but the single quote itself.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish, where \\ and \' are the only escapes
// inside single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// powershellQuote quotes s for PowerShell: a single quote is doubled.
func powershellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// inExec reports the profile of the `exec` this process runs inside.
func inExec() string { return os.Getenv(ExecMarker) }
