package cmdline

import (
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"vkc-credential/protocol"
)

// erase removes a profile; its answer is printed even when revoking
// failed, since the local data is gone either way.
func (inv *invocation) erase(c *cli.Context) error {
	if _, err := inv.setup(c, true, false); err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	res, err := h.Erase(c.Context, inv.profile, c.Bool("revoke"))
	if res != nil {
		if werr := inv.writeJSON(protocol.EraseResponse{
			Version: protocol.Version, Profile: inv.profile, Erased: true,
			PasswordRemoved: res.PasswordRemoved, TokensRemoved: res.TokensRemoved, Revoked: res.Revoked,
			SharedTokenKept: res.SharedTokenKept,
		}); werr != nil {
			return werr
		}
		if res.SharedTokenKept {
			inv.warnf("another profile of the same identity still uses the cached token; it was neither removed nor revoked")
		}
		inv.jsonErrors = false // the summary above is the answer
	}
	return err
}

// list prints the stored profiles.
func (inv *invocation) list(c *cli.Context) error {
	if _, err := inv.setup(c, true, false); err != nil {
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

// version prints the program's and the protocol's versions.
func (inv *invocation) version(c *cli.Context) error {
	if _, err := inv.setup(c, true, false); err != nil {
		return err
	}
	return inv.writeJSON(protocol.VersionResponse{
		Version: protocol.Version, ProtocolVersion: protocol.Version,
		Program: "vkc-credential", ProgramVersion: programVersion(), GoVersion: runtime.Version(),
	})
}

// buildVersion is set at build time with -ldflags "-X
// vkc-credential/cmdline.buildVersion=v1.2.3"; otherwise the module's
// build information names the version.
var buildVersion = ""

func programVersion() string {
	if buildVersion != "" {
		return buildVersion
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
