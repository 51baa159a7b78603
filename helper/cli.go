package helper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// ProgramVersion is set at build time with -ldflags "-X
// vkc-credential/helper.ProgramVersion=v1.2.3"; otherwise the module's
// build information is used.
var ProgramVersion = ""

var errNoTTY = errors.New("no terminal")

// Formats of `get`.
const (
	FormatJSON           = "json"
	FormatToken          = "token"
	FormatEnv            = "env"
	FormatExecCredential = "exec-credential"
	FormatKeystoneAuth   = "keystoneauth"
)

// invocation is one run of the program: its streams and what it learned
// about how to report errors.
type invocation struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdinIsTTY     bool
	jsonErrors     bool
	debug          bool
	start          time.Time
}

// Run runs the program with args (args[0] is the program name) and returns
// its exit status. It never calls os.Exit.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv := &invocation{stdin: stdin, stdout: stdout, stderr: stderr, start: time.Now()}
	if f, ok := stdin.(*os.File); ok {
		inv.stdinIsTTY = term.IsTerminal(int(f.Fd()))
	}
	args = liftCommonFlags(args)
	inv.jsonErrors = wantsJSONErrors(args)
	// urfave/cli adds this flag to every command; a package variable of
	// theirs, set to the same value on every run.
	cli.HelpFlag = fast(&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help"})[0]
	app := inv.app()
	if err := app.Run(args); err != nil {
		return inv.fail(err)
	}
	return 0
}

func (inv *invocation) fail(err error) int {
	var exit *exitStatus
	if errors.As(err, &exit) {
		return exit.code
	}
	code := protocol.CodeOf(err)
	fmt.Fprintf(inv.stderr, "vkc-credential: %s\n", oneLine(err.Error()))
	if inv.jsonErrors {
		resp := protocol.NewErrorResponse(err)
		resp.Error.Message = oneLine(resp.Error.Message)
		inv.writeJSON(resp)
	}
	return code.ExitCode()
}

// exitStatus ends the program with a status and no message of ours, as
// `exec` does with its child's status.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (inv *invocation) writeJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return protocol.Errorf(protocol.CodeInternal, "cannot encode the answer: %w", err)
	}
	_, err = inv.stdout.Write(append(data, '\n'))
	return err
}

func (inv *invocation) debugf(format string, args ...any) {
	if inv.debug {
		fmt.Fprintf(inv.stderr, "vkc-credential: debug: [%8.3fms] %s\n",
			float64(time.Since(inv.start).Microseconds())/1000, fmt.Sprintf(format, args...))
	}
}

func (inv *invocation) warnf(format string, args ...any) {
	fmt.Fprintf(inv.stderr, "vkc-credential: warning: %s\n", fmt.Sprintf(format, args...))
}

// commonFlags are the flags every command takes, before or after the
// command name; the app defines them once (see liftCommonFlags).
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "profile", Usage: "profile `NAME` (env VKC_PROFILE; default \"default\")"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, EnvVars: []string{"VKC_TIMEOUT"}, Usage: "bound on the whole Keystone exchange, retries included"},
		&cli.DurationFlag{Name: "keyring-timeout", Value: 10 * time.Second, EnvVars: []string{"VKC_KEYRING_TIMEOUT"}, Usage: "bound on each keychain call"},
		&cli.StringFlag{Name: "cacert", EnvVars: []string{"OS_CACERT"}, Usage: "PEM `FILE` of CA certificates to trust besides the system's"},
		&cli.BoolFlag{Name: "debug", EnvVars: []string{"VKC_DEBUG"}, Usage: "log steps and timings to stderr, secrets masked"},
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
		&cli.StringFlag{Name: "auth-url", Usage: "Keystone `URL` (env OS_AUTH_URL; default " + DefaultAuthURL + ")"},
		&cli.StringFlag{Name: "project-id", Usage: "project `ID` (env OS_PROJECT_ID)"},
		&cli.StringFlag{Name: "username", Usage: "user `NAME` (env OS_USERNAME)"},
		&cli.StringFlag{Name: "user-domain-name", Usage: "the user's `DOMAIN` (env OS_USER_DOMAIN_NAME; default " + DefaultUserDomainName + ")"},
		&cli.StringFlag{Name: "region", Usage: "`REGION` (env OS_REGION_NAME; default " + DefaultRegion + ")"},
		&cli.StringFlag{Name: "interface", Usage: "endpoint `INTERFACE` (env OS_INTERFACE; default " + DefaultInterface + ")"},
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

