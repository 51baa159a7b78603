package cmdline

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func testSurface() *surface {
	return newInvocation(strings.NewReader(""), io.Discard, io.Discard).surface()
}

// definedCommand is a command of the definition that runs an action of
// its own, with its path ("get", "appcred create") and its flags.
type definedCommand struct {
	path string
	*command
	Flags []cli.Flag
}

// leaves yields every command of the definition that runs an action of
// its own: each command without subcommands, and each subcommand.
func leaves(s *surface) []definedCommand {
	var out []definedCommand
	for i := range s.commands {
		c := &s.commands[i]
		if len(c.sub) == 0 {
			out = append(out, definedCommand{c.name, c, s.flags(c)})
		}
		for j := range c.sub {
			out = append(out, definedCommand{c.name + " " + c.sub[j].name, &c.sub[j], s.flags(&c.sub[j])})
		}
	}
	return out
}

// valueFlags yields every command of the definition (by its path) with
// each of its flags that takes a value.
func valueFlags(s *surface) [][2]string {
	var out [][2]string
	for _, c := range leaves(s) {
		for _, f := range c.Flags {
			if takesValue(f) {
				out = append(out, [2]string{c.path, f.Names()[0]})
			}
		}
	}
	return out
}

// TestLiftStepsOverEveryValueFlag: a common flag written after any flag
// of any command that takes a value is lifted, and the value stays with
// its flag. The flags are read off the definition, so a new flag cannot
// be forgotten (the list this replaced could: without "shell" in it,
// `env --shell fish --profile prod` failed while every test passed).
func TestLiftStepsOverEveryValueFlag(t *testing.T) {
	s := testSurface()
	pairs := valueFlags(s)
	if len(pairs) < 10 {
		t.Fatalf("only %d value flags found in the definition", len(pairs))
	}
	for _, p := range pairs {
		path := strings.Fields(p[0])
		for _, form := range [][]string{{"--" + p[1], "V"}, {"--" + p[1] + "=V"}} {
			in := append(append(append([]string{"x"}, path...), form...), "--profile", "prod", "--debug")
			want := append(append([]string{"x", "--profile", "prod", "--debug"}, path...), form...)
			got, err := s.lift(in)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("lift(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
	}
}

// TestEnvShellThenProfile is the walk that broke silently before the
// definition was the one list: a value flag of env, then a common flag.
func TestEnvShellThenProfile(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	r := w.run("", "env", "--shell", "fish", "--profile", "prod")
	if r.code != 0 || !strings.Contains(r.stdout, "set -gx OS_TOKEN 'gAAAAtoken-1';\n") {
		t.Fatalf("%+v", r)
	}
}

// TestFlagWithoutValue: every flag that takes a value, written last
// without it, is a usage error (exit 2) that names it with two dashes and
// the command's help; never help text on stdout.
func TestFlagWithoutValue(t *testing.T) {
	w := newWorld(t)
	s := testSurface()
	pairs := valueFlags(s)
	for _, f := range s.common {
		if takesValue(f) {
			pairs = append(pairs, [2]string{"get", f.Names()[0]}, [2]string{"erase", f.Names()[0]})
		}
	}
	for _, p := range pairs {
		r := w.run("", append(strings.Fields(p[0]), "--"+p[1])...)
		want := "vkc-credential: flag --" + p[1] + " needs a value; see `vkc-credential " + p[0] + " --help`\n"
		if r.code != 2 || r.stderr != want {
			t.Errorf("%s --%s: exit %d, stderr %q; want 2, %q", p[0], p[1], r.code, r.stderr, want)
		}
		if r.stdout != "" && !strings.HasPrefix(r.stdout, `{"version":1,"error":{"code":"usage"`) {
			t.Errorf("%s --%s: stdout %q", p[0], p[1], r.stdout)
		}
	}
	// Followed by another flag of the command, the value is missing too.
	for _, args := range [][]string{{"get", "--format", "--refresh"}, {"store", "--openrc", "--no-verify"}, {"get", "--min-ttl", "--help"}} {
		if r := w.run("", args...); r.code != 2 || !strings.Contains(r.stderr, "flag "+args[1]+" needs a value; see `vkc-credential "+args[0]+" --help`") {
			t.Errorf("%q: %+v", args, r)
		}
	}
	// Written before the command name, a common flag is the app's.
	if r := w.run("", "--timeout"); r.code != 2 || !strings.Contains(r.stderr, "flag --timeout needs a value; see `vkc-credential --help`") {
		t.Errorf("--timeout: %+v", r)
	}
}

// TestFlagErrorsNameTheFlag: the flag package's other messages, and a
// bad value from an environment variable, name the flag as it is written
// and the command's help.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"get", "--nope"}, nil, "unknown flag --nope; see `vkc-credential get --help`"},
		{[]string{"get", "--timeout", "soon"}, nil, `invalid value "soon" for --timeout: not a duration like 30s or 5m; see ` + "`vkc-credential get --help`"},
		{[]string{"erase", "--revoke=maybe"}, nil, `invalid value "maybe" for --revoke: use true or false; see ` + "`vkc-credential erase --help`"},
		{[]string{"list"}, map[string]string{"VKC_TIMEOUT": "soon"}, `invalid value "soon" in environment variable "VKC_TIMEOUT" for --timeout: not a duration`},
		{[]string{"store"}, map[string]string{"VKC_KEYRING": "vault"}, `invalid value "vault" in environment variable "VKC_KEYRING" for --keyring: use one of auto, os`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if r := w.run("", tt.args...); r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("%+v; want exit 2 and %q", r, tt.want)
			}
		})
	}
}

