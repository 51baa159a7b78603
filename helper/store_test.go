package helper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vkc-credential/internal/keystonetest"
	"vkc-credential/keyring"
	"vkc-credential/keyring/keyringtest"
	"vkc-credential/keystone"
)

// addUser makes name a user of ks with password and a role on projects.
func addUser(ks *keystonetest.Server, name, password string, projects ...keystone.Project) {
	u := keystonetest.User{Name: name, Password: password}
	for _, p := range projects {
		u.Projects = append(u.Projects, keystonetest.Project{ID: p.ID, Name: p.Name, DomainID: p.DomainID, Disabled: !p.Enabled})
	}
	ks.AddUser(u)
}

// storeWorld is one user's machine for Store: keychain backends in
// memory ("os" is the one AutoKeyring picks), a fake cloud, private
// directories.
type storeWorld struct {
	h      *Helper
	krs    map[string]*keyringtest.Memory
	cloud  *keystonetest.Server
	autos  int // calls of AutoKeyring
	warns  []string
	prompt []string // the profiles Prompt was called for
}

const (
	alicePW = "alice's password"
	bobPW   = "bob's password"
)

var (
	dev   = keystone.Project{ID: "id-dev", Name: "dev", DomainID: "d", Enabled: true}
	prod  = keystone.Project{ID: "id-prod", Name: "prod", DomainID: "d", Enabled: true}
	stage = keystone.Project{ID: "id-stage", Name: "stage", DomainID: "d", Enabled: true}
)

