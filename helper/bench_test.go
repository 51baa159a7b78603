package helper

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vkc-credential/keystone"
)

// BenchmarkReadCache times reading and checking one cached token.
func BenchmarkReadCache(b *testing.B) {
	f := newFixture(b)
	f.h.Paths = Paths{ConfigDir: filepath.Join(b.TempDir(), "c"), CacheDir: filepath.Join(b.TempDir(), "k")}
	if _, err := f.h.storeProfile(context.Background(), storeOptions{Profile: "p", Settings: f.s, Secret: goodPassword, Verify: true}); err != nil {
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