// TestChoiceFlags: each flag that takes one of a fixed set accepts every
// value of its set and refuses any other while the flags are parsed
// (exit 2, before stdin, the keychain or Keystone), naming every allowed
// value; the help shows them too.
func TestChoiceFlags(t *testing.T) {
	w := newWorld(t)
	s := testSurface()
	n := 0
	for _, c := range leaves(s) {
		path := strings.Fields(c.path)
		for _, f := range c.Flags {
			cf, ok := f.(*choiceFlag)
			if !ok {
				continue
			}
			n++
			name := cf.Names()[0]
			// A stdin that is not JSON would fail after parsing: the
			// refusal must come first.
			r := w.run("not json", append(path, "--"+name, "bogus")...)
			if r.code != 2 || !strings.Contains(r.stderr, `invalid value "bogus" for --`+name+": use one of "+strings.Join(cf.Choices(), ", ")) ||
				!strings.Contains(r.stderr, "`vkc-credential "+c.path+" --help`") {
				t.Errorf("%s --%s bogus: %+v", c.path, name, r)
			}
			for _, v := range cf.Choices() {
				inv := newInvocation(strings.NewReader(""), io.Discard, io.Discard)
				app := inv.surface().app(inv)
				var got string
				cmds := app.Commands
				for _, word := range path {
					for _, ac := range cmds {
						if ac.Name == word {
							ac.Action = func(ctx *cli.Context) error { got = ctx.String(name); return nil }
							cmds = ac.Subcommands
						}
					}
				}
				if err := app.Run(append(append([]string{"x"}, path...), "--"+name, v)); err != nil || got != v {
					t.Errorf("%s --%s %s: %v, got %q", c.path, name, v, err, got)
				}
			}
			help := w.run("", append(path, "--help")...)
			if help.code != 0 || !strings.Contains(help.stdout, strings.Join(cf.Choices(), ", ")) {
				t.Errorf("%s --help does not list --%s's values: %q", c.path, name, help.stdout)
			}
		}
	}
	if n < 4 {
		t.Fatalf("%d choice flags in the definition; want get --format, env --shell, store --keyring, doctor --format", n)
	}
}

// TestGetFormatsAreTheFlagsValues: --format of get takes exactly the
// formats that have a writer.
func TestGetFormatsAreTheFlagsValues(t *testing.T) {
	s := testSurface()
	f, ok := findFlag(s.flags(s.command("get")), "format").(*choiceFlag)
	if !ok || !slices.Equal(f.Choices(), getFormatNames()) || f.defaultValue() != formatJSON {
		t.Fatalf("get --format: %v", f)
	}
	for _, g := range getFormats {
		if g.write == nil {
			t.Errorf("format %s has no writer", g.name)
		}
	}
}

// TestJSONAnswer: which invocations answer JSON, and so carry a JSON
// error on stdout (the contract's list).
func TestJSONAnswer(t *testing.T) {
	s := testSurface()
	for args, want := range map[string]bool{
		"x get":                              true,
		"x get --format json":                true,
		"x get --format=json":                true,
		"x get --format token":               false,
		"x get --format=exec-credential":     false,
		"x get --format token --format json": true,
		"x --profile p get --format env":     false,
		"x store":                            true,
		"x erase --revoke":                   true,
		"x list":                             true,
		"x version":                          true,
		"x projects":                         true,
		"x doctor":                           false,
		"x doctor --format json":             true,
		"x exec -- sh":                       false,
		"x env":                              false,
		"x help":                             false,
		"x nosuch":                           false,
		"x":                                  false,
		"x -- get":                           false,
		"x appcred create --name n":          true,
		"x --debug appcred list":             true,
		"x appcred delete n":                 true,
		"x appcred":                          false,
		"x appcred nosuch":                   false,
	} {
		if got := s.jsonAnswer(strings.Fields(args)); got != want {
			t.Errorf("jsonAnswer(%q) = %t, want %t", args, got, want)
		}
	}
}

