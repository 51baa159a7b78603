package helper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keystone"
)

// mfaPasscode is the TOTP passcode of the MFA fixture's user.
const mfaPasscode = "123456"

// mfaFixture is a fixture whose user's rules want password and TOTP, with
// a role on p1 to p4 and one profile per project stored without
// verification, Keystone on the fixture's clock (its tokens expire), and a
// passcode function that counts its calls.
type mfaFixture struct {
	*fixture
	passcodes atomic.Int32
}

func newMFAFixture(t *testing.T) *mfaFixture {
	f := &mfaFixture{fixture: newFixture(t)}
	var projects []keystonetest.Project
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		projects = append(projects, keystonetest.Project{ID: p, Name: "project " + p, DomainID: "d"})
	}
	f.ks.AddUser(keystonetest.User{Name: testUser, Password: goodPassword, Passcode: mfaPasscode, Projects: projects})
	f.ks.SetClock(f.clock.Now)
	f.s.AuthURL = f.ks.URL + "/v3/"
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		s := f.s
		s.ProjectID = p
		if _, err := f.h.storeProfile(context.Background(), storeOptions{Profile: p, Settings: s, Secret: goodPassword}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// counts is what Keystone was asked: the sign-ins by method and the
// listings of projects ("GET projects").
func (f *mfaFixture) counts() map[string]int {
	m := f.ks.SignIns()
	if n := f.ks.Count(http.MethodGet, "/v3/auth/projects"); n != 0 {
		m["GET projects"] = n
	}
	return m
}

// issued is the fake Keystone's record of the token id.
func (f *mfaFixture) issued(id string) keystonetest.Token {
	for _, tok := range f.ks.Issued() {
		if tok.ID == id {
			return tok
		}
	}
	return keystonetest.Token{}
}

func (f *mfaFixture) passcode() (string, error) {
	f.passcodes.Add(1)
	return mfaPasscode, nil
}

func (f *mfaFixture) getProject(project string, minTTL time.Duration, totp bool) (*Token, error) {
	s := f.s
	s.ProjectID = project
	return f.h.Get(context.Background(), GetOptions{Profile: project, Settings: s, MinTTL: minTTL, Passcode: f.passcode, TOTP: totp})
}

func (f *mfaFixture) mustGet(t *testing.T, project string, minTTL time.Duration) *Token {
	t.Helper()
	tok, err := f.getProject(project, minTTL, true)
	if err != nil {
		t.Fatalf("get %s: %v", project, err)
	}
	return tok
}

func (f *mfaFixture) identityFile() string {
	return f.h.Paths.cachePath(identityKey(f.s))
}

func wantPosts(t *testing.T, got map[string]int, password, totp, token int) {
	t.Helper()
	want := map[string]int{}
	for m, n := range map[string]int{"password": password, "totp": totp, "token": token, "GET projects": got["GET projects"]} {
		if n != 0 {
			want[m] = n
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("keystone got POSTs %v, want %v", got, want)
	}
}

// coldGets runs 30 gets at once across the projects p1, p2 and p3.
func (f *mfaFixture) coldGets(t *testing.T, totp bool) []*Token {
	t.Helper()
	var wg sync.WaitGroup
	toks := make([]*Token, 30)
	errs := make([]error, 30)
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = f.getProject(fmt.Sprintf("p%d", i%3+1), 5*time.Minute, totp)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return toks
}

// checkOneSignIn checks that toks, tokens of p1, p2, p3 in turn, are
// re-scopes of one identity token, with its expiry, and that the identity
// token's file is 0600 and holds neither password nor passcode.
func (f *mfaFixture) checkOneSignIn(t *testing.T, toks []*Token) *cacheEntry {
	t.Helper()
	id := f.h.readCache(identityScope(f.s))
	if id == nil || id.ProjectID != "" || !slices.Equal(f.issued(id.Token).Methods, []string{"password", "totp"}) || f.issued(id.Token).Project != "" {
		t.Fatalf("identity token %+v, issued as %+v", id, f.issued(id.Token))
	}
	for i, tok := range toks {
		if !tok.ExpiresAt().Equal(id.ExpiresAt) || f.issued(tok.ID()).Methods[0] != "token" || tok.Settings.ProjectID != fmt.Sprintf("p%d", i%3+1) {
			t.Fatalf("token %d: %s of %s expires %s, the identity token %s", i, tok.ID(), tok.Settings.ProjectID, tok.ExpiresAt(), id.ExpiresAt)
		}
	}
	fi, err := os.Lstat(f.identityFile())
	data, _ := os.ReadFile(f.identityFile())
	if err != nil || fi.Mode().Perm() != 0o600 || strings.Contains(string(data), goodPassword) || strings.Contains(string(data), mfaPasscode) {
		t.Fatalf("identity token file: %v, mode %v", err, fi.Mode())
	}
	return id
}

// Thirty parallel cold gets across three projects: one passcode, one
// password+TOTP sign-in, one re-scope per project, one expires_at; the
// identity token file is 0600 and holds no password. Then a fourth project
// needs neither the keychain nor a passcode.
func TestOnePasscodeForEveryProject(t *testing.T) {
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprintf("totp known %v", known), func(t *testing.T) {
			f := newMFAFixture(t)
			toks := f.coldGets(t, known)
			if n := f.passcodes.Load(); n != 1 {
				t.Fatalf("the passcode was asked %d times", n)
			}
			if posts := f.counts(); known {
				wantPosts(t, posts, 1, 1, 3)
			} else if posts["password"] < 1 || posts["password"] > 3 || posts["totp"] != 1 || posts["token"] != 3 {
				// Unknown at first, each project's first caller may send the password.
				t.Fatalf("keystone got POSTs %v", posts)
			}
			id := f.checkOneSignIn(t, toks)

			// A fourth project: re-scoped, with no keychain and no passcode.
			f.kr.Err = errors.New("the keychain must not be read")
			before := f.counts()
			tok := f.mustGet(t, "p4", 5*time.Minute)
			if f.passcodes.Load() != 1 || !tok.ExpiresAt().Equal(id.ExpiresAt) || f.counts()["token"] != before["token"]+1 {
				t.Fatalf("p4: passcodes %d, expires %s, posts %v", f.passcodes.Load(), tok.ExpiresAt(), f.counts())
			}
		})
	}
}

