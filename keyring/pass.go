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

func openPass(cfg Config) (Store, error) { return pass{timeout: cfg.Timeout}, nil }

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
			ErrUnavailable, ErrTimeout, what, timeout, passSetUp())
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
		return "", notSetUp("pass is not installed (%v); install the pass package (Debian: apt-get install pass)", err)
	}
	if _, err := exec.LookPath("gpg"); err != nil {
		if _, err2 := exec.LookPath("gpg2"); err2 != nil {
			return "", notSetUp("gpg, which pass needs, is not installed (%v); install the gnupg package (Debian: apt-get install gnupg)", err)
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

// passReady checks, without running gpg, that pass and gpg are installed
// and that the password store has been initialised (it has a .gpg-id).
func passReady(Config) error {
	if _, err := passTools(); err != nil {
		return err
	}
	if dir := passStoreDir(); !passInitialised(dir) {
		return notSetUp("the password store %s is not initialised (no .gpg-id)", dir)
	}
	return nil
}

func passInitialised(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".gpg-id"))
	return err == nil
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

// The commands that set pass up for vkc-credential, in bash. pass runs gpg
// in a process group of its own (so that a timeout ends gpg too), where no
// terminal pinentry can ask for the key's passphrase: gpg-agent must have
// it already. So the passphrase is read once into the shell, and gpg is
// given it on a pipe (--pinentry-mode loopback) to make the key, and again
// to decrypt a throwaway message, which leaves it in gpg-agent's cache; the
// cache is made to last until gpg-agent stops. docs/keychains.md shows the
// same commands (a test keeps the two in step).
const (
	passReadPassphrase = "read -rsp 'gpg key passphrase: ' GPGPW; echo"
	passMakeKey        = `printf '%s' "$GPGPW" | gpg --batch --pinentry-mode loopback --passphrase-fd 0 --quick-gen-key "vkc-credential <$(id -un)@$(uname -n)>" future-default default never`
	passInit           = `pass init "vkc-credential <$(id -un)@$(uname -n)>"`
	passKeepInAgent    = `printf 'default-cache-ttl 34560000\nmax-cache-ttl 34560000\n' >>"${GNUPGHOME:-$HOME/.gnupg}/gpg-agent.conf"; gpgconf --reload gpg-agent`
	passPrimeAgent     = `echo primed | gpg --encrypt --recipient "$(head -n1 "${PASSWORD_STORE_DIR:-$HOME/.password-store}/.gpg-id")" | gpg --batch --pinentry-mode loopback --passphrase-fd 3 --decrypt 3< <(printf '%s' "$GPGPW"); unset GPGPW`
)

// passSetUp says how to set pass up from where this machine stands, or,
// once its store is initialised, how to give gpg-agent the passphrase.
func passSetUp() Setup {
	all := []string{passReadPassphrase, passMakeKey, passInit, passKeepInAgent, passPrimeAgent}
	const what = "make a gpg key (the first command asks for its passphrase) and a password store encrypted to it, " +
		"and let gpg-agent keep the passphrase until it stops, in bash"
	switch {
	case passToolsMissing():
		return Setup{Do: "install pass and gnupg (Debian/Ubuntu: apt-get install pass gnupg), then " + what, Commands: all}
	case !passInitialised(passStoreDir()):
		return Setup{Do: what, Commands: all}
	}
	return Setup{
		Do: "give gpg-agent the passphrase of the password store's gpg key: pass runs gpg where no terminal can ask for it " +
			"(gpg-agent keeps it as long as its default-cache-ttl and max-cache-ttl allow; docs/keychains.md), in bash",
		Commands: []string{passReadPassphrase, passPrimeAgent},
	}
}

func passToolsMissing() bool {
	_, err := passTools()
	return err != nil
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
		return notSetUp("the password store %s is not initialised (%s); %s", passStoreDir(), said, passSetUp())
	case has("gpg: command not found", "gpg2: command not found", "gpg: not found"):
		return fmt.Errorf("%w: gpg, which pass needs, is not installed (%s); install the gnupg package (Debian: apt-get install gnupg)", ErrUnavailable, said)
	case has("No secret key", "decryption failed", "Operation cancelled", "Inappropriate ioctl", "pinentry", "Bad passphrase", "Timeout"):
		return fmt.Errorf("%w: gpg could not decrypt %s (%s); %s", ErrUnavailable, entry, said, passSetUp())
	case has("No public key", "encryption failed", "unusable public key"):
		return fmt.Errorf("%w: gpg could not encrypt to the key named in %s (%s); list the keys you have with `gpg --list-secret-keys` and run `pass init` with the ID of one of them", ErrUnavailable, filepath.Join(passStoreDir(), ".gpg-id"), said)
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
