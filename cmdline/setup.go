package cmdline

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// setup reads what every command shares: the debug switch, the request on
// stdin (unless the command keeps stdin for itself or --no-stdin says
// so), and the profile.
func (inv *invocation) setup(c *cli.Context, readRequest, allowPassword bool) (*protocol.Request, error) {
	inv.debug = c.Bool("debug")
	var req *protocol.Request
	if readRequest {
		var err error
		if req, err = inv.request(c, allowPassword); err != nil {
			return nil, err
		}
	}
	if c.Args().Present() && c.Command.ArgsUsage == "" { // a command that names no arguments takes none
		return nil, usagef("unexpected argument %q; see `vkc-credential %s --help`", c.Args().First(), inv.command)
	}
	if err := inv.chooseProfile(c, req); err != nil {
		return nil, err
	}
	for _, name := range []string{"timeout", "keyring-timeout"} {
		if c.Duration(name) <= 0 {
			return nil, usagef("--%s must be positive", name)
		}
	}
	return req, nil
}

// request reads the JSON request on stdin, unless --no-stdin says not to
// or stdin is a terminal; nil when there is none. Only store takes a
// password in it (allowPassword).
func (inv *invocation) request(c *cli.Context, allowPassword bool) (*protocol.Request, error) {
	if c.Bool("no-stdin") || inv.stdinIsTTY || inv.stdin == nil {
		return nil, nil
	}
	req, err := protocol.DecodeRequest(inv.stdin)
	if err != nil || req == nil {
		return nil, err
	}
	inv.debugf("request: read from stdin")
	if req.Password != nil && !allowPassword {
		return nil, usagef("a password in the request is only taken by `store`; remove it")
	}
	return req, nil
}

// chooseProfile sets the profile of the run: --profile, else the
// request's, else VKC_PROFILE, else "default".
func (inv *invocation) chooseProfile(c *cli.Context, req *protocol.Request) error {
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
		return err
	}
	inv.profile = profile
	return nil
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
