package cmdline

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// This file holds the command line's one speed trick, measured by
// BenchmarkCachedGetRun. urfave/cli/v2's flag handling costs time
// quadratic in a command's number of flags, and it derives every flag's
// names through a regular expression on each call. So the flags every
// command takes are defined once, on the app, and lift moves them from
// after the command name to before it; and fast gives each flag its names
// once.

// lift moves the common flags written after the command name to before
// it: `vkc-credential get --profile p` becomes `vkc-credential --profile p
// get`. Nothing after `--` or after the first argument that is not a flag
// is touched. Which flags are common and which take a value is read off
// the definition (s), so a flag added there is stepped over rightly with
// no list to keep in step. A flag whose value is missing (the last
// argument, or followed by a flag the command knows) is a usage error
// naming it and the command's help.
func (s *surface) lift(args []string) ([]string, error) {
	at := s.commandIndex(args)
	if at < 0 {
		return args, nil
	}
	var own []cli.Flag // the command's flags; none for help or an unknown name
	if c := s.command(args[at]); c != nil {
		own = c.Flags
	}
	var lifted, rest []string
	i := at + 1
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		to := &lifted
		f := findFlag(s.common, name)
		if f == nil {
			to, f = &rest, findFlag(own, name)
		}
		*to = append(*to, a)
		if f == nil || hasValue || !takesValue(f) {
			continue
		}
		if i+1 >= len(args) || s.isFlag(own, args[i+1]) {
			return nil, needsValue(name, args[at])
		}
		i++
		*to = append(*to, args[i])
	}
	if len(lifted) == 0 {
		return args, nil
	}
	out := make([]string, 0, len(args))
	out = append(out, args[:at]...)
	out = append(out, lifted...)
	out = append(out, args[at])
	out = append(out, rest...)
	return append(out, args[i:]...), nil
}

// isFlag reports whether a names a flag of the command (own), a common
// flag or --help: then it is not the value of the flag before it.
func (s *surface) isFlag(own []cli.Flag, a string) bool {
	if !strings.HasPrefix(a, "-") {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return name == "help" || name == "h" || findFlag(s.common, name) != nil || findFlag(own, name) != nil
}

// commandIndex finds the command name in args: the first argument that
// is not a flag or the value of a common flag; -1 when there is none.
func (s *surface) commandIndex(args []string) int {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return -1
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := findFlag(s.common, name); f != nil && takesValue(f) && !hasValue {
			i++
		}
	}
	return -1
}

// jsonAnswer tells, from the raw arguments, whether the command's answer
// on stdout is JSON, and so whether an error goes there too: the
// definition's json, narrowed by --format (the last one written, or its
// default) where the command has that flag.
func (s *surface) jsonAnswer(args []string) bool {
	at := s.commandIndex(args)
	if at < 0 {
		return false
	}
	c := s.command(args[at])
	if c == nil || !c.json {
		return false
	}
	f, ok := findFlag(c.Flags, "format").(*choiceFlag)
	if !ok {
		return true
	}
	format := f.defaultValue()
	for i := at + 1; i < len(args) && args[i] != "--"; i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		switch {
		case !strings.HasPrefix(args[i], "-") || name != "format":
		case hasValue:
			format = value
		case i+1 < len(args):
			format = args[i+1]
		}
	}
	return format == formatJSON
}

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

// fast wraps flags so that each gives its names without a regexp; other
// kinds of flag pass through unchanged.
func fast(flags ...cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			out[i] = &stringFlag{f, append([]string{f.Name}, f.Aliases...)}
		case *cli.BoolFlag:
			out[i] = &boolFlag{f, append([]string{f.Name}, f.Aliases...)}
		case *cli.DurationFlag:
			out[i] = &durationFlag{f, append([]string{f.Name}, f.Aliases...)}
		default:
			out[i] = f
		}
	}
	return out
}
