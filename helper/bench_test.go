package helper

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vkc-credential/keystone"
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

// BenchmarkReadCacheLargeCatalog reads a cached token whose body holds a
// catalog of VK Cloud's size (about 30 KB): the body is not decoded.
func BenchmarkReadCacheLargeCatalog(b *testing.B) {
	p := Paths{ConfigDir: filepath.Join(b.TempDir(), "c"), CacheDir: filepath.Join(b.TempDir(), "k")}
	now := time.Now()
	endpoint := `{"id":"0123456789abcdef0123456789abcdef","interface":"public","region":"RegionOne","region_id":"RegionOne","url":"https://infra.mail.ru:8774/v2.1/b5b7ffd4ef0547e5b222f44500000000"}`
	var eps []string
	for range 150 {
		eps = append(eps, endpoint)
	}
	body := `{"token":{"catalog":[{"type":"compute","name":"nova","endpoints":[` + strings.Join(eps, ",") + `]}]}}`
	tok := &keystone.Token{ID: "t", IssuedAt: now, ExpiresAt: now.Add(time.Hour), ReceivedAt: now, Body: []byte(body)}
	if _, err := p.writeCache(newCacheEntry("p", testSettings, tok)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if e := p.readCacheOnly(testSettings); e == nil {
			b.Fatal("miss")
		}
	}
}
