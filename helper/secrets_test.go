package helper

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"vkc-credential/keyring"
	"vkc-credential/protocol"
)

// oldItem is the item vkc-credential 1.1 named the identity of s by: the
// fields joined by NUL, the auth URL as given, no kind.
func oldItem(s Settings) string {
	parts := []string{s.AuthURL, s.UserDomainName, s.Username}
	if s.ApplicationCredentialID != "" {
		parts = []string{s.AuthURL, "application credential", s.ApplicationCredentialID}
	}
	return itemName(sha256.Sum256([]byte(strings.Join(parts, "\x00"))))
}

// TestSecretItemKeepsKindsApart: a user "ac1" of a domain literally called
// "application credential" and the application credential "ac1" at the
// same Keystone shared one item in 1.1; now each keeps its own, whichever
// is stored first.
func TestSecretItemKeepsKindsApart(t *testing.T) {
	user := Settings{AuthURL: "https://k.example/v3", ProjectID: "p1", Username: "ac1", UserDomainName: "application credential", Region: "RegionOne", Interface: "public"}
	cred := Settings{AuthURL: "https://k.example/v3", ApplicationCredentialID: "ac1", ProjectID: "p1", UserDomainName: "users", Region: "RegionOne", Interface: "public"}
	if oldItem(user) != oldItem(cred) {
		t.Fatal("the test no longer shows 1.1's collision")
	}
	if secretItem(user) == secretItem(cred) {
		t.Fatalf("a user and an application credential share item %s", secretItem(user))
	}
	for _, order := range [][]string{{"user", "cred"}, {"cred", "user"}} {
		t.Run(strings.Join(order, " then "), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			kinds := map[string]Settings{"user": user, "cred": cred}
			for _, name := range order {
				if _, err := f.h.storeProfile(ctx, storeOptions{Profile: name, Settings: kinds[name], Secret: "secret of " + name, Replace: true}); err != nil {
					t.Fatal(err)
				}
			}
			for name, s := range kinds {
				got, _, err := f.h.FindSecret(s, name, DefaultKeyring)
				if err != nil || got != "secret of "+name {
					t.Fatalf("%s reads %q, %v", name, got, err)
				}
			}
			// Erasing one leaves the other's secret alone.
			if _, err := f.h.Erase(ctx, EraseOptions{Profile: order[0]}); err != nil {
				t.Fatal(err)
			}
			if got, _, err := f.h.FindSecret(kinds[order[1]], order[1], DefaultKeyring); err != nil || got != "secret of "+order[1] {
				t.Fatalf("after erasing %s, %s reads %q, %v", order[0], order[1], got, err)
			}
		})
	}
}

