package cmdline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"syscall"

	"github.com/urfave/cli/v2"
)

// exec runs a command with the token in its environment. stdin belongs to
// the command: no request is read.
func (inv *invocation) exec(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usagef("exec needs a command: vkc-credential exec -- CMD [ARGS...]")
	}
	if outer := inExec(); outer != "" && !c.Bool("allow-nested") {
		return usagef("already inside `vkc-credential exec` for profile %q; run the command directly, or pass --allow-nested", outer)
	}
	// Before any keychain or Keystone work: a mistyped command costs
	// nothing, and exits as a shell's would (127, or 126 for a file that
	// cannot be run). The child's PATH is ours (exec changes no PATH).
	path, err := exec.LookPath(args[0])
	if err != nil {
		return notRunnable(args[0], err)
	}
	if c.Bool("serve") {
		return inv.execServe(c, path, args)
	}
	return inv.execToken(c, path, args)
}

// execToken runs the command with the token in its environment.
func (inv *invocation) execToken(c *cli.Context, path string, args []string) error {
	tok, err := inv.token(c, false)
	if err != nil {
		return err
	}
	if tok.Settings.ApplicationCredentialID != "" {
		inv.warnf("profile %q holds an application credential, whose token Keystone refuses to exchange for another; "+
			"the openstack CLI and gophercloud tools (Terraform, packer) given OS_TOKEN with OS_PROJECT_ID do that and fail with HTTP 403: "+
			"run them under `vkc-credential exec --serve`", tok.Profile)
	}
	env := tokenEnv(tok)
	env.set = append(env.set, [2]string{execMarker, tok.Profile})
	environ := env.apply(os.Environ())
	inv.debugf("exec: running %s with token %s", path, maskToken(tok.ID()))
	if inv.replaceProcess {
		err = replaceProcess(path, args, environ) // returns only on failure
	} else {
		err = inv.runChild(path, args, environ)
	}
	return runError(args[0], err)
}

// runError is what running the command returned: its status as an
// *exitStatus, or the failure to start it, named.
func runError(name string, err error) error {
	var exit *exitStatus
	if err != nil && !errors.As(err, &exit) {
		return &exitStatus{code: exitCannotRun, msg: fmt.Sprintf("cannot run %q: %v", name, err)}
	}
	return err
}

// The exit statuses of a command that cannot be run, as a shell and
// env(1) have them.
const (
	exitCannotRun = 126 // found, but not an executable file
	exitNotFound  = 127
)

// notRunnable is the exit status and message for a command that
// exec.LookPath did not accept.
func notRunnable(name string, err error) error {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return &exitStatus{code: exitNotFound, msg: fmt.Sprintf("cannot run %q: no such command in PATH", name)}
	case errors.Is(err, fs.ErrNotExist):
		return &exitStatus{code: exitNotFound, msg: fmt.Sprintf("cannot run %q: no such file", name)}
	case errors.Is(err, fs.ErrPermission):
		return &exitStatus{code: exitCannotRun, msg: fmt.Sprintf("cannot run %q: not an executable file", name)}
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	return &exitStatus{code: exitCannotRun, msg: fmt.Sprintf("cannot run %q: %v", name, err)}
}

// runChild runs the command as a child with the program's streams and
// returns its status as an *exitStatus: its exit code, or 128+N when
// signal N killed it.
func (inv *invocation) runChild(path string, args, environ []string) error {
	cmd := exec.Command(path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env = environ
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.stdin, inv.stdout, inv.stderr
	return childStatus(cmd.Run())
}

// childStatus turns what running a child returned into an *exitStatus:
// its exit code, or 128+N when signal N killed it.
func childStatus(err error) error {
	if err == nil {
		return &exitStatus{code: 0}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &exitStatus{code: 128 + int(ws.Signal())}
	}
	return &exitStatus{code: ee.ExitCode()}
}