func (inv *invocation) app() *cli.App {
	usageErr := func(_ *cli.Context, err error, _ bool) error {
		return protocol.Errorf(protocol.CodeUsage, "%v; see `vkc-credential --help`", err)
	}
	cmd := func(c *cli.Command) *cli.Command {
		c.OnUsageError = usageErr
		c.HideHelpCommand = true
		c.Description = "Takes the global flags too (--profile, --timeout, --keyring-timeout, --cacert, --debug), before or after the command name; see `vkc-credential --help`."
		return c
	}
	return &cli.App{
		Name:  "vkc-credential",
		Usage: "keep a VK Cloud / OpenStack password in the OS keychain and hand out Keystone tokens",
		UsageText: "vkc-credential COMMAND [flags] [-- CMD ARGS...]\n\n" +
			"A JSON request may be written to stdin; see the README for the protocol.",
		Reader:          inv.stdin,
		Writer:          inv.stdout,
		ErrWriter:       inv.stderr,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    usageErr,
		HideHelpCommand: true,
		Flags:           fast(commonFlags()...),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return protocol.Errorf(protocol.CodeUsage, "unknown command %q; see `vkc-credential --help`", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			cmd(&cli.Command{
				Name:      "get",
				Usage:     "print a token valid for at least --min-ttl",
				UsageText: "vkc-credential get [--profile NAME] [--format json|token|env|exec-credential|keystoneauth] [--min-ttl 5m] [--refresh]",
				// Few flags on purpose: urfave/cli's flag handling costs time
				// quadratic in their number, on every cached get. Settings
				// other than the stored ones come in the JSON request.
				Flags: with(tokenFlags(), []cli.Flag{
					&cli.StringFlag{Name: "format", Value: FormatJSON, Usage: "json, token, env, exec-credential or keystoneauth"},
				}),
				Action: inv.get,
			}),
			cmd(&cli.Command{
				Name:      "exec",
				Usage:     "run a command with the token in its environment and the password variables removed",
				UsageText: "vkc-credential exec [--profile NAME] [--min-ttl 5m] [--refresh] [--allow-nested] -- CMD [ARGS...]",
				Flags: with(tokenFlags(), []cli.Flag{
					&cli.BoolFlag{Name: "allow-nested", Usage: "run even inside another vkc-credential exec"},
				}),
				Action: inv.exec,
			}),
			cmd(&cli.Command{
				Name:      "env",
				Usage:     "print shell lines that export the token, for eval \"$(vkc-credential env)\"",
				UsageText: "vkc-credential env [--profile NAME] [--min-ttl 5m] [--refresh] [--shell posix|fish|powershell]",
				Flags: with(tokenFlags(), []cli.Flag{
					&cli.StringFlag{Name: "shell", Value: "posix", Usage: "posix (sh, bash, zsh), fish or powershell"},
				}),
				Action: inv.env,
			}),
			cmd(&cli.Command{
				Name:      "store",
				Usage:     "save a profile's settings and its password (verified with Keystone first)",
				UsageText: "vkc-credential store [--profile NAME] [--openrc FILE] [--password-stdin] [--no-verify]",
				Flags: with(settingFlags(), []cli.Flag{
					&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin (one trailing newline is dropped)"},
					&cli.BoolFlag{Name: "no-verify", Usage: "store without proving the password with Keystone"},
				}),
				Action: inv.store,
			}),
			cmd(&cli.Command{
				Name:      "erase",
				Usage:     "remove a profile, its password and its cached tokens",
				UsageText: "vkc-credential erase [--profile NAME] [--revoke]",
				Flags: with([]cli.Flag{
					&cli.BoolFlag{Name: "revoke", Usage: "also revoke the cached token in Keystone"},
				}),
				Action: inv.erase,
			}),
			cmd(&cli.Command{
				Name:   "list",
				Usage:  "list stored profiles and their cached tokens' expiry",
				Action: inv.list,
			}),
			cmd(&cli.Command{
				Name:   "version",
				Usage:  "print the version and the protocol version",
				Action: inv.version,
			}),
		},
	}
}

