package e2e

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
)

// parallelGets runs n `get --format token` at once for each profile and
// returns their results per profile.
func parallelGets(s *sandbox, profiles []string, n int) map[string][]result {
	var mu sync.Mutex
	out := map[string][]result{}
	var wg sync.WaitGroup
	for _, p := range profiles {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.run(nil, "", "get", "--profile", p, "--format", "token")
				mu.Lock()
				out[p] = append(out[p], r)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return out
}

func TestHundredParallelColdGets(t *testing.T) {
	needKeystone(t)
	eachBackend(t, func(t *testing.T, s *sandbox) {
		profile := s.profileName("hundred")
		s.store(profile, "--no-verify")
		before := tokenPosts(t)
		res := parallelGets(s, []string{profile}, 100)[profile]
		if got := tokenPosts(t) - before; got != 1 {
			t.Fatalf("100 parallel cold gets made %d token requests, want 1", got)
		}
		for i, r := range res {
			if r.code != 0 || r.stdout != res[0].stdout {
				t.Fatalf("caller %d: %s", i, r)
			}
		}
		if validate(t, strings.TrimSpace(res[0].stdout)) != 200 {
			t.Fatal("the shared token is not valid")
		}
		t.Logf("100 callers, 1 POST /v3/auth/tokens, 1 distinct token")
	})
}

func TestParallelGetsAcrossFourCacheKeys(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	// Four cache keys: the cache is keyed by the identity (auth URL as
	// normalised, user) and the project. A URL that differs only by its
	// trailing slash is the same identity (its profile shares the first
	// one's token); another host name for the same Keystone is not.
	port := os.Getenv("VKC_E2E_KEYSTONE_PORT")
	type key struct{ url, project, user, password string }
	keys := []key{
		{ks.AuthURL, ks.ProjectID, ks.Username, ks.Password},
		{ks.AuthURL, ks.Project2ID, ks.Username, ks.Password},
		{"http://localhost:" + port + "/v3", ks.ProjectID, ks.Username, ks.Password},
		{ks.AuthURL, ks.Project2ID, ks.Username2, ks.Password2},
		{ks.AuthURL + "/", ks.ProjectID, ks.Username, ks.Password}, // the first one's
	}
	var profiles []string
	for _, k := range keys {
		p := s.profileName("four")
		s.must(k.password, "store", "--profile", p, "--auth-url", k.url, "--project-id", k.project,
			"--username", k.user, "--password-stdin", "--no-verify")
		profiles = append(profiles, p)
	}

	before := tokenPosts(t)
	res := parallelGets(s, profiles, 25)
	if got := tokenPosts(t) - before; got != 4 {
		t.Fatalf("5 profiles × 25 parallel cold gets made %d token requests, want 4 (one per cache key)", got)
	}
	seen := map[string]bool{}
	for _, p := range profiles {
		for _, r := range res[p] {
			if r.code != 0 || r.stdout != res[p][0].stdout {
				t.Fatalf("%s: %s", p, r)
			}
		}
		seen[res[p][0].stdout] = true
	}
	if len(seen) != 4 {
		t.Fatalf("%d distinct tokens for 4 cache keys", len(seen))
	}
	if first, slash := res[profiles[0]][0].stdout, res[profiles[4]][0].stdout; first != slash {
		t.Fatal("a profile whose auth URL differs only by the trailing slash got a token of its own")
	}
}

// TestGetStoreEraseRace runs get, store and erase on one profile at once
// for a while; then, with the gets still running, one more store or erase
// (chosen at random) once the other kind has stopped, so that the end
// state is known. The race must have happened: gets saw both a token and
// a clean "not found". Nothing is damaged: every token a get printed
// validates in Keystone, and every file left parses. Nothing is lost: the
// end state is the last operation's whole (after a store: the profile,
// its password in the keychain and a get that works; after an erase: none
// of them).
func TestGetStoreEraseRace(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("race")
	s.store(profile)
	lastIsStore := rand.IntN(2) == 0
	deadline := time.Now().Add(6 * time.Second)
	var gets, getsOK, getsNotFound, stores, erases atomic.Int32
	var mu sync.Mutex
	tokens := map[string]bool{}
	fail := make(chan string, 100)
	getsDone := make(chan struct{}) // closed after the last operation
	get := func() string {
		gets.Add(1)
		r := s.run(nil, "", "get", "--profile", profile, "--format", "token")
		switch r.code {
		case 0:
			getsOK.Add(1)
			tok := strings.TrimSpace(r.stdout)
			if len(tok) < 20 || r.stdout != tok+"\n" {
				return "get printed no whole token: " + r.String()
			}
			mu.Lock()
			tokens[tok] = true
			mu.Unlock()
		case 3:
			getsNotFound.Add(1)
			if r.stdout != "" && !strings.Contains(r.stdout, "not_found") {
				return "get: " + r.String()
			}
		default:
			return "get: " + r.String()
		}
		return ""
	}
	store := func() string {
		stores.Add(1)
		r := s.run(nil, ks.Password, "store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
			"--username", ks.Username, "--user-domain-name", ks.Domain, "--password-stdin", "--no-verify")
		if r.code != 0 {
			return "store: " + r.String()
		}
		return ""
	}
	erase := func() string {
		erases.Add(1)
		if r := s.run(nil, "", "erase", "--profile", profile); r.code != 0 && r.code != 3 {
			return "erase: " + r.String()
		}
		time.Sleep(50 * time.Millisecond)
		return ""
	}
	var gwg, wg sync.WaitGroup
	for range 4 {
		gwg.Add(1)
		go func() {
			defer gwg.Done()
			for {
				select {
				case <-getsDone:
					return
				default:
				}
				if msg := get(); msg != "" {
					fail <- msg
					return
				}
			}
		}()
	}
	// Each of store and erase until the deadline; the one that goes last
	// then waits for the other to stop and runs once more.
	otherDone := make(chan struct{})
	worker := func(do func() string, last bool) {
		defer wg.Done()
		for time.Now().Before(deadline) {
			if msg := do(); msg != "" {
				fail <- msg
				break
			}
		}
		if !last {
			close(otherDone)
			return
		}
		<-otherDone
		if msg := do(); msg != "" {
			fail <- msg
		}
	}
	wg.Add(2)
	go worker(store, lastIsStore)
	go worker(erase, !lastIsStore)
	wg.Wait()
	close(getsDone)
	gwg.Wait()
	close(fail)
	for msg := range fail {
		t.Error(msg)
	}
	t.Logf("%d gets (%d tokens, %d not found; %d distinct tokens), %d stores, %d erases; the last was a store: %t",
		gets.Load(), getsOK.Load(), getsNotFound.Load(), len(tokens), stores.Load(), erases.Load(), lastIsStore)
	if getsOK.Load() == 0 || getsNotFound.Load() == 0 {
		t.Fatalf("the race did not happen: %d gets printed a token, %d found no profile; want both", getsOK.Load(), getsNotFound.Load())
	}

	// Nothing damaged: every token printed is Keystone's, every file whole.
	for tok := range tokens {
		if code := validate(t, tok); code != 200 {
			t.Errorf("a token a get printed does not validate (%d): %.12s…", code, tok)
		}
	}
	for _, dir := range []string{filepath.Join(s.home, ".config"), filepath.Join(s.home, ".cache")} {
		filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
			if err == nil && strings.HasSuffix(path, ".json") {
				data, _ := os.ReadFile(path)
				var v map[string]any
				if json.Unmarshal(data, &v) != nil {
					t.Errorf("torn file %s: %q", path, data)
				}
			}
			return nil
		})
	}

	// Nothing lost: the state is the last operation's, whole.
	listed := strings.Contains(s.must("", "list").stdout, `"profile":"`+profile+`"`)
	pw, stored := secretToolLookup(t, e2eItem())
	r := s.run(nil, "", "get", "--profile", profile, "--format", "token")
	if lastIsStore {
		if !listed || !stored || pw != ks.Password || r.code != 0 || validate(t, strings.TrimSpace(r.stdout)) != 200 {
			t.Fatalf("a store came last, but the profile is listed %t, its password stored %t, get: %s", listed, stored, r)
		}
	} else if listed || stored || r.code != 3 {
		t.Fatalf("an erase came last, but the profile is listed %t, its password stored %t, get: %s", listed, stored, r)
	}
}

