package cmdline

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// The command surface is described once, in surface below. urfave/cli
// parses the arguments with it and prints the help from it; argv.go reads
// off it which flags take a value and which answers are JSON; a choice
// flag (flags.go) checks its own values while flags are parsed;
// tools/gendocs writes the man page and the shell completions from it
// (App in docs.go). Nothing else lists commands, flags or their values.
//
//   - A command: one entry in surface's commands (json: true when its
//     stdout carries JSON), and its action, a method of invocation in a
//     file named after the command.
//   - A subcommand (`appcred create`): one entry in its command's sub,
//     defined as a command is; its action is in the command's file.
//   - A flag: one entry in its command's Flags, inside with(...) (or in
//     commonFlags, for a flag every command takes); a flag whose value is
//     one of a fixed set is a choice(...), which refuses any other value
//     with exit 2. The action reads it with c.String or c.Bool.
//   - A `get --format`: one row of getFormats (token.go) and its writer.
//
// Then the README's section of the command. surface_test.go proves the
// derived parts against the definition, whatever it holds.

// formatJSON is the value of --format whose answer is JSON, for every
// command that has the flag: errors then go to stdout as JSON too.
const formatJSON = "json"

// command is one command of the definition: urfave/cli's own, and what
// the edge needs to know besides.
type command struct {
	*cli.Command
	// json: stdout carries a JSON answer, and so, on failure, the JSON
	// error object; for a command with --format, only when it is json.
	json bool
	// uses are the common flags that mean something to the command, for
	// its help; nil means all of them.
	uses []string
	// interspersed: the command's arguments may stand among its flags
	// (`appcred delete NAME --profile P`); exec's never do, since they
	// are the command to run.
	interspersed bool
	// sub are the command's subcommands (`appcred create`), each defined
	// as a command is; the command's own Action then only refuses a
	// missing or unknown subcommand.
	sub []command
}

// surface is the command line as defined: the flags every command takes
// and the commands.
type surface struct {
	common   []cli.Flag
	commands []command
}

// commonFlags are the flags every command takes, before or after the
// command name; the app defines them once (see lift in argv.go).
func commonFlags() []cli.Flag {
	return fast(
		&cli.StringFlag{Name: "profile", Usage: "profile `NAME` (env VKC_PROFILE; default \"default\")"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, EnvVars: []string{"VKC_TIMEOUT"}, Usage: "bound on the whole Keystone exchange, retries included"},
		&cli.DurationFlag{Name: "keyring-timeout", Value: keyring.DefaultTimeout, EnvVars: []string{"VKC_KEYRING_TIMEOUT"}, Usage: "bound on each keychain call"},
		&cli.StringFlag{Name: "cacert", EnvVars: []string{"OS_CACERT"}, Usage: "PEM `FILE` of CA certificates to trust besides the system's"},
		&cli.BoolFlag{Name: "debug", EnvVars: []string{"VKC_DEBUG"}, Usage: "log steps and timings to stderr, secrets masked"},
		&cli.BoolFlag{Name: "no-stdin", Usage: "never read a JSON request from stdin (by default a stdin that is not a terminal is read as one)"},
	)
}

func tokenFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "min-ttl", Usage: "the token must stay valid at least this `DURATION` (default 5m)"},
		&cli.BoolFlag{Name: "refresh", Usage: "issue a new token even if the cached one is good"},
	}
}

func settingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "auth-url", Usage: "Keystone `URL` (env OS_AUTH_URL; VK Cloud's is " + protocol.VKCloudAuthURL + ")"},
		&cli.StringFlag{Name: "project-id", Usage: "project `ID` (env OS_PROJECT_ID)"},
		&cli.StringFlag{Name: "username", Usage: "user `NAME` (env OS_USERNAME)"},
		&cli.StringFlag{Name: "user-domain-name", Usage: "the user's `DOMAIN` (env OS_USER_DOMAIN_NAME; default " + helper.DefaultUserDomainName + ")"},
		&cli.StringFlag{Name: "region", Usage: "`REGION` (env OS_REGION_NAME; default " + helper.DefaultRegion + ")"},
		&cli.StringFlag{Name: "interface", Usage: "endpoint `INTERFACE` (env OS_INTERFACE; default " + helper.DefaultInterface + ")"},
		&cli.StringFlag{Name: "openrc", Usage: "read settings from an openrc `FILE` (parsed, never run)"},
	}
}

