package helper

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// DefaultAppCredLifetime is how long an application credential lives when
// its options name no expiry.
const DefaultAppCredLifetime = 90 * 24 * time.Hour

// ErrAppCredOption means an application credential cannot be made or
// managed as asked: an expiry, a role or an access rule that cannot be
// used, or a profile whose token Keystone does not let manage application
// credentials. Nothing was created or deleted. protocol.CodeUsage.
var ErrAppCredOption = protocol.NewError(protocol.CodeUsage, "invalid application credential option")

// Expiry is when an application credential is to expire. The zero value
// is the default: DefaultAppCredLifetime after it is created.
type Expiry struct {
	At    time.Time // when it expires; zero for the default or Never
	Never bool      // it never expires
}

// maxExpiryDays bounds an expiry in days or weeks, well within what a
// time.Duration holds (about 292 years).
const maxExpiryDays = 100 * 366

// daysOf parses a whole number of days or weeks ("30d", "2w"), which
// time.ParseDuration does not take, into days; ok is false for anything
// else.
func daysOf(s string) (days int, ok bool) {
	n := len(s) - 1
	if n < 1 || n > 5 || (s[n] != 'd' && s[n] != 'w') {
		return 0, false
	}
	days, err := strconv.Atoi(s[:n])
	if err != nil || strings.ContainsAny(s[:1], "+-") {
		return 0, false
	}
	if s[n] == 'w' {
		days *= 7
	}
	return days, true
}

