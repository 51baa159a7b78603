package cmdline

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/protocol"
	"vkc-credential/standin"
)

// This file holds `exec --serve` and `serve`: the Keystone stand-in of
// package standin, fed from the shared cache, and the environment that
// points tools at it.

// execServe runs the command with the stand-in for its life.
func (inv *invocation) execServe(c *cli.Context, path string, args []string) error {
	sv, env, err := inv.startStandin(c, "127.0.0.1:0", false) // stdin is the command's
	if err != nil {
		return err
	}
	defer sv.Close() // the port closes as the command ends
	env.set = append(env.set, [2]string{execMarker, inv.profile})
	go sv.Serve()
	inv.debugf("exec: running %s with the stand-in at %s", path, sv.URL())
	return runError(args[0], inv.runChildForwarding(path, args, env.apply(os.Environ())))
}

// serve prints the variables that point tools at the stand-in, then
// serves until SIGINT or SIGTERM.
func (inv *invocation) serve(c *cli.Context) error {
	shell := shellSyntax(c.String("shell")) // its choice flag refused any other
	listen, err := loopbackAddress(c.String("listen"))
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	sv, env, err := inv.startStandin(c, listen, true)
	if err != nil {
		return err
	}
	defer sv.Close()
	if _, err := io.WriteString(inv.stdout, env.render(shell)); err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- sv.Serve() }()
	select {
	case err := <-served:
		return err
	case sig := <-stop:
		inv.debugf("serve: %v; stopping", sig)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sv.Shutdown(ctx)
	return nil
}

// loopbackAddress checks --listen: 127.0.0.1:PORT or localhost:PORT.
func loopbackAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 || (host != "127.0.0.1" && host != "localhost") {
		return "", usagef("--listen %q is not 127.0.0.1:PORT; the stand-in listens on loopback only (port 0: a free one)", addr)
	}
	return "127.0.0.1:" + port, nil
}

// startStandin resolves the profile (reading a request from stdin when
// readRequest), gets a first token (so that a profile that cannot sign in
// fails before anything runs), and returns the stand-in, not yet serving,
// listening on listen, and the environment that points tools at it.
func (inv *invocation) startStandin(c *cli.Context, listen string, readRequest bool) (*standin.Server, environment, error) {
	tr, err := inv.tokenRequest(c, readRequest)
	if err != nil {
		return nil, environment{}, err
	}
	secret, err := standin.NewSecret()
	if err != nil {
		return nil, environment{}, err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, environment{}, fmt.Errorf("the stand-in cannot listen on %s: %w", listen, err)
	}
	// Until the tools run, a TOTP passcode may be asked on the terminal;
	// after that the terminal is theirs, and only a --totp-command serves.
	serving := false
	ask := tr.opts.Passcode
	tr.opts.Passcode = func() (string, error) {
		if serving && tr.totpCommand == "" {
			return "", fmt.Errorf("%w (the stand-in cannot ask on the terminal while the tools run)", errNoPasscode)
		}
		return ask()
	}
	refresh := tr.opts.Refresh
	var settings helper.Settings
	cfg := standin.Config{
		Token: func(ctx context.Context, minTTL time.Duration) (standin.Token, error) {
			o := tr.opts
			o.MinTTL, o.Refresh, refresh = minTTL, refresh, false // --refresh: the first token only
			tok, err := tr.h.Get(ctx, o)
			if err != nil {
				return nil, err
			}
			if !serving {
				settings = tok.Settings
			}
			return tok, nil
		},
		MinTTL: tr.opts.MinTTL, Secret: secret, Describe: inv.standinError, Debugf: inv.debugf,
	}
	sv, err := standin.New(c.Context, cfg, ln)
	if err != nil {
		ln.Close()
		return nil, environment{}, err
	}
	serving = true
	return sv, standinEnv(sv, secret, inv.profile, settings), nil
}

// standinEnv is what `exec --serve` and `serve` hand to tools: password
// sign-in at the stand-in with the session secret.
func standinEnv(sv *standin.Server, secret, profile string, s helper.Settings) environment {
	id := sv.Identity()
	set := [][2]string{
		{"OS_AUTH_URL", sv.URL()},
		{"OS_AUTH_TYPE", "password"},
		{"OS_IDENTITY_API_VERSION", "3"},
		{"OS_USERNAME", id.UserName},
		{"OS_USER_DOMAIN_NAME", id.UserDomainName},
		{"OS_PROJECT_ID", id.ProjectID},
		{"OS_REGION_NAME", s.Region},
		{"OS_INTERFACE", s.Interface},
		{"OS_PASSWORD", secret},
		{"VKC_PROFILE", profile},
	}
	isSet := map[string]bool{}
	for _, kv := range set {
		isSet[kv[0]] = true
	}
	return environment{set: set, unset: standinUnset(isSet)}
}

// standinUnset is what the stand-in's environment removes: what exec
// removes but what it sets, and the token variables, which would win over
// the password with most tools.
func standinUnset(set map[string]bool) []string {
	unset := []string{"OS_TOKEN", "OS_AUTH_TOKEN"}
	for _, name := range removedVars {
		if !set[name] {
			unset = append(unset, name)
		}
	}
	return unset
}

// standinError maps a failure to get a token to the stand-in's answer:
// what the caller cannot mend by trying again is 401, a Keystone or a
// keychain that fails is 503. The message is the one the command line
// would print; it is also printed on stderr, once in a row.
func (inv *invocation) standinError(err error) (int, string) {
	code, msg := inv.describe(err)
	msg = terminalSafe(msg)
	if msg != inv.lastStandinError {
		inv.lastStandinError = msg
		inv.warnf("the stand-in could not hand out a token: %s", msg)
	}
	switch code {
	case protocol.CodeAuthFailed, protocol.CodeNotFound, protocol.CodeMFARequired, protocol.CodeUsage:
		return http.StatusUnauthorized, msg
	case protocol.CodeKeystoneUnavailable, protocol.CodeKeyringUnavailable:
		return http.StatusServiceUnavailable, msg
	}
	return http.StatusInternalServerError, msg
}

// runChildForwarding runs the command as a child, as runChild does, and
// passes the signals this process gets on to it (but those a terminal
// already sent to the whole foreground process group, which the child
// shares).
func (inv *invocation) runChildForwarding(path string, args, environ []string) error {
	cmd := exec.Command(path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.stdin, inv.stdout, inv.stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case sig := <-sigs:
				if !deliveredByTerminal(sig) {
					inv.debugf("exec: passing %v on", sig)
					cmd.Process.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	return childStatus(cmd.Wait())
}
