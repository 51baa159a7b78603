//go:build !urfave_cli_no_docs

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vkc-credential/cmdline"
)

// TestCompletionsOfferTheChoices: every flag that takes one of a fixed
// set (read through its Choices method) has the set offered by the bash,
// zsh and fish completions; a rename of the method would otherwise leave
// the completions without values and nothing failing.
func TestCompletionsOfferTheChoices(t *testing.T) {
	app := cmdline.App()
	app.Setup()
	m, err := describe(app)
	if err != nil {
		t.Fatal(err)
	}
	bash, zsh, fish := bashCompletion(m), zshCompletion(m), fishCompletion(m)
	n := 0
	for _, c := range m.leaves() {
		for _, f := range c.flags {
			if f.choices == nil {
				continue
			}
			n++
			words := strings.Join(f.choices, " ")
			if !strings.Contains(bash, "compgen -W '"+words+"'") || !strings.Contains(zsh, ":("+words+")'") || !strings.Contains(fish, "-l "+f.name+" -x -a '"+words+"'") {
				t.Errorf("%s --%s: the completions do not offer %q", c.name, f.name, words)
			}
		}
	}
	// get --format, env --shell, store --keyring, doctor --format.
	if n < 4 {
		t.Fatalf("%d flags with a fixed set of values; want at least 4", n)
	}
}

// TestBashCompletesSubcommands runs the bash completion in bash: after a
// command with subcommands it offers their names, after a subcommand its
// own flags and their values.
func TestBashCompletesSubcommands(t *testing.T) {
	app := cmdline.App()
	app.Setup()
	m, err := describe(app)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "completion.bash")
	if err := os.WriteFile(script, []byte(bashCompletion(m)), 0o600); err != nil {
		t.Fatal(err)
	}
	complete := `. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _vkc_credential; echo "${COMPREPLY[*]}"`
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"appcred", ""}, "create list delete --help"},
		{[]string{"appcred", "create", "--st"}, "--store-as"},
		{[]string{"--profile", "p", "appcred", "create", "--keyring", ""}, "auto os pass keyctl"},
		{[]string{"appcred", "list", "--name", "n", "--na"}, "--name"},
		{[]string{"store", "--keyring", ""}, "auto os pass keyctl"},
	} {
		out, err := exec.Command("bash", append([]string{"--norc", "--noprofile", "-c", complete, "bash", script, program}, tt.words...)...).Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.words, got, err, tt.want)
		}
	}
}
