package helper

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// SkipReason says why a store of all projects made no profile of a
// project.
type SkipReason int

const (
	// SkipNoName: no profile name can be made of the project's name.
	SkipNoName SkipReason = iota + 1
	// SkipSameName: another project (Clashes) makes the same profile
	// name; neither is stored, since either could be meant.
	SkipSameName
	// SkipOtherIdentity: a profile of that name is stored for another
	// identity (Existing); it is left as it is.
	SkipOtherIdentity
	// SkipOtherProject: a profile of that name is stored for the same
	// identity but another project (Existing); it is left as it is.
	SkipOtherProject
	// SkipUnreadable: a profile of that name is stored but cannot be read
	// (Err); it is left as it is.
	SkipUnreadable
)

// SkippedProject is a project a store of all projects made no profile of.
type SkippedProject struct {
	Project  keystone.Project
	Profile  string   // the profile name it would have had ("" for SkipNoName)
	Settings Settings // the settings it would have had
	Reason   SkipReason
	Clashes  []keystone.Project // SkipSameName: the other projects of that profile name
	Existing *Profile           // SkipOtherIdentity, SkipOtherProject: the profile in the way
	Err      error              // SkipUnreadable: why the profile cannot be read
}

// all stores one profile per enabled project of the identity, named after
// the project. The unscoped token that listed the projects proved the
// secret, so the profiles are not verified one by one (with a second
// factor, that would want a passcode for each, and Keystone refuses a
// passcode used twice). A profile that exists for another identity or
// project, or a name two projects make, is left alone and reported.
func (run *storeRun) all(ctx context.Context, src Sources, stored *Profile) (*StoreOutcome, error) {
	s, err := resolveIdentity(src)
	if err != nil {
		return nil, err
	}
	if s.ApplicationCredentialID != "" {
		return nil, errBoundProject
	}
	// The backend of the new profiles (the secret's, when it is new), or
	// their secret command.
	backend, sec, err := run.source(ctx, "", s, nil, run.r.SecretCommand, true)
	if err != nil {
		return nil, err
	}
	totp := run.totpFor(s, stored)
	projects, err := run.h.userProjects(ctx, s, sec.value, run.passcode("", s, totp))
	if err != nil {
		return nil, run.explain(ctx, err, sec, true)
	}
	plan, skipped := run.h.planProjects(s, projects)
	if len(plan)+len(skipped) == 0 {
		return nil, ErrNoProject
	}
	out := &StoreOutcome{Skipped: skipped}
	for _, p := range plan {
		res, err := run.storePlanned(ctx, p, sec, backend, totp)
		if err != nil {
			return nil, fmt.Errorf("profile %s (project %s): %w", p.name, p.settings.ProjectID, err)
		}
		res.SecretSent = true // the listing of the projects
		out.Stored = append(out.Stored, *res)
	}
	return out, nil
}

// storePlanned stores the planned profile p with sec, in backend when it
// is new; under auto, a stored profile keeps its own backend. With the
// request's secret command, every profile takes it; a stored profile
// keeps its own as a store of it alone would (secretCommandFor).
func (run *storeRun) storePlanned(ctx context.Context, p plannedProfile, sec secret, backend, totp string) (*StoreResult, error) {
	command := run.secretCommandFor(p.settings, p.stored)
	b := backend
	if p.stored != nil && p.stored.Keyring != "" && (run.r.Keyring == "" || run.r.Keyring == AutoKeyring) {
		b = p.stored.Keyring
	}
	if command == "" && p.stored != nil && b != p.stored.Keyring {
		if err := run.prove(b); err != nil {
			return nil, err
		}
	}
	return run.h.storeProfile(ctx, storeOptions{
		Profile: p.name, Settings: p.settings, Secret: sec.value, Replace: !sec.found,
		Keyring: b, SecretCommand: command, Stored: p.stored, TOTPCommand: totp,
	})
}

// plannedProfile is a profile a store of all projects will write.
type plannedProfile struct {
	name     string
	settings Settings
	stored   *Profile // the profile as stored, of the same identity and project; nil for a new one
}

// planProjects decides the profile of each enabled project of the
// identity of s: named after the project, unless the name is unusable,
// made by two projects, or that of a stored profile of another identity
// or project.
func (h *Helper) planProjects(s Settings, projects []keystone.Project) (plan []plannedProfile, skipped []SkippedProject) {
	byName := map[string][]keystone.Project{}
	var names []string // in Keystone's order
	for _, p := range projects {
		if !p.Enabled {
			continue
		}
		name := profileNameFor(p.Name)
		if protocol.CheckProfileName(name) != nil {
			skipped = append(skipped, SkippedProject{Project: p, Settings: withProject(s, p.ID), Reason: SkipNoName})
			continue
		}
		if byName[name] == nil {
			names = append(names, name)
		}
		byName[name] = append(byName[name], p)
	}
	for _, name := range names {
		same := byName[name]
		if len(same) > 1 {
			for i, p := range same {
				clashes := append(append([]keystone.Project{}, same[:i]...), same[i+1:]...)
				skipped = append(skipped, SkippedProject{Project: p, Profile: name, Settings: withProject(s, p.ID), Reason: SkipSameName, Clashes: clashes})
			}
			continue
		}
		p, skip := h.planOne(name, withProject(s, same[0].ID), same[0])
		if skip != nil {
			skipped = append(skipped, *skip)
			continue
		}
		plan = append(plan, p)
	}
	return plan, skipped
}

