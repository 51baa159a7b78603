package helper

import (
	"bytes"
	"strings"
)

// ParseOpenRC reads the variables an openrc file exports, without running
// it: every `export NAME=value` line counts, wherever it stands (VK Cloud
// puts some inside an `if` block). Values may be bare, 'single-quoted' or
// "double-quoted". A value that needs the shell to expand it ($VAR, $(…),
// `…`) is left out rather than guessed at; so is OS_PASSWORD, which
// vkc-credential never takes from a file.
func ParseOpenRC(data []byte) map[string]string {
	vars := map[string]string{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSpace(strings.TrimSuffix(string(line), "\r"))
		rest, ok := strings.CutPrefix(s, "export")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest = strings.TrimLeft(rest, " \t")
		name, raw, ok := strings.Cut(rest, "=")
		if !ok || !isShellName(name) || name == "OS_PASSWORD" {
			continue
		}
		if value, ok := shellWord(raw); ok {
			vars[name] = value
		}
	}
	return vars
}

func isShellName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shellWord decodes the first shell word of s when it is a literal: no
// expansion, no command substitution. What follows the word must be
// nothing, a comment, or the end of the command (`;`, `&&`).
func shellWord(s string) (string, bool) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case strings.IndexByte(" \t;&|", c) >= 0:
			return b.String(), endOfCommand(s[i:])
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '"':
			next, ok := doubleQuoted(s, i+1, &b)
			if !ok {
				return "", false
			}
			i = next
		case strings.IndexByte("$`\\()<>", c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
}

// doubleQuoted decodes the double-quoted string that starts at s[i], just
// after its opening quote, into b; it returns the index after the closing
// quote, or false for a string that expands something or is not closed.
func doubleQuoted(s string, i int, b *strings.Builder) (int, bool) {
	for ; i < len(s); i++ {
		switch d := s[i]; d {
		case '"':
			return i + 1, true
		case '$', '`':
			return 0, false
		case '\\':
			if i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
				i++
				b.WriteByte(s[i])
			} else {
				b.WriteByte(d)
			}
		default:
			b.WriteByte(d)
		}
	}
	return 0, false
}

func endOfCommand(s string) bool {
	s = strings.TrimLeft(s, " \t")
	return s == "" || s[0] == '#' || s[0] == ';' || strings.HasPrefix(s, "&&")
}
