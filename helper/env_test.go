package helper

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	values := []string{"plain", "", "with space", `it's`, `"dq"`, "$HOME", "`id`", "a\nb", `back\slash`, "ünï"}
	for _, v := range values {
		out, err := exec.Command(sh, "-c", "eval \"$1\"; printf %s \"$X\"", "sh", ShellExports(Env{Set: [][2]string{{"X", v}}})).Output()
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if string(out) != v {
			t.Errorf("round trip of %q gave %q", v, out)
		}
	}
	if got := ShellExports(Env{Unset: []string{"OS_PASSWORD"}}); !strings.Contains(got, "unset OS_PASSWORD\n") {
		t.Errorf("unset line missing: %q", got)
	}
}
