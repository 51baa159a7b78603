package cmdline

import "os"

// forwardedSignals are the signals `exec --serve` catches: Ctrl-C, which
// the console delivers to the command too.
var forwardedSignals = []os.Signal{os.Interrupt}

// deliveredByTerminal: the console sends Ctrl-C to every process attached
// to it, the command included.
func deliveredByTerminal(os.Signal) bool { return true }
