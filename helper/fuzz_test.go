package helper

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseOpenRC checks that the parser never panics, never returns
// OS_PASSWORD, and only returns values the shell would take literally.
func FuzzParseOpenRC(f *testing.F) {
	if data, err := os.ReadFile("testdata/vk-openrc-v3.sh"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		`export OS_USERNAME="a b"`, `export OS_X='y'`, "export A=b\r\n", `export P=$X`, `export Q="$(id)"`,
		`export OS_PASSWORD=x`, `export A="\"\\\$"`, `export A=b # c`, `export A="unterminated`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vars := ParseOpenRC(data)
		if _, ok := vars["OS_PASSWORD"]; ok {
			t.Fatal("OS_PASSWORD was read from an openrc file")
		}
		for name, value := range vars {
			if !isShellName(name) {
				t.Fatalf("bad name %q", name)
			}
			if strings.ContainsAny(value, "\n") {
				t.Fatalf("value of %s spans lines: %q", name, value)
			}
		}
	})
}
