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

// get prints a token in the format --format names.
func (inv *invocation) get(c *cli.Context) error {
	format := c.String("format")
	switch format {
	case formatJSON, formatToken, formatEnv, formatExecCredential, formatKeystoneAuth:
	default:
		return usagef("unknown --format %q; use json, token, env, exec-credential or keystoneauth", format)
	}
	tok, err := inv.token(c, true)
	if err != nil {
		return err
	}
	inv.debugf("get: answering (cached=%t, token %s)", tok.Cached, maskToken(tok.ID()))
	return inv.writeToken(format, tok)
}

// token does what get, exec and env share: read the request (when
// readRequest), resolve the profile and its settings, and get a token.
func (inv *invocation) token(c *cli.Context, readRequest bool) (*helper.Token, error) {
	req, err := inv.setup(c, readRequest, false)
	if err != nil {
		return nil, err
	}
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
	return h.Get(c.Context, helper.GetOptions{
		Profile: inv.profile, Settings: s, Keyring: stored.Keyring, MinTTL: minTTL,
		Passcode: inv.passcode(stored.TOTPCommand), TOTP: stored.TOTPCommand != "",
		Refresh: c.Bool("refresh") || (req != nil && req.Refresh),
	})
}

// writeToken writes tok to stdout in format.
func (inv *invocation) writeToken(format string, tok *helper.Token) error {
	switch format {
	case formatToken:
		_, err := fmt.Fprintln(inv.stdout, tok.ID())
		return err
	case formatKeystoneAuth:
		body, err := tok.Body()
		if err != nil {
			return fmt.Errorf("%w; run `vkc-credential get --refresh`", err)
		}
		return inv.writeJSON(protocol.KeystoneAuthResponse{AuthToken: tok.ID(), Body: body})
	case formatExecCredential:
		cred, err := protocol.NewExecCredential(os.Getenv("KUBERNETES_EXEC_INFO"), tok.ID(), tok.ExpiresAt())
		if err != nil {
			return err
		}
		return inv.writeJSON(cred)
	case formatEnv:
		_, err := io.WriteString(inv.stdout, tokenEnv(tok).render(shellPOSIX))
		return err
	}
	return inv.writeJSON(protocol.TokenResponse{
		Version: protocol.Version, Profile: tok.Profile, Token: tok.ID(),
		ExpiresAt: tok.ExpiresAt(), IssuedAt: tok.IssuedAt(),
		AuthURL: tok.Settings.AuthURL, ProjectID: tok.Settings.ProjectID, Region: tok.Settings.Region,
		Cached: tok.Cached,
	})
}

// env prints the shell lines that carry the token.
func (inv *invocation) env(c *cli.Context) error {
	shell, ok := shells[c.String("shell")]
	if !ok {
		return usagef("unknown --shell %q; use posix (or sh, bash, zsh, ksh, dash), fish, or powershell (or pwsh)", c.String("shell"))
	}
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
