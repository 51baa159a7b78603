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

// The formats of `get`.
const (
	formatJSON           = "json"
	formatToken          = "token"
	formatEnv            = "env"
	formatExecCredential = "exec-credential"
	formatKeystoneAuth   = "keystoneauth"
)

// commonFlags are the flags every command takes, before or after the
// command name; the app defines them once (see liftCommonFlags).
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "profile", Usage: "profile `NAME` (env VKC_PROFILE; default \"default\")"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, EnvVars: []string{"VKC_TIMEOUT"}, Usage: "bound on the whole Keystone exchange, retries included"},
		&cli.DurationFlag{Name: "keyring-timeout", Value: keyring.DefaultTimeout, EnvVars: []string{"VKC_KEYRING_TIMEOUT"}, Usage: "bound on each keychain call"},
		&cli.StringFlag{Name: "cacert", EnvVars: []string{"OS_CACERT"}, Usage: "PEM `FILE` of CA certificates to trust besides the system's"},
		&cli.BoolFlag{Name: "debug", EnvVars: []string{"VKC_DEBUG"}, Usage: "log steps and timings to stderr, secrets masked"},
		&cli.BoolFlag{Name: "no-stdin", Usage: "never read a JSON request from stdin (by default a stdin that is not a terminal is read as one)"},
	}
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

func with(groups ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return fast(out...)
}

