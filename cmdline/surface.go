package cmdline

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// surface is one run's view of the command line as defined (commands, in
// app.go): the flags every command takes, and each command's own flags,
// built the first time they are asked for. A run builds the flags of the
// command its arguments name and no other's (a cached get pays for
// nothing it does not use); the app's help and the docs build them all.
type surface struct {
	common   []cli.Flag
	commands []command
	// built are the flags of the commands asked for so far.
	built []builtFlags
}

type builtFlags struct {
	c     *command
	flags []cli.Flag
}

// surface is the command line of this run.
func (inv *invocation) surface() *surface {
	return &surface{common: commonFlags(), commands: commands}
}

// flags are c's own flags, built once per run (the same flags parse the
// arguments and tell lift which of them take a value).
func (s *surface) flags(c *command) []cli.Flag {
	for _, b := range s.built {
		if b.c == c {
			return b.flags
		}
	}
	var flags []cli.Flag
	if c.flags != nil {
		flags = c.flags()
	}
	s.built = append(s.built, builtFlags{c, flags})
	return flags
}

// app is the urfave/cli application of the whole surface: every command,
// for the app's help and the docs.
func (s *surface) app(inv *invocation) *cli.App {
	return s.appOf(inv, nil)
}

// appFor is the application that runs args: with only the command they
// name when that is sure to be all the run needs (see runs), else with
// every command.
func (s *surface) appFor(inv *invocation, args []string) *cli.App {
	return s.appOf(inv, s.runs(args))
}

// runs is the top-level command that args run, when nothing else can
// show: a command of the definition is named, and every argument before
// its name is a common flag or the value of one. Anything else there (a
// --help above all, which prints the app's help and its list of
// commands) makes it nil.
func (s *surface) runs(args []string) *command {
	at := s.commandIndex(args)
	if at < 0 {
		return nil
	}
	for i := 1; i < at; i++ {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		f := findFlag(s.common, name)
		if f == nil {
			return nil
		}
		if takesValue(f) && !hasValue {
			i++
		}
	}
	return s.command(args[at])
}

// appOf is the application with the one command only, or with every
// command when only is nil.
func (s *surface) appOf(inv *invocation, only *command) *cli.App {
	b := appBuilder{s: s, inv: inv, onUsageError: s.onUsageError(inv)}
	var cmds []*cli.Command
	if only != nil {
		cmds = []*cli.Command{b.command(only)}
	} else {
		cmds = make([]*cli.Command, len(s.commands))
		for i := range s.commands {
			cmds[i] = b.command(&s.commands[i])
		}
	}
	return &cli.App{
		Name:  "vkc-credential",
		Usage: "keep a VK Cloud / OpenStack password in the OS keychain and hand out Keystone tokens",
		UsageText: "vkc-credential COMMAND [flags] [-- CMD ARGS...]\n\n" +
			"When stdin is not a terminal, it is read as a JSON request (see the README); --no-stdin turns that off.",
		Reader:         inv.stdin,
		Writer:         inv.stdout,
		ErrWriter:      inv.stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		// A repeated flag (appcred's --role, --access-rule) takes each
		// value whole: an access rule's path may hold a comma.
		DisableSliceFlagSeparator: true,
		OnUsageError:              b.onUsageError,
		// Our own --version: urfave/cli's needs App.Version, which costs a
		// read of the build information that a cached get need not pay.
		// It is the one app flag that is not common: it stands alone.
		Flags:           append(s.common[:len(s.common):len(s.common)], fast(&cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version"})...),
		HideHelpCommand: false,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q; see `vkc-credential --help`", c.Args().First())
			}
			if c.Bool("version") {
				_, err := fmt.Fprintf(inv.stdout, "vkc-credential %s\n", programVersion())
				return err
			}
			return cli.ShowAppHelp(c)
		},
		Commands: cmds,
	}
}

// appBuilder makes the urfave/cli commands of one app.
type appBuilder struct {
	s            *surface
	inv          *invocation
	onUsageError cli.OnUsageErrorFunc
	takesAll     string // takesCommon of every common flag, once made
}

// command is c as urfave/cli runs it, with its subcommands.
func (b *appBuilder) command(c *command) *cli.Command {
	inv, action := b.inv, c.action
	cc := &cli.Command{
		Name:            c.name,
		Usage:           c.usage,
		ArgsUsage:       c.argsUsage,
		Flags:           b.s.flags(c),
		Action:          func(ctx *cli.Context) error { return action(inv, ctx) },
		OnUsageError:    b.onUsageError,
		HideHelpCommand: true,
		Description:     b.takesCommon(c.uses),
	}
	for i := range c.sub {
		cc.Subcommands = append(cc.Subcommands, b.command(&c.sub[i]))
	}
	return cc
}

// takesCommon is the line of a command's help that names the common
// flags it takes: uses, or all of them when uses is nil.
func (b *appBuilder) takesCommon(uses []string) string {
	if uses != nil {
		return takesCommon(uses)
	}
	if b.takesAll == "" {
		b.takesAll = takesCommon(flagNames(b.s.common))
	}
	return b.takesAll
}

// takesCommon is the line of a command's help that names the common
// flags it takes.
func takesCommon(names []string) string {
	var b strings.Builder
	b.Grow(160) // one allocation: this runs for each command an app holds
	b.WriteString("Takes the common flags")
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" --")
		b.WriteString(n)
	}
	b.WriteString(" too, before or after the command name; see `vkc-credential --help`.")
	return b.String()
}

// command returns the command named path ("get"; "appcred create" for
// a subcommand), or nil.
func (s *surface) command(path string) *command {
	name, rest, _ := strings.Cut(path, " ")
	var c *command
	for i := range s.commands {
		if s.commands[i].name == name {
			c = &s.commands[i]
		}
	}
	if c == nil || rest == "" {
		return c
	}
	return c.subcommand(rest)
}

// subcommand returns c's subcommand named name, or nil.
func (c *command) subcommand(name string) *command {
	for i := range c.sub {
		if c.sub[i].name == name {
			return &c.sub[i]
		}
	}
	return nil
}