// TestOldItemServesUntilStoreMovesIt: a secret under its 1.1 item (with
// the auth URL in either slash form) serves get; the next store moves it
// to the identity's item and deletes the old one, but not an old item a
// profile of another identity may read too (1.1's collision).
func TestOldItemServesUntilStoreMovesIt(t *testing.T) {
	for _, form := range []string{"/v3", "/v3/"} {
		t.Run(form, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			stored := f.s
			stored.AuthURL = f.ks.URL + form
			if _, err := f.h.Paths.saveProfile("p", Profile{Settings: stored, Keyring: DefaultKeyring}); err != nil {
				t.Fatal(err)
			}
			f.kr.Items[oldItem(stored)] = goodPassword
			for _, asked := range []string{"/v3", "/v3/"} {
				s := f.s
				s.AuthURL = f.ks.URL + asked
				if _, err := f.h.Get(ctx, GetOptions{Profile: "p", Settings: s, Keyring: DefaultKeyring, Refresh: true}); err != nil {
					t.Fatalf("get with %s of a profile stored with %s: %v", asked, form, err)
				}
			}
			prof, _ := f.h.Paths.LoadProfile("p")
			pw, _, err := f.h.FindSecret(prof.Settings, "", DefaultKeyring)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.h.storeProfile(ctx, storeOptions{Profile: "p", Settings: prof.Settings, Secret: pw, Stored: &prof}); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{secretItem(stored): goodPassword}
			if !maps.Equal(f.kr.Items, want) {
				t.Fatalf("items after store: %v, want only the identity's item", f.kr.Items)
			}
		})
	}

	t.Run("shared by two kinds", func(t *testing.T) {
		f := newFixture(t)
		ctx := context.Background()
		user := Settings{AuthURL: f.ks.URL + "/v3", ProjectID: "p1", Username: "ac1", UserDomainName: "application credential", Region: "RegionOne", Interface: "public"}
		cred := Settings{AuthURL: f.ks.URL + "/v3", ApplicationCredentialID: "ac1", ProjectID: "p1", UserDomainName: "users", Region: "RegionOne", Interface: "public"}
		for name, s := range map[string]Settings{"user": user, "cred": cred} {
			if _, err := f.h.Paths.saveProfile(name, Profile{Settings: s, Keyring: DefaultKeyring}); err != nil {
				t.Fatal(err)
			}
		}
		shared := oldItem(cred)
		f.kr.Items[shared] = "the credential's secret" // stored last in 1.1
		prof, _ := f.h.Paths.LoadProfile("user")
		if _, err := f.h.storeProfile(ctx, storeOptions{Profile: "user", Settings: user, Secret: "the user's password", Replace: true, Stored: &prof}); err != nil {
			t.Fatal(err)
		}
		if got, _, err := f.h.FindSecret(cred, "cred", DefaultKeyring); err != nil || got != "the credential's secret" {
			t.Fatalf("the user's store took the credential's old item: %q, %v (items %v)", got, err, f.kr.Items)
		}
		// With the user erased, the credential's store moves it.
		if _, err := f.h.Erase(ctx, EraseOptions{Profile: "user"}); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.kr.Items[shared]; !ok {
			t.Fatal("erasing the user deleted the old item the credential reads")
		}
		prof, _ = f.h.Paths.LoadProfile("cred")
		if _, err := f.h.storeProfile(ctx, storeOptions{Profile: "cred", Settings: cred, Secret: "the credential's secret", Stored: &prof}); err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{secretItem(cred): "the credential's secret"}; !maps.Equal(f.kr.Items, want) {
			t.Fatalf("items %v, want %v", f.kr.Items, want)
		}
	})
}

