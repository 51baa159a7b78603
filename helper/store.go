package helper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"vkc-credential/keyring"
	"vkc-credential/keystone"
)

// AutoKeyring is the backend name that asks Store to choose: the stored
// profile's backend, or for a new profile the first that works here.
const AutoKeyring = "auto"

// StoreRequest is what a store is asked to do. The command line fills it
// from its flags, the request on stdin and the files it read; Store does
// the rest.
type StoreRequest struct {
	// Profile is the profile to store; a store of AllProjects names one
	// profile per project instead (and takes the identity from Profile's
	// settings when no source gives it).
	Profile string
	// Sources are the settings as the command line found them; Store adds
	// the profile as stored (Sources.Stored).
	Sources Sources
	// ProjectName is a project to look up in Keystone by name, given on
	// the command line: it wins over every project_id (the command line
	// refuses a project by both). FileProjectName is one from an openrc or
	// clouds.yaml file, used only when neither the command line, the
	// request nor the file gives a project_id.
	ProjectName, FileProjectName string
	// AllProjects stores one profile per enabled project of the identity,
	// named after the project.
	AllProjects bool
	// Secret is a password or application credential secret supplied with
	// the request (the JSON request, stdin, an openrc or clouds.yaml file):
	// it replaces the identity's stored one. "" means none was supplied:
	// Store uses the identity's stored secret, or asks Prompt.
	Secret string
	// Keyring names the backend to keep the secret in: one of
	// keyring.Names, or AutoKeyring ("" too).
	Keyring string
	// SecretCommand is recorded in the profile (see Profile.SecretCommand),
	// which then keeps no secret in a keychain: the command is run for the
	// secret to verify (unless Verify is false) or to look projects up
	// with, and a copy the profile kept in a keychain is dropped unless
	// another profile of the identity uses it. It goes with neither a
	// Secret nor a Keyring other than AutoKeyring. "" keeps the stored
	// profile's command, when it is of the same identity and the request
	// neither supplies a secret nor names a backend (either of which moves
	// the secret into a keychain).
	SecretCommand string
	// Verify says to prove the secret with Keystone (a token, cached)
	// before it is stored.
	Verify bool
	// TOTPCommand is recorded in the profile (see Profile.TOTPCommand);
	// "" keeps the stored profile's, when it is of the same identity.
	TOTPCommand string
	// Prompt asks for the secret of s for profile ("" when the secret is
	// for all projects); it is called only when no secret was supplied or
	// is stored.
	Prompt func(profile string, s Settings) (string, error)
	// Passcode gives a TOTP passcode for s and profile (as for Prompt),
	// with command (the profile's TOTP command, "" for none), when
	// Keystone asks for a second factor.
	Passcode func(profile string, s Settings, command string) (string, error)
}

// StoreResult is one profile Store stored.
type StoreResult struct {
	Profile       string
	Settings      Settings // as stored: an application credential's project learned from its token
	Keyring       string   // the backend the secret is kept in; "" with a SecretCommand
	SecretCommand string   // the command that prints the secret, if the profile has one
	Verified      bool
	ExpiresAt     *time.Time // the verifying token's expiry
	// SecretSent: the secret was sent to the profile's Keystone, to
	// verify it or to list the user's projects with it.
	SecretSent bool
}

// StoreOutcome tells what Store did.
type StoreOutcome struct {
	Stored []StoreResult
	// Skipped, for AllProjects, are the projects that got no profile.
	Skipped []SkippedProject
}

// Store saves a profile's settings and keeps its secret as its identity's
// (with AllProjects, one profile per project of the identity). The order
// matters: the settings are checked first, then the keychain (whether it
// answers, holds the secret already, and takes a write), and only then is
// anyone asked for a secret or Keystone called.
func (h *Helper) Store(ctx context.Context, r StoreRequest) (*StoreOutcome, error) {
	stored, err := h.loadIfStored(r.Profile)
	if err != nil {
		return nil, err
	}
	src := r.Sources
	src.Stored = nil
	if stored != nil {
		src.Stored = &stored.Settings
	}
	run := &storeRun{h: h, r: r, proven: map[string]bool{}}
	if r.AllProjects {
		return run.all(ctx, src, stored)
	}
	return run.one(ctx, src, stored)
}

// loadIfStored returns the stored profile name, or nil when there is none.
func (h *Helper) loadIfStored(name string) (*Profile, error) {
	p, err := h.Paths.LoadProfile(name)
	switch {
	case err == nil:
		return &p, nil
	case errors.Is(err, ErrProfileNotFound):
		return nil, nil
	}
	return nil, err
}

