package cmdline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"vkc-credential/helper"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// appcred manages the application credentials of the profile's user, with
// the profile's own sign-in (MFA included): create one and store it as a
// new profile, list them, delete one and the profiles stored for it. The
// operations are helper's (CreateAppCred, ListAppCreds, DeleteAppCred,
// Store, Erase); this file reads the flags and writes the answers.

// appCredDefaultExpiry is helper.DefaultAppCredLifetime as the help says
// it (TestAppCredDefaultExpiryIsTheHelpers).
const appCredDefaultExpiry = "90d"

// appCredRefused is Keystone refusing (401, 403) a profile's token the
// management of application credentials: exit 4, with a hint of its own.
type appCredRefused struct{ err error }

func (e *appCredRefused) Error() string { return e.err.Error() }
func (e *appCredRefused) Unwrap() error { return e.err }

// refused marks an error of Keystone's refusal to manage application
// credentials; any other passes unchanged.
func refused(err error) error {
	if errors.Is(err, keystone.ErrAuthFailed) {
		return &appCredRefused{err}
	}
	return err
}

// appcredWithout answers `appcred` without a subcommand, or with one it
// does not have.
func (inv *invocation) appcredWithout(c *cli.Context) error {
	var names []string
	for _, sc := range c.Command.Subcommands {
		names = append(names, sc.Name)
	}
	if c.Args().Present() {
		return usagef("appcred has no subcommand %q; use one of %s; see `vkc-credential appcred --help`", c.Args().First(), strings.Join(names, ", "))
	}
	return usagef("appcred needs a subcommand: one of %s; see `vkc-credential appcred --help`", strings.Join(names, ", "))
}

// appCredCreation is what `appcred create` was asked, checked.
type appCredCreation struct {
	options helper.AppCredOptions
	storeAs string
	keyring string // a backend's name, proven to take a secret
}

// appcredCreate creates an application credential with the profile's
// sign-in and stores it as profile --store-as, its secret in the keychain.
// Everything that can be checked here is checked before the sign-in (and
// so before a passcode is asked for): the flags, that --store-as is new,
// that the keychain takes a secret. A credential that cannot be stored is
// deleted again.
func (inv *invocation) appcredCreate(c *cli.Context) error {
	req, err := inv.setup(c, true, false)
	if err != nil {
		return err
	}
	h, err := inv.helper(c)
	if err != nil {
		return err
	}
	want, err := inv.appCredCreation(c, h)
	if err != nil {
		return err
	}
	tok, err := inv.tokenFor(c, req)
	if err != nil {
		return err
	}
	cred, secret, err := h.CreateAppCred(c.Context, tok, want.options)
	if err != nil {
		return refused(err)
	}
	out, err := inv.storeAppCred(c, h, tok, cred, secret, want)
	if err != nil {
		return inv.undoCreate(c.Context, h, tok, cred, err)
	}
	answer := protocol.AppCredCreateResponse{StoreResponse: inv.storeResponse(out.Stored[0]), ApplicationCredential: appCredAnswer(cred, nil)}
	if c.Bool("show-secret") {
		answer.Secret = secret
	}
	return inv.writeJSON(answer)
}

// appCredCreation reads and checks create's flags, that --store-as names
// no profile yet, and chooses the backend (auto: the first that works
// here), proven with a round trip.
func (inv *invocation) appCredCreation(c *cli.Context, h *helper.Helper) (appCredCreation, error) {
	var want appCredCreation
	if c.String("name") == "" {
		return want, usagef("appcred create needs --name NAME, the credential's name")
	}
	if err := inv.newProfile(h, c.String("store-as")); err != nil {
		return want, err
	}
	expires, err := helper.ParseExpiry(c.String("expires"), h.Now())
	if err != nil {
		return want, err
	}
	want.options = helper.AppCredOptions{Name: c.String("name"), Description: c.String("description"), Roles: c.StringSlice("role"),
		Expires: expires, Unrestricted: c.Bool("unrestricted")}
	for _, s := range c.StringSlice("access-rule") {
		r, err := helper.ParseAccessRule(s)
		if err != nil {
			return want, err
		}
		want.options.AccessRules = append(want.options.AccessRules, r)
	}
	want.storeAs, want.keyring = c.String("store-as"), c.String("keyring")
	if want.keyring != helper.AutoKeyring {
		return want, h.ProveKeyring(want.keyring)
	}
	name, passedOver, err := h.AutoKeyring()
	for _, why := range passedOver {
		inv.debugf("keychain: passed over %v", why)
	}
	want.keyring = name
	return want, err
}

// newProfile refuses a --store-as that is missing, not a profile name,
// or the name of a stored profile: appcred create never overwrites one.
func (inv *invocation) newProfile(h *helper.Helper, name string) error {
	if name == "" {
		return usagef("appcred create needs --store-as PROFILE, the new profile that signs in with the credential")
	}
	if err := protocol.CheckProfileName(name); err != nil {
		return err
	}
	_, err := h.Paths.LoadProfile(name)
	switch {
	case err == nil:
		return usagef("profile %s is stored already, and appcred create never replaces a profile; "+
			"choose another --store-as, or erase it first with `vkc-credential erase --profile %s`", name, name)
	case !errors.Is(err, helper.ErrProfileNotFound):
		return err
	}
	return nil
}

