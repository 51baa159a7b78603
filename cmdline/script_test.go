package cmdline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keyring"
	"vkc-credential/keyring/keyringtest"
)

// The command line's behaviour as sessions: testdata/script/*.txtar are
// testscript transcripts (github.com/rogpeppe/go-internal/testscript, as
// age's cmd/age/testdata are). Each script runs in a directory of its own
// with its own fake Keystone and a keychain in files; `vkc-credential` in
// a script is this test binary running the real command line (scriptMain).
//
// What a script has:
//   - $KEYSTONE, the fake Keystone's auth URL: user alice (domain users),
//     password "alice's password", a role on projects p1 ("prod") and p2
//     ("dev"), and an application credential ac1 (secret "ci's secret")
//     on p2; its tokens are gAAAAtoken-1, gAAAAtoken-2, … in the order
//     issued;
//   - every backend's keychain in $WORK/keychain-NAME.json; `auto` picks
//     "os"; with VKC_TEST_KEYCHAIN_LOCKED=1 set, every keychain call fails
//     as a locked keychain does;
//   - HOME, XDG_CONFIG_HOME and XDG_CACHE_HOME under $WORK;
//   - the commands `exits CODE COMMAND [ARGS...]` (exec COMMAND, wanting
//     the exit status CODE, 128+N for a signal N as a shell counts it), `keystone refuse STATUS [MESSAGE]` (every
//     sign-in gets STATUS from then on, instead of any earlier refusal),
//     `keystone heal`, `keystone revoke` (every token issued so far), `keystone count METHOD PATH`
//     (prints how many such requests came) and `keychain count NAME`
//     (prints how many items the backend NAME holds).
//
// Run `go test ./cmdline -run TestScripts/NAME` for one script.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"vkc-credential": scriptMain})
}

// scriptMain is the command vkc-credential of the scripts: Main, with the
// script's keychains in files.
func scriptMain() {
	inv := newInvocation(os.Stdin, os.Stdout, os.Stderr)
	inv.replaceProcess = true
	keychain := func(name string) *keyringtest.File {
		f := &keyringtest.File{Path: filepath.Join(os.Getenv("WORK"), "keychain-"+name+".json")}
		if os.Getenv("VKC_TEST_KEYCHAIN_LOCKED") == "1" {
			f.Err = fmt.Errorf("%w: the test keychain is locked", keyring.ErrUnavailable)
		}
		return f
	}
	inv.openKeyring = func(name string, _ keyring.Config) (keyring.Store, error) {
		if !slices.Contains(keyring.Names(), name) {
			return nil, fmt.Errorf("unknown backend %q", name)
		}
		return keychain(name), nil
	}
	inv.autoKeyring = func(time.Duration) (keyring.Store, string, []error, error) {
		f := keychain("os")
		if f.Err != nil {
			return nil, "", []error{f.Err}, f.Err
		}
		return f, "os", nil, nil
	}
	os.Exit(inv.run(os.Args))
}

// scriptPassword is alice's password on the scripts' fake Keystone.
const scriptPassword = "alice's password"

type keystoneKey struct{}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			ks := keystonetest.Start()
			env.Defer(ks.Close)
			ks.AddUser(keystonetest.User{Name: "alice", Password: scriptPassword,
				Projects: []keystonetest.Project{{ID: "p1", Name: "prod", DomainID: "d"}, {ID: "p2", Name: "dev", DomainID: "d"}}})
			ks.AddAppCred(keystonetest.AppCred{ID: "ac1", Name: "ci", Secret: "ci's secret", User: "alice", Project: "p2"})
			env.Values[keystoneKey{}] = ks
			env.Setenv("KEYSTONE", ks.AuthURL())
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
			return os.MkdirAll(home, 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"keystone": scriptKeystone,
			"keychain": scriptKeychain,
			"exits":    scriptExits,
		},
	})
}

// scriptKeystone is the scripts' command keystone.
func scriptKeystone(ts *testscript.TestScript, neg bool, args []string) {
	ks := ts.Value(keystoneKey{}).(*keystonetest.Server)
	if neg || len(args) == 0 {
		ts.Fatalf("usage: keystone refuse STATUS [MESSAGE] | heal | revoke | count METHOD PATH")
	}
	switch {
	case args[0] == "refuse" && (len(args) == 2 || len(args) == 3):
		status, err := strconv.Atoi(args[1])
		ts.Check(err)
		f := keystonetest.Fault{Method: http.MethodPost, Path: "/v3/auth/tokens", Status: status}
		if len(args) == 3 {
			f.Message = args[2]
		}
		ks.ClearFaults()
		ks.Fail(f)
	case args[0] == "heal" && len(args) == 1:
		ks.ClearFaults()
	case args[0] == "revoke" && len(args) == 1:
		ks.RevokeAll()
	case args[0] == "count" && len(args) == 3:
		fmt.Fprintln(ts.Stdout(), ks.Count(args[1], args[2]))
	default:
		ts.Fatalf("usage: keystone refuse STATUS [MESSAGE] | heal | revoke | count METHOD PATH")
	}
}

// scriptKeychain is the scripts' command keychain.
func scriptKeychain(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || args[0] != "count" || !slices.Contains(keyring.Names(), args[1]) {
		ts.Fatalf("usage: keychain count BACKEND")
	}
	items := map[string]string{}
	data, err := os.ReadFile(filepath.Join(ts.Getenv("WORK"), "keychain-"+args[1]+".json"))
	if err == nil {
		ts.Check(json.Unmarshal(data, &items))
	} else if !errors.Is(err, fs.ErrNotExist) {
		ts.Check(err)
	}
	fmt.Fprintln(ts.Stdout(), len(items))
}

// scriptExits is the scripts' command exits.
func scriptExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	var exit *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &exit) {
		got = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			got = 128 + int(ws.Signal()) // as a shell counts it
		}
	} else if err != nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
