// Package clouds reads one cloud of openstacksdk's clouds.yaml and
// secure.yaml, for `store --cloud`, and writes the clouds.yaml stanza that
// replaces it with the vkc auth type.
//
// It is a package of its own so that the YAML library stays out of the
// helper package and of everything that imports only helper. A binary that
// links this package still runs the library's package init (two regexps
// and a few maps, about 0.1 ms) at every start, whichever command runs.
package clouds

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"vkc-credential/protocol"
)

// The auth types a Cloud can have. A cloud without auth_type is
// AuthPassword, as in openstacksdk.
const (
	AuthPassword              = "password"
	AuthApplicationCredential = "v3applicationcredential"
)

// maxFileSize bounds a clouds.yaml or secure.yaml read.
const maxFileSize = 1 << 20

// ErrNoFile means no clouds.yaml was found on the search path.
var ErrNoFile = errors.New("no clouds.yaml found")

// ErrNoCloud means the clouds.yaml found has no cloud of that name.
var ErrNoCloud = errors.New("cloud not found")

// ErrUnsupported means the cloud is configured in a way vkc-credential
// cannot use: another auth type, a vendor profile, a user domain by id.
var ErrUnsupported = errors.New("unsupported cloud")

// ErrInvalid means a clouds.yaml or secure.yaml cannot be used as it
// stands: not YAML, not a regular file, too big, or a value of the wrong
// type. Its message names the file and line, never a value.
var ErrInvalid = errors.New("invalid clouds file")

// Env is where Load looks: the environment, the home directory and the
// current directory. Tests give their own.
type Env struct {
	LookupEnv func(string) (string, bool) // os.LookupEnv
	Home      string                      // the user's home directory
	Dir       string                      // the current directory
}

// DefaultEnv is the process's environment, home and current directory.
func DefaultEnv() (Env, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return Env{}, fmt.Errorf("cannot find the home directory: %w", err)
	}
	dir, err := os.Getwd()
	if err != nil {
		return Env{}, fmt.Errorf("cannot find the current directory: %w", err)
	}
	return Env{LookupEnv: os.LookupEnv, Home: home, Dir: dir}, nil
}

// Cloud is what a cloud of clouds.yaml (merged with secure.yaml) says.
// Fields the files do not give are empty: defaults are the caller's.
type Cloud struct {
	Name string
	// Settings: auth.auth_url, auth.project_id, auth.username,
	// auth.user_domain_name (else auth.domain_name), region_name,
	// interface.
	Settings protocol.Settings
	// ProjectName and its domain, for a cloud that names its project
	// rather than giving its id (auth.project_domain_name or _id, else
	// auth.domain_name or _id).
	ProjectName       string
	ProjectDomainName string
	ProjectDomainID   string
	// AuthType is AuthPassword or AuthApplicationCredential.
	AuthType                  string
	ApplicationCredentialID   string
	ApplicationCredentialName string
	// Secret is auth.password (AuthPassword) or
	// auth.application_credential_secret (AuthApplicationCredential),
	// empty when neither file holds one. Never print it.
	Secret string
	// SecretFile is the file the secret was found in, for the warning
	// that a plaintext copy remains there; LooseSecretFile says that
	// others than its owner may read that file.
	SecretFile      string
	LooseSecretFile bool
	// Files are the files read: the clouds.yaml, then the secure.yaml if
	// one was found.
	Files []string
}

// String describes c without its secret, so that a Cloud printed with
// %v by mistake does not leak it.
func (c *Cloud) String() string {
	return fmt.Sprintf("cloud %q from %s (%s)", c.Name, strings.Join(c.Files, ", "), c.AuthType)
}

// GoString is String, for %#v.
func (c *Cloud) GoString() string { return c.String() }

