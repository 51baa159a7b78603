package helper

import (
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
var RemovedVars = []string{
	"OS_PASSWORD", "OS_USERNAME", "OS_USER_ID", "OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID",
	"OS_PROJECT_NAME", "OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID",
}

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

// ShellExports renders e as POSIX shell lines for eval.
func ShellExports(e Env) string {
	var b strings.Builder
	for _, kv := range e.Set {
		b.WriteString("export " + kv[0] + "=" + shellQuote(kv[1]) + "\n")
	}
	for _, name := range e.Unset {
		b.WriteString("unset " + name + "\n")
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell: inside single quotes nothing is
// special but the single quote itself.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
