package cmdline

import (
	"io"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"vkc-credential/keyring"
)

// App returns the command definitions as the program runs them: the
// commands, their flags and help texts, with empty input and discarding
// output streams. It exists for tools/gendocs, which writes the man page
// and the shell completions from it at release time; the program itself
// never calls it. Running the returned app does nothing useful.
func App() *cli.App {
	inv := newInvocation(strings.NewReader(""), io.Discard, io.Discard)
	return inv.app()
}

// FlagValues lists the values of the flags that take one of a fixed set,
// keyed "COMMAND --FLAG", for tools/gendocs to offer in completions.
// Kept here, beside the constants the commands check against.
func FlagValues() map[string][]string {
	shellNames := make([]string, 0, len(shells))
	for name := range shells {
		shellNames = append(shellNames, name)
	}
	sort.Strings(shellNames)
	return map[string][]string{
		"get --format":    {formatJSON, formatToken, formatEnv, formatExecCredential, formatKeystoneAuth},
		"doctor --format": {"text", formatJSON},
		"env --shell":     shellNames,
		"store --keyring": append([]string{"auto"}, keyring.Names()...),
	}
}