// Load returns cloud name of the first clouds.yaml on openstacksdk's
// search path, with the cloud of the same name of the first secure.yaml
// merged over it (mappings merged key by key, other values replaced).
//
// The clouds.yaml is $OS_CLIENT_CONFIG_FILE, else the first of clouds.yaml,
// clouds.yml and clouds.json in each of: the current directory,
// $XDG_CONFIG_HOME/openstack (the platform's user config directory),
// ~/.config/openstack, the platform's site config directory
// ($XDG_CONFIG_DIRS/openstack, /etc/xdg/openstack on Linux), and
// /etc/openstack. The secure.yaml is $OS_CLIENT_SECURE_FILE, else
// secure.yaml, .yml or .json in the same directories.
//
// Unlike openstacksdk, which skips a file it cannot read or parse and
// takes the next, Load stops at the first file that exists and reports
// what is wrong with it: a cloud imported from a file the user did not
// mean would be worse than an error.
func Load(name string, env Env) (*Cloud, error) {
	if env.LookupEnv == nil {
		env.LookupEnv = func(string) (string, bool) { return "", false }
	}
	cloudsPaths := searchPath(env, "clouds", "OS_CLIENT_CONFIG_FILE")
	cf, err := findFile(cloudsPaths)
	if err != nil {
		return nil, err
	}
	if cf == nil {
		return nil, fmt.Errorf("%w; searched %s (set OS_CLIENT_CONFIG_FILE to use another file)", ErrNoFile, strings.Join(cloudsPaths, ", "))
	}
	sf, err := findFile(searchPath(env, "secure", "OS_CLIENT_SECURE_FILE"))
	if err != nil {
		return nil, err
	}
	files := []*file{cf}
	if sf != nil {
		files = append(files, sf)
	}
	c := &Cloud{Name: name}
	top, auth := mapping{}, mapping{}
	for _, f := range files {
		c.Files = append(c.Files, f.path)
		clouds, err := f.clouds()
		if err != nil {
			return nil, err
		}
		v, ok := clouds[name]
		if !ok {
			if f == cf {
				return nil, fmt.Errorf("%w: %s has no cloud %q; it has %s", ErrNoCloud, cf.path, name, listNames(clouds))
			}
			continue
		}
		where := "clouds." + name
		cm, err := f.mapping(v.node, where)
		if err != nil {
			return nil, err
		}
		// openstacksdk's merge_clouds, for the two levels read here:
		// secure.yaml's keys replace clouds.yaml's, the auth mapping's
		// key by key.
		for k, v := range cm {
			if k != "auth" {
				top[k] = v
			}
		}
		if a, ok := cm["auth"]; ok && !isNull(resolve(a.node)) {
			am, err := f.mapping(a.node, where+".auth")
			if err != nil {
				return nil, err
			}
			for k, v := range am {
				auth[k] = v
			}
		}
	}
	if err := c.fill(top, auth); err != nil {
		return nil, err
	}
	return c, nil
}

// searchPath lists the candidate files of kind ("clouds" or "secure"),
// the file named by the variable override first.
func searchPath(env Env, kind, override string) []string {
	var paths []string
	if p, ok := env.LookupEnv(override); ok && p != "" {
		paths = append(paths, p)
	}
	for _, dir := range configDirs(env) {
		for _, ext := range []string{".yaml", ".yml", ".json"} {
			paths = append(paths, filepath.Join(dir, kind+ext))
		}
	}
	return paths
}

