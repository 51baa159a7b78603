package clouds

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// file is a parsed clouds.yaml or secure.yaml.
type file struct {
	path  string
	root  *yaml.Node
	loose bool // readable by group or others
	work  int  // keys read and aliases followed so far (see maxWork)
}

// parse decodes data, the contents of path, into a node tree. Aliases
// stay aliases: they are followed, within bounds, by collect.
func parse(path string, data []byte, loose bool) (*file, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// The library's messages can quote the input (an anchor's name,
		// a value that does not fit): give the line only.
		if line := errorLine(err); line > 0 {
			return nil, fmt.Errorf("%w: %s is not valid YAML (line %d)", errInvalid, path, line)
		}
		return nil, fmt.Errorf("%w: %s is not valid YAML", errInvalid, path)
	}
	return &file{path: path, root: &root, loose: loose}, nil
}

// errorLine is the line number a YAML library error gives ("yaml: line
// N: ..." or, for a type error, "line N: ..."), or 0.
func errorLine(err error) int {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0
	}
	digits, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// mapping is a YAML mapping as openstacksdk sees it: merge keys (<<)
// applied, the last of repeated keys winning, and in a cloud's settings
// (not in the names of the clouds) '-' in keys turned into '_'.
// Each value remembers the file it came from, for line numbers.
type mapping map[string]value

type value struct {
	node *yaml.Node
	file *file
}

// maxAliasDepth bounds the aliases and merge keys followed from one node,
// against a document whose anchors refer to themselves.
//
// maxWork bounds what reading the mappings of one file may cost: every
// key of a mapping read (its own, or one a merge key brings in) and every
// alias or merged mapping followed counts one. A file without aliases
// costs at most one per key it holds, and a key takes two bytes at least,
// so no such file of maxFileSize comes near it; a few lines that merge a
// big mapping into another over and over, or a list of aliases to lists
// of aliases (a "billion laughs"), reach it and are refused rather than
// copying keys for minutes.
const (
	maxAliasDepth = 16
	maxWork       = 1 << 20
)

// clouds is the top-level clouds mapping of f (empty when there is none).
func (f *file) clouds() (mapping, error) {
	doc := f.root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind == 0 || doc.Kind == yaml.DocumentNode || isNull(doc) {
		return mapping{}, nil // an empty file
	}
	top, err := f.collect(doc, "the top level", false)
	if err != nil {
		return nil, err
	}
	v, ok := top["clouds"]
	if !ok || isNull(resolve(v.node)) {
		return mapping{}, nil
	}
	return f.collect(v.node, "clouds", false)
}

// mapping reads n as a mapping of a cloud's settings; where names it in
// errors.
func (f *file) mapping(n *yaml.Node, where string) (mapping, error) {
	return f.collect(n, where, true)
}

// collect reads n as a mapping, with '-' in keys turned into '_' when
// normalize is set.
func (f *file) collect(n *yaml.Node, where string, normalize bool) (mapping, error) {
	c := collector{file: f, m: mapping{}, where: where, line: n.Line, normalize: normalize}
	if err := c.into(n, 0); err != nil {
		return nil, err
	}
	return c.m, nil
}

// collector fills m from a mapping node, its merge keys and aliases.
type collector struct {
	*file
	m         mapping
	where     string // names the mapping in errors
	line      int    // where the mapping starts, for errors
	normalize bool
}

// into adds the keys of n, reached through depth aliases or merge keys.
func (c *collector) into(n *yaml.Node, depth int) error {
	if depth > 0 {
		if err := c.spend(1); err != nil {
			return err
		}
	}
	if depth > maxAliasDepth {
		return fmt.Errorf("%w: %s line %d: too many aliases or merge keys", errInvalid, c.path, n.Line)
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return c.into(n.Alias, depth+1)
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: %s line %d: %s is %s, not a mapping", errInvalid, c.path, n.Line, c.where, kindOf(n))
	}
	if err := c.spend(len(n.Content) / 2); err != nil {
		return err
	}
	if err := c.merged(n, depth); err != nil {
		return err
	}
	return c.own(n)
}

// merged adds the keys that n's merge keys bring in, before n's own keys
// so that those win; of several merged mappings, the first wins, as in
// YAML's merge key type.
func (c *collector) merged(n *yaml.Node, depth int) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			continue
		}
		srcs := []*yaml.Node{v}
		if r := resolve(v); r.Kind == yaml.SequenceNode {
			srcs = r.Content
		}
		for j := len(srcs) - 1; j >= 0; j-- {
			if err := c.into(srcs[j], depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// own adds n's own keys.
func (c *collector) own(n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%w: %s line %d: a key of %s is %s, not a string", errInvalid, c.path, k.Line, c.where, kindOf(k))
		}
		key := k.Value
		if c.normalize {
			key = strings.ReplaceAll(key, "-", "_")
		}
		c.m[key] = value{node: v, file: c.file}
	}
	return nil
}

// spend counts n units of work, and refuses the file once its total
// passes maxWork.
func (c *collector) spend(n int) error {
	c.work += n
	if c.work > maxWork {
		return fmt.Errorf("%w: %s line %d: the aliases and merge keys (<<) of %s copy more than %d keys; write it out without them",
			errInvalid, c.path, c.line, c.where, maxWork)
	}
	return nil
}

// isMergeKey reports whether k is YAML's merge key, <<. The value is
// compared first: ShortTag resolves a plain scalar's type, which costs
// far more than the copy of a key.
func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < maxAliasDepth && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindOf names what n is, for errors, without its value.
func kindOf(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return scalarKind(n.ShortTag())
	}
	return "an alias"
}

// scalarKind names the type of a scalar tagged tag, for errors.
func scalarKind(tag string) string {
	switch tag {
	case "!!null":
		return "empty"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	case "!!timestamp":
		return "a date"
	case "!!str":
		return "a string"
	}
	return "a value of another type"
}

// listNames lists the clouds of m for an error: quoted, sorted, or "no
// clouds at all".
func listNames(m mapping) string {
	if len(m) == 0 {
		return "no clouds at all"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, strconv.Quote(k))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// str reads v as a string: a string, or an integer written in decimal
// (openstacksdk turns numbers into strings; only a decimal integer reads
// back as the digits written). An empty value is "". Anything else is an
// error that names the file, line and key, never the value.
func str(v value, key string) (string, error) {
	n := resolve(v.node)
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str":
			return n.Value, nil
		case "!!null":
			return "", nil
		case "!!int":
			if isDecimal(n.Value) {
				return n.Value, nil
			}
		}
	}
	return "", fmt.Errorf("%w: %s line %d: %s is %s, not a string; put the value in quotes", errInvalid, v.file.path, v.node.Line, key, kindOf(n))
}

// isDecimal reports whether s is an integer as Python's str() writes it.
func isDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (s[0] == '0' && s != "0") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
