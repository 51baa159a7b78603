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
// The completions offer the commands, their flags, the values of the
// flags that take one of a fixed set (--format, --shell, --keyring: each
// such flag has a Choices method), files for FILE flags, and for
// --profile the names of the stored profiles, which they ask
// `vkc-credential list --no-stdin` for when the user presses Tab.
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
		if c.Hidden {
			continue
		}
		cd := commandDoc{name: c.Name, usage: c.Usage}
		for _, f := range c.Flags {
			cd.flags = append(cd.flags, flagOf(f))
		}
		m.commands = append(m.commands, cd)
	}
	if len(m.commands) == 0 || len(m.globals) == 0 {
		return model{}, fmt.Errorf("the app defines no commands or no flags")
	}
	return m, nil
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
	for _, c := range m.commands {
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

// listProfiles is the shell pipeline that prints the stored profiles'
// names, one a line. A name is 1–64 of [A-Za-z0-9._-] (protocol), so the
// JSON string needs no unquoting.
const listProfiles = `command ` + program + ` list --no-stdin 2>/dev/null </dev/null | grep -o '"profile":"[^"]*"' | sed -e 's/^"profile":"//' -e 's/"$//'`

const header = "Generated by tools/gendocs from the command definitions; do not edit."

func bashCompletion(m model) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# bash completion for %s.\n# %s\n", program, header)
	w("# Installed as /usr/share/bash-completion/completions/%s, which\n", program)
	w("# bash-completion loads on first use; or source this file from ~/.bashrc.\n\n")
	w("_vkc_credential_profiles() {\n    %s\n}\n\n", listProfiles)
	w("_vkc_credential() {\n")
	w("    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= words= i w\n")
	w("    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}\n")
	w("    # --flag=value: bash splits at '=' (COMP_WORDBREAKS).\n")
	w("    if [[ $cur == = ]]; then cur=; elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n")
	valueCase := "--" + strings.Join(m.valueFlags(), "|--")
	w("    for (( i = 1; i < COMP_CWORD; i++ )); do\n")
	w("        w=${COMP_WORDS[i]}\n")
	w("        # exec: the command to run starts at -- or at the first word that\n")
	w("        # is not a flag; complete it as bash-completion would.\n")
	w("        if [[ $cmd == exec && ( $w == -- || $w != -* ) ]]; then\n")
	w("            [[ $w == -- ]] && (( i++ ))\n")
	w("            (( i <= COMP_CWORD )) && declare -F _command_offset >/dev/null && _command_offset \"$i\"\n")
	w("            return 0\n")
	w("        fi\n")
	w("        case $w in\n")
	w("            %s) [[ ${COMP_WORDS[i+1]} == = ]] && (( i++ )); (( i++ )) ;;\n", valueCase)
	w("            --) return 0 ;;\n")
	w("            -*) ;;\n")
	w("            *) [[ -z $cmd ]] && cmd=$w ;;\n")
	w("        esac\n")
	w("    done\n")
	w("    case $prev in\n")
	for _, f := range m.allFlagsOnce() {
		switch {
		case f.profile():
			w("        --%s) COMPREPLY=($(compgen -W \"$(_vkc_credential_profiles)\" -- \"$cur\")); return 0 ;;\n", f.name)
		case f.file():
			w("        --%s) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n", f.name)
		}
	}
	// Fixed value sets, per command where they differ.
	for _, name := range m.valueFlags() {
		var arms []string
		for _, c := range m.commands {
			for _, f := range c.flags {
				if f.name == name && f.choices != nil {
					arms = append(arms, fmt.Sprintf("%s) COMPREPLY=($(compgen -W %s -- \"$cur\")) ;;", c.name, shQuote(strings.Join(f.choices, " "))))
				}
			}
		}
		if arms != nil {
			w("        --%s) case $cmd in %s esac; return 0 ;;\n", name, strings.Join(arms, " "))
		}
	}
	w("        %s) return 0 ;;\n", valueCase)
	w("    esac\n")
	w("    case $cmd in\n")
	w("        '') if [[ $cur == -* ]]; then words=%s; else words=%s; fi ;;\n",
		shQuote(dashed(m.globals)), shQuote(strings.Join(m.commandNames(), " ")))
	for _, c := range m.commands {
		if c.name == "help" {
			w("        help) words=%s ;;\n", shQuote(strings.Join(m.commandNames(), " ")))
			continue
		}
		w("        %s) words=%s ;;\n", c.name, shQuote(dashed(append(append([]flagDoc(nil), c.flags...), m.commandGlobals()...))+" --help"))
	}
	w("    esac\n")
	w("    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n")
	w("}\n\ncomplete -F _vkc_credential %s\n", program)
	return b.String()
}

// allFlagsOnce is every flag, each long name once.
func (m model) allFlagsOnce() []flagDoc {
	seen := map[string]bool{}
	var out []flagDoc
	for _, f := range m.allFlags() {
		if !seen[f.name] {
			seen[f.name] = true
			out = append(out, f)
		}
	}
	return out
}