// A cached get never reads the identity token: it stays a read of one file.
func TestCachedGetIgnoresTheIdentityToken(t *testing.T) {
	f := newMFAFixture(t)
	f.mustGet(t, "p1", 0)
	os.WriteFile(f.identityFile(), []byte("garbage"), 0o600)
	f.h.Keystone = func() (*keystone.Client, error) { t.Fatal("a cached get built a Keystone client"); return nil, nil }
	if tok := f.mustGet(t, "p1", 0); !tok.Cached {
		t.Fatal("not served from the cache")
	}
}

// Keystone refuses the identity token (revoked): one password+TOTP
// sign-in, which makes a new identity token; the other projects then use
// that one.
func TestRefusedIdentityTokenFallsBackOnce(t *testing.T) {
	f := newMFAFixture(t)
	f.mustGet(t, "p1", 0)
	f.ks.RevokeAll()
	before := f.counts()
	f.mustGet(t, "p2", 0)
	f.mustGet(t, "p3", 0)
	if n := f.passcodes.Load(); n != 2 {
		t.Fatalf("passcodes asked: %d, want 2 (the first sign-in and one after the revocation)", n)
	}
	after := f.counts()
	for m := range after {
		after[m] -= before[m]
	}
	// p2: the refused re-scope, password, TOTP, re-scope; p3: a re-scope.
	wantPosts(t, after, 1, 1, 3)

	// A project the user has no role on: the fresh sign-in's re-scope is
	// refused too, and that is the answer; the passcode is asked once.
	f.ks.RevokeAll()
	_, err := f.getProject("nope", 0, true)
	if !errors.Is(err, keystone.ErrAuthFailed) || f.passcodes.Load() != 3 {
		t.Fatalf("no role: %v, passcodes %d", err, f.passcodes.Load())
	}
}

