package cmdline

import (
	"os"
	"runtime"
	"strings"

	"vkc-credential/helper"
)

// environment is what `exec` and `env` hand to tools: variables to set
// and variables to remove.
type environment struct {
	set   [][2]string
	unset []string
}

// removedVars are removed from a tool's environment: with any of them
// set, the openstack CLI ignores OS_TOKEN (or prefers another way to
// authenticate), and none of their secrets may leak. OS_CLOUD goes too: it
// points tools at a clouds.yaml entry that would take precedence over the
// token.
var removedVars = []string{
	"OS_PASSWORD", "OS_USERNAME", "OS_USER_ID", "OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID",
	"OS_PROJECT_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID", "OS_CLOUD",
	"OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_SECRET",
	"OS_TENANT_ID", "OS_TENANT_NAME", "OS_PASSCODE",
}

// execMarker is set in the environment of a command run by `exec`, so
// that a nested `exec` can tell.
const execMarker = "VKC_EXEC_PROFILE"

// tokenEnv returns the environment that carries tok to a tool.
func tokenEnv(tok *helper.Token) environment {
	return environment{
		set: [][2]string{
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
		unset: removedVars,
	}
}

// apply returns environ (NAME=value entries) with e's variables removed
// and set.
func (e environment) apply(environ []string) []string {
	drop := map[string]bool{}
	for _, n := range e.unset {
		drop[n] = true
	}
	for _, kv := range e.set {
		drop[kv[0]] = true
	}
	out := make([]string, 0, len(environ)+len(e.set))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if runtime.GOOS == "windows" { // names are case-insensitive there
			name = strings.ToUpper(name)
		}
		if !drop[name] {
			out = append(out, kv)
		}
	}
	for _, kv := range e.set {
		out = append(out, kv[0]+"="+kv[1])
	}
	return out
}

// The shell syntaxes `env` writes.
const (
	shellPOSIX      = "posix"
	shellFish       = "fish"
	shellPowerShell = "powershell"
)

// shells are the names --shell takes, in the order the help shows them,
// each with the syntax it stands for.
var shells = []struct{ name, syntax string }{
	{shellPOSIX, shellPOSIX}, {"sh", shellPOSIX}, {"bash", shellPOSIX}, {"zsh", shellPOSIX}, {"ksh", shellPOSIX}, {"dash", shellPOSIX},
	{shellFish, shellFish},
	{shellPowerShell, shellPowerShell}, {"pwsh", shellPowerShell},
}

// shellNames are the values of --shell.
func shellNames() []string {
	names := make([]string, len(shells))
	for i, s := range shells {
		names[i] = s.name
	}
	return names
}

// shellSyntax is the syntax of the shell named name (posix for a name
// --shell does not take, which its flag has refused already).
func shellSyntax(name string) string {
	for _, s := range shells {
		if s.name == name {
			return s.syntax
		}
	}
	return shellPOSIX
}

// render writes e as lines for shell to evaluate.
func (e environment) render(shell string) string {
	var b strings.Builder
	for _, kv := range e.set {
		switch shell {
		case shellFish:
			b.WriteString("set -gx " + kv[0] + " " + fishQuote(kv[1]) + ";\n")
		case shellPowerShell:
			b.WriteString("$Env:" + kv[0] + " = " + powershellQuote(kv[1]) + "\n")
		default:
			b.WriteString("export " + kv[0] + "=" + shellQuote(kv[1]) + "\n")
		}
	}
	for _, name := range e.unset {
		switch shell {
		case shellFish:
			b.WriteString("set -e " + name + ";\n")
		case shellPowerShell:
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

// powershellQuote quotes s for PowerShell, whose single-quoted strings
// end at any of five quote characters (' and U+2018 to U+201B); each is
// doubled, which PowerShell reads as one literal character.
func powershellQuote(s string) string {
	return "'" + powershellQuotes.Replace(s) + "'"
}

var powershellQuotes = strings.NewReplacer("'", "''", "\u2018", "\u2018\u2018", "\u2019", "\u2019\u2019", "\u201a", "\u201a\u201a", "\u201b", "\u201b\u201b")

// inExec reports the profile of the `exec` this process runs inside.
func inExec() string { return os.Getenv(execMarker) }