func newStoreWorld(t *testing.T) *storeWorld {
	t.Helper()
	w := &storeWorld{krs: map[string]*keyringtest.Memory{}, cloud: keystonetest.New(t)}
	for _, name := range []string{"os", "keyctl", "pass"} {
		w.krs[name] = keyringtest.New()
	}
	addUser(w.cloud, "alice", alicePW, dev, prod, stage)
	dir := t.TempDir()
	w.h = &Helper{
		Paths: Paths{ConfigDir: filepath.Join(dir, "config"), CacheDir: filepath.Join(dir, "cache")},
		Keyring: func(name string) (keyring.Store, error) {
			if kr, ok := w.krs[name]; ok {
				return kr, nil
			}
			return nil, fmt.Errorf("%w: no backend %q", keyring.ErrUnavailable, name)
		},
		AutoKeyring: func() (string, []error, error) { w.autos++; return "os", nil, nil },
		Keystone: func() (*keystone.Client, error) {
			return &keystone.Client{HTTP: w.cloud.Client(), BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, nil
		},
		Now: time.Now, Timeout: 5 * time.Second, KeyringTimeout: time.Second,
		Warnf: func(format string, args ...any) { w.warns = append(w.warns, fmt.Sprintf(format, args...)) },
	}
	return w
}

// request is a store of profile for alice on the fake cloud, with the
// flags given in flags, verified, and a prompt that answers typed (or
// fails the test when typed is "").
func (w *storeWorld) request(t *testing.T, profile string, flags Settings, typed string) StoreRequest {
	flags.Fill(Settings{AuthURL: w.cloud.AuthURL(), Username: "alice"})
	return StoreRequest{
		Profile: profile, Sources: Sources{Flags: flags}, Verify: true,
		Prompt: func(p string, s Settings) (string, error) {
			w.prompt = append(w.prompt, p)
			if typed == "" {
				t.Errorf("asked for the secret of %s (profile %q)", Identity(s), p)
				return "", errors.New("no one to ask")
			}
			return typed, nil
		},
	}
}

// posts counts the token requests the cloud received.
func (w *storeWorld) posts() int { return w.cloud.Count(http.MethodPost, "/v3/auth/tokens") }

func (w *storeWorld) store(t *testing.T, r StoreRequest) *StoreOutcome {
	t.Helper()
	out, err := w.h.Store(context.Background(), r)
	if err != nil {
		t.Fatalf("store %s: %v", r.Profile, err)
	}
	return out
}

func (w *storeWorld) profile(t *testing.T, name string) Profile {
	t.Helper()
	p, err := w.h.Paths.LoadProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestStoreOneProfile: a new profile's secret is typed at the prompt and
// proven; a second profile of the identity needs none; the keychain choice
// is made once, a named backend moves the secret.
func TestStoreOneProfile(t *testing.T) {
	w := newStoreWorld(t)
	out := w.store(t, w.request(t, "dev", Settings{ProjectID: dev.ID}, alicePW))
	if len(out.Stored) != 1 || !out.Stored[0].Verified || !out.Stored[0].SecretSent || out.Stored[0].Keyring != "os" || out.Stored[0].ExpiresAt == nil {
		t.Fatalf("outcome: %+v", out)
	}
	if !slices.Equal(w.prompt, []string{"dev"}) || w.autos != 1 {
		t.Fatalf("prompts %q, auto choices %d", w.prompt, w.autos)
	}
	// A second profile: the stored secret serves, nobody is asked.
	w.store(t, w.request(t, "stage", Settings{ProjectID: stage.ID}, ""))
	// Moving stage to keyctl: it is proven, written, and the copy in os
	// stays for dev.
	r := w.request(t, "stage", Settings{}, "")
	r.Keyring = "keyctl"
	if out := w.store(t, r); out.Stored[0].Keyring != "keyctl" || w.krs["keyctl"].Items[secretItem(out.Stored[0].Settings)] != alicePW {
		t.Fatalf("move: %+v, keyctl %v", out.Stored[0], w.krs["keyctl"].Items)
	}
	if len(w.krs["os"].Items) != 1 {
		t.Fatalf("os holds %v", w.krs["os"].Items)
	}
	// auto keeps a stored profile's backend.
	if out := w.store(t, w.request(t, "stage", Settings{Region: "R2"}, "")); out.Stored[0].Keyring != "keyctl" || w.autos != 2 {
		t.Fatalf("auto on a stored profile: %+v (auto choices %d)", out.Stored[0], w.autos)
	}
}

// TestStoreProjectByName: a project by name is looked up with an unscoped
// token, for a new profile and — issue 16 item 1 — for a stored one, which
// switches its project; a name no project has, or two have, is an error
// that lists them.
func TestStoreProjectByName(t *testing.T) {
	w := newStoreWorld(t)
	w.store(t, w.request(t, "work", Settings{ProjectID: dev.ID}, alicePW))

	r := w.request(t, "work", Settings{}, "")
	r.ProjectName, r.Verify = "prod", false
	if out := w.store(t, r); out.Stored[0].Settings.ProjectID != prod.ID || w.profile(t, "work").ProjectID != prod.ID || !out.Stored[0].SecretSent {
		t.Fatalf("the stored profile kept its project: %+v", out.Stored[0])
	}
	// A file's project name counts against the stored project, not
	// against a project ID on the command line.
	r = w.request(t, "work", Settings{}, "")
	r.FileProjectName = "stage"
	if out := w.store(t, r); out.Stored[0].Settings.ProjectID != stage.ID {
		t.Fatalf("the openrc's project name was ignored: %+v", out.Stored[0])
	}
	r = w.request(t, "work", Settings{ProjectID: dev.ID}, "")
	r.FileProjectName = "stage"
	if out := w.store(t, r); out.Stored[0].Settings.ProjectID != dev.ID {
		t.Fatalf("--project-id lost to the openrc's project name: %+v", out.Stored[0])
	}

	r = w.request(t, "new", Settings{}, "")
	r.ProjectName = "nope"
	var pne *ProjectNameError
	if _, err := w.h.Store(context.Background(), r); !errors.As(err, &pne) || len(pne.Projects) != 3 || !strings.Contains(err.Error(), "dev, prod, stage") {
		t.Fatalf("unknown name: %v", err)
	}
	addUser(w.cloud, "alice", alicePW, dev, prod, stage, keystone.Project{ID: "id-prod-2", Name: "prod", DomainID: "e", Enabled: true})
	r.ProjectName = "prod"
	if _, err := w.h.Store(context.Background(), r); !errors.As(err, &pne) || len(pne.Matches) != 2 {
		t.Fatalf("two projects of one name: %v", err)
	}
	if _, err := w.h.Paths.LoadProfile("new"); !errors.Is(err, ErrProfileNotFound) {
		t.Fatalf("a failed lookup saved the profile: %v", err)
	}
	// An application credential has its project: refused before the
	// keychain or Keystone is asked.
	posts, gets := w.posts(), w.krs["os"].Gets
	r = w.request(t, "ac", Settings{ApplicationCredentialID: "ac1"}, "")
	r.Secret, r.ProjectName = "s", "prod"
	if _, err := w.h.Store(context.Background(), r); !errors.Is(err, ErrIdentityChanged) || w.posts() != posts || w.krs["os"].Gets != gets {
		t.Fatalf("an application credential by project name: %v", err)
	}
}

// TestStoreAllProjects: one profile per enabled project, without a
// verification each; issue 15 item 3: a profile of another identity or
// project, and a name two projects make, are left alone and reported.
func TestStoreAllProjects(t *testing.T) {
	w := newStoreWorld(t)
	addUser(w.cloud, "bob", bobPW, keystone.Project{ID: "bob-prod", Name: "prod", DomainID: "d", Enabled: true})
	bob := w.request(t, "prod", Settings{ProjectID: "bob-prod"}, "")
	bob.Sources.Flags.Username, bob.Secret = "bob", bobPW
	w.store(t, bob)
	bobProfile := w.profile(t, "prod")

	addUser(w.cloud, "alice", alicePW, dev, prod, stage,
		keystone.Project{ID: "id-ab1", Name: "a b", DomainID: "d", Enabled: true},
		keystone.Project{ID: "id-ab2", Name: "a-b", DomainID: "d", Enabled: true},
		keystone.Project{ID: "id-off", Name: "off", DomainID: "d", Enabled: false},
		keystone.Project{ID: "id-dots", Name: "...", DomainID: "d", Enabled: true})
	// stage exists for alice's other project.
	w.store(t, w.request(t, "stage", Settings{ProjectID: dev.ID}, alicePW))

	posts := w.posts()
	r := w.request(t, "default", Settings{}, "")
	r.AllProjects = true
	out := w.store(t, r)
	var stored []string
	for _, s := range out.Stored {
		stored = append(stored, s.Profile+"="+s.Settings.ProjectID)
		if s.Verified || !s.SecretSent {
			t.Errorf("%s: verified one by one, or the listing's sending not said: %+v", s.Profile, s)
		}
	}
	if !slices.Equal(stored, []string{"dev=id-dev"}) {
		t.Fatalf("stored %v", stored)
	}
	skipped := map[string]SkipReason{}
	for _, s := range out.Skipped {
		skipped[s.Project.ID] = s.Reason
	}
	want := map[string]SkipReason{"id-prod": SkipOtherIdentity, "id-stage": SkipOtherProject, "id-ab1": SkipSameName, "id-ab2": SkipSameName, "id-dots": SkipNoName}
	if fmt.Sprint(skipped) != fmt.Sprint(want) {
		t.Fatalf("skipped %v, want %v", skipped, want)
	}
	for _, s := range out.Skipped {
		if s.Reason == SkipOtherIdentity && (s.Existing == nil || s.Existing.Username != "bob" || s.Settings.Username != "alice") {
			t.Fatalf("the skip names neither identity: %+v", s)
		}
		if s.Reason == SkipSameName && len(s.Clashes) != 1 {
			t.Fatalf("the skip names no clash: %+v", s)
		}
	}
	if got := w.profile(t, "prod"); got != bobProfile {
		t.Fatalf("bob's profile was re-pointed: %+v", got)
	}
	if w.krs["os"].Items[secretItem(bobProfile.Settings)] != bobPW {
		t.Fatal("bob's password is gone")
	}
	if got := w.posts() - posts; got != 1 {
		t.Fatalf("%d token requests; one unscoped token proves the password", got)
	}
	// The stored secret served: nobody was asked.
	if !slices.Equal(w.prompt, []string{"stage"}) {
		t.Fatalf("prompts: %q", w.prompt)
	}
}

// TestStoreAllProjectsPromptsOnce: a new identity's
// password is asked once, for no profile in particular.
func TestStoreAllProjectsPromptsOnce(t *testing.T) {
	w := newStoreWorld(t)
	r := w.request(t, "default", Settings{}, alicePW)
	r.AllProjects = true
	if out := w.store(t, r); len(out.Stored) != 3 || len(out.Skipped) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if !slices.Equal(w.prompt, []string{""}) || w.autos != 1 {
		t.Fatalf("prompts %q, auto choices %d", w.prompt, w.autos)
	}
	// The user has no project: nothing to store.
	addUser(w.cloud, "carol", "c")
	r = w.request(t, "default", Settings{Username: "carol"}, "")
	r.AllProjects, r.Secret = true, "c"
	if _, err := w.h.Store(context.Background(), r); !errors.Is(err, ErrNoProject) {
		t.Fatalf("no project: %v", err)
	}
}

// TestStoreAllProjectsFoundSecretUpdatesNothing (issue 16 item 10): a
// secret read from the keychain is not a new one: a backend other
// profiles use is not written, so its failure is no warning.
func TestStoreAllProjectsFoundSecretUpdatesNothing(t *testing.T) {
	w := newStoreWorld(t)
	w.store(t, w.request(t, "dev", Settings{ProjectID: dev.ID}, alicePW))
	// A profile of a project the listing does not show, kept in pass.
	r := w.request(t, "old", Settings{ProjectID: "id-old"}, "")
	r.Keyring, r.Verify = "pass", false
	if out := w.store(t, r); out.Stored[0].SecretSent {
		t.Fatal("a store without verification says it sent the secret")
	}
	w.krs["pass"].Err = fmt.Errorf("%w: gpg cannot decrypt", keyring.ErrUnavailable)

	r = w.request(t, "default", Settings{}, "")
	r.AllProjects = true
	if out := w.store(t, r); len(out.Stored) != 3 {
		t.Fatalf("outcome %+v", out)
	}
	for _, msg := range w.warns {
		if strings.Contains(msg, "could not be updated") {
			t.Fatalf("a password that did not change: %q", msg)
		}
	}
}

// TestStoreAsksTheKeychainFirst (issue 15, "also found"): with a keychain
// that does not answer, or that answers reads but refuses writes, a
// supplied password is never sent to Keystone, and nothing changes.
func TestStoreAsksTheKeychainFirst(t *testing.T) {
	w := newStoreWorld(t)
	w.store(t, w.request(t, "dev", Settings{ProjectID: dev.ID}, alicePW))
	item := secretItem(w.profile(t, "dev").Settings)

	for _, c := range []struct {
		name  string
		setup func()
	}{
		{"locked", func() { w.krs["os"].Err = fmt.Errorf("%w: the collection is locked", keyring.ErrUnavailable) }},
		{"read-only", func() {
			w.h.Keyring = func(string) (keyring.Store, error) { return readOnly{w.krs["os"]}, nil }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.setup()
			posts := w.posts()
			r := w.request(t, "dev", Settings{}, "")
			r.Secret = "a new password"
			_, err := w.h.Store(context.Background(), r)
			if !errors.Is(err, keyring.ErrUnavailable) || w.posts() != posts {
				t.Fatalf("err %v, %d token requests", err, w.posts()-posts)
			}
			w.krs["os"].Err = nil
			if w.krs["os"].Items[item] != alicePW {
				t.Fatal("the stored password changed")
			}
		})
	}
}

// readOnly answers reads and refuses writes, as a locked keychain may.
type readOnly struct{ *keyringtest.Memory }

func (readOnly) Set(string, string) error { return fmt.Errorf("%w: locked", keyring.ErrUnavailable) }

// TestStoreRejections (issue 16 item 9): what a refused secret carries
// for the hint: a first store's wrong password, a right password on a
// wrong project (with the user's projects), a stored password that
// changed, an application credential.
func TestStoreRejections(t *testing.T) {
	w := newStoreWorld(t)
	rejection := func(r StoreRequest) *RejectedError {
		t.Helper()
		_, err := w.h.Store(context.Background(), r)
		var rej *RejectedError
		if !errors.As(err, &rej) || !errors.Is(err, keystone.ErrAuthFailed) {
			t.Fatalf("%v is not a *RejectedError", err)
		}
		return rej
	}
	r := w.request(t, "dev", Settings{ProjectID: dev.ID}, "")
	r.Secret = "wrong"
	if rej := rejection(r); rej.Cause != RejectSecret || !rej.FirstStore || !rej.NewSecret || rej.Settings.ProjectID != dev.ID || rej.Profile != "dev" {
		t.Fatalf("wrong password: %+v", rej)
	}
	r = w.request(t, "dev", Settings{}, "")
	r.Secret, r.ProjectName = "wrong", "dev"
	if rej := rejection(r); rej.Cause != RejectSecret || rej.Profile != "dev" || !rej.FirstStore {
		t.Fatalf("wrong password, project by name: %+v", rej)
	}
	r = w.request(t, "dev", Settings{ProjectID: "id-other"}, "")
	r.Secret = alicePW
	if rej := rejection(r); rej.Cause != RejectProject || len(rej.Projects) != 3 {
		t.Fatalf("wrong project: %+v", rej)
	}
	if _, err := w.h.Paths.LoadProfile("dev"); !errors.Is(err, ErrProfileNotFound) {
		t.Fatal("a rejected store saved the profile")
	}
	// The password changes behind the stored one's back.
	w.store(t, w.request(t, "dev", Settings{ProjectID: dev.ID}, alicePW))
	w.cloud.SetPassword("alice", "changed")
	if rej := rejection(w.request(t, "dev", Settings{Region: "R2"}, "")); rej.Cause != RejectSecret || rej.FirstStore || rej.NewSecret {
		t.Fatalf("changed password: %+v", rej)
	}
	// An application credential is not probed without a project.
	posts := w.posts()
	r = w.request(t, "ci", Settings{ApplicationCredentialID: "ac1"}, "")
	r.Sources.Flags.Username, r.Secret = "", "wrong"
	if rej := rejection(r); rej.Cause != RejectSecret || w.posts() != posts+1 {
		t.Fatalf("application credential: %+v (%d posts)", rej, w.posts()-posts)
	}
	// A get of a changed password: the cause cannot be told.
	p := w.profile(t, "dev")
	_, err := w.h.Get(context.Background(), GetOptions{Profile: "dev", Settings: p.Settings, Keyring: p.Keyring, Refresh: true})
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Cause != RejectUnknown || rej.FirstStore || rej.NewSecret {
		t.Fatalf("get: %v", err)
	}
}

// TestStoreWarningsNameTheSecret (issue 16 item 14): an application
// credential's warnings speak of its secret, not a password.
func TestStoreWarningsNameTheSecret(t *testing.T) {
	w := newStoreWorld(t)
	w.cloud.AddAppCred(keystonetest.AppCred{ID: "ac1", Name: "ci", Secret: "s1", User: "alice", Project: dev.ID})
	r := w.request(t, "ci", Settings{ApplicationCredentialID: "ac1"}, "")
	r.Sources.Flags.Username, r.Secret = "", "s1"
	out := w.store(t, r)
	if out.Stored[0].Settings.ProjectID != dev.ID {
		t.Fatalf("the credential's project: %+v", out.Stored[0])
	}
	r = w.request(t, "ci2", Settings{ApplicationCredentialID: "ac1"}, "")
	r.Sources.Flags.Username, r.Secret, r.Keyring = "", "s1", "keyctl"
	w.store(t, r)
	w.krs["os"].Err = keyring.ErrUnavailable
	r.Profile, r.Keyring = "ci2", AutoKeyring
	w.store(t, r)
	if len(w.warns) == 0 {
		t.Fatal("no warning for the copy in os that could not be updated")
	}
	for _, msg := range w.warns {
		if strings.Contains(msg, "password") || !strings.Contains(msg, "application credential secret") {
			t.Fatalf("warning %q", msg)
		}
	}
}

// TestStoreSecondFactor: a user whose rules want a TOTP passcode: the
// lookup by name gets one with the request's command, and the identity
// token it buys serves the verification; a project of no role after the
// passcode is told apart without a probe.
func TestStoreSecondFactor(t *testing.T) {
	w := newStoreWorld(t)
	addUser(w.cloud, "tom", "tom's password", dev, prod)
	w.cloud.SetPasscode("tom", "123456")
	var commands []string
	passcode := func(profile string, s Settings, command string) (string, error) {
		commands = append(commands, profile+" "+s.Username+": "+command)
		return "123456", nil
	}

	r := w.request(t, "tom", Settings{Username: "tom"}, "")
	r.Secret, r.ProjectName, r.TOTPCommand, r.Passcode = "tom's password", "prod", "oathtool ...", passcode
	if out := w.store(t, r); out.Stored[0].Settings.ProjectID != prod.ID || w.profile(t, "tom").TOTPCommand != "oathtool ..." {
		t.Fatalf("outcome %+v", out.Stored[0])
	}
	if !slices.Equal(commands, []string{"tom tom: oathtool ..."}) {
		t.Fatalf("passcode commands %q", commands)
	}
	// The stored profile's command serves a later store.
	commands = nil
	r = w.request(t, "tom", Settings{Username: "tom", ProjectID: "id-none"}, "")
	r.Passcode = passcode
	_, err := w.h.Store(context.Background(), r)
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Cause != RejectAfterPasscode || rej.Profile != "tom" || !slices.Equal(commands, []string{"tom tom: oathtool ..."}) {
		t.Fatalf("a project of no role after the passcode: %v (commands %q)", err, commands)
	}
	// Without a way to a passcode, Keystone's want is the error.
	r.Passcode = nil
	if _, err := w.h.Store(context.Background(), r); !errors.Is(err, keystone.ErrMFARequired) {
		t.Fatalf("no passcode: %v", err)
	}
}