// storeAppCred stores the new credential as profile want.storeAs through
// helper.Store, as `store --application-credential-id` would: on the
// token's Keystone, region and interface, its secret supplied, proven
// with a sign-in unless --no-verify.
func (inv *invocation) storeAppCred(c *cli.Context, h *helper.Helper, tok *helper.Token, cred *keystone.ApplicationCredential,
	secret string, want appCredCreation) (*helper.StoreOutcome, error) {
	// The sign-in may have waited for a passcode: look again.
	if err := inv.newProfile(h, want.storeAs); err != nil {
		return nil, err
	}
	s := helper.Settings{AuthURL: tok.Settings.AuthURL, ApplicationCredentialID: cred.ID, Region: tok.Settings.Region, Interface: tok.Settings.Interface}
	return h.Store(c.Context, helper.StoreRequest{Profile: want.storeAs, Sources: helper.Sources{Flags: s},
		Secret: secret, Keyring: want.keyring, Verify: !c.Bool("no-verify")})
}

// undoCreate deletes again a credential that could not be stored, since
// nobody would hold its secret, and returns storeErr saying so; when the
// delete fails too, it says what is left and how to delete it.
func (inv *invocation) undoCreate(ctx context.Context, h *helper.Helper, tok *helper.Token, cred *keystone.ApplicationCredential, storeErr error) error {
	if _, err := h.DeleteAppCred(ctx, tok, cred.ID); err != nil {
		return fmt.Errorf("%w; application credential %q (%s) was created but not stored, and could not be deleted (%v): "+
			"delete it with `vkc-credential appcred delete %s --profile %s`", storeErr, cred.Name, cred.ID, err, cred.ID, inv.profile)
	}
	return fmt.Errorf("%w; application credential %q was created but not stored, so it was deleted again", storeErr, cred.Name)
}

// signedIn is what list and delete share after setup: the profile's
// token (the sign-in that manages its user's credentials) and the Helper.
func (inv *invocation) signedIn(c *cli.Context, req *protocol.Request) (*helper.Helper, *helper.Token, error) {
	tok, err := inv.tokenFor(c, req)
	if err != nil {
		return nil, nil, err
	}
	h, err := inv.helper(c)
	if err != nil {
		return nil, nil, err
	}
	return h, tok, nil
}

// appcredList prints the user's application credentials, with the
// profiles stored here for each.
func (inv *invocation) appcredList(c *cli.Context) error {
	req, err := inv.setup(c, true, false)
	if err != nil {
		return err
	}
	h, tok, err := inv.signedIn(c, req)
	if err != nil {
		return err
	}
	creds, err := h.ListAppCreds(c.Context, tok, c.String("name"))
	if err != nil {
		return refused(err)
	}
	stored, err := h.List()
	if err != nil {
		return err
	}
	out := make([]protocol.AppCredential, len(creds))
	for i := range creds {
		out[i] = appCredAnswer(&creds[i], profilesOf(stored, tok.Settings.AuthURL, creds[i].ID))
	}
	return inv.writeJSON(out)
}

// appcredDelete deletes the application credential named (by name or ID)
// and erases the profiles stored for it here.
func (inv *invocation) appcredDelete(c *cli.Context) error {
	req, err := inv.setup(c, true, false)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return usagef("appcred delete takes the NAME or ID of one application credential; see `vkc-credential appcred delete --help`")
	}
	h, tok, err := inv.signedIn(c, req)
	if err != nil {
		return err
	}
	cred, err := h.DeleteAppCred(c.Context, tok, c.Args().First())
	if err != nil {
		return refused(err)
	}
	stored, err := h.List()
	if err != nil {
		return fmt.Errorf("application credential %s is deleted, but the profiles stored for it could not be listed: %w", cred.ID, err)
	}
	answer := protocol.AppCredDeleteResponse{Version: protocol.Version, Deleted: true, ApplicationCredential: appCredAnswer(cred, nil), ProfilesErased: []string{}}
	var failed error
	for _, p := range profilesOf(stored, tok.Settings.AuthURL, cred.ID) {
		if _, err := h.Erase(c.Context, helper.EraseOptions{Profile: p}); err != nil {
			failed = bothErrs(failed, fmt.Errorf("profile %s, which signed in with it, could not be erased (%w); erase it with `vkc-credential erase --profile %s`", p, err, p))
			continue
		}
		answer.ProfilesErased = append(answer.ProfilesErased, p)
	}
	if err := inv.writeJSON(answer); err != nil {
		return err
	}
	if failed != nil {
		inv.jsonErrors = false // the answer above says what was done
		return fmt.Errorf("application credential %s is deleted, but %w", cred.ID, failed)
	}
	return nil
}

// bothErrs joins two errors, the first of which may be nil.
func bothErrs(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%w; %w", a, b)
}

// profilesOf names the stored profiles that sign in with application
// credential id of the Keystone at authURL.
func profilesOf(stored []protocol.ProfileInfo, authURL, id string) []string {
	var names []string
	for _, p := range stored {
		same := p.Settings
		same.AuthURL = authURL
		if p.ApplicationCredentialID == id && helper.SameIdentity(same, p.Settings) {
			names = append(names, p.Profile)
		}
	}
	return names
}

// appCredAnswer describes cred (and the profiles stored for it) for an
// answer.
func appCredAnswer(cred *keystone.ApplicationCredential, profiles []string) protocol.AppCredential {
	a := protocol.AppCredential{ID: cred.ID, Name: cred.Name, Description: cred.Description, ProjectID: cred.ProjectID,
		Roles: []protocol.Role{}, AccessRules: []protocol.AccessRule{}, Unrestricted: cred.Unrestricted, Profiles: profiles}
	if !cred.ExpiresAt.IsZero() {
		t := cred.ExpiresAt.UTC()
		a.ExpiresAt = &t
	}
	for _, r := range cred.Roles {
		a.Roles = append(a.Roles, protocol.Role{ID: r.ID, Name: r.Name})
	}
	for _, r := range cred.AccessRules {
		a.AccessRules = append(a.AccessRules, protocol.AccessRule{Service: r.Service, Method: r.Method, Path: r.Path})
	}
	return a
}
