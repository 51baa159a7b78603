package cmdline

import (
	"errors"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// choiceFlag is a flag whose value is one of a fixed set, as aws-vault's
// enum flags are: the set is checked while the flags are parsed (any
// other value is a usage error, exit 2, that lists the set), shown in the
// help and offered by the completions (Choices).
type choiceFlag struct {
	cli.GenericFlag
	value choiceValue
	names [1]string
}

// choiceValue is a choiceFlag's value.
type choiceValue struct {
	value   string
	choices []string
}

func (v *choiceValue) Set(s string) error {
	for _, c := range v.choices {
		if s == c {
			v.value = s
			return nil
		}
	}
	return errors.New("use one of " + strings.Join(v.choices, ", "))
}

func (v *choiceValue) String() string { return v.value }

// choice defines a choice flag: its name, what it is (a `PLACEHOLDER` in
// backquotes names its value in the help), the values it takes, the
// default, and the environment variables it is read from.
func choice(name, usage string, choices []string, def string, envVars ...string) *choiceFlag {
	f := &choiceFlag{value: choiceValue{value: def, choices: choices}, names: [1]string{name}}
	f.GenericFlag = cli.GenericFlag{Name: name, Usage: usage, EnvVars: envVars, Value: &f.value}
	return f
}

// Names gives the flag's names without urfave/cli's regular expression
// (see fast in argv.go).
func (f *choiceFlag) Names() []string { return f.names[:] }

// Choices are the values the flag takes, in the order the help shows
// them; tools/gendocs offers them in the completions.
func (f *choiceFlag) Choices() []string { return f.value.choices }

// GetUsage is the usage with the values the flag takes; it is built only
// when the help or the docs ask, not on every run.
func (f *choiceFlag) GetUsage() string {
	return f.Usage + "; one of " + strings.Join(f.Choices(), ", ")
}

// String is the help line; the embedded flag's would not see GetUsage.
func (f *choiceFlag) String() string { return cli.FlagStringer(f) }

// defaultValue is the value the flag has when it is not given.
func (f *choiceFlag) defaultValue() string { return f.value.value }

// onUsageError makes the usage errors of urfave/cli and of Go's flag
// package, which name flags with one dash (-format) and send the reader
// to the top-level help, name the flag as it is written (--format) and the
// help of the command named in the arguments (inv.command; a common flag
// is parsed by the app, before the command it was written after).
func (s *surface) onUsageError(inv *invocation) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return usagef("%s; %s", s.flagMessage(inv.command, err.Error()), seeHelp(inv.command))
	}
}

// seeHelp points at the help of cmd ("" for the app).
func seeHelp(cmd string) string {
	if cmd == "" {
		return "see `vkc-credential --help`"
	}
	return "see `vkc-credential " + cmd + " --help`"
}

// needsValue is the error of a flag written without its value.
func needsValue(flag, cmd string) error {
	return usagef("flag --%s needs a value; %s", flag, seeHelp(cmd))
}

// flagMessage rewrites one message of Go's flag package or of urfave/cli's
// reading of environment variables; any other passes unchanged.
func (s *surface) flagMessage(cmd, msg string) string {
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "flag --" + name + " needs a value"
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + strings.TrimPrefix(name, "-")
	}
	var value, source, name, reason string
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		value, rest = quotedPrefix(rest)
		name, reason, ok = strings.Cut(strings.TrimPrefix(rest, " for flag -"), ": ")
		if !ok {
			return msg
		}
	} else if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		value, rest = quotedPrefix(rest)
		name, reason, ok = strings.Cut(strings.TrimPrefix(rest, " for -"), ": ")
		if !ok {
			return msg
		}
	} else if rest, ok := strings.CutPrefix(msg, "could not parse "); ok {
		// urfave/cli: could not parse "V" [as T value] from SOURCE [as value] for flag NAME: REASON
		value, rest = quotedPrefix(rest)
		_, rest, _ = strings.Cut(rest, " from ")
		source, rest, ok = strings.Cut(rest, " for flag ")
		if !ok {
			return msg
		}
		source = " in " + strings.TrimSuffix(source, " as value")
		name, reason, _ = strings.Cut(rest, ": ")
	} else {
		return msg
	}
	switch s.flag(cmd, name).(type) {
	case *durationFlag:
		reason = "not a duration like 30s or 5m"
	case *boolFlag:
		reason = "use true or false"
	}
	return "invalid value " + value + source + " for --" + name + ": " + reason
}

// quotedPrefix splits a Go-quoted string off the front of s.
func quotedPrefix(s string) (quoted, rest string) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s
	}
	return q, s[len(q):]
}

// flag finds the flag name of command cmd (or a common flag); nil if
// there is none.
func (s *surface) flag(cmd, name string) cli.Flag {
	if f := findFlag(s.common, name); f != nil {
		return f
	}
	if c := s.command(cmd); c != nil {
		return findFlag(s.flags(c), name)
	}
	return nil
}

// findFlag returns the flag of flags that has name, or nil.
func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// takesValue reports whether f is written with a value.
func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

// flagNames are the long names of flags.
func flagNames(flags []cli.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = f.Names()[0]
	}
	return out
}
