package helper

import "github.com/urfave/cli/v2"

// urfave/cli/v2 derives a flag's names through a regular expression on
// every Names call, and its flag handling calls Names a number of times
// quadratic in the number of flags: on a cached get that was most of the
// program's own work. These wrappers give each flag its names once.

type stringFlag struct {
	*cli.StringFlag
	names []string
}

func (f *stringFlag) Names() []string { return f.names }

type boolFlag struct {
	*cli.BoolFlag
	names []string
}

func (f *boolFlag) Names() []string { return f.names }

type durationFlag struct {
	*cli.DurationFlag
	names []string
}

func (f *durationFlag) Names() []string { return f.names }

func names(name string, aliases []string) []string {
	return append([]string{name}, aliases...)
}

// fast wraps the flags of fs; other kinds pass through unchanged.
func fast(fs ...cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(fs))
	for i, f := range fs {
		switch f := f.(type) {
		case *cli.StringFlag:
			out[i] = &stringFlag{f, names(f.Name, f.Aliases)}
		case *cli.BoolFlag:
			out[i] = &boolFlag{f, names(f.Name, f.Aliases)}
		case *cli.DurationFlag:
			out[i] = &durationFlag{f, names(f.Name, f.Aliases)}
		default:
			out[i] = f
		}
	}
	return out
}
