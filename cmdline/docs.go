package cmdline

import (
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// App returns the command definitions as the program runs them: the
// commands, their flags and help texts, with empty input and discarding
// output streams. It exists for tools/gendocs, which writes the man page
// and the shell completions from it at release time; the program itself
// never calls it. Running the returned app does nothing useful. A flag
// that takes one of a fixed set of values has a Choices method that lists
// them.
func App() *cli.App {
	inv := newInvocation(strings.NewReader(""), io.Discard, io.Discard)
	return inv.surface().app(inv)
}