// TestTrailingSlashIsOneIdentity: "…/v3/" and "…/v3" are one identity:
// one item, one cache file and lock; a 1.1 cache file keyed by the
// slash form serves until the next token replaces it.
func TestTrailingSlashIsOneIdentity(t *testing.T) {
	f := newFixture(t)
	slash, bare := f.s, f.s
	slash.AuthURL, bare.AuthURL = f.ks.URL+"/v3/", f.ks.URL+"/v3"
	if !SameIdentity(slash, bare) || secretItem(slash) != secretItem(bare) || cacheKey(slash) != cacheKey(bare) || Identity(slash) != Identity(bare) {
		t.Fatal("the two forms of an auth URL are two identities")
	}
	ctx := context.Background()
	if _, err := f.h.storeProfile(ctx, storeOptions{Profile: "p", Settings: slash, Secret: goodPassword, Verify: true}); err != nil {
		t.Fatal(err)
	}
	tok, err := f.h.Get(ctx, GetOptions{Profile: "p", Settings: bare})
	if err != nil || !tok.Cached {
		t.Fatalf("the other form does not find the token store cached: %+v, %v", tok, err)
	}

	// A cache file of 1.1, keyed by the auth URL with its slash.
	old, ok := oldCacheKey(slash)
	if !ok || old == cacheKey(slash) {
		t.Fatal("no 1.1 key for the slash form")
	}
	if err := os.Rename(f.h.Paths.cachePath(cacheKey(slash)), f.h.Paths.cachePath(old)); err != nil {
		t.Fatal(err)
	}
	if again, err := f.h.Get(ctx, GetOptions{Profile: "p", Settings: slash}); err != nil || !again.Cached || again.ID() != tok.ID() {
		t.Fatalf("the 1.1 cache file does not serve: %+v, %v", again, err)
	}
	if _, err := f.h.Get(ctx, GetOptions{Profile: "p", Settings: slash, Refresh: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.h.Paths.cachePath(old)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the 1.1 cache file outlived the token that replaced it: %v", err)
	}
}

// TestProfileNamedLikeAnItemNeverTouchesIt: a profile named like another
// identity's item (a file an earlier version let a hostile project name
// create) neither reads nor deletes that item through the 1.0 fallback.
func TestProfileNamedLikeAnItemNeverTouchesIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.store(t, "victim")
	victim := secretItem(f.s)
	if protocol.CheckProfileName(victim) == nil {
		t.Fatalf("profile name %q is allowed", victim)
	}
	hostile := f.s
	hostile.AuthURL, hostile.Username = "http://127.0.0.1:9/v3", "mallory"
	// As 1.0 would have written it: no backend recorded.
	if _, err := f.h.Paths.saveProfile(victim, Profile{Settings: hostile}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.h.FindSecret(hostile, victim, DefaultKeyring); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("the hostile profile read a secret: %v", err)
	}
	if _, err := f.h.Get(ctx, GetOptions{Profile: victim, Settings: hostile, Keyring: DefaultKeyring}); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("get of the hostile profile: %v", err)
	}
	prof, err := f.h.Paths.LoadProfile(victim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.storeProfile(ctx, storeOptions{Profile: victim, Settings: hostile, Secret: "mallory's", Stored: &prof}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Erase(ctx, EraseOptions{Profile: victim}); err != nil {
		t.Fatal(err)
	}
	if f.kr.Items[victim] != goodPassword {
		t.Fatalf("the victim's item is gone: %v", f.kr.Items)
	}
}

// TestEraseForce: a keychain that fails keeps everything without --force
// (and says which items); with it, the profile and its files go and the
// result names the secret left, in every item that may hold it.
func TestEraseForce(t *testing.T) {
	for _, v10 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v10=%t", v10), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.store(t, "p")
			if v10 {
				if _, err := f.h.Paths.saveProfile("p", Profile{Settings: f.s}); err != nil {
					t.Fatal(err)
				}
			}
			f.get(t, 0, false)
			f.kr.Err = fmt.Errorf("%w: the keychain is gone", keyring.ErrUnavailable)
			_, err := f.h.Erase(ctx, EraseOptions{Profile: "p"})
			var left *SecretLeft
			if !errors.As(err, &left) || !errors.Is(err, keyring.ErrUnavailable) {
				t.Fatalf("erase without --force: %v", err)
			}
			if _, err := f.h.Paths.LoadProfile("p"); err != nil || f.h.Paths.readCacheOnly(f.s) == nil {
				t.Fatal("erase without --force removed something")
			}
			res, err := f.h.Erase(ctx, EraseOptions{Profile: "p", Force: true})
			if err != nil || res.SecretLeft == nil || res.PasswordRemoved || res.TokensRemoved != 1 {
				t.Fatalf("erase --force: %+v, %v", res, err)
			}
			want := identityItems(f.s)
			if v10 {
				want = append(want, "p")
			}
			if l := res.SecretLeft; l.Keyring != DefaultKeyring || !slices.Equal(l.Items, want) || !errors.Is(l, keyring.ErrUnavailable) {
				t.Fatalf("secret left: %+v, want items %v", l, want)
			}
			if _, err := f.h.Paths.LoadProfile("p"); !errors.Is(err, ErrProfileNotFound) {
				t.Fatalf("the profile survived erase --force: %v", err)
			}
			if left, _ := os.ReadDir(f.h.Paths.CacheDir); len(left) != 0 {
				t.Fatalf("files left in the cache: %v", left)
			}
			// Whatever the keychain's state, an unknown profile is not found.
			for _, force := range []bool{false, true} {
				if _, err := f.h.Erase(ctx, EraseOptions{Profile: "p", Force: force}); !errors.Is(err, ErrProfileNotFound) {
					t.Fatalf("erase of an unknown profile (force %t) with the keychain gone: %v", force, err)
				}
			}
		})
	}
}