// commonValueFlags and valueFlags name the flags that take a value, so
// that liftCommonFlags can step over the values.
var (
	commonValueFlags = map[string]bool{"profile": true, "timeout": true, "keyring-timeout": true, "cacert": true}
	commonBoolFlags  = map[string]bool{"debug": true}
	valueFlags       = map[string]bool{"format": true, "min-ttl": true, "shell": true, "auth-url": true, "project-id": true,
		"username": true, "user-domain-name": true, "region": true, "interface": true, "openrc": true}
)

// liftCommonFlags moves the common flags written after the command name
// to before it, where the app defines them once: `vkc-credential get
// --profile p` becomes `vkc-credential --profile p get`. Defining them once
// rather than on every command matters for speed: urfave/cli's flag
// handling costs time quadratic in a command's number of flags. Nothing
// after `--` or after the first argument that is not a flag is touched.
func liftCommonFlags(args []string) []string {
	cmd := commandIndex(args)
	if cmd < 0 {
		return args
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
			if !hasValue && i+1 < len(args) {
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
		return args
	}
	out := make([]string, 0, len(args))
	out = append(out, args[:cmd]...)
	out = append(out, lifted...)
	out = append(out, args[cmd])
	out = append(out, rest...)
	return append(out, args[i:]...)
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

// wantsJSONErrors tells, from the raw arguments, whether stdout carries
// JSON and so should carry the error too.
func wantsJSONErrors(args []string) bool {
	cmd := commandIndex(args)
	if cmd < 0 {
		return false
	}
	switch args[cmd] {
	case "store", "erase", "list", "version":
		return true
	case "get":
		format := FormatJSON
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
		return format == FormatJSON
	}
	return false
}

// setup reads what every command shares: the debug switch, the request on
// stdin (unless the command keeps stdin for itself), and the profile.
func (inv *invocation) setup(c *cli.Context, readRequest, allowPassword bool) (*protocol.Request, string, error) {
	inv.debug = c.Bool("debug")
	var req *protocol.Request
	if readRequest && !inv.stdinIsTTY && inv.stdin != nil {
		var err error
		if req, err = protocol.DecodeRequest(inv.stdin); err != nil {
			return nil, "", err
		}
		if req != nil {
			inv.debugf("request: read from stdin")
		}
	}
	if req != nil && req.Password != nil && !allowPassword {
		return nil, "", protocol.Errorf(protocol.CodeUsage, "a password in the request is only taken by `store`; remove it")
	}
	if c.Args().Present() && c.Command.Name != "exec" {
		return nil, "", protocol.Errorf(protocol.CodeUsage, "unexpected argument %q; see `vkc-credential %s --help`", c.Args().First(), c.Command.Name)
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
		return nil, "", err
	}
	for _, name := range []string{"timeout", "keyring-timeout"} {
		if c.Duration(name) <= 0 {
			return nil, "", protocol.Errorf(protocol.CodeUsage, "--%s must be positive", name)
		}
	}
	return req, profile, nil
}

func (inv *invocation) helper(c *cli.Context) (*Helper, error) {
	paths, err := DefaultPaths()
	if err != nil {
		return nil, protocol.Errorf(protocol.CodeInternal, "%w", err)
	}
	cacert := c.String("cacert")
	return &Helper{
		Paths:   paths,
		Keyring: keyring.OS{Timeout: c.Duration("keyring-timeout")},
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

// settings merges the settings sources for command c: flags, the request,
// --openrc, the stored profile (when stored is not nil), OS_* variables,
// the defaults.
func settings(c *cli.Context, req *protocol.Request, stored *Settings) (Settings, error) {
	s := Settings{
		AuthURL: c.String("auth-url"), ProjectID: c.String("project-id"), Username: c.String("username"),
		UserDomainName: c.String("user-domain-name"), Region: c.String("region"), Interface: c.String("interface"),
	}
	s.Fill(FromRequest(req))
	if path := c.String("openrc"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return s, protocol.Errorf(protocol.CodeUsage, "cannot read the openrc file: %v", err)
		}
		vars := ParseOpenRC(data)
		s.Fill(FromVars(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }))
	}
	if stored != nil {
		s.Fill(*stored)
	}
	s.Fill(FromVars(os.LookupEnv))
	s.Fill(Defaults())
	return s, s.Check()
}

func (inv *invocation) get(c *cli.Context) error {
	format := c.String("format")
	switch format {
	case FormatJSON, FormatToken, FormatEnv, FormatExecCredential, FormatKeystoneAuth:
	default:
		return protocol.Errorf(protocol.CodeUsage, "unknown --format %q; use json, token, env, exec-credential or keystoneauth", format)
	}
	tok, err := inv.token(c, true)
	if err != nil {
		return err
	}
	inv.debugf("get: answering (cached=%t, token %s)", tok.Cached, MaskToken(tok.ID()))
	return inv.writeToken(format, tok)
}

// token does what get, exec and env share: read the request (when
// readRequest), resolve the profile and its settings, and get a token.
func (inv *invocation) token(c *cli.Context, readRequest bool) (*Token, error) {
	req, profile, err := inv.setup(c, readRequest, false)
	if err != nil {
		return nil, err
	}
	minTTL := 5 * time.Minute
	if v := c.String("min-ttl"); v != "" {
		if minTTL, err = time.ParseDuration(v); err != nil {
			return nil, protocol.Errorf(protocol.CodeUsage, "--min-ttl %q is not a duration like 5m or 300s", v)
		}
	} else if req != nil && req.MinTTLSeconds != nil {
		minTTL = time.Duration(*req.MinTTLSeconds) * time.Second
	}
	if minTTL < 0 || minTTL > protocol.MaxMinTTLSeconds*time.Second {
		return nil, protocol.Errorf(protocol.CodeUsage, "--min-ttl must be between 0 and 24h, not %s", minTTL)
	}
	h, err := inv.helper(c)
	if err != nil {
		return nil, err
	}
	stored, err := h.Paths.LoadProfile(profile)
	if err != nil {
		return nil, err
	}
	s, err := settings(c, req, &stored)
	if err != nil {
		return nil, err
	}
	return h.Get(c.Context, GetOptions{
		Profile: profile, Settings: s, MinTTL: minTTL,
		Refresh: c.Bool("refresh") || (req != nil && req.Refresh),
	})
}

func (inv *invocation) writeToken(format string, tok *Token) error {
	switch format {
	case FormatToken:
		_, err := fmt.Fprintln(inv.stdout, tok.ID())
		return err
	case FormatKeystoneAuth:
		body, err := tok.Body()
		if err != nil {
			return protocol.Errorf(protocol.CodeInternal, "%v; run `vkc-credential get --refresh`", err)
		}
		return inv.writeJSON(protocol.KeystoneAuthResponse{AuthToken: tok.ID(), Body: body})
	case FormatExecCredential:
		cred, err := protocol.NewExecCredential(os.Getenv("KUBERNETES_EXEC_INFO"), tok.ID(), tok.ExpiresAt())
		if err != nil {
			return err
		}
		return inv.writeJSON(cred)
	case FormatEnv:
		_, err := io.WriteString(inv.stdout, TokenEnv(tok).Render(ShellPOSIX))
		return err
	}
	return inv.writeJSON(protocol.TokenResponse{
		Version: protocol.Version, Profile: tok.Profile, Token: tok.ID(),
		ExpiresAt: tok.ExpiresAt(), IssuedAt: tok.IssuedAt(),
		AuthURL: tok.Settings.AuthURL, ProjectID: tok.Settings.ProjectID, Region: tok.Settings.Region,
		Cached: tok.Cached,
	})
}

func (inv *invocation) store(c *cli.Context) error {
	pwStdin := c.Bool("password-stdin")
	req, profile, err := inv.setup(c, !pwStdin, true)
	if err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	var stored *Settings
	if s, err := h.Paths.LoadProfile(profile); err == nil {
		stored = &s
	}
	s, err := settings(c, req, stored)
	if err != nil {
		return err
	}
	var password string
	switch {
	case req != nil && req.Password != nil:
		password = *req.Password
	case pwStdin:
		if inv.stdinIsTTY {
			return protocol.Errorf(protocol.CodeUsage, "--password-stdin needs the password piped in, not a terminal; drop the flag to be prompted")
		}
		data, err := io.ReadAll(io.LimitReader(inv.stdin, 64<<10+1))
		if err != nil {
			return protocol.Errorf(protocol.CodeUsage, "cannot read the password from stdin: %v", err)
		}
		if len(data) > 64<<10 {
			return protocol.Errorf(protocol.CodeUsage, "the password on stdin is longer than 64 KiB")
		}
		password = strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	default:
		password, err = readPasswordFromTTY(fmt.Sprintf("Password for %s (project %s, profile %s): ", s.Username, s.ProjectID, profile))
		if errors.Is(err, errNoTTY) {
			return protocol.Errorf(protocol.CodeUsage, "no terminal to ask for the password on; pipe it in with --password-stdin, or send {\"password\": ...} as the JSON request")
		}
		if err != nil {
			return protocol.Errorf(protocol.CodeUsage, "%v", err)
		}
	}
	res, err := h.Store(c.Context, StoreOptions{Profile: profile, Settings: s, Password: password, Verify: !c.Bool("no-verify")})
	if err != nil {
		return err
	}
	return inv.writeJSON(protocol.StoreResponse{
		Version: protocol.Version, Profile: profile, Stored: true, Verified: res.Verified,
		AuthURL: s.AuthURL, ProjectID: s.ProjectID, Username: s.Username, UserDomainName: s.UserDomainName,
		Region: s.Region, Interface: s.Interface, ExpiresAt: res.ExpiresAt,
	})
}

func (inv *invocation) erase(c *cli.Context) error {
	_, profile, err := inv.setup(c, true, false)
	if err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	res, err := h.Erase(c.Context, profile, c.Bool("revoke"))
	if res != nil {
		inv.writeJSON(protocol.EraseResponse{
			Version: protocol.Version, Profile: profile, Erased: true,
			PasswordRemoved: res.PasswordRemoved, TokensRemoved: res.TokensRemoved, Revoked: res.Revoked,
		})
		if err != nil {
			inv.jsonErrors = false // the summary above is the answer
		}
	}
	return err
}

func (inv *invocation) list(c *cli.Context) error {
	if _, _, err := inv.setup(c, true, false); err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	profiles, err := h.List()
	if err != nil {
		return err
	}
	return inv.writeJSON(profiles)
}

func (inv *invocation) version(c *cli.Context) error {
	if _, _, err := inv.setup(c, true, false); err != nil {
		return err
	}
	return inv.writeJSON(protocol.VersionResponse{
		Version: protocol.Version, ProtocolVersion: protocol.Version,
		Program: "vkc-credential", ProgramVersion: programVersion(), GoVersion: runtime.Version(),
	})
}

func programVersion() string {
	if ProgramVersion != "" {
		return ProgramVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 && (v == "" || v == "(devel)") {
				return "devel-" + s.Value[:12]
			}
		}
		if v != "" {
			return v
		}
	}
	return "devel"
}

// MaskToken shows enough of a token to tell two apart in a log, and no
// more.
func MaskToken(tok string) string {
	if len(tok) <= 12 {
		return "***"
	}
	return tok[:4] + "…" + tok[len(tok)-4:] + fmt.Sprintf(" (%d chars)", len(tok))
}

func (inv *invocation) env(c *cli.Context) error {
	shell := c.String("shell")
	switch shell {
	case ShellPOSIX, ShellFish, ShellPowerShell:
	default:
		return protocol.Errorf(protocol.CodeUsage, "unknown --shell %q; use posix, fish or powershell", shell)
	}
	tok, err := inv.token(c, true)
	if err != nil {
		return err
	}
	_, err = io.WriteString(inv.stdout, TokenEnv(tok).Render(shell))
	return err
}