// configDirs are openstacksdk's CONFIG_SEARCH_PATH: the current
// directory, platformdirs' user config directory, ~/.config/openstack,
// platformdirs' site config directory, /etc/openstack; without repeats.
func configDirs(env Env) []string {
	get := func(name string) string { v, _ := env.LookupEnv(name); return v }
	var dirs []string
	add := func(d string) {
		for _, seen := range dirs {
			if seen == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	if env.Dir != "" {
		add(env.Dir)
	}
	switch runtime.GOOS {
	case "windows":
		if d := get("LOCALAPPDATA"); d != "" {
			add(filepath.Join(d, "OpenStack", "openstack"))
		}
	case "darwin":
		if env.Home != "" {
			add(filepath.Join(env.Home, "Library", "Application Support", "openstack"))
		}
	default:
		if d := get("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
			add(filepath.Join(d, "openstack"))
		} else if env.Home != "" {
			add(filepath.Join(env.Home, ".config", "openstack"))
		}
	}
	if env.Home != "" {
		add(filepath.Join(env.Home, ".config", "openstack"))
	}
	switch runtime.GOOS {
	case "windows":
		if d := get("PROGRAMDATA"); d != "" {
			add(filepath.Join(d, "OpenStack", "openstack"))
		}
	case "darwin":
		add("/Library/Application Support/openstack")
	default:
		xdg := get("XDG_CONFIG_DIRS")
		if xdg == "" {
			xdg = "/etc/xdg"
		}
		for _, d := range filepath.SplitList(xdg) {
			if filepath.IsAbs(d) {
				add(filepath.Join(d, "openstack"))
			}
		}
	}
	if runtime.GOOS != "windows" {
		add("/etc/openstack")
	}
	return dirs
}

// file is a parsed clouds.yaml or secure.yaml.
type file struct {
	path   string
	root   *yaml.Node
	loose  bool // readable by group or others
	merges int  // mappings visited through aliases and merge keys
}

// findFile reads and parses the first of paths that exists; none is
// (nil, nil).
func findFile(paths []string) (*file, error) {
	for _, p := range paths {
		data, fi, err := readFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			// The library's messages can quote the input (an anchor's
			// name, a value that does not fit): give the line only.
			if line := errorLine(err); line > 0 {
				return nil, fmt.Errorf("%w: %s is not valid YAML (line %d)", ErrInvalid, p, line)
			}
			return nil, fmt.Errorf("%w: %s is not valid YAML", ErrInvalid, p)
		}
		return &file{path: p, root: &root, loose: fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows"}, nil
	}
	return nil, nil
}

// readFile reads path, following symbolic links as openstacksdk does
// (clouds.yaml is the user's file, often a link into a dotfiles
// repository), if it is a regular file of at most maxFileSize bytes.
func readFile(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalid, path, maxFileSize)
	}
	return data, fi, nil
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
// against a document whose anchors refer to themselves; maxMerges bounds
// them all in a file, against a few lines that merge a list of aliases to
// lists of aliases and so on (a "billion laughs").
const (
	maxAliasDepth = 16
	maxMerges     = 10000
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
	m := mapping{}
	if err := f.collectInto(m, n, where, normalize, 0); err != nil {
		return nil, err
	}
	return m, nil
}

func (f *file) collectInto(m mapping, n *yaml.Node, where string, normalize bool, depth int) error {
	if depth > 0 {
		f.merges++
	}
	if depth > maxAliasDepth || f.merges > maxMerges {
		return fmt.Errorf("%w: %s line %d: too many aliases or merge keys", ErrInvalid, f.path, n.Line)
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return f.collectInto(m, n.Alias, where, normalize, depth+1)
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%w: %s line %d: %s is %s, not a mapping", ErrInvalid, f.path, n.Line, where, kindOf(n))
	}
	// Merged keys first, so that the mapping's own keys win; of several
	// merged mappings, the first wins, as in YAML's merge key type.
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!merge" {
			continue
		}
		srcs := []*yaml.Node{v}
		if r := resolve(v); r.Kind == yaml.SequenceNode {
			srcs = r.Content
		}
		for j := len(srcs) - 1; j >= 0; j-- {
			if err := f.collectInto(m, srcs[j], where, normalize, depth+1); err != nil {
				return err
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%w: %s line %d: a key of %s is %s, not a string", ErrInvalid, f.path, k.Line, where, kindOf(k))
		}
		key := k.Value
		if normalize {
			key = strings.ReplaceAll(key, "-", "_")
		}
		m[key] = value{node: v, file: f}
	}
	return nil
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
		switch n.ShortTag() {
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
	return "an alias"
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
	return "", fmt.Errorf("%w: %s line %d: %s is %s, not a string; put the value in quotes", ErrInvalid, v.file.path, v.node.Line, key, kindOf(n))
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

// fill sets c from the merged cloud (top) and its auth mapping.
func (c *Cloud) fill(top, auth mapping) error {
	prefix := "clouds." + c.Name
	var err error
	// get returns the first of keys that is set, looking at the cloud's
	// top level, its auth mapping or both (top first: openstacksdk
	// prefers it for the project and domain keys).
	const (
		inTop = 1 << iota
		inAuth
		inBoth = inTop | inAuth
	)
	get := func(scope int, keys ...string) string {
		for _, k := range keys {
			for _, m := range []struct {
				m     mapping
				where string
				scope int
			}{{top, prefix + "." + k, inTop}, {auth, prefix + ".auth." + k, inAuth}} {
				v, ok := m.m[k]
				if !ok || scope&m.scope == 0 || err != nil {
					continue
				}
				s, e := str(v, m.where)
				if e != nil {
					err = e
					return ""
				}
				if s != "" {
					return s
				}
			}
		}
		return ""
	}
	secretFrom := func(key string) string {
		if v, ok := auth[key]; ok && err == nil {
			s, e := str(v, prefix+".auth."+key)
			if e != nil {
				err = e
				return ""
			}
			if s != "" {
				c.SecretFile, c.LooseSecretFile = v.file.path, v.file.loose
			}
			return s
		}
		return ""
	}

	if p := get(inTop, "profile", "cloud"); p != "" {
		return fmt.Errorf("%w: cloud %q takes its settings from openstacksdk's vendor profile %q, which vkc-credential does not read; put auth_url and the rest in the cloud itself", ErrUnsupported, c.Name, p)
	}
	// auth_type wins over the older auth_plugin, as in openstacksdk.
	authType := get(inTop, "auth_type", "auth_plugin")
	if err != nil {
		return err
	}
	switch authType {
	case "", "password", "v3password":
		c.AuthType = AuthPassword
	case "v3applicationcredential":
		c.AuthType = AuthApplicationCredential
	case "vkc":
		return fmt.Errorf("%w: cloud %q already uses vkc-credential (auth_type vkc); there is nothing to import", ErrUnsupported, c.Name)
	default:
		return fmt.Errorf("%w: cloud %q has auth_type %q; vkc-credential imports password and v3applicationcredential clouds", ErrUnsupported, c.Name, authType)
	}

	c.Settings = protocol.Settings{
		AuthURL:        get(inAuth, "auth_url"),
		ProjectID:      get(inBoth, "project_id", "tenant_id"),
		Username:       get(inAuth, "username"),
		UserDomainName: get(inBoth, "user_domain_name", "domain_name"),
		Region:         get(inTop, "region_name"),
		Interface:      get(inTop, "interface", "endpoint_type"),
	}
	c.ProjectName = get(inBoth, "project_name", "tenant_name")
	c.ProjectDomainName = get(inBoth, "project_domain_name", "domain_name")
	c.ProjectDomainID = get(inBoth, "project_domain_id", "domain_id")
	userDomainID := get(inBoth, "user_domain_id", "domain_id")
	userID := get(inAuth, "user_id")
	if c.AuthType == AuthApplicationCredential {
		c.ApplicationCredentialID = get(inAuth, "application_credential_id")
		c.ApplicationCredentialName = get(inAuth, "application_credential_name")
		c.Secret = secretFrom("application_credential_secret")
	} else {
		c.Secret = secretFrom("password")
	}
	if err != nil {
		return err
	}
	// A user named by name needs its domain by name: the rest of
	// vkc-credential sends user.domain.name.
	byName := c.AuthType == AuthPassword || c.ApplicationCredentialID == ""
	switch {
	case byName && c.Settings.Username == "" && userID != "":
		return fmt.Errorf("%w: cloud %q names its user by id (user_id); vkc-credential needs the user's name: set auth.username", ErrUnsupported, c.Name)
	case byName && c.Settings.UserDomainName == "" && userDomainID != "":
		return fmt.Errorf("%w: cloud %q names the user's domain by id (user_domain_id); vkc-credential sends the domain's name: set auth.user_domain_name", ErrUnsupported, c.Name)
	}
	return nil
}

// Stanza returns the clouds.yaml text that defines cloud name with the
// vkc auth type, taking its token from vkc-credential profile profile
// (the keystoneauth plugin's vkc_profile option), with region and iface
// when they are not empty:
//
//	clouds:
//	  NAME:
//	    auth_type: vkc
//	    auth:
//	      vkc_profile: PROFILE
//	    region_name: REGION
//	    interface: IFACE
//
// The YAML library writes it, so any name or value reads back as itself;
// a value that is not a plain word is double-quoted, since openstacksdk's
// PyYAML reads YAML 1.1, where on, yes and n are booleans and 1:20 and
// 1_000 numbers.
func Stanza(name, profile, region, iface string) string {
	scalar := func(s string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
		if !plainSafe(s) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	}
	mapOf := func(kv ...string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				n.Content = append(n.Content, scalar(kv[i]), scalar(kv[i+1]))
			}
		}
		return n
	}
	cloud := mapOf("auth_type", "vkc")
	cloud.Content = append(cloud.Content, scalar("auth"), mapOf("vkc_profile", profile))
	cloud.Content = append(cloud.Content, mapOf("region_name", region, "interface", iface).Content...)
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		scalar("clouds"), {Kind: yaml.MappingNode, Content: []*yaml.Node{scalar(name), cloud}},
	}}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		// Only strings go in; the encoder fails on nothing it is given.
		panic("clouds: encoding the stanza: " + err.Error())
	}
	enc.Close()
	return b.String()
}

// plainSafe reports whether s can stand unquoted in YAML 1.1 and 1.2
// alike and read back as the string s: a letter, then letters, digits and
// . _ / @ -, and not a word that YAML 1.1 reads as a boolean or null.
func plainSafe(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._/@-", c) >= 0) {
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	return true
}