// The identity token has less left than the min-ttl asked for: a new
// passcode, with a warning that says why; otherwise none.
func TestMinTTLBeyondTheIdentityToken(t *testing.T) {
	f := newMFAFixture(t)
	first := f.mustGet(t, "p1", 0)
	f.clock.Advance(40 * time.Minute)
	if tok := f.mustGet(t, "p2", 10*time.Minute); !tok.ExpiresAt().Equal(first.ExpiresAt()) || f.passcodes.Load() != 1 {
		t.Fatalf("20m left, 10m asked: expires %s, passcodes %d", tok.ExpiresAt(), f.passcodes.Load())
	}
	f.warns = nil
	tok := f.mustGet(t, "p3", 30*time.Minute)
	if f.passcodes.Load() != 2 || !tok.ExpiresAt().After(first.ExpiresAt()) {
		t.Fatalf("20m left, 30m asked: passcodes %d, expires %s", f.passcodes.Load(), tok.ExpiresAt())
	}
	if len(f.warns) != 1 || !strings.Contains(f.warns[0], "in 20m0s: sooner than the 30m0s asked for, so a new passcode is needed") {
		t.Fatalf("warnings %q", f.warns)
	}
	// Expired: a new passcode, without a warning.
	f.clock.Advance(2 * time.Hour)
	f.warns = nil
	f.mustGet(t, "p4", 0)
	if f.passcodes.Load() != 3 || len(f.warns) != 0 {
		t.Fatalf("expired: passcodes %d, warnings %q", f.passcodes.Load(), f.warns)
	}
}

// Store of another project's profile proves the password (Keystone's
// receipt) and re-scopes the identity token: no second passcode.
func TestStoreVerifiesWithTheIdentityToken(t *testing.T) {
	f := newMFAFixture(t)
	f.mustGet(t, "p1", 0)
	s := f.s
	s.ProjectID = "p2"
	res, err := f.h.storeProfile(context.Background(), storeOptions{Profile: "p2", Settings: s, Secret: goodPassword, Verify: true, Passcode: f.passcode})
	if err != nil || !res.Verified || f.passcodes.Load() != 1 {
		t.Fatalf("store: %+v, %v, passcodes %d", res, err, f.passcodes.Load())
	}
	// A wrong password is refused before the identity token is looked at.
	s.ProjectID = "p3"
	_, err = f.h.storeProfile(context.Background(), storeOptions{Profile: "p3", Settings: s, Secret: "wrong", Verify: true, Passcode: f.passcode})
	if !errors.Is(err, keystone.ErrAuthFailed) || f.counts()["token"] != 2 {
		t.Fatalf("wrong password: %v, posts %v", err, f.counts())
	}
}

// Without a passcode function, a good identity token still serves; with
// none, the error is Keystone's wish for a second factor.
func TestNoPasscodeFunction(t *testing.T) {
	f := newMFAFixture(t)
	f.mustGet(t, "p1", 0)
	s := f.s
	s.ProjectID = "p2"
	if _, err := f.h.Get(context.Background(), GetOptions{Profile: "p2", Settings: s}); err != nil {
		t.Fatal(err)
	}
	os.Remove(f.identityFile())
	s.ProjectID = "p3"
	if _, err := f.h.Get(context.Background(), GetOptions{Profile: "p3", Settings: s}); !errors.Is(err, keystone.ErrMFARequired) {
		t.Fatalf("no passcode: %v", err)
	}
}

