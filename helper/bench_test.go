package helper

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkCachedGetRun times a whole cached `get --format token` inside
// the process: argument parsing, the profile and cache reads, the answer.
// Process start-up is measured by scripts/bench-startup.sh.
func BenchmarkCachedGetRun(b *testing.B) {
	f := newFixture(&testing.T{})
	// Run uses the real clock: the token must be fresh by it.
	f.clock.Set(time.Now())
	f.ks.issuedAt = time.Now()
	dir := b.TempDir()
	b.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	b.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	paths, err := DefaultPaths()
	if err != nil {
		b.Fatal(err)
	}
	f.h.Paths = paths
	if _, err := f.h.Store(context.Background(), StoreOptions{Profile: "bench", Settings: f.s, Password: goodPassword, Verify: true}); err != nil {
		b.Fatal(err)
	}
	args := []string{"vkc-credential", "get", "--profile", "bench", "--format", "token"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var out strings.Builder
		if code := Run(args, strings.NewReader(""), &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "token-") {
			b.Fatalf("exit %d, %q", code, out.String())
		}
	}
}

// BenchmarkReadCache times reading and checking one cached token.
func BenchmarkReadCache(b *testing.B) {
	f := newFixture(&testing.T{})
	f.h.Paths = Paths{ConfigDir: filepath.Join(b.TempDir(), "c"), CacheDir: filepath.Join(b.TempDir(), "k")}
	if _, err := f.h.Store(context.Background(), StoreOptions{Profile: "p", Settings: f.s, Password: goodPassword, Verify: true}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if e := f.h.Paths.readCacheOnly(f.s); e == nil {
			b.Fatal("miss")
		}
	}
}
