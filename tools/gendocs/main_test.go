//go:build !urfave_cli_no_docs

package main

import (
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
	for _, c := range m.commands {
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
