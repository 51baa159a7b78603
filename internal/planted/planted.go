//go:build !windows

// Package planted helps tests plant files as another user would: files
// that the code under test must refuse to read, follow or repair.
package planted

import (
	"os"
	"testing"
)

// OtherUID is the owner planted files get: not the effective uid of the
// test, and no user of a usual system.
const OtherUID = 4242

// ChownToOther hands path (a symbolic link itself, not its target) to
// OtherUID. Only root can; CI runs the tests as root, elsewhere the test
// is skipped.
func ChownToOther(t testing.TB, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another uid needs root (CI runs the tests as root)")
	}
	if err := os.Lchown(path, OtherUID, OtherUID); err != nil {
		t.Fatal(err)
	}
}