// TestKilledWhileHoldingTheLock kills `get --refresh` with SIGKILL again
// and again at the moment the fake Keystone has its token request, so the
// process certainly holds the token lock (the test sees the lock taken
// with flock(2) before each kill). After each kill the lock is free again,
// the cache is byte for byte what it was, the next get succeeds with a
// whole token, and no temporary file is left behind.
func TestKilledWhileHoldingTheLock(t *testing.T) {
	needKeystone(t)
	// A big token and a big catalog: a torn write of the cache would show.
	slow := newFakeKeystone(t, false)
	slow.SetTokenPrefix("slow-" + strings.Repeat("x", 200) + "-")
	slow.SetCatalog("[" + strings.TrimSuffix(strings.Repeat(`{"type":"compute","endpoints":[]},`, 200), ",") + "]")
	eachBackend(t, func(t *testing.T, s *sandbox) {
		killWhileHoldingTheLock(t, s, slow)
	})
}

// killWhileHoldingTheLock is TestKilledWhileHoldingTheLock in one
// backend's sandbox, against the fake Keystone slow: before each kill, its
// next request hangs until the killed client's connection closes.
func killWhileHoldingTheLock(t *testing.T, s *sandbox, slow *keystonetest.Server) {
	url := slow.URL
	issuedBefore := len(slow.Issued())
	arrived := make(chan struct{}, 1)
	profile := s.profileName("kill")
	s.must(ks.Password, "store", "--profile", profile, "--auth-url", url+"/v3", "--project-id", "p",
		"--username", ks.Username, "--password-stdin", "--no-verify", "--keyring", s.keyring)
	cacheDir := filepath.Join(s.home, ".cache", "vkc-credential")
	// lockHeld reports whether some process holds the flock of the one
	// lock file of the cache.
	lockHeld := func() bool {
		t.Helper()
		locks, _ := filepath.Glob(filepath.Join(cacheDir, "*.lock"))
		if len(locks) != 1 {
			t.Fatalf("want one lock file in %s, got %v", cacheDir, locks)
		}
		f, err := os.Open(locks[0])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err {
		case nil:
			syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			return false
		case syscall.EWOULDBLOCK:
			return true
		default:
			t.Fatalf("flock %s: %v", locks[0], err)
			return false
		}
	}
	// A cached token to begin with, and the lock file beside it.
	last := decodeToken(t, s.must("", "get", "--profile", profile)).Token
	const rounds = 40
	for i := range rounds {
		cacheBefore := snapshotDir(t, cacheDir)
		slow.Fail(keystonetest.Fault{Hang: true, Times: 1, Arrived: arrived})
		cmd := exec.Command(binary, "get", "--profile", profile, "--refresh", "--format", "token")
		cmd.Env = s.env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-arrived:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: the token request never reached the fake Keystone", i)
		}
		if !lockHeld() {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: get --refresh is asking Keystone without holding the lock", i)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the get was not killed by SIGKILL: %v", i, err)
		}
		if lockHeld() {
			t.Fatalf("round %d: the lock is still held after the holder was killed", i)
		}
		if after := snapshotDir(t, cacheDir); !bytes.Equal(after, cacheBefore) {
			t.Fatalf("round %d: the killed get changed the cache:\nbefore:\n%s\nafter:\n%s", i, cacheBefore, after)
		}
		// Every other round the next get is a --refresh, which must take
		// the lock itself; the others must find the token cached before
		// the kill.
		refresh := i%2 == 1
		args := []string{"get", "--profile", profile, "--timeout", "10s"}
		if refresh {
			args = append(args, "--refresh")
		}
		r := s.run(nil, "", args...)
		if r.code != 0 {
			t.Fatalf("round %d: %v after a SIGKILL: %s", i, args, r)
		}
		a := decodeToken(t, r)
		if !strings.HasPrefix(a.Token, "slow-") || (refresh && a.Token != slow.LastToken()) {
			t.Fatalf("round %d: odd token %q", i, a.Token)
		}
		if refresh && (a.Cached || a.Token == last) {
			t.Fatalf("round %d: get --refresh after a SIGKILL did not issue a new token: %+v", i, a)
		}
		if !refresh && (!a.Cached || a.Token != last) {
			t.Fatalf("round %d: the token cached before the kill was lost: got %q (cached %t), want %q", i, a.Token, a.Cached, last)
		}
		last = a.Token
	}
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	var temps []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			temps = append(temps, e.Name())
		}
	}
	if len(temps) != 0 {
		t.Fatalf("temporary files left behind: %v", temps)
	}
	// One token to begin with and one per --refresh round; the killed
	// gets' requests were never answered.
	issued := len(slow.Issued()) - issuedBefore
	if want := 1 + rounds/2; issued != want {
		t.Fatalf("%d tokens issued, want %d", issued, want)
	}
	t.Logf("%d SIGKILLs, each while the lock was held; %d tokens issued; 0 temporary files left (%d entries in the cache dir)", rounds, issued, len(entries))
}