// storeRun is one call of Store: the request and what it learned.
type storeRun struct {
	h      *Helper
	r      StoreRequest
	auto   string          // the backend AutoKeyring chose, asked once per run
	proven map[string]bool // the backends a round trip proved in this run
}

// secret is the secret a store keeps.
type secret struct {
	value string
	// found: it is the identity's stored secret, not one supplied or
	// typed now; it is then only copied where it is missing, never
	// replaces another copy.
	found bool
	// command: the profile's secret command printed it.
	command bool
}

// one stores the request's profile.
func (run *storeRun) one(ctx context.Context, src Sources, stored *Profile) (*StoreOutcome, error) {
	name := run.r.projectName()
	resolve := Resolve
	if name != "" {
		resolve = resolveIdentity
	}
	s, err := resolve(src)
	if err != nil {
		return nil, err
	}
	if name != "" && s.ApplicationCredentialID != "" {
		return nil, errBoundProject
	}
	command := run.secretCommandFor(s, stored)
	backend, sec, err := run.source(ctx, run.r.Profile, s, stored, command, name != "")
	if err != nil {
		return nil, err
	}
	totp := run.totpFor(s, stored)
	if name != "" {
		if s.ProjectID, err = run.lookUp(ctx, name, s, sec, totp, stored); err != nil {
			return nil, err
		}
	}
	res, err := run.h.storeProfile(ctx, storeOptions{
		Profile: run.r.Profile, Settings: s, Secret: sec.value, Replace: !sec.found, Verify: run.r.Verify,
		Keyring: backend, SecretCommand: command, Stored: stored, TOTPCommand: totp, Passcode: run.passcode(run.r.Profile, s, totp),
	})
	if err != nil {
		return nil, run.explain(ctx, err, sec, stored == nil)
	}
	res.SecretSent = res.Verified || name != ""
	if stored != nil && stored.SecretCommand != "" && command == "" {
		run.h.warnf("profile %s no longer runs its secret command: its %s is kept in %s", run.r.Profile, SecretNoun(s), backend)
	}
	return &StoreOutcome{Stored: []StoreResult{*res}}, nil
}

// errBoundProject refuses a project by name (or all projects) for an
// application credential.
var errBoundProject = tag(ErrIdentityChanged, "an application credential is bound to one project; there is nothing to choose")

// projectName returns the project name to look up, if any (see
// StoreRequest.ProjectName).
func (r *StoreRequest) projectName() string {
	switch {
	case r.ProjectName != "":
		return r.ProjectName
	case r.Sources.Flags.ProjectID != "" || r.Sources.Request.ProjectID != "" || r.Sources.OpenRC.ProjectID != "":
		return ""
	}
	return r.FileProjectName
}

// lookUp returns the ID of the project called name, asking Keystone with
// an unscoped token of s's identity.
func (run *storeRun) lookUp(ctx context.Context, name string, s Settings, sec secret, totp string, stored *Profile) (string, error) {
	projects, err := run.h.userProjects(ctx, s, sec.value, run.passcode(run.r.Profile, s, totp))
	if err != nil {
		return "", run.explain(ctx, err, sec, stored == nil)
	}
	return projectByName(projects, name)
}

// totpFor returns the TOTP command to record for s: the request's, else
// the stored profile's when it is of the same identity.
func (run *storeRun) totpFor(s Settings, stored *Profile) string {
	if run.r.TOTPCommand == "" && stored != nil && SameIdentity(s, stored.Settings) {
		return stored.TOTPCommand
	}
	return run.r.TOTPCommand
}

// passcode returns the request's way to a passcode for profile and s with
// command, or nil.
func (run *storeRun) passcode(profile string, s Settings, command string) func() (string, error) {
	if run.r.Passcode == nil {
		return nil
	}
	return func() (string, error) { return run.r.Passcode(profile, s, command) }
}

// keyringFor chooses the backend of a profile (stored is the profile as
// stored, nil for a new one): the one the request names; for auto, the
// stored profile's, or the first that works here. previous is the backend
// the secret is kept in now ("" for a new profile, and for one whose
// secret command printed it). A backend the secret moves to is proven
// with a round trip of a throwaway secret before anyone is asked for a
// secret: a locked keychain may answer a read but refuse a write.
func (run *storeRun) keyringFor(stored *Profile) (backend, previous string, err error) {
	if stored != nil {
		previous = stored.Keyring
	}
	switch name := run.r.Keyring; {
	case name != "" && name != AutoKeyring:
		backend = name
	case previous != "":
		return previous, previous, nil
	case run.auto != "":
		backend = run.auto
	default:
		if run.h.AutoKeyring == nil {
			return "", "", errors.New("no way to choose a keychain backend")
		}
		name, passedOver, err := run.h.AutoKeyring()
		if err != nil {
			return "", "", err
		}
		for _, why := range passedOver {
			run.h.debugf("keychain: passed over %v", why)
		}
		backend, run.auto = name, name
		run.proven[name] = true // AutoKeyring proves its choice
	}
	if backend != previous {
		if err := run.prove(backend); err != nil {
			return "", "", err
		}
	}
	return backend, previous, nil
}

