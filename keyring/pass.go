package keyring

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// pass keeps each secret as the entry vkc-credential/ITEM of the standard
// Unix password manager, a gpg-encrypted file under $PASSWORD_STORE_DIR or
// ~/.password-store. It runs pass like docker-credential-helpers' pass helper
// does: a fixed argv without the secret, the secret on stdin only, stderr
// kept for the message, and the child (with gpg and anything else in its
// process group) killed when the timeout passes.
type pass struct {
	timeout time.Duration
}

func openPass(timeout time.Duration) (Store, error) { return pass{timeout: timeout}, nil }

// Get returns the first line of the entry of item.
func (p pass) Get(item string) (string, error) {
	out, err := p.run(opRead, item, "")
	first, _, _ := strings.Cut(out, "\n")
	return first, err
}

// Set stores secret as the entry of item, replacing any earlier one.
func (p pass) Set(item, secret string) error {
	if strings.ContainsAny(secret, "\r\n") {
		return fmt.Errorf("%w: pass keeps a password on the first line of its entry, and this one has a line break; keep it in another keychain backend", ErrUnavailable)
	}
	_, err := p.run(opWrite, item, secret)
	return err
}

// Delete removes the entry of item; ErrNotFound if there was none.
func (p pass) Delete(item string) error {
	_, err := p.run(opDelete, item, "")
	return err
}

// Bounds on what is kept of the child's output.
const (
	maxPassOutput = 64 << 10
	maxPassStderr = 4 << 10
	maxPassReason = 300
)

func (p pass) run(what op, item, secret string) (string, error) {
	entry, err := passEntry(item)
	if err != nil {
		return "", err
	}
	bin, err := passTools()
	if err != nil {
		return "", err
	}
	timeout := orDefault(p.timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stdout := &capped{max: maxPassOutput}
	stderr := &capped{max: maxPassStderr}
	cmd := passCommand(ctx, bin, what, entry, secret)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("%w: %w: pass did not finish a %s within %s, most likely because gpg waits for a passphrase nobody can type here; %s",
			ErrUnavailable, ErrTimeout, what, timeout, primeHint(what, entry))
	}
	if err != nil {
		return "", passError(what, entry, reason(stderr.b, secret))
	}
	return string(stdout.b), nil
}