// ParseExpiry parses the expiry of an application credential: "never"; a
// duration from now, in days or weeks ("30d", "2w") or as
// time.ParseDuration takes it ("720h", "90m"); or an RFC 3339 time
// ("2026-12-31T23:59:59Z"). "" is the default (the zero Expiry). A
// duration must be positive and a time after now. Its errors match
// ErrAppCredOption.
func ParseExpiry(s string, now time.Time) (Expiry, error) {
	switch {
	case s == "":
		return Expiry{}, nil
	case strings.EqualFold(s, "never"):
		return Expiry{Never: true}, nil
	}
	var d time.Duration
	if days, ok := daysOf(s); ok {
		if days > maxExpiryDays {
			return Expiry{}, tag(ErrAppCredOption, "the expiry %q is more than %d days away", s, maxExpiryDays)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else if pd, err := time.ParseDuration(s); err == nil {
		d = pd
	} else if at, err := time.Parse(time.RFC3339, s); err == nil {
		if !at.After(now) {
			return Expiry{}, tag(ErrAppCredOption, "the expiry %s is not in the future", at.Format(time.RFC3339))
		}
		return Expiry{At: at.UTC()}, nil
	} else {
		return Expiry{}, tag(ErrAppCredOption, "the expiry %q is none of: a duration such as 30d, 2w or 12h; an RFC 3339 time such as 2026-12-31T23:59:59Z; never",
			s)
	}
	if d <= 0 {
		return Expiry{}, tag(ErrAppCredOption, "the expiry %q is not a positive duration", s)
	}
	return Expiry{At: now.Add(d).UTC()}, nil
}

// ParseAccessRule parses an access rule written SERVICE:METHOD:PATH, such
// as "compute:GET:/v2.1/servers/*" (see keystone.AccessRule); the method
// may be in lower case. Its errors match ErrAppCredOption.
func ParseAccessRule(s string) (keystone.AccessRule, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return keystone.AccessRule{}, tag(ErrAppCredOption, "the access rule %q is not SERVICE:METHOD:PATH, such as compute:GET:/v2.1/servers/*", s)
	}
	r := keystone.AccessRule{Service: parts[0], Method: strings.ToUpper(parts[1]), Path: parts[2]}
	if err := r.Check(); err != nil {
		return keystone.AccessRule{}, tag(ErrAppCredOption, "the access rule %q: %v", s, err)
	}
	return r, nil
}

// AppCredOptions are the inputs of CreateAppCred.
type AppCredOptions struct {
	Name        string
	Description string
	// Roles are names or IDs of roles the token has on its project; none
	// means all of them.
	Roles []string
	// Expires is when it expires, as ParseExpiry returns it; the zero
	// value is DefaultAppCredLifetime from now.
	Expires Expiry
	// AccessRules, as ParseAccessRule returns them, are the only requests
	// its tokens may make; none means any its roles allow.
	AccessRules []keystone.AccessRule
	// Unrestricted lets its tokens create and delete application
	// credentials; a restricted one (the default) cannot.
	Unrestricted bool
}

// CreateAppCred creates an application credential for the user and
// project of tok (a profile's token from Get), and returns it with its
// secret, which Keystone shows only this once. It stores nothing. What
// keystone.ApplicationCredential.Check refuses (an empty name...), roles
// the token lacks, an expiry that has passed, an access rule for a service
// the token's catalog lacks, or a token of a restricted application
// credential (which Keystone would refuse) give an error matching
// ErrAppCredOption, and nothing is sent. Keystone's errors come through
// unchanged (keystone.ErrAuthFailed, keystone.ErrConflict for a name
// taken...).
func (h *Helper) CreateAppCred(ctx context.Context, tok *Token, o AppCredOptions) (cred *keystone.ApplicationCredential, secret string, err error) {
	info, err := h.managingToken(tok, "create")
	if err != nil {
		return nil, "", err
	}
	if info.ProjectID == "" {
		return nil, "", tag(ErrAppCredOption, "profile %q's token has no project, and an application credential is made for the token's project", tok.Profile)
	}
	want := keystone.ApplicationCredential{Name: o.Name, Description: o.Description, Unrestricted: o.Unrestricted, AccessRules: o.AccessRules}
	if err := want.Check(); err != nil {
		return nil, "", tag(ErrAppCredOption, "%v", err)
	}
	if want.Roles, err = pickRoles(info, o.Roles); err != nil {
		return nil, "", err
	}
	for _, r := range o.AccessRules {
		if !slices.Contains(info.Services, r.Service) {
			return nil, "", tag(ErrAppCredOption, "the access rule for service %q names no service of the project's catalog (%s)", r.Service, strings.Join(info.Services, ", "))
		}
	}
	now := h.Now()
	switch {
	case o.Expires.Never:
	case o.Expires.At.IsZero():
		want.ExpiresAt = now.Add(DefaultAppCredLifetime).UTC()
	case !o.Expires.At.After(now):
		return nil, "", tag(ErrAppCredOption, "the expiry %s has passed", o.Expires.At.Format(time.RFC3339))
	default:
		want.ExpiresAt = o.Expires.At.UTC()
	}
	err = h.exchange(ctx, func(ctx context.Context, kc *keystone.Client) error {
		cred, secret, err = kc.CreateApplicationCredential(ctx, tok.Settings.AuthURL, tok.ID(), info.UserID, want)
		return err
	})
	return cred, secret, err
}

// pickRoles turns names or IDs of roles into the token's roles, by ID;
// none gives nil (Keystone then gives all the token's roles).
func pickRoles(info *keystone.TokenInfo, names []string) ([]keystone.Role, error) {
	var roles []keystone.Role
	for _, n := range names {
		i := slices.IndexFunc(info.Roles, func(r keystone.Role) bool { return r.ID == n })
		if i < 0 {
			i = slices.IndexFunc(info.Roles, func(r keystone.Role) bool { return r.Name == n })
		}
		if i < 0 {
			have := make([]string, len(info.Roles))
			for j, r := range info.Roles {
				have[j] = r.Name
			}
			return nil, tag(ErrAppCredOption, "the role %q is not one of the token's roles on its project (%s); an application credential can only have roles its creator has",
				n, strings.Join(have, ", "))
		}
		if !slices.ContainsFunc(roles, func(r keystone.Role) bool { return r.ID == info.Roles[i].ID }) {
			roles = append(roles, keystone.Role{ID: info.Roles[i].ID})
		}
	}
	return roles, nil
}

// ListAppCreds lists the application credentials of tok's user (a
// profile's token from Get), those called name only when name is not
// empty.
func (h *Helper) ListAppCreds(ctx context.Context, tok *Token, name string) (creds []keystone.ApplicationCredential, err error) {
	info, err := tokenInfo(tok)
	if err != nil {
		return nil, err
	}
	err = h.exchange(ctx, func(ctx context.Context, kc *keystone.Client) error {
		creds, err = kc.ApplicationCredentials(ctx, tok.Settings.AuthURL, tok.ID(), info.UserID, name)
		return err
	})
	return creds, err
}

// DeleteAppCred deletes the application credential of tok's user (a
// profile's token from Get) whose name or ID is nameOrID, and returns it
// as it was. One that the user does not have gives an error wrapping
// keystone.ErrNotFound; a name of one credential that is the ID of another,
// or a token of a restricted application credential, one matching
// ErrAppCredOption.
func (h *Helper) DeleteAppCred(ctx context.Context, tok *Token, nameOrID string) (deleted *keystone.ApplicationCredential, err error) {
	info, err := h.managingToken(tok, "delete")
	if err != nil {
		return nil, err
	}
	err = h.exchange(ctx, func(ctx context.Context, kc *keystone.Client) error {
		creds, err := kc.ApplicationCredentials(ctx, tok.Settings.AuthURL, tok.ID(), info.UserID, "")
		if err != nil {
			return err
		}
		cred, err := findAppCred(creds, nameOrID)
		if err != nil {
			return err
		}
		if err := kc.DeleteApplicationCredential(ctx, tok.Settings.AuthURL, tok.ID(), info.UserID, cred.ID); err != nil {
			return err
		}
		deleted = cred
		return nil
	})
	return deleted, err
}

// findAppCred finds the credential of creds whose name or ID is
// nameOrID; see DeleteAppCred for the errors.
func findAppCred(creds []keystone.ApplicationCredential, nameOrID string) (*keystone.ApplicationCredential, error) {
	byName := slices.IndexFunc(creds, func(c keystone.ApplicationCredential) bool { return c.Name == nameOrID })
	byID := slices.IndexFunc(creds, func(c keystone.ApplicationCredential) bool { return c.ID == nameOrID })
	i := max(byName, byID)
	switch {
	case i < 0:
		return nil, fmt.Errorf("%w: the user has no application credential named %q or of that ID", keystone.ErrNotFound, nameOrID)
	case byName >= 0 && byID >= 0 && byName != byID:
		return nil, tag(ErrAppCredOption, "%q is the name of application credential %s and the ID of another; give the ID of the one to delete", nameOrID, creds[byName].ID)
	}
	return &creds[i], nil
}

// managingToken reads tok's TokenInfo for an operation that Keystone
// refuses to a token of a restricted application credential (create,
// delete), and refuses such a token before anything is sent.
func (h *Helper) managingToken(tok *Token, op string) (*keystone.TokenInfo, error) {
	info, err := tokenInfo(tok)
	if err != nil {
		return nil, err
	}
	if info.ApplicationCredentialID != "" && info.Restricted {
		return nil, tag(ErrAppCredOption, "profile %q signs in with a restricted application credential, and keystone lets only a password sign-in "+
			"(or an unrestricted application credential) %s application credentials", tok.Profile, op)
	}
	return info, nil
}

// tokenInfo reads what tok's body says about its user and scope.
func tokenInfo(tok *Token) (*keystone.TokenInfo, error) {
	body, err := tok.Body()
	if err != nil {
		return nil, tag(ErrDamaged, "%v", err)
	}
	info, err := keystone.ParseTokenInfo(body)
	if err != nil {
		return nil, tag(ErrDamaged, "profile %q's token: %v", tok.Profile, err)
	}
	return info, nil
}