// prove makes a round trip in backend, once per run.
func (run *storeRun) prove(backend string) error {
	if run.proven[backend] {
		return nil
	}
	if err := run.h.ProveKeyring(backend); err != nil {
		return err
	}
	run.proven[backend] = true
	return nil
}

// secretFor returns the secret to keep for s in backend: the one supplied,
// else the identity's stored one (found in the backends its profiles use;
// legacy, when not empty, is a profile whose 1.0 item is this identity's),
// else one typed at the prompt. Either way the keychain is asked first: a
// keychain that does not answer fails the store before anyone is asked
// for a secret or Keystone is called, and a backend that will take a new
// secret is proven to take a write.
func (run *storeRun) secretFor(profile string, s Settings, legacy, backend, previous string) (secret, error) {
	if run.r.Secret != "" {
		current, _, err := run.h.FindSecret(s, legacy, backend)
		switch {
		case err == nil && current == run.r.Secret:
			return secret{value: run.r.Secret}, nil
		case err != nil && !errors.Is(err, keyring.ErrNotFound):
			return secret{}, err
		}
		return secret{value: run.r.Secret}, run.prove(backend)
	}
	first := previous
	if first == "" {
		first = backend
	}
	current, _, err := run.h.FindSecret(s, legacy, append(run.h.backendsOf(s, first), backend)...)
	switch {
	case err == nil:
		run.h.debugf("store: using the identity's stored secret")
		return secret{value: current, found: true}, nil
	case !errors.Is(err, keyring.ErrNotFound):
		return secret{}, err
	}
	if err := run.prove(backend); err != nil {
		return secret{}, err
	}
	if run.r.Prompt == nil {
		return secret{}, errors.New("no secret was supplied, none is stored, and there is no one to ask")
	}
	typed, err := run.r.Prompt(profile, s)
	return secret{value: typed}, err
}

// explain completes a *RejectedError of a store: whether anything was
// stored before, whether the secret was the stored one, and, for a
// password Keystone refused with a project, whether it refuses it without
// one too (then the password is wrong; else the project is, and the
// user's projects are listed, without asking for a passcode).
func (run *storeRun) explain(ctx context.Context, err error, sec secret, first bool) error {
	var rej *RejectedError
	if !errors.As(err, &rej) {
		return err
	}
	rej.FirstStore, rej.NewSecret, rej.FromCommand = first, !sec.found, sec.command
	if !run.r.AllProjects {
		rej.Profile = run.r.Profile
	}
	if rej.Cause != RejectUnknown || rej.Settings.ProjectID == "" {
		return err
	}
	s := rej.Settings
	s.ProjectID = ""
	projects, perr := run.h.userProjects(ctx, s, sec.value, nil)
	switch {
	case perr == nil:
		rej.Cause, rej.Projects = RejectProject, projects
	case errors.Is(perr, keystone.ErrMFARequired):
		rej.Cause = RejectProject
	case errors.Is(perr, keystone.ErrAuthFailed):
		rej.Cause = RejectSecret
	}
	return err
}

// storeOptions are the inputs of storeProfile.
type storeOptions struct {
	Profile  string
	Settings Settings // as Resolve returns them
	Secret   string
	// Replace says the secret is new (supplied or typed now): it replaces
	// every copy of the identity's secret, in each backend its profiles
	// use. Otherwise it was found stored, and is only copied where it is
	// missing.
	Replace bool
	Verify  bool
	// Keyring is the backend to keep the secret in (DefaultKeyring when
	// empty); Stored is the profile as it was stored before, or nil. When
	// Stored's backend differs, the secret moves: written, read back,
	// then deleted from the old backend unless another profile of the
	// identity uses it there.
	Keyring string
	// SecretCommand, when set, is recorded instead of a backend: Secret
	// (what it printed; "" when it did not run) is kept nowhere, and a
	// copy in Stored's backend is deleted as when the secret moves.
	SecretCommand string
	Stored        *Profile
	// TOTPCommand is recorded in the profile (see Profile.TOTPCommand);
	// Passcode is as for GetOptions, for the verification.
	TOTPCommand string
	Passcode    func() (string, error)
}