// passCommand builds the child that carries out what on entry. Its argv is
// fixed and never holds the secret: for a write the secret is all of its
// stdin; otherwise stdin is /dev/null. Its environment is ours without the
// OpenStack variables (OS_*), which pass and gpg never need and which may
// hold a password.
func passCommand(ctx context.Context, bin string, what op, entry, secret string) *exec.Cmd {
	var args []string
	switch what {
	case opRead:
		args = []string{"show", entry}
	case opWrite:
		args = []string{"insert", "--multiline", "--force", entry}
	case opDelete:
		args = []string{"rm", "--force", entry}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	if what == opWrite {
		cmd.Stdin = strings.NewReader(secret)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// Kill the whole process group on timeout, so gpg goes too; and do
	// not wait long for a straggler that kept our pipes open.
	killGroupOnCancel(cmd)
	cmd.WaitDelay = time.Second
	return cmd
}

// passEntry is the name of item's entry: item escaped to one path
// component (a profile name stays as it is) inside the folder
// vkc-credential.
func passEntry(item string) (string, error) {
	if err := checkItem(item); err != nil {
		return "", err
	}
	name := url.PathEscape(item)
	if name == "." || name == ".." {
		name = strings.ReplaceAll(name, ".", "%2E")
	}
	if len(name)+len(".gpg") > 255 {
		return "", fmt.Errorf("keyring: item name %q is too long for a pass entry", item)
	}
	return service + "/" + name, nil
}

// passTools finds pass and the gpg it runs.
func passTools() (string, error) {
	bin, err := exec.LookPath("pass")
	if err != nil {
		return "", fmt.Errorf("%w: pass is not installed (%v); install the pass package (Debian: apt-get install pass)", ErrUnavailable, err)
	}
	if _, err := exec.LookPath("gpg"); err != nil {
		if _, err2 := exec.LookPath("gpg2"); err2 != nil {
			return "", fmt.Errorf("%w: gpg, which pass needs, is not installed (%v); install the gnupg package (Debian: apt-get install gnupg)", ErrUnavailable, err)
		}
	}
	return bin, nil
}

// passStoreDir is where pass keeps its entries.
func passStoreDir() string {
	if dir := os.Getenv("PASSWORD_STORE_DIR"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "~/.password-store"
	}
	return filepath.Join(home, ".password-store")
}

// passUsable checks, without running gpg, that pass and gpg are installed
// and that the password store has been initialised (it has a .gpg-id).
func passUsable(time.Duration) error {
	if _, err := passTools(); err != nil {
		return err
	}
	dir := passStoreDir()
	if _, err := os.Stat(filepath.Join(dir, ".gpg-id")); err != nil {
		return fmt.Errorf("%w: the password store %s is not initialised (no .gpg-id); run `pass init GPG-KEY-ID` once", ErrUnavailable, dir)
	}
	return nil
}

func passDescribe() string {
	return "the pass password store in " + passStoreDir() + " (a gpg-encrypted file per secret); it survives reboots"
}

func passWhere(item string) string {
	entry, err := passEntry(item)
	if err != nil {
		return err.Error()
	}
	return "the pass entry " + entry + " in " + passStoreDir() + " (pass rm " + entry + ")"
}

// primeHint says how to let gpg decrypt without a terminal.
func primeHint(what op, entry string) string {
	how := "unlock the gpg key once in a terminal"
	if what == opRead {
		how = fmt.Sprintf("unlock the gpg key once in a terminal (gpg --decrypt %s >/dev/null)", filepath.Join(passStoreDir(), entry+".gpg"))
	}
	// pass runs in a process group of its own (so that a timeout ends gpg
	// too), which a terminal pinentry cannot prompt from: the agent must
	// have the passphrase already, or ask through a graphical pinentry.
	return how + " so that gpg-agent caches its passphrase, or preset it with gpg-preset-passphrase"
}

// passError maps what pass said on stderr.
func passError(what op, entry, said string) error {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(said, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("is not in the password store"):
		if what != opWrite {
			return ErrNotFound
		}
	case has("You must run:", "pass init"):
		return fmt.Errorf("%w: the password store %s is not initialised (%s); run `pass init GPG-KEY-ID` once", ErrUnavailable, passStoreDir(), said)
	case has("gpg: command not found", "gpg2: command not found", "gpg: not found"):
		return fmt.Errorf("%w: gpg, which pass needs, is not installed (%s); install the gnupg package (Debian: apt-get install gnupg)", ErrUnavailable, said)
	case has("No secret key", "decryption failed", "Operation cancelled", "Inappropriate ioctl", "pinentry", "Bad passphrase", "Timeout"):
		return fmt.Errorf("%w: gpg could not decrypt %s (%s); %s", ErrUnavailable, entry, said, primeHint(what, entry))
	case has("No public key", "encryption failed", "unusable public key"):
		return fmt.Errorf("%w: gpg could not encrypt to the key named in %s (%s); check it with gpg --list-keys, or run `pass init GPG-KEY-ID` with a key you have", ErrUnavailable, filepath.Join(passStoreDir(), ".gpg-id"), said)
	}
	if said == "" {
		said = "no message"
	}
	return fmt.Errorf("%w: pass %s of %s failed (%s)", ErrUnavailable, what, entry, said)
}

// reason turns the child's stderr into one short line: the secret, should
// it appear, masked; lines joined with "; "; other control characters
// dropped; cut to maxPassReason bytes.
func reason(stderr []byte, secret string) string {
	s := strings.ToValidUTF8(string(stderr), "?")
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[secret]")
	}
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, line)
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			lines = append(lines, line)
		}
	}
	s = strings.Join(lines, "; ")
	if len(s) > maxPassReason {
		s = strings.ToValidUTF8(s[:maxPassReason], "") + "…"
	}
	return s
}

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	b   []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
