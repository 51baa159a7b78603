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

// lift moves the common flags written after the command name (after the
// subcommand's, for a command that has them) to before it:
// `vkc-credential get --profile p` becomes `vkc-credential --profile p
// get`, and `appcred create --profile p` becomes `--profile p appcred
// create`. Nothing after `--` or after the first argument that is not a
// flag is touched, but for a command whose arguments may stand among its
// flags (interspersed): its arguments then move after its flags
// (`appcred delete NAME --profile p` becomes `--profile p appcred delete
// NAME`). Which flags are common and which take a value is read off
// the definition (s), so a flag added there is stepped over rightly with
// no list to keep in step. A flag whose value is missing (the last
// argument, or followed by a flag the command knows) is a usage error
// naming it and the command's help.
func (s *surface) lift(args []string) ([]string, error) {
	c, at, end := s.commandSpan(args)
	if at < 0 {
		return args, nil
	}
	var own []cli.Flag // the command's flags; none for help or an unknown name
	interspersed := false
	if c != nil {
		own, interspersed = s.flags(c), c.interspersed
	}
	var p liftParts
	i := end + 1
	for ; i < len(args); i++ {
		a := args[i]
		plain := !strings.HasPrefix(a, "-") || a == "-"
		if plain && interspersed {
			p.positional = append(p.positional, a)
			continue
		}
		if a == "--" || plain {
			break
		}
		var missing string
		if i, missing = p.flag(s, own, args, i); missing != "" {
			return nil, needsValue(missing, commandPath(args, at, end))
		}
	}
	if len(p.lifted) == 0 && len(p.positional) == 0 {
		return args, nil
	}
	out := make([]string, 0, len(args))
	out = append(out, args[:at]...)
	out = append(out, p.lifted...)
	out = append(out, args[at:end+1]...)
	out = append(out, p.rest...)
	out = append(out, p.positional...)
	return append(out, args[i:]...), nil
}

// liftParts are the arguments after a command name, as lift sorts them:
// the common flags (lifted), the command's own flags (rest), and the
// arguments of an interspersed command (positional).
type liftParts struct{ lifted, rest, positional []string }

// flag files the flag args[i], and its value when it takes one, as
// lifted or rest, and returns the index of the last argument it took;
// missing is the flag's name when its value is missing (the last
// argument, or followed by a flag the command knows).
func (p *liftParts) flag(s *surface, own []cli.Flag, args []string, i int) (last int, missing string) {
	a := args[i]
	name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	to := &p.lifted
	f := findFlag(s.common, name)
	if f == nil {
		to, f = &p.rest, findFlag(own, name)
	}
	*to = append(*to, a)
	if f == nil || hasValue || !takesValue(f) {
		return i, ""
	}
	if i+1 >= len(args) || s.isFlag(own, args[i+1]) {
		return i, name
	}
	*to = append(*to, args[i+1])
	return i + 1, ""
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

// commandSpan finds the command in args: its name at args[at] (see
// commandIndex), and, for a command that has subcommands, the
// subcommand's name right after it, at end (end is at otherwise). c is
// the definition of the command (or of the subcommand), nil when the
// name is not one; at is -1 when there is no command name.
func (s *surface) commandSpan(args []string) (c *command, at, end int) {
	at = s.commandIndex(args)
	if at < 0 {
		return nil, -1, -1
	}
	c, end = s.command(args[at]), at
	if c != nil && len(c.sub) > 0 && at+1 < len(args) {
		if sub := c.subcommand(args[at+1]); sub != nil {
			c, end = sub, at+1
		}
	}
	return c, at, end
}

// commandPath is the command's name as written, with its subcommand's:
// "get", "appcred create".
func commandPath(args []string, at, end int) string {
	if at == end {
		return args[at]
	}
	return strings.Join(args[at:end+1], " ")
}

// jsonAnswer tells, from the raw arguments, whether the command's answer
// on stdout is JSON, and so whether an error goes there too: the
// definition's json, narrowed by --format (the last one written, or its
// default) where the command has that flag.
func (s *surface) jsonAnswer(args []string) bool {
	c, _, end := s.commandSpan(args)
	if c == nil || !c.json {
		return false
	}
	f, ok := findFlag(s.flags(c), "format").(*choiceFlag)
	if !ok {
		return true
	}
	format := f.defaultValue()
	for i := end + 1; i < len(args) && args[i] != "--"; i++ {
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