func zshCompletion(m model) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("#compdef %s\n# zsh completion for %s.\n# %s\n", program, program, header)
	w("# Installed as /usr/share/zsh/vendor-completions/_%s; or put this file\n", program)
	w("# in a directory of $fpath before compinit runs.\n\n")
	w("_vkc_credential_profiles() {\n    local -a profiles\n")
	w("    profiles=(${(f)\"$(%s)\"})\n", listProfiles)
	w("    _describe -t profiles 'stored profile' profiles\n}\n\n")
	w("_vkc_credential() {\n")
	w("    local curcontext=$curcontext state state_descr line ret=1\n")
	w("    typeset -A opt_args\n")
	w("    local -a common=(\n")
	for _, f := range m.commandGlobals() {
		w("        %s\n", zshSpec(f))
	}
	w("    )\n")
	w("    _arguments -C -S : $common")
	for _, f := range m.globals {
		if f.name == "version" || f.name == "help" {
			w(" %s", zshSpec(f))
		}
	}
	w(" '1: :->command' '*:: :->args' && ret=0\n")
	w("    case $state in\n")
	w("        command)\n            local -a commands=(\n")
	for _, c := range m.commands {
		w("                %s\n", zshQuote(c.name+":"+c.usage))
	}
	w("            )\n            _describe -t commands '%s command' commands && ret=0 ;;\n", program)
	w("        args)\n            curcontext=${curcontext%%:*:*}:%s-$words[1]:\n", program)
	w("            case $words[1] in\n")
	for _, c := range m.commands {
		if c.name == "help" {
			w("                help) _arguments : '1: :(%s)' && ret=0 ;;\n", strings.Join(m.commandNames(), " "))
			continue
		}
		w("                %s) _arguments -S : $common", c.name)
		for _, f := range c.flags {
			w(" %s", zshSpec(f))
		}
		w(" '(- *)'{-h,--help}'[show help]'")
		if c.name == "exec" {
			w(" '*:: :_normal'")
		}
		w(" && ret=0 ;;\n")
	}
	w("            esac ;;\n    esac\n    return ret\n}\n\n")
	w("_vkc_credential \"$@\"\n")
	return b.String()
}

// zshSpec is f as an _arguments option spec.
func zshSpec(f flagDoc) string {
	desc := "[" + zshEscape(f.usage) + "]"
	var action string
	switch {
	case f.value == "":
	case f.profile():
		action = ":" + f.value + ":_vkc_credential_profiles"
	case f.file():
		action = ":" + f.value + ":_files"
	case f.choices != nil:
		action = ":" + f.value + ":(" + strings.Join(f.choices, " ") + ")"
	default:
		action = ":" + f.value + ": "
	}
	eq := ""
	if f.value != "" {
		eq = "="
	}
	if len(f.short) == 0 {
		return zshQuote("--" + f.name + eq + desc + action)
	}
	names := []string{"--" + f.name}
	for _, s := range f.short {
		names = append(names, "-"+s)
	}
	excl := "(" + strings.Join(names, " ") + ")"
	if f.name == "version" || f.name == "help" {
		excl = "(- *)"
	}
	return zshQuote(excl) + "{" + strings.Join(names, ",") + "}" + zshQuote(eq+desc+action)
}

// zshEscape escapes what _arguments reads specially in a description.
func zshEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, `:`, `\:`).Replace(s)
}

// zshQuote and shQuote single-quote s for zsh and bash.
func zshQuote(s string) string { return shQuote(s) }

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fishQuote single-quotes s for fish, where only \ and ' are special.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishCompletion(m model) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# fish completion for %s.\n# %s\n", program, header)
	w("# Installed as /usr/share/fish/vendor_completions.d/%s.fish; or copy it\n", program)
	w("# to ~/.config/fish/completions/.\n\n")
	w("function __vkc_credential_profiles\n")
	w("    command %s list --no-stdin 2>/dev/null </dev/null | string match -ra '\"profile\":\"[^\"]*\"' | string replace -r '^\"profile\":\"(.*)\"$' '$1'\nend\n\n", program)
	cmds := strings.Join(m.commandNames(), " ")
	noCmd := fishQuote("not __fish_seen_subcommand_from " + cmds)
	w("complete -c %s -f\n", program)
	for _, c := range m.commands {
		w("complete -c %s -n %s -a %s -d %s\n", program, noCmd, c.name, fishQuote(c.usage))
	}
	for _, f := range m.globals {
		cond := ""
		if f.name == "version" || f.name == "help" {
			cond = " -n " + noCmd
		}
		w("complete -c %s%s%s\n", program, cond, fishFlag(f))
	}
	for _, c := range m.commands {
		cond := " -n " + fishQuote("__fish_seen_subcommand_from "+c.name)
		if c.name == "help" {
			w("complete -c %s%s -a %s\n", program, cond, fishQuote(cmds))
			continue
		}
		for _, f := range c.flags {
			w("complete -c %s%s%s\n", program, cond, fishFlag(f))
		}
		w("complete -c %s%s -s h -l help -d 'show help'\n", program, cond)
	}
	return b.String()
}

// fishFlag is the part of a fish `complete` line that describes f.
func fishFlag(f flagDoc) string {
	s := ""
	for _, short := range f.short {
		s += " -s " + short
	}
	s += " -l " + f.name
	switch {
	case f.value == "":
	case f.profile():
		s += " -x -a '(__vkc_credential_profiles)'"
	case f.file():
		s += " -r -F"
	case f.choices != nil:
		s += " -x -a " + fishQuote(strings.Join(f.choices, " "))
	default:
		s += " -x"
	}
	return s + " -d " + fishQuote(f.usage)
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