// TestNotJSONStdinSaysNoStdin: every command that reads a request names
// --no-stdin when stdin holds something else, as a loop's input does.
func TestNotJSONStdinSaysNoStdin(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	for _, c := range leaves(testSurface()) {
		if c.name == "exec" { // stdin belongs to the command it runs
			continue
		}
		r := w.run("a\nb\n", append(strings.Fields(c.path), "--profile", "prod")...)
		if r.code != 2 || !strings.Contains(r.stderr, "add --no-stdin") {
			t.Errorf("%s: %+v", c.path, r)
		}
		if c.json && c.name != "doctor" && !strings.Contains(r.stdout, "--no-stdin") {
			t.Errorf("%s: the JSON error does not say it: %q", c.path, r.stdout)
		}
	}
}

// TestDefaultProfileMissingNamesTheOthers: get with no profile named and
// no "default" stored lists the stored profiles and how to pick one.
func TestDefaultProfileMissingNamesTheOthers(t *testing.T) {
	w := newWorld(t)
	r := w.run("", "get")
	if r.code != 3 || !strings.Contains(r.stderr, "none is stored yet") {
		t.Fatalf("nothing stored: %+v", r)
	}
	w.store(t, "prod")
	w.store(t, "stage")
	r = w.run("", "get")
	if r.code != 3 || !strings.Contains(r.stderr, `no profile "default" is stored; the stored profiles are prod, stage: pick one with --profile NAME or VKC_PROFILE=NAME`) {
		t.Fatalf("%+v", r)
	}
	var a struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal([]byte(r.stdout), &a) != nil || a.Error.Code != "not_found" || !strings.Contains(a.Error.Message, "prod, stage") {
		t.Fatalf("JSON error: %q", r.stdout)
	}
	// A profile that was named gets the hint to create it.
	if r := w.run("", "get", "--profile", "ghost"); r.code != 3 || strings.Contains(r.stderr, "prod") || !strings.Contains(r.stderr, "store --profile ghost") {
		t.Fatalf("named: %+v", r)
	}
}

// TestExecNotRunnable: a command that is not found exits 127, one that is
// found but cannot be run 126, as a shell and env(1) have it, with the
// message on stderr and nothing on stdout; neither asks Keystone.
func TestExecNotRunnable(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	posts := w.posts()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd  string
		code int
		msg  string
	}{
		{"no-such-command-here", 127, `cannot run "no-such-command-here": no such command in PATH`},
		{filepath.Join(dir, "missing"), 127, "no such file"},
		{plain, 126, "not an executable file"},
		{dir, 126, "cannot run"},
	}
	for _, tt := range tests {
		r := w.run("", "exec", "--profile", "prod", "--", tt.cmd)
		if r.code != tt.code || r.stdout != "" || !strings.HasPrefix(r.stderr, "vkc-credential: ") || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("exec -- %s: %+v; want exit %d and %q", tt.cmd, r, tt.code, tt.msg)
		}
	}
	if w.posts() != posts {
		t.Fatal("keystone was asked")
	}
}

// TestRunBuildsOnlyTheNamedCommand: the app that runs a command holds
// that command alone, and only its flags are built (a cached get pays for
// no other command's); whatever may print the app's help (no command, an
// unknown one, help, a flag before the name that is not common) gets
// every command.
func TestRunBuildsOnlyTheNamedCommand(t *testing.T) {
	inv := newInvocation(strings.NewReader(""), io.Discard, io.Discard)
	for _, c := range leaves(testSurface()) {
		path := strings.Fields(c.path)
		for _, args := range [][]string{
			append([]string{"x"}, path...),
			append(append([]string{"x", "--profile", "p", "--debug", "--timeout=3s"}, path...), "--help"),
		} {
			s := inv.surface()
			app := s.appFor(inv, args)
			if len(app.Commands) != 1 || app.Commands[0].Name != path[0] {
				t.Errorf("%q: the app holds %d commands", args, len(app.Commands))
			}
			top := s.command(path[0])
			ok := map[*command]bool{top: true}
			for i := range top.sub {
				ok[&top.sub[i]] = true
			}
			for _, b := range s.built {
				if !ok[b.c] {
					t.Errorf("%q: built the flags of %s too", args, b.c.name)
				}
			}
		}
	}
	all := len(testSurface().commands)
	for _, args := range []string{"x", "x help get", "x nosuch", "x --help get", "x -h get", "x --debug --help=true get", "x --nosuch get", "x -- get"} {
		s := inv.surface()
		if got := len(s.appFor(inv, strings.Fields(args)).Commands); got != all {
			t.Errorf("%q: the app holds %d commands, want all %d", args, got, all)
		}
	}
}
