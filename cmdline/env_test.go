package cmdline

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// hostile are values that try to end a quoted string or run a command in
// each shell.
var hostile = []string{
	"plain", "", "with space", `it's`, `"dq"`, "$HOME", "`id`", "$(id)", "a\nb", `back\slash`, `\'`, "ünï",
	"RegionOne\u2019; New-Item pwned; \u2018", "\u201a\u201b$(x)\u2018", "'; rm -rf ~; '", "-e", "%PATH%", "#comment",
}

// TestPOSIXAndFishQuotingRoundTrip evaluates the lines in real shells:
// each value comes back exactly. fish is required in CI
// (VKC_E2E_REQUIRED) and skipped elsewhere when missing.
func TestPOSIXAndFishQuotingRoundTrip(t *testing.T) {
	shells := []struct{ name, syntax, script string }{
		{"sh", shellPOSIX, `eval "$1"; printf %s "$X"`},
		{"fish", shellFish, `eval $argv[1]; printf %s "$X"`},
	}
	for _, sh := range shells {
		path, err := exec.LookPath(sh.name)
		if err != nil {
			if os.Getenv("VKC_E2E_REQUIRED") != "" {
				t.Fatalf("%s is not installed", sh.name)
			}
			t.Logf("skipping %s: not installed", sh.name)
			continue
		}
		for _, v := range hostile {
			if sh.name == "fish" && strings.Contains(v, "\n") {
				continue // fish's eval runs each line as a command; env never writes a newline (values are printable ASCII)
			}
			lines := environment{set: [][2]string{{"X", v}}}.render(sh.syntax)
			args := []string{"-c", sh.script, "sh", lines}
			if sh.name == "fish" {
				args = []string{"-c", sh.script, lines}
			}
			out, err := exec.Command(path, args...).Output()
			if err != nil {
				t.Fatalf("%s: %q: %v", sh.name, v, err)
			}
			if string(out) != v {
				t.Errorf("%s: round trip of %q gave %q", sh.name, v, out)
			}
		}
	}
}

// powershellUnquote reads one single-quoted PowerShell string from the
// start of s the way PowerShell's tokenizer does: any of the five single
// quote characters opens and ends it, and a quote character followed by
// another one stands for the second. It returns the value and the rest.
func powershellUnquote(t *testing.T, s string) (string, string) {
	isQuote := func(r rune) bool { return r == '\'' || r >= '\u2018' && r <= '\u201b' }
	rs := []rune(s)
	if len(rs) == 0 || !isQuote(rs[0]) {
		t.Fatalf("not a quoted string: %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if !isQuote(rs[i]) {
			b.WriteRune(rs[i])
			continue
		}
		if i+1 < len(rs) && isQuote(rs[i+1]) {
			b.WriteRune(rs[i+1])
			i++
			continue
		}
		return b.String(), string(rs[i+1:])
	}
	t.Fatalf("unterminated string: %q", s)
	return "", ""
}

// TestPowerShellQuoting: no PowerShell here, so a model of its
// single-quoted strings reads our output back: every value is one string
// with nothing after it on the line.
func TestPowerShellQuoting(t *testing.T) {
	for _, v := range hostile {
		line := environment{set: [][2]string{{"X", v}}}.render(shellPowerShell)
		rest, ok := strings.CutPrefix(line, "$Env:X = ")
		if !ok {
			t.Fatalf("%q", line)
		}
		got, after := powershellUnquote(t, rest)
		if got != v || after != "\n" {
			t.Errorf("%q came out as %q followed by %q", v, got, after)
		}
	}
}

func TestEnvApplyRemovesSecretVariables(t *testing.T) {
	e := environment{set: [][2]string{{"OS_TOKEN", "tok"}}, unset: removedVars}
	parent := []string{"PATH=/bin", "OS_PASSWORD=hunter2", "OS_USERNAME=u", "OS_TOKEN=old", "OS_CACERT=/ca.pem",
		"OS_CLOUD=vk", "OS_APPLICATION_CREDENTIAL_SECRET=s", "OS_TENANT_NAME=t", "OS_PASSCODE=123456"}
	got := strings.Join(e.apply(parent), " ")
	if got != "PATH=/bin OS_CACERT=/ca.pem OS_TOKEN=tok" {
		t.Fatalf("apply: %s", got)
	}
}