// app defines the commands. Each command's action is a method of
// invocation in the file named after it.
func (inv *invocation) app() *cli.App {
	usageErr := func(_ *cli.Context, err error, _ bool) error {
		return usagef("%v; see `vkc-credential --help`", err)
	}
	const allGlobals = "--profile, --timeout, --keyring-timeout, --cacert, --debug, --no-stdin"
	cmd := func(c *cli.Command, globals string) *cli.Command {
		c.OnUsageError = usageErr
		c.HideHelpCommand = true
		c.Description = "Takes the global flags " + globals + " too, before or after the command name; see `vkc-credential --help`."
		return c
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
		OnUsageError:   usageErr,
		// Our own --version: urfave/cli's needs App.Version, which costs a
		// read of the build information that a cached get need not pay.
		Flags:           fast(append(commonFlags(), &cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version"})...),
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
		Commands: []*cli.Command{
			cmd(&cli.Command{
				Name:      "get",
				Usage:     "print a token valid for at least --min-ttl",
				UsageText: "vkc-credential get [--profile NAME] [--format json|token|env|exec-credential|keystoneauth] [--min-ttl 5m] [--refresh] [--no-stdin]",
				// Few flags on purpose (see argv.go). Settings other than
				// the stored ones come in the JSON request.
				Flags: with(tokenFlags(), []cli.Flag{
					&cli.StringFlag{Name: "format", Value: formatJSON, Usage: "json, token, env, exec-credential or keystoneauth"},
				}),
				Action: inv.get,
			}, allGlobals),
			cmd(&cli.Command{
				Name:      "exec",
				Usage:     "run a command with the token in its environment and the password variables removed",
				UsageText: "vkc-credential exec [--profile NAME] [--min-ttl 5m] [--refresh] [--allow-nested] -- CMD [ARGS...]",
				Flags: with(tokenFlags(), []cli.Flag{
					&cli.BoolFlag{Name: "allow-nested", Usage: "run even inside another vkc-credential exec"},
				}),
				Action: inv.exec,
			}, allGlobals),
			cmd(&cli.Command{
				Name:      "env",
				Usage:     "print shell lines that export the token, for eval \"$(vkc-credential env)\"",
				UsageText: "vkc-credential env [--profile NAME] [--min-ttl 5m] [--refresh] [--shell posix|bash|zsh|fish|powershell]",
				Flags: with(tokenFlags(), []cli.Flag{
					&cli.StringFlag{Name: "shell", Value: "posix", Usage: "posix (also sh, bash, zsh, ksh, dash), fish, or powershell (also pwsh)"},
				}),
				Action: inv.env,
			}, allGlobals),
			cmd(&cli.Command{
				Name:      "store",
				Usage:     "save a profile's settings and its password (verified with Keystone first)",
				UsageText: "vkc-credential store [--profile NAME] [--openrc FILE] [--auth-url URL ...] [--password-stdin] [--no-verify] [--keyring auto|os|keyctl|pass]",
				Flags: with(settingFlags(), []cli.Flag{
					&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin (one trailing newline is dropped)"},
					&cli.BoolFlag{Name: "no-verify", Usage: "store without proving the password with Keystone"},
					&cli.StringFlag{Name: "application-credential-id", Usage: "store an application credential: its `ID` (env OS_APPLICATION_CREDENTIAL_ID); its secret comes as a password would"},
					&cli.StringFlag{Name: "project-name", Usage: "the project by `NAME`, looked up in Keystone (instead of --project-id)"},
					&cli.BoolFlag{Name: "all-projects", Usage: "store one profile per project of the user, named after the project"},
					&cli.StringFlag{Name: "cloud", Usage: "import cloud `NAME` of clouds.yaml (and secure.yaml)"},
					&cli.StringFlag{Name: "totp-command", Usage: "a shell `COMMAND` whose first output line is a TOTP passcode, for Keystone's second factor (e.g. oathtool --totp -b ...)"},
					&cli.StringFlag{Name: "keyring", Value: "auto", EnvVars: []string{"VKC_KEYRING"},
						Usage: "where to keep the password: auto, " + strings.Join(keyring.Names(), ", ") + " (auto: the profile's backend, or for a new profile the first that works here)"},
				}),
				Action: inv.store,
			}, allGlobals),
			cmd(&cli.Command{
				Name:      "erase",
				Usage:     "remove a profile, its password and the cached tokens no other profile uses",
				UsageText: "vkc-credential erase [--profile NAME] [--revoke] [--force]",
				Flags: with([]cli.Flag{
					&cli.BoolFlag{Name: "revoke", Usage: "also revoke the cached token in Keystone, unless another profile shares it"},
					&cli.BoolFlag{Name: "force", Usage: "erase the profile even if its keychain cannot delete the password (say which secret is left)"},
				}),
				Action: inv.erase,
			}, allGlobals),
			cmd(&cli.Command{
				Name:   "list",
				Usage:  "list stored profiles and their cached tokens' expiry",
				Action: inv.list,
			}, "--debug, --no-stdin"),
			cmd(&cli.Command{
				Name:      "projects",
				Usage:     "list the projects the profile's user can use, to store profiles for them",
				UsageText: "vkc-credential projects [--profile NAME]",
				Action:    inv.projects,
			}, allGlobals),
			cmd(&cli.Command{
				Name:      "doctor",
				Usage:     "check what works on this machine: keychains, directories, profiles, Keystone, the tools that call vkc-credential",
				UsageText: "vkc-credential doctor [--profile NAME] [--format text|json]",
				Flags: with([]cli.Flag{
					&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
				}),
				Action: inv.doctor,
			}, allGlobals),
			cmd(&cli.Command{
				Name:   "version",
				Usage:  "print the version and the protocol version",
				Action: inv.version,
			}, "--debug, --no-stdin"),
		},
	}
}

// setup reads what every command shares: the debug switch, the request on
// stdin (unless the command keeps stdin for itself or --no-stdin says
// so), and the profile.
func (inv *invocation) setup(c *cli.Context, readRequest, allowPassword bool) (*protocol.Request, error) {
	inv.debug = c.Bool("debug")
	inv.command = c.Command.Name
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
	if c.Args().Present() && c.Command.Name != "exec" {
		return nil, usagef("unexpected argument %q; see `vkc-credential %s --help`", c.Args().First(), c.Command.Name)
	}
	profile := "default"
	switch {
	case c.String("profile") != "": // cheaper than IsSet, which scans every flag
		profile = c.String("profile")
	case req != nil && req.Profile != "":
		profile = req.Profile
	case os.Getenv("VKC_PROFILE") != "":
		profile = os.Getenv("VKC_PROFILE")
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