// planOne plans profile name for project p with settings s, unless a
// stored profile of that name is in the way.
func (h *Helper) planOne(name string, s Settings, p keystone.Project) (plannedProfile, *SkippedProject) {
	stored, err := h.loadIfStored(name)
	skip := &SkippedProject{Project: p, Profile: name, Settings: s, Existing: stored, Err: err}
	switch {
	case err != nil:
		skip.Reason = SkipUnreadable
	case stored == nil:
		return plannedProfile{name: name, settings: s}, nil
	case !SameIdentity(stored.Settings, s):
		skip.Reason = SkipOtherIdentity
	case stored.ProjectID != p.ID:
		skip.Reason = SkipOtherProject
	default:
		return plannedProfile{name: name, settings: s, stored: stored}, nil
	}
	return plannedProfile{}, skip
}

func withProject(s Settings, id string) Settings {
	s.ProjectID = id
	return s
}

// profileNameFor makes a profile name of a project name: characters a
// profile name cannot hold become '-'.
func profileNameFor(project string) string {
	b := []byte(project)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return strings.TrimLeft(string(b), ".")
}

// projectByName finds the ID of the one project called name.
func projectByName(projects []keystone.Project, name string) (string, error) {
	var ids []string
	for _, p := range projects {
		if p.Name == name {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	return "", &ProjectNameError{Name: name, Projects: projects, Matches: ids}
}

// userProjects lists the projects the user of s can scope a token to,
// proving secret with an unscoped token. When Keystone wants a TOTP
// passcode too, the identity token serves when it is good; otherwise
// passcode gives one (with none, the error matches
// keystone.ErrMFARequired), and the unscoped token it buys is kept as the
// identity token, so that the projects' tokens need no passcode of their
// own. A refused secret or passcode is a *RejectedError.
func (h *Helper) userProjects(ctx context.Context, s Settings, secret string, passcode func() (string, error)) ([]keystone.Project, error) {
	kc, err := h.Keystone()
	if err != nil {
		return nil, err
	}
	kctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	s.ProjectID = "" // for the error: no project is sent
	cause := RejectSecret
	tok, err := kc.IssuePasswordUnscoped(kctx, keystone.PasswordAuth{AuthURL: s.AuthURL, Username: s.Username,
		UserDomainName: s.UserDomainName, Password: secret})
	var receipt *keystone.ReceiptError
	if errors.As(err, &receipt) {
		if projects, ok, err := h.identityProjects(kctx, kc, s); ok {
			return projects, err
		}
		cause = RejectAfterPasscode
		tok, err = h.identitySignIn(ctx, kc, s, receipt, passcode)
		var after context.CancelFunc
		kctx, after = h.afterPerson(ctx)
		defer after()
	}
	if err != nil {
		return nil, rejected(err, "", s, cause)
	}
	return kc.Projects(kctx, s.AuthURL, tok.ID)
}

// identityProjects lists the projects with the identity token of s on
// file; ok is false when there is no good one, or Keystone refused it.
func (h *Helper) identityProjects(ctx context.Context, kc *keystone.Client, s Settings) (projects []keystone.Project, ok bool, err error) {
	e := h.readCache(identityScope(s))
	if !e.validFor(h.Now(), 0) {
		return nil, false, nil
	}
	projects, err = kc.Projects(ctx, s.AuthURL, e.Token)
	if errors.Is(err, keystone.ErrAuthFailed) {
		return nil, false, nil
	}
	return projects, true, err
}

// identitySignIn completes an unscoped sign-in that Keystone wants a
// passcode for, and keeps the token as the identity token of s. The
// exchange after the passcode is bounded by afterPerson.
func (h *Helper) identitySignIn(ctx context.Context, kc *keystone.Client, s Settings, receipt *keystone.ReceiptError, passcode func() (string, error)) (*keystone.Token, error) {
	if passcode == nil {
		return nil, receipt
	}
	code, err := passcode()
	if err != nil {
		return nil, err
	}
	ctx, cancel := h.afterPerson(ctx)
	defer cancel()
	tok, err := kc.IssueWithReceipt(ctx, keystone.ReceiptAuth{AuthURL: s.AuthURL, Receipt: receipt.Receipt, UserID: receipt.UserID, Passcode: code})
	if err != nil {
		return nil, err
	}
	if _, err := h.cacheToken("", identityScope(s), tok); err != nil {
		return nil, err
	}
	return tok, nil
}