// storeProfile saves one profile's settings and keeps its secret as its
// identity's (or records its secret command, and keeps the secret
// nowhere). Unless told not to, it first proves the secret by issuing a
// token (and caches it); a secret Keystone rejects is not stored.
func (h *Helper) storeProfile(ctx context.Context, o storeOptions) (*StoreResult, error) {
	switch {
	case o.Secret == "" && (o.SecretCommand == "" || o.Verify):
		return nil, ErrEmptyPassword
	case o.SecretCommand != "":
		o.Keyring = ""
	case o.Keyring == "":
		o.Keyring = DefaultKeyring
	}
	res := &StoreResult{Profile: o.Profile, Keyring: o.Keyring, SecretCommand: o.SecretCommand}
	if o.Verify {
		e, err := h.verify(ctx, o)
		if err != nil {
			return nil, err
		}
		res.Verified = true
		exp := e.ExpiresAt
		res.ExpiresAt = &exp
		o.Settings.ProjectID = e.ProjectID // an application credential's project is its token's
	}
	res.Settings = o.Settings
	noun := SecretNoun(o.Settings)
	moving := o.Stored != nil && o.Stored.Keyring != o.Keyring
	if o.SecretCommand == "" {
		if err := h.keepIdentitySecret(o, moving); err != nil {
			return nil, err
		}
	}
	note, err := h.Paths.saveProfile(o.Profile, Profile{Settings: o.Settings, Keyring: o.Keyring, SecretCommand: o.SecretCommand, TOTPCommand: o.TOTPCommand})
	h.note(note)
	switch {
	case err != nil && o.SecretCommand != "":
		return nil, fmt.Errorf("the profile could not be saved: %w", err)
	case err != nil:
		return nil, fmt.Errorf("the %s is in the keychain, but the profile could not be saved: %w", noun, err)
	}
	if err := h.dropOld(o, moving); err != nil {
		h.warnf("the %s is stored, but an old copy could not be deleted (%v); delete it by hand", noun, err)
	}
	return res, nil
}

// verify proves o.Secret with Keystone: a token for o.Settings, issued
// under the project's lock, and cached.
func (h *Helper) verify(ctx context.Context, o storeOptions) (*cacheEntry, error) {
	unlock, err := h.lock(ctx, o.Settings)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return h.issue(ctx, o.Profile, o.Settings, o.Secret, o.Passcode)
}

// keepIdentitySecret keeps o.Secret as the identity's in o.Keyring
// (moving says it moves there from another backend, and is read back);
// a new one (o.Replace) also replaces the copies that the identity's other
// profiles keep in other backends.
func (h *Helper) keepIdentitySecret(o storeOptions, moving bool) error {
	if err := h.keepSecret(o.Keyring, o.Settings, o.Secret, moving); err != nil {
		return err
	}
	if !o.Replace {
		return nil
	}
	for _, b := range h.backendsOf(o.Settings, "") {
		if b == o.Keyring {
			continue
		}
		if err := h.keepSecret(b, o.Settings, o.Secret, false); err != nil {
			h.warnf("other profiles of %s keep the %s in %s, which could not be updated (%v); run store for them again",
				Identity(o.Settings), SecretNoun(o.Settings), b, err)
		}
	}
	return nil
}

// dropOld deletes what the profile kept before and no longer needs: its
// 1.0 item, and the old identity's secret (or the old backend's copy,
// which a profile that takes a secret command no longer needs) unless
// another profile still uses it. A profile that had a secret command kept
// nothing (see dropSecret).
func (h *Helper) dropOld(o storeOptions, moving bool) error {
	var err error
	switch {
	case o.Stored == nil:
	case !SameIdentity(o.Stored.Settings, o.Settings):
		_, _, err = h.dropSecret(o.Stored.Keyring, &o.Stored.Settings, o.Profile, o.Stored.v10)
	case moving:
		_, _, err = h.dropSecret(o.Stored.Keyring, &o.Settings, o.Profile, o.Stored.v10)
	default:
		_, _, err = h.dropSecret(o.Keyring, nil, o.Profile, o.Stored.v10)
	}
	return err
}

// SecretNoun names the kind of secret a profile of s keeps, for messages:
// "password", or "application credential secret".
func SecretNoun(s Settings) string {
	if s.ApplicationCredentialID != "" {
		return "application credential secret"
	}
	return "password"
}
