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
	// stdin belongs to the command: no request is read.
	tok, err := inv.token(c, false)
	if err != nil {
		return err
	}
	env := TokenEnv(tok)
	env.Set = append(env.Set, [2]string{ExecMarker, tok.Profile})
	environ := env.Apply(os.Environ())
	path, err := lookPath(args[0], environ)
	if err != nil {
		return protocol.Errorf(protocol.CodeUsage, "cannot run %q: %v", args[0], err)
	}
	inv.debugf("exec: running %s with token %s", path, MaskToken(tok.ID()))
	code, err := runCommand(path, args, environ, inv)
	if err != nil {
		return protocol.Errorf(protocol.CodeInternal, "cannot run %q: %v", args[0], err)
	}
	return &exitStatus{code: code}
}

// lookPath finds file as the child's PATH would.
func lookPath(file string, environ []string) (string, error) {
	for i := len(environ) - 1; i >= 0; i-- {
		if v, ok := cutPrefixFold(environ[i], "PATH="); ok {
			old := os.Getenv("PATH")
			os.Setenv("PATH", v)
			defer os.Setenv("PATH", old)
			break
		}
	}
	return exec.LookPath(file)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && envKey(s[:len(prefix)]) == prefix {
		return s[len(prefix):], true
	}
	return "", false
}
