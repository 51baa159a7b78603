package cmdline

import (
	"time"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// The command surface is described once, in commands below (and
// commonFlags). urfave/cli parses the arguments with it and prints the
// help from it (surface.go builds the app: for a run, with the one
// command the arguments name, so that a cached get builds no other
// command's flags; for the help and the docs, with all); argv.go reads
// off it which flags take a value and which answers are JSON; a choice
// flag (flags.go) checks its own values while flags are parsed;
// tools/gendocs writes the man page and the shell completions from it
// (App in docs.go). Nothing else lists commands, flags or their values.
//
//   - A command: one entry in commands (json: true when its stdout
//     carries JSON), and its action, a method of invocation in a file
//     named after the command.
//   - A subcommand (`appcred create`): one entry in its command's sub,
//     defined as a command is; its action is in the command's file.
//   - A flag: one entry in its command's flags func, inside with(...) (or
//     in commonFlags, for a flag every command takes); a flag whose value
//     is one of a fixed set is a choice(...), which refuses any other
//     value with exit 2. The action reads it with c.String or c.Bool.
//   - A `get --format`: one row of getFormats (token.go) and its writer.
//
// Then the README's section of the command. surface_test.go proves the
// derived parts against the definition, whatever it holds.

// formatJSON is the value of --format whose answer is JSON, for every
// command that has the flag: errors then go to stdout as JSON too.
const formatJSON = "json"

// command is one command of the definition: what urfave/cli needs to
// run it and print its help, and what the edge needs to know besides.
// The table (commands) costs nothing to hold: a command's flags are built
// by its flags func, and only for a command that runs or a help or the
// docs that show it (see surface).
type command struct {
	name, usage string
	// argsUsage names the command's arguments in its help; a command
	// with none takes none (setup refuses them).
	argsUsage string
	// flags builds the command's own flags (nil: it has none).
	flags func() []cli.Flag
	// action runs the command.
	action func(*invocation, *cli.Context) error
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
	// as a command is; the command's own action then only refuses a
	// missing or unknown subcommand.
	sub []command
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

// commands defines the commands, in the order the help lists them. Each
// command's action is a method of invocation in the file named after it.
var commands = []command{
	{name: "get", json: true,
		usage: "print a token valid for at least --min-ttl",
		// Few flags on purpose (see argv.go). Settings other than
		// the stored ones come in the JSON request.
		flags: func() []cli.Flag {
			return with(tokenFlags(), []cli.Flag{choice("format", "the answer's `FORMAT`", getFormatNames(), formatJSON)})
		},
		action: (*invocation).get,
	},
	{name: "exec",
		usage:     "run a command with the token in its environment and the password variables removed",
		argsUsage: "-- CMD [ARGS...]",
		flags: func() []cli.Flag {
			return with(tokenFlags(), []cli.Flag{
				&cli.BoolFlag{Name: "allow-nested", Usage: "run even inside another vkc-credential exec"},
				&cli.BoolFlag{Name: "serve", Usage: "hand the command a Keystone stand-in on 127.0.0.1 and a one-time session secret instead of a token: it signs in as often as it needs, for runs that outlast a token"},
			})
		},
		action: (*invocation).exec,
	},
	{name: "env",
		usage: "print shell lines that export the token, for eval \"$(vkc-credential env)\"",
		flags: func() []cli.Flag {
			return with(tokenFlags(), []cli.Flag{choice("shell", "the `SHELL` whose syntax to write", shellNames(), shellPOSIX)})
		},
		action: (*invocation).env,
	},
	{name: "serve",
		usage: "print shell lines that point tools at a Keystone stand-in on 127.0.0.1, then run it until SIGINT or SIGTERM",
		flags: func() []cli.Flag {
			return with(tokenFlags(), []cli.Flag{
				&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", Usage: "`ADDRESS` to listen on: 127.0.0.1:PORT (port 0: a free one)"},
				choice("shell", "the `SHELL` whose syntax to write", shellNames(), shellPOSIX),
			})
		},
		action: (*invocation).serve,
	},
	{name: "store", json: true,
		usage: "save a profile's settings and its password (verified with Keystone first)",
		flags: func() []cli.Flag {
			return with(settingFlags(), []cli.Flag{
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
			})
		},
		action: (*invocation).store,
	},
	{name: "appcred",
		usage:  "create, list and delete the profile's user's application credentials (for CI)",
		action: (*invocation).appcredWithout,
		sub: []command{
			{name: "create", json: true,
				usage: "create an application credential with the profile's sign-in and store it as profile --store-as; " +
					"its secret goes to the keychain and is printed nowhere (but with --show-secret)",
				flags: func() []cli.Flag {
					return with([]cli.Flag{
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
					})
				},
				action: (*invocation).appcredCreate,
			},
			{name: "list", json: true,
				usage: "list the profile's user's application credentials (never a secret)",
				flags: func() []cli.Flag {
					return with([]cli.Flag{&cli.StringFlag{Name: "name", Usage: "only the one called `NAME`"}})
				},
				action: (*invocation).appcredList,
			},
			{name: "delete", json: true, interspersed: true,
				usage:     "delete an application credential and erase the profiles stored for it",
				argsUsage: "NAME|ID",
				action:    (*invocation).appcredDelete,
			},
		},
	},
	{name: "erase", json: true,
		usage: "remove a profile, its password and the cached tokens no other profile uses",
		flags: func() []cli.Flag {
			return with([]cli.Flag{
				&cli.BoolFlag{Name: "revoke", Usage: "also revoke the cached token in Keystone, unless another profile shares it"},
				&cli.BoolFlag{Name: "force", Usage: "erase the profile even if its keychain cannot delete the password (say which secret is left)"},
			})
		},
		action: (*invocation).erase,
	},
	{name: "list", json: true, uses: []string{"debug", "no-stdin"},
		usage:  "list stored profiles and their cached tokens' expiry",
		action: (*invocation).list,
	},
	{name: "projects", json: true,
		usage:  "list the projects the profile's user can use, to store profiles for them",
		action: (*invocation).projects,
	},
	{name: "doctor", json: true,
		usage: "check what works on this machine: keychains, directories, profiles, Keystone, the tools that call vkc-credential",
		flags: func() []cli.Flag {
			return with([]cli.Flag{choice("format", "the report's `FORMAT`", []string{"text", formatJSON}, "text")})
		},
		action: (*invocation).doctor,
	},
	{name: "version", json: true, uses: []string{"debug", "no-stdin"},
		usage:  "print the version and the protocol version",
		action: (*invocation).version,
	},
}
