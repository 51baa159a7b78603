package helper

import (
	"os"
	"os/exec"

	"github.com/urfave/cli/v2"

	"vkc-credential/protocol"
)

func (inv *invocation) exec(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return protocol.Errorf(protocol.CodeUsage, "exec needs a command: vkc-credential exec -- CMD [ARGS...]")
	}
	if outer := inExec(); outer != "" && !c.Bool("allow-nested") {
		return protocol.Errorf(protocol.CodeUsage, "already inside `vkc-credential exec` for profile %q; run the command directly, or pass --allow-nested", outer)
	}
	// Before any keychain or Keystone work: a mistyped command costs
	// nothing. The child's PATH is ours (exec changes no PATH).
	path, err := exec.LookPath(args[0])
	if err != nil {
		return protocol.Errorf(protocol.CodeUsage, "cannot run %q: %v", args[0], err)
	}
	// stdin belongs to the command: no request is read.
	tok, err := inv.token(c, false)
	if err != nil {
		return err
	}
	env := TokenEnv(tok)
	env.Set = append(env.Set, [2]string{ExecMarker, tok.Profile})
	environ := env.Apply(os.Environ())
	inv.debugf("exec: running %s with token %s", path, MaskToken(tok.ID()))
	code, err := runCommand(path, args, environ, inv)
	if err != nil {
		return protocol.Errorf(protocol.CodeInternal, "cannot run %q: %v", args[0], err)
	}
	return &exitStatus{code: code}
}
