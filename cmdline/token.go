package cmdline

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/protocol"
)

// getFormats are the answers of `get --format`, each with its writer;
// the flag takes these names (app.go). A new format is one row here and
// its writer.
var getFormats = []struct {
	name  string
	write func(inv *invocation, tok *helper.Token) error
}{
	{formatJSON, (*invocation).writeTokenJSON},
	{"token", (*invocation).writeBareToken},
	{"env", (*invocation).writeTokenEnv},
	{"exec-credential", (*invocation).writeExecCredential},
	{"keystoneauth", (*invocation).writeKeystoneAuth},
}

// getFormatNames are the values of `get --format`.
func getFormatNames() []string {
	names := make([]string, len(getFormats))
	for i, f := range getFormats {
		names[i] = f.name
	}
	return names
}

// get prints a token in the format --format names (one of getFormats:
// the flag refused any other while it was parsed).
func (inv *invocation) get(c *cli.Context) error {
	format := c.String("format")
	tok, err := inv.token(c, true)
	if err != nil {
		return err
	}
	inv.debugf("get: answering (cached=%t, token %s)", tok.Cached, maskToken(tok.ID()))
	for _, f := range getFormats {
		if f.name == format {
			return f.write(inv, tok)
		}
	}
	return fmt.Errorf("no writer for --format %q", format)
}

// token does what get, exec and env share: read the request (when
// readRequest), resolve the profile and its settings, and get a token.
func (inv *invocation) token(c *cli.Context, readRequest bool) (*helper.Token, error) {
	req, err := inv.setup(c, readRequest, false)
	if err != nil {
		return nil, err
	}
	return inv.tokenFor(c, req)
}

// tokenFor gets a token for the profile setup found, with the settings of
// req (nil for none): for a command that checks more of its own between
// the two.
func (inv *invocation) tokenFor(c *cli.Context, req *protocol.Request) (*helper.Token, error) {
	tr, err := inv.requestFor(c, req)
	if err != nil {
		return nil, err
	}
	return tr.h.Get(c.Context, tr.opts)
}

// tokenRequest is a resolved request for a token: the Helper, the options
// of its Get, and the profile's --totp-command.
type tokenRequest struct {
	h           *helper.Helper
	opts        helper.GetOptions
	totpCommand string
}

// tokenRequest reads the request (when readRequest), resolves the profile
// and returns how to get its token, as token does, without getting it.
func (inv *invocation) tokenRequest(c *cli.Context, readRequest bool) (*tokenRequest, error) {
	req, err := inv.setup(c, readRequest, false)
	if err != nil {
		return nil, err
	}
	return inv.requestFor(c, req)
}

// requestFor resolves the profile setup found, its settings with those of
// req (nil for none) and the minimum TTL.
func (inv *invocation) requestFor(c *cli.Context, req *protocol.Request) (*tokenRequest, error) {
	var err error
	minTTL := 5 * time.Minute
	if v := c.String("min-ttl"); v != "" {
		if minTTL, err = time.ParseDuration(v); err != nil {
			return nil, usagef("--min-ttl %q is not a duration like 5m or 300s", v)
		}
	} else if req != nil && req.MinTTLSeconds != nil {
		minTTL = time.Duration(*req.MinTTLSeconds) * time.Second
	}
	if minTTL < 0 || minTTL > protocol.MaxMinTTLSeconds*time.Second {
		return nil, usagef("--min-ttl must be between 0 and 24h, not %s", minTTL)
	}
	h, err := inv.helper(c)
	if err != nil {
		return nil, err
	}
	stored, err := h.Paths.LoadProfile(inv.profile)
	if err != nil {
		return nil, err
	}
	src := helper.Sources{Stored: &stored.Settings, Env: helper.SettingsFromVars(os.LookupEnv)}
	if req != nil {
		src.Request = req.Settings
	}
	s, err := helper.Resolve(src)
	if err != nil {
		return nil, err
	}
	return &tokenRequest{h: h, totpCommand: stored.TOTPCommand, opts: helper.GetOptions{
		Profile: inv.profile, Settings: s, Keyring: stored.Keyring, MinTTL: minTTL,
		SecretCommand: stored.SecretCommand,
		Passcode:      inv.passcode(inv.profile, s, stored.TOTPCommand), TOTP: stored.TOTPCommand != "",
		Refresh: c.Bool("refresh") || (req != nil && req.Refresh),
	}}, nil
}

func (inv *invocation) writeBareToken(tok *helper.Token) error {
	_, err := fmt.Fprintln(inv.stdout, tok.ID())
	return err
}

func (inv *invocation) writeKeystoneAuth(tok *helper.Token) error {
	body, err := tok.Body()
	if err != nil {
		return fmt.Errorf("%w; run `vkc-credential get --refresh`", err)
	}
	return inv.writeJSON(protocol.KeystoneAuthResponse{AuthToken: tok.ID(), Body: body})
}

func (inv *invocation) writeExecCredential(tok *helper.Token) error {
	cred, err := protocol.NewExecCredential(os.Getenv("KUBERNETES_EXEC_INFO"), tok.ID(), tok.ExpiresAt())
	if err != nil {
		return err
	}
	return inv.writeJSON(cred)
}

func (inv *invocation) writeTokenEnv(tok *helper.Token) error {
	_, err := io.WriteString(inv.stdout, tokenEnv(tok).render(shellPOSIX))
	return err
}

func (inv *invocation) writeTokenJSON(tok *helper.Token) error {
	return inv.writeJSON(protocol.TokenResponse{
		Version: protocol.Version, Profile: tok.Profile, Token: tok.ID(),
		ExpiresAt: tok.ExpiresAt(), IssuedAt: tok.IssuedAt(),
		AuthURL: tok.Settings.AuthURL, ProjectID: tok.Settings.ProjectID, Region: tok.Settings.Region,
		Cached: tok.Cached,
	})
}

// env prints the shell lines that carry the token.
func (inv *invocation) env(c *cli.Context) error {
	shell := shellSyntax(c.String("shell"))
	tok, err := inv.token(c, true)
	if err != nil {
		return err
	}
	_, err = io.WriteString(inv.stdout, tokenEnv(tok).render(shell))
	return err
}

// projects lists the projects the profile's user can scope a token to,
// asking Keystone with the profile's token.
func (inv *invocation) projects(c *cli.Context) error {
	tok, err := inv.token(c, true)
	if err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	list, err := h.TokenProjects(c.Context, tok)
	if err != nil {
		return err
	}
	out := []protocol.Project{}
	for _, p := range list {
		out = append(out, protocol.Project{ID: p.ID, Name: p.Name, DomainID: p.DomainID, Enabled: p.Enabled})
	}
	return inv.writeJSON(out)
}