// A password identity that meets no second factor keeps no identity token
// and takes no identity lock: no file and no request beyond its own.
func TestNoSecondFactorNoIdentityToken(t *testing.T) {
	f := newMFAFixture(t)
	f.ks.SetPasscode(testUser, "")
	for _, p := range []string{"p1", "p2"} {
		if _, err := f.getProject(p, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	wantPosts(t, f.counts(), 2, 0, 0)
	files, _ := filepath.Glob(filepath.Join(f.h.Paths.CacheDir, "*"))
	if len(files) != 4 { // two tokens, two lock files
		t.Fatalf("cache files: %v", files)
	}
	for _, name := range files {
		if strings.HasPrefix(filepath.Base(name), identityKey(f.s)) {
			t.Fatalf("identity file %s", name)
		}
	}
	// An identity whose rules no longer want a second factor drops its
	// identity token at its next sign-in.
	f.ks.SetPasscode(testUser, mfaPasscode)
	f.mustGet(t, "p3", 0)
	f.ks.SetPasscode(testUser, "")
	f.clock.Advance(2 * time.Hour)
	f.mustGet(t, "p4", 0)
	if _, err := os.Lstat(f.identityFile()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the identity token stayed: %v", err)
	}
}

// The identity token and its lock go with the identity's last profile,
// which revokes it with Revoke; erasing another profile leaves it alone.
func TestEraseTakesTheIdentityTokenWithTheLastProfile(t *testing.T) {
	f := newMFAFixture(t)
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		f.mustGet(t, p, 0)
	}
	id := f.h.readCache(identityScope(f.s))
	for _, p := range []string{"p1", "p2", "p3"} {
		if _, err := f.h.Erase(context.Background(), EraseOptions{Profile: p, Revoke: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Lstat(f.identityFile()); err != nil || f.ks.Revoked(id.Token) {
		t.Fatalf("the identity token went before the last profile: %v", err)
	}
	res, err := f.h.Erase(context.Background(), EraseOptions{Profile: "p4", Revoke: true})
	if err != nil || !res.Revoked || res.TokensRemoved != 2 || !f.ks.Revoked(id.Token) {
		t.Fatalf("erase p4: %+v, %v, identity token revoked %v", res, err, f.ks.Revoked(id.Token))
	}
	if left, _ := os.ReadDir(f.h.Paths.CacheDir); len(left) != 0 {
		t.Fatalf("files left in the cache: %v", left)
	}
}

// Listing the projects (store --project-name, --all-projects) keeps the
// unscoped token its passcode bought as the identity token: the projects'
// tokens need no passcode, nor does the next listing.
func TestProjectsKeepsTheIdentityToken(t *testing.T) {
	f := newMFAFixture(t)
	for range 2 {
		projects, err := f.h.userProjects(context.Background(), f.s, goodPassword, f.passcode)
		if err != nil || len(projects) != 4 || f.passcodes.Load() != 1 {
			t.Fatalf("projects: %v, %v, passcodes %d", projects, err, f.passcodes.Load())
		}
	}
	for _, p := range []string{"p1", "p2", "p3"} {
		f.mustGet(t, p, 0)
	}
	wantPosts(t, f.counts(), 2, 1, 3)
	if got := f.counts()["GET projects"]; got != 2 || f.passcodes.Load() != 1 {
		t.Fatalf("listings %d, passcodes %d", got, f.passcodes.Load())
	}
	// Revoked: the next listing asks for a passcode again.
	f.ks.RevokeAll()
	if _, err := f.h.userProjects(context.Background(), f.s, goodPassword, f.passcode); err != nil || f.passcodes.Load() != 2 {
		t.Fatalf("after the revocation: %v, passcodes %d", err, f.passcodes.Load())
	}
}

// Refresh re-scopes the identity token: a new token, the same expiry, no
// passcode.
func TestRefreshRescopes(t *testing.T) {
	f := newMFAFixture(t)
	first := f.mustGet(t, "p1", 0)
	s := f.s
	s.ProjectID = "p1"
	again, err := f.h.Get(context.Background(), GetOptions{Profile: "p1", Settings: s, Refresh: true, Passcode: f.passcode, TOTP: true})
	if err != nil || again.Cached || again.ID() == first.ID() || !again.ExpiresAt().Equal(first.ExpiresAt()) || f.passcodes.Load() != 1 {
		t.Fatalf("refresh: %+v, %v, passcodes %d", again, err, f.passcodes.Load())
	}
}