// keyringFlag is --keyring, the backend that keeps what (the help's
// words for the secret and what auto does).
func keyringFlag(what string) cli.Flag {
	return choice("keyring", "the `BACKEND` that keeps the "+what, append([]string{helper.AutoKeyring}, keyring.Names()...), helper.AutoKeyring, "VKC_KEYRING")
}

func with(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return fast(out...)
}

// surface defines the commands. Each command's action is a method of
// invocation in the file named after it.
func (inv *invocation) surface() *surface {
	return &surface{common: commonFlags(), commands: []command{
		{json: true, Command: &cli.Command{
			Name:  "get",
			Usage: "print a token valid for at least --min-ttl",
			// Few flags on purpose (see argv.go). Settings other than
			// the stored ones come in the JSON request.
			Flags:  with(tokenFlags(), []cli.Flag{choice("format", "the answer's `FORMAT`", getFormatNames(), formatJSON)}),
			Action: inv.get,
		}},
		{Command: &cli.Command{
			Name:      "exec",
			Usage:     "run a command with the token in its environment and the password variables removed",
			ArgsUsage: "-- CMD [ARGS...]",
			Flags: with(tokenFlags(), []cli.Flag{
				&cli.BoolFlag{Name: "allow-nested", Usage: "run even inside another vkc-credential exec"},
				&cli.BoolFlag{Name: "serve", Usage: "hand the command a Keystone stand-in on 127.0.0.1 and a one-time session secret instead of a token: it signs in as often as it needs, for runs that outlast a token"},
			}),
			Action: inv.exec,
		}},
		{Command: &cli.Command{
			Name:   "env",
			Usage:  "print shell lines that export the token, for eval \"$(vkc-credential env)\"",
			Flags:  with(tokenFlags(), []cli.Flag{choice("shell", "the `SHELL` whose syntax to write", shellNames(), shellPOSIX)}),
			Action: inv.env,
		}},
		{Command: &cli.Command{
			Name:  "serve",
			Usage: "print shell lines that point tools at a Keystone stand-in on 127.0.0.1, then run it until SIGINT or SIGTERM",
			Flags: with(tokenFlags(), []cli.Flag{
				&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "`ADDRESS` to listen on: 127.0.0.1:PORT (port 0: a free one)"},
				choice("shell", "the `SHELL` whose syntax to write", shellNames(), shellPOSIX),
			}),
			Action: inv.serve,
		}},
		{json: true, Command: &cli.Command{
			Name:  "store",
			Usage: "save a profile's settings and its password (verified with Keystone first)",
			Flags: with(settingFlags(), []cli.Flag{
				&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin (one trailing newline is dropped)"},
				&cli.BoolFlag{Name: "no-verify", Usage: "store without proving the password with Keystone"},
				&cli.StringFlag{Name: "application-credential-id", Usage: "store an application credential: its `ID` (env OS_APPLICATION_CREDENTIAL_ID); its secret comes as a password would"},
				&cli.StringFlag{Name: "project-name", Usage: "the project by `NAME`, looked up in Keystone (instead of --project-id)"},
				&cli.BoolFlag{Name: "all-projects", Usage: "store one profile per project of the user, named after the project"},
				&cli.StringFlag{Name: "cloud", Usage: "import cloud `NAME` of clouds.yaml (and secure.yaml)"},
				&cli.StringFlag{Name: "totp-command", Usage: "a shell `COMMAND` whose first output line is a TOTP passcode, for Keystone's second factor (e.g. oathtool --totp -b ...)"},
				&cli.StringFlag{Name: "secret-command", Usage: "a shell `COMMAND` that prints the password (or application credential secret) each time a token must be issued, " +
					"instead of a keychain keeping it (e.g. pass show vk/password | head -n1)"},
				keyringFlag("password (auto: the profile's own, or for a new profile the first that works here; not with --secret-command)"),
			}),
			Action: inv.store,
		}},
		{Command: &cli.Command{
			Name:   "appcred",
			Usage:  "create, list and delete the profile's user's application credentials (for CI)",
			Action: inv.appcredWithout,
		}, sub: []command{
			{json: true, Command: &cli.Command{
				Name: "create",
				Usage: "create an application credential with the profile's sign-in and store it as profile --store-as; " +
					"its secret goes to the keychain and is printed nowhere (but with --show-secret)",
				Flags: with([]cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "the credential's `NAME`, unique among the user's (required)"},
					&cli.StringFlag{Name: "description", Usage: "free `TEXT` that Keystone keeps with it"},
					&cli.StringSliceFlag{Name: "role", Usage: "a `ROLE` (name or ID) of the profile's token to give it; repeat for more (default: all the token's roles)"},
					&cli.StringFlag{Name: "expires", Usage: "when it expires: a `DURATION` (30d, 2w, 12h), an RFC 3339 time, or never (default " + appCredDefaultExpiry + ")"},
					&cli.StringSliceFlag{Name: "access-rule", Usage: "allow only requests that match `SERVICE:METHOD:PATH` (e.g. compute:GET:/v2.1/servers/*); repeat for more"},
					&cli.BoolFlag{Name: "unrestricted", Usage: "let it create and delete application credentials itself (off: a leaked secret cannot mint more)"},
					&cli.StringFlag{Name: "store-as", Usage: "the new `PROFILE` that signs in with it (required; never an existing profile)"},
					&cli.BoolFlag{Name: "show-secret", Usage: "also print the secret, once, in the JSON answer's \"secret\" (for a CI system's secret store)"},
					&cli.BoolFlag{Name: "no-verify", Usage: "store it without signing in with it first"},
					keyringFlag("secret (auto: the first that works here)"),
				}),
				Action: inv.appcredCreate,
			}},
			{json: true, Command: &cli.Command{
				Name:   "list",
				Usage:  "list the profile's user's application credentials (never a secret)",
				Flags:  with([]cli.Flag{&cli.StringFlag{Name: "name", Usage: "only the one called `NAME`"}}),
				Action: inv.appcredList,
			}},
			{json: true, interspersed: true, Command: &cli.Command{
				Name:      "delete",
				Usage:     "delete an application credential and erase the profiles stored for it",
				ArgsUsage: "NAME|ID",
				Action:    inv.appcredDelete,
			}},
		}},
		{json: true, Command: &cli.Command{
			Name:  "erase",
			Usage: "remove a profile, its password and the cached tokens no other profile uses",
			Flags: with([]cli.Flag{
				&cli.BoolFlag{Name: "revoke", Usage: "also revoke the cached token in Keystone, unless another profile shares it"},
				&cli.BoolFlag{Name: "force", Usage: "erase the profile even if its keychain cannot delete the password (say which secret is left)"},
			}),
			Action: inv.erase,
		}},
		{json: true, uses: []string{"debug", "no-stdin"}, Command: &cli.Command{
			Name:   "list",
			Usage:  "list stored profiles and their cached tokens' expiry",
			Action: inv.list,
		}},
		{json: true, Command: &cli.Command{
			Name:   "projects",
			Usage:  "list the projects the profile's user can use, to store profiles for them",
			Action: inv.projects,
		}},
		{json: true, Command: &cli.Command{
			Name:   "doctor",
			Usage:  "check what works on this machine: keychains, directories, profiles, Keystone, the tools that call vkc-credential",
			Flags:  with([]cli.Flag{choice("format", "the report's `FORMAT`", []string{"text", formatJSON}, "text")}),
			Action: inv.doctor,
		}},
		{json: true, uses: []string{"debug", "no-stdin"}, Command: &cli.Command{
			Name:   "version",
			Usage:  "print the version and the protocol version",
			Action: inv.version,
		}},
	}}
}

