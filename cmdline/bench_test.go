package cmdline

import (
	"io"
	"strings"
	"testing"
)

// BenchmarkCachedGetRun times a whole cached `get --format token` inside
// the process: argument parsing (argv.go's speed trick included), the
// profile and cache reads, the answer. Process start-up is measured by
// scripts/bench-startup.sh.
func BenchmarkCachedGetRun(b *testing.B) {
	w := newWorld(b)
	w.store(b, "bench")
	args := []string{"vkc-credential", "get", "--profile", "bench", "--format", "token"}
	b.ReportAllocs()
	for b.Loop() {
		var out strings.Builder
		inv := newInvocation(strings.NewReader(""), &out, io.Discard)
		w.keychains(inv)
		if code := inv.run(args); code != 0 || !strings.HasPrefix(out.String(), "gAAAA") {
			b.Fatalf("exit %d, %q", code, out.String())
		}
	}
}
