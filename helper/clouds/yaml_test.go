package clouds

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mergeBomb is a clouds.yaml in which cloud vk merges a mapping of keys
// keys aliases times: a few lines of aliases that, unbounded, copy
// keys×aliases keys.
func mergeBomb(keys, aliases int) string {
	var b strings.Builder
	b.WriteString("a: &a {")
	for i := 0; i < keys; i++ {
		fmt.Fprintf(&b, "k%x, ", i)
	}
	b.WriteString("}\nclouds:\n  vk:\n    <<: [")
	b.WriteString(strings.Repeat("*a, ", aliases))
	b.WriteString("]\n")
	return b.String()
}

func writeTemp(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMergeWorkIsBounded: issue 15 item 8. A file of a quarter MiB whose
// merge keys would copy 400 million keys (minutes of CPU when only the
// merges were counted) is refused once the keys copied pass maxWork; the
// work counter proves where it stopped.
func TestMergeWorkIsBounded(t *testing.T) {
	const keys, aliases = 20_000, 20_000
	doc := mergeBomb(keys, aliases)
	if len(doc) > maxFileSize/4 || keys*aliases < 300*maxWork {
		t.Fatalf("the bomb is %d bytes and would copy %d keys", len(doc), keys*aliases)
	}
	path := writeTemp(t, doc)
	f, err := findFile([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cloudOf(f, "vk")
	wantErr(t, nil, err, errInvalid, []string{path, "line 4", "clouds.vk", "merge keys (<<) of", "copy more than", "without them"}, nil)
	// Stopped in the first merge that went past the bound: one alias and
	// one mapping of keys keys at most beyond it.
	if f.work <= maxWork || f.work > maxWork+keys+2 {
		t.Errorf("work = %d, want it just past %d", f.work, maxWork)
	}
}

// TestMergeBombOfLists: merges of lists of aliases to lists of aliases
// grow as a power (8 to the 7th visits of a here, within the alias
// depth); the same bound stops them.
func TestMergeBombOfLists(t *testing.T) {
	doc := "a: &a {x: 1, y: 2}\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g"} {
		doc += fmt.Sprintf("%s: &%s {<<: [%s]}\n", n, n, strings.TrimSuffix(strings.Repeat("*"+prev+", ", 8), ", "))
		prev = n
	}
	doc += "clouds:\n  vk: {<<: [*g, *g, *g, *g, *g, *g, *g, *g]}\n"
	f, err := findFile([]string{writeTemp(t, doc)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cloudOf(f, "vk")
	wantErr(t, nil, err, errInvalid, []string{"copy more than"}, nil)
	if f.work <= maxWork || f.work > maxWork+2 {
		t.Errorf("work = %d, want it just past %d", f.work, maxWork)
	}
}

// TestWorkOfOrdinaryFiles: a file without aliases costs at most one unit
// per key, so even a big one is far from the bound, and the fixtures'
// merge keys cost what they copy.
func TestWorkOfOrdinaryFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("clouds:\n  vk:\n    auth: {auth_url: https://keystone.example.com/v3}\n")
	for i := 0; b.Len() < maxFileSize/16; i++ {
		fmt.Fprintf(&b, "  c%x: {}\n", i)
	}
	big := b.String()
	f, err := findFile([]string{writeTemp(t, big)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cloudOf(f, "vk"); err != nil {
		t.Fatal(err)
	}
	if keys := strings.Count(big, ":"); f.work > keys {
		t.Errorf("work = %d for a file of %d keys", f.work, keys)
	}

	f, err = findFile([]string{"testdata/plain/clouds.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cloudOf(f, "byname"); err != nil {
		t.Fatal(err)
	}
	// top level 2 keys, clouds 7, byname 1, its auth 5, the merged
	// mapping 2 keys + 2 for the alias and the mapping it names.
	if f.work != 2+7+1+5+2+2 {
		t.Errorf("work = %d", f.work)
	}
}

// TestAliasDepth: an anchor that refers to itself is refused, not
// followed for ever.
func TestAliasDepth(t *testing.T) {
	f, err := findFile([]string{writeTemp(t, "clouds:\n  vk: &a\n    <<: *a\n")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cloudOf(f, "vk")
	wantErr(t, nil, err, errInvalid, []string{"too many aliases"}, nil)
}