// app is the urfave/cli application of the surface.
func (s *surface) app(inv *invocation) *cli.App {
	cmds := make([]*cli.Command, len(s.commands))
	onUsageError := s.onUsageError(inv)
	all := takesCommon(flagNames(s.common))
	var prepare func(c command) *cli.Command
	prepare = func(c command) *cli.Command {
		c.OnUsageError = onUsageError
		c.HideHelpCommand = true
		c.Description = all
		if c.uses != nil {
			c.Description = takesCommon(c.uses)
		}
		for _, sc := range c.sub {
			c.Subcommands = append(c.Subcommands, prepare(sc))
		}
		return c.Command
	}
	for i, c := range s.commands {
		cmds[i] = prepare(c)
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
		OnUsageError:              onUsageError,
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

// takesCommon is the line of a command's help that names the common
// flags it takes.
func takesCommon(names []string) string {
	var b strings.Builder
	b.Grow(160) // one allocation: this runs for every command on every run
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
		if s.commands[i].Name == name {
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
		if c.sub[i].Name == name {
			return &c.sub[i]
		}
	}
	return nil
}

// setup reads what every command shares: the debug switch, the request on
// stdin (unless the command keeps stdin for itself or --no-stdin says
// so), and the profile.
func (inv *invocation) setup(c *cli.Context, readRequest, allowPassword bool) (*protocol.Request, error) {
	inv.debug = c.Bool("debug")
	var req *protocol.Request
	if readRequest && !c.Bool("no-stdin") && !inv.stdinIsTTY && inv.stdin != nil {
		var err error
		if req, err = protocol.DecodeRequest(inv.stdin); err != nil {
			return nil, err
		}
		if req != nil {
			inv.debugf("request: read from stdin")
		}
	}
	if req != nil && req.Password != nil && !allowPassword {
		return nil, usagef("a password in the request is only taken by `store`; remove it")
	}
	if c.Args().Present() && c.Command.ArgsUsage == "" { // a command that names no arguments takes none
		return nil, usagef("unexpected argument %q; see `vkc-credential %s --help`", c.Args().First(), inv.command)
	}
	profile := "default"
	switch {
	case c.String("profile") != "": // cheaper than IsSet, which scans every flag
		profile = c.String("profile")
	case req != nil && req.Profile != "":
		profile = req.Profile
	case os.Getenv("VKC_PROFILE") != "":
		profile = os.Getenv("VKC_PROFILE")
	default:
		inv.profileDefaulted = true
	}
	if err := protocol.CheckProfileName(profile); err != nil {
		return nil, err
	}
	inv.profile = profile
	for _, name := range []string{"timeout", "keyring-timeout"} {
		if c.Duration(name) <= 0 {
			return nil, usagef("--%s must be positive", name)
		}
	}
	return req, nil
}

// helper builds the operations' Helper from the common flags.
func (inv *invocation) helper(c *cli.Context) (*helper.Helper, error) {
	paths, err := helper.DefaultPaths()
	if err != nil {
		return nil, err
	}
	cacert := c.String("cacert")
	cfg := keyring.Config{Timeout: c.Duration("keyring-timeout")}
	return &helper.Helper{
		Paths:   paths,
		Keyring: func(name string) (keyring.Store, error) { return inv.openKeyring(name, cfg) },
		AutoKeyring: func() (string, []error, error) {
			_, name, passedOver, err := inv.autoKeyring(cfg.Timeout)
			return name, passedOver, err
		},
		Keystone: func() (*keystone.Client, error) {
			hc, err := keystone.NewHTTPClient(cacert)
			if err != nil {
				return nil, err
			}
			return &keystone.Client{HTTP: hc, Debugf: inv.debugf}, nil
		},
		Now:            time.Now,
		Timeout:        c.Duration("timeout"),
		KeyringTimeout: c.Duration("keyring-timeout"),
		Debugf:         inv.debugf,
		Warnf:          inv.warnf,
	}, nil
}
