//go:build !urfave_cli_no_docs

// Command gendocs writes vkc-credential's man page and its bash, zsh and
// fish completions from the command definitions (cmdline.App), so they
// cannot disagree with the program. goreleaser runs it before a release:
//
//	go run ./tools/gendocs [-dir DIR]
//
// writes DIR/manpages/vkc-credential.1.gz and DIR/completions/
// {vkc-credential.bash,_vkc-credential,vkc-credential.fish} (DIR defaults
// to "."). It is built without the urfave_cli_no_docs tag, since it needs
// urfave/cli's man-page writer; the shipped binary is built with it and
// carries no documentation generator.
//
// The completions offer the commands and subcommands (appcred create),
// their flags, the values of the flags that take one of a fixed set
// (--format, --shell, --keyring: each such flag has a Choices method),
// files for FILE flags, and for --profile the names of the stored
// profiles, which they ask `vkc-credential list --no-stdin` for when the
// user presses Tab.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"vkc-credential/cmdline"
	"vkc-credential/protocol"
)

const program = "vkc-credential"

func main() {
	dir := flag.String("dir", ".", "write manpages/ and completions/ under `DIR`")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gendocs [-dir DIR]")
		os.Exit(2)
	}
	if err := run(*dir); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	app := cmdline.App()
	// Setup adds what urfave/cli adds at run time: the help command and
	// the --help flag.
	app.Setup()
	m, err := describe(app)
	if err != nil {
		return err
	}
	man, err := manPage(app)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"manpages/" + program + ".1.gz":    man,
		"completions/" + program + ".bash": []byte(bashCompletion(m)),
		"completions/_" + program:          []byte(zshCompletion(m)),
		"completions/" + program + ".fish": []byte(fishCompletion(m)),
	}
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// model is what the completions need to know of the command line.
type model struct {
	globals  []flagDoc // the flags every command takes, before or after its name
	commands []commandDoc
}

type commandDoc struct {
	name, usage string
	flags       []flagDoc
	sub         []commandDoc // subcommands (appcred create); name is the subcommand's own
}

type flagDoc struct {
	name    string   // the long name, without dashes
	short   []string // one-letter aliases
	usage   string   // without urfave/cli's `PLACEHOLDER` quotes
	value   string   // the placeholder of a flag that takes a value, else ""
	choices []string // the values it accepts, when they are a fixed set
}

// file reports whether the flag's value is a file name.
func (f flagDoc) file() bool { return f.value == "FILE" }

// profile reports whether the flag's value is a stored profile's name.
func (f flagDoc) profile() bool { return f.name == "profile" }

// describe reads the model off the app.
func describe(app *cli.App) (model, error) {
	var m model
	for _, f := range app.Flags {
		m.globals = append(m.globals, flagOf(f))
	}
	for _, c := range app.Commands {
		if !c.Hidden {
			m.commands = append(m.commands, commandOf(c))
		}
	}
	if len(m.commands) == 0 || len(m.globals) == 0 {
		return model{}, fmt.Errorf("the app defines no commands or no flags")
	}
	return m, nil
}

// commandOf describes c and its subcommands (but urfave/cli's help).
func commandOf(c *cli.Command) commandDoc {
	cd := commandDoc{name: c.Name, usage: c.Usage}
	for _, f := range c.Flags {
		cd.flags = append(cd.flags, flagOf(f))
	}
	for _, sc := range c.Subcommands {
		if !sc.Hidden && sc.Name != "help" {
			cd.sub = append(cd.sub, commandOf(sc))
		}
	}
	return cd
}

// leaves are the commands that take flags of their own: each command
// without subcommands, and each subcommand, named by its path
// ("appcred create").
func (m model) leaves() []commandDoc {
	var out []commandDoc
	for _, c := range m.commands {
		if len(c.sub) == 0 {
			out = append(out, c)
		}
		for _, sc := range c.sub {
			sc.name = c.name + " " + sc.name
			out = append(out, sc)
		}
	}
	return out
}

// subNames are the names of c's subcommands.
func (c commandDoc) subNames() []string {
	var out []string
	for _, sc := range c.sub {
		out = append(out, sc.name)
	}
	return out
}

// choices is a flag that takes one of a fixed set of values.
type choices interface{ Choices() []string }

func flagOf(f cli.Flag) flagDoc {
	names := f.Names()
	fd := flagDoc{name: names[0]}
	if c, ok := f.(choices); ok {
		fd.choices = c.Choices()
	}
	for _, n := range names[1:] {
		if len(n) == 1 {
			fd.short = append(fd.short, n)
		}
	}
	if d, ok := f.(cli.DocGenerationFlag); ok {
		usage := d.GetUsage()
		if d.TakesValue() {
			fd.value = "VALUE"
			if _, rest, ok := strings.Cut(usage, "`"); ok {
				if p, _, ok := strings.Cut(rest, "`"); ok && p != "" {
					fd.value = p
				}
			}
		}
		fd.usage = strings.ReplaceAll(usage, "`", "")
	}
	return fd
}

// valueFlags are the long names of every flag that takes a value, on
// the app or any command: a completion steps over their values.
func (m model) valueFlags() []string {
	seen := map[string]bool{}
	for _, f := range m.allFlags() {
		if f.value != "" {
			seen[f.name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (m model) allFlags() []flagDoc {
	out := append([]flagDoc(nil), m.globals...)
	for _, c := range m.leaves() {
		out = append(out, c.flags...)
	}
	return out
}

func (m model) commandNames() []string {
	var out []string
	for _, c := range m.commands {
		out = append(out, c.name)
	}
	return out
}

// commandGlobals are the app's flags that a command accepts too: all
// but --version and --help, which only stand alone (each command has a
// --help of its own).
func (m model) commandGlobals() []flagDoc {
	var out []flagDoc
	for _, f := range m.globals {
		if f.name != "version" && f.name != "help" {
			out = append(out, f)
		}
	}
	return out
}

func dashed(fs []flagDoc) string {
	var names []string
	for _, f := range fs {
		names = append(names, "--"+f.name)
	}
	return strings.Join(names, " ")
}

// manPage renders the man page (section 1) with urfave/cli's writer,
// then adds the exit statuses from the protocol's error codes, gzipped
// as man-db reads it.
func manPage(app *cli.App) ([]byte, error) {
	app.Description = "vkc-credential keeps a VK Cloud or OpenStack Keystone v3 password in a keychain " +
		"and hands calling tools a project-scoped token, cached and shared between them. " +
		"When stdin is not a terminal it is read as one JSON request; answers are JSON on stdout, " +
		"messages go to stderr. The protocol, the files and the integrations (openstack CLI, kubectl, " +
		"Terraform) are described in the README, /usr/share/doc/vkc-credential/README.md."
	man, err := app.ToManWithSection(1)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(man, "\n"))
	b.WriteString("\n\n.SH EXIT STATUS\nA failure's exit status, and the error.code that its JSON answer carries:\n.TP\n\\fB0\\fP\nsuccess\n")
	for _, c := range []protocol.Code{protocol.CodeInternal, protocol.CodeUsage, protocol.CodeNotFound,
		protocol.CodeAuthFailed, protocol.CodeKeystoneUnavailable, protocol.CodeKeyringUnavailable,
		protocol.CodeMFARequired, protocol.CodeChecksFailed} {
		fmt.Fprintf(&b, ".TP\n\\fB%d\\fP\n%s\n", c.ExitCode(), c)
	}
	b.WriteString(".SH SEE ALSO\n/usr/share/doc/vkc-credential/README.md\n")
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
