package cmdline

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// belowTheEdge are the packages under the command line: they return
// plain errors, and the hints that name flags and commands are the
// command line's (issue 17).
var belowTheEdge = []string{"../keystone", "../helper", "../keyring", "../protocol", "../internal", "../standin"}

// edgeWords matches, in a string, a flag or a command of the command
// line's definition: "--cacert", "vkc-credential store".
func edgeWords(t *testing.T) *regexp.Regexp {
	t.Helper()
	s := testSurface()
	all := slices.Clone(s.common)
	var commands []string
	for i := range s.commands {
		commands = append(commands, s.commands[i].name)
		all = append(all, s.flags(&s.commands[i])...)
	}
	flags := map[string]bool{}
	for _, f := range all {
		for _, n := range f.Names() {
			if len(n) > 1 {
				flags[n] = true
			}
		}
	}
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, regexp.QuoteMeta(n))
	}
	sort.Strings(names)
	if len(names) < 20 || len(commands) < 8 {
		t.Fatalf("only %d flags and %d commands in the definition", len(names), len(commands))
	}
	return regexp.MustCompile(`(?:^|[^A-Za-z0-9-])--(?:` + strings.Join(names, "|") + `)(?:$|[^A-Za-z0-9-])` +
		`|vkc-credential (?:` + strings.Join(commands, "|") + `)(?:$|[^A-Za-z0-9-])`)
}

// edgeWordsIn returns the string literals of the Go source src that name
// a flag or a command (a literal that is one flag alone is an argument
// vector's element for another program, such as pass's --force).
func edgeWordsIn(t *testing.T, words *regexp.Regexp, name string, src any) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil || (strings.HasPrefix(s, "--") && !strings.ContainsAny(s, " ")) {
			return true
		}
		if words.MatchString(s) {
			found = append(found, s)
		}
		return true
	})
	return found
}

// TestNoFlagBelowTheEdge: no message made below the command line names
// one of its flags or commands; the hints that do live in cmdline/, where
// the flags are defined. The words are read off the definition.
func TestNoFlagBelowTheEdge(t *testing.T) {
	words := edgeWords(t)
	// The check sees what it is for.
	if got := edgeWordsIn(t, words, "x.go", "package x\nvar e = \"check --cacert or OS_CACERT; run `vkc-credential store`\"\nvar a = []string{\"--force\"}\n"); len(got) != 1 {
		t.Fatalf("the check found %q in a hint that names a flag", got)
	}
	files := 0
	for _, dir := range belowTheEdge {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			files++
			for _, s := range edgeWordsIn(t, words, path, nil) {
				t.Errorf("%s: %q names the command line's flags or commands; say it in cmdline/", path, s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 40 {
		t.Fatalf("only %d files read", files)
	}
}
