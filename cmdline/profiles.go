package cmdline

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/keyring"
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
	force := c.Bool("force")
	res, err := h.Erase(c.Context, helper.EraseOptions{Profile: inv.profile, Revoke: c.Bool("revoke"), Force: force})
	if left := (*helper.SecretLeft)(nil); errors.As(err, &left) && !force {
		return fmt.Errorf("%w; nothing was erased; if this keychain is gone for good, `vkc-credential erase --profile %s --force` "+
			"erases the profile anyway and says which secret to delete by hand", err, inv.profile)
	}
	if res == nil {
		return err
	}
	answer := protocol.EraseResponse{
		Version: protocol.Version, Profile: inv.profile, Erased: true,
		PasswordRemoved: res.PasswordRemoved, TokensRemoved: res.TokensRemoved, Revoked: res.Revoked,
		SharedTokenKept: res.SharedTokenKept, SharedPasswordKept: res.SharedPasswordKept,
	}
	if res.SecretLeft != nil {
		answer.SecretLeft = secretLeft(res.SecretLeft)
	}
	if werr := inv.writeJSON(answer); werr != nil {
		return werr
	}
	if res.SharedTokenKept {
		inv.warnf("another profile of the same identity still uses the cached token; it was neither removed nor revoked")
	}
	if res.SharedPasswordKept {
		inv.warnf("other profiles of the same user keep using the password; it stays in the keychain until the last of them is erased")
	}
	if l := answer.SecretLeft; l != nil {
		wheres := make([]string, len(l.Items))
		for i, it := range l.Items {
			wheres[i] = it.Where
		}
		inv.warnf("the profile is erased, but its secret could not be deleted from %s (%s); it may still be there, as %s; delete it by hand once that keychain is back",
			l.Keyring, l.Reason, strings.Join(wheres, ", or "))
	}
	inv.jsonErrors = false // the summary above is the answer
	return err
}

// secretLeft describes, for the answer, a secret erase could not delete.
func secretLeft(l *helper.SecretLeft) *protocol.SecretLeft {
	out := &protocol.SecretLeft{Keyring: l.Keyring, Reason: l.Err.Error()}
	for _, item := range l.Items {
		out.Items = append(out.Items, protocol.ItemLeft{Item: item, Where: keyring.Where(l.Keyring, item)})
	}
	return out
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

// version prints the program's and the protocol's versions, the commit
// and the build date. They are worked out here, and for --version, only:
// a cached get never pays for reading the build information.
func (inv *invocation) version(c *cli.Context) error {
	if _, err := inv.setup(c, true, false); err != nil {
		return err
	}
	b := readBuild()
	return inv.writeJSON(protocol.VersionResponse{
		Version: protocol.Version, ProtocolVersion: protocol.Version,
		Program: "vkc-credential", ProgramVersion: b.version, GoVersion: runtime.Version(),
		Commit: b.commit, BuildDate: b.date,
	})
}

// buildVersion, buildCommit and buildDate are set at build time by
// install.sh and goreleaser, with the flags of scripts/build.env:
//
//	-ldflags "-X vkc-credential/cmdline.buildVersion=v1.2.3
//	  -X vkc-credential/cmdline.buildCommit=0123abc…
//	  -X vkc-credential/cmdline.buildDate=2026-01-02T03:04:05Z"
//
// A plain `go build` or `go install` leaves them empty; readBuild then
// asks the module's build information.
var (
	buildVersion = ""
	buildCommit  = ""
	buildDate    = ""
)

// build names the binary: its version, commit and build date.
type build struct{ version, commit, date string }

// readBuild answers from the -X flags where they were given, otherwise
// from debug.ReadBuildInfo: the module version (`go install
// vkc-credential@v1.2.3`), else "devel-" and the first 12 hex digits of
// vcs.revision, else "devel"; the commit from vcs.revision (with
// "-dirty" when vcs.modified), the date from vcs.time (the commit's,
// the best a plain build knows); "unknown" when there is none.
func readBuild() build {
	b := build{version: buildVersion, commit: buildCommit, date: buildDate}
	if b.version != "" && b.commit != "" && b.date != "" {
		return b
	}
	vcs := readVCS()
	if b.version == "" {
		b.version = vcs.version()
	}
	if b.commit == "" {
		b.commit = vcs.commit()
	}
	if b.date == "" {
		b.date = "unknown"
		if vcs.time != "" {
			b.date = vcs.time
		}
	}
	return b
}

// vcsBuild is what the module's build information tells of a build.
type vcsBuild struct {
	modVersion, rev, time string
	dirty                 bool
}

// readVCS reads the module version and the vcs.* settings of the build
// information; all empty when there is none.
func readVCS() vcsBuild {
	var v vcsBuild
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.modVersion = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.rev = s.Value
		case "vcs.time":
			v.time = s.Value
		case "vcs.modified":
			v.dirty = s.Value == "true"
		}
	}
	return v
}

// version is the module version, else "devel-" and the revision's first
// 12 hex digits, else "devel".
func (v vcsBuild) version() string {
	switch {
	case v.modVersion != "" && v.modVersion != "(devel)":
		return v.modVersion
	case len(v.rev) >= 12:
		return "devel-" + v.rev[:12]
	}
	return "devel"
}

// commit is the revision, with "-dirty" when the tree was modified;
// "unknown" when there is none.
func (v vcsBuild) commit() string {
	switch {
	case v.rev == "":
		return "unknown"
	case v.dirty:
		return v.rev + "-dirty"
	}
	return v.rev
}

// programVersion is the version alone, for --version.
func programVersion() string { return readBuild().version }
