package cmdline

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// This file holds the command line's one speed trick, measured by
// BenchmarkCachedGetRun. urfave/cli/v2's flag handling costs time
// quadratic in a command's number of flags, and it derives every flag's
// names through a regular expression on each call. So the flags every
// command takes are defined once, on the app, and liftCommonFlags moves
// them from after the command name to before it; and fast gives each
// flag its names once.

// commonValueFlags and commonBoolFlags are the flags every command takes;
// valueFlags are the commands' own flags that take a value, so that
// liftCommonFlags can step over their values.
var (
	commonValueFlags = map[string]bool{"profile": true, "timeout": true, "keyring-timeout": true, "cacert": true}
	commonBoolFlags  = map[string]bool{"debug": true, "no-stdin": true}
	valueFlags       = map[string]bool{"format": true, "min-ttl": true, "shell": true, "auth-url": true, "project-id": true,
		"username": true, "user-domain-name": true, "region": true, "interface": true, "openrc": true, "keyring": true,
		"application-credential-id": true, "project-name": true, "cloud": true, "totp-command": true}
)

// liftCommonFlags moves the common flags written after the command name
// to before it: `vkc-credential get --profile p` becomes `vkc-credential
// --profile p get`. Nothing after `--` or after the first argument that
// is not a flag is touched. A common flag whose value is missing (last
// argument, or followed by another flag) is a usage error naming it.
func liftCommonFlags(args []string) ([]string, error) {
	cmd := commandIndex(args)
	if cmd < 0 {
		return args, nil
	}
	var lifted, rest []string
	i := cmd + 1
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case commonValueFlags[name]:
			lifted = append(lifted, a)
			if !hasValue {
				if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
					return nil, usagef("flag --%s needs a value", name)
				}
				i++
				lifted = append(lifted, args[i])
			}
		case commonBoolFlags[name]:
			lifted = append(lifted, a)
		default:
			rest = append(rest, a)
			if valueFlags[name] && !hasValue && i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
		}
	}
	if len(lifted) == 0 {
		return args, nil
	}
	out := make([]string, 0, len(args))
	out = append(out, args[:cmd]...)
	out = append(out, lifted...)
	out = append(out, args[cmd])
	out = append(out, rest...)
	return append(out, args[i:]...), nil
}

// commandIndex finds the command name in args: the first argument that
// is not a flag or the value of a common flag; -1 when there is none.
func commandIndex(args []string) int {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return -1
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if commonValueFlags[name] && !hasValue {
			i++
		}
	}
	return -1
}

// jsonCommand tells, from the raw arguments, whether the command's
// answer on stdout is JSON, and so whether an error goes there too.
func jsonCommand(args []string) bool {
	cmd := commandIndex(args)
	if cmd < 0 {
		return false
	}
	switch args[cmd] {
	case "store", "erase", "list", "version", "projects":
		return true
	case "get", "doctor":
		format := formatJSON
		if args[cmd] == "doctor" {
			format = "text"
		}
		for i := cmd + 1; i < len(args); i++ {
			a := args[i]
			if a == "--" {
				break
			}
			if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "format="); ok && strings.HasPrefix(a, "-") {
				format = v
			} else if (a == "--format" || a == "-format") && i+1 < len(args) {
				format = args[i+1]
			}
		}
		return format == formatJSON
	}
	return false
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
