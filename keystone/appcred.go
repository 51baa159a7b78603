package keystone

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ApplicationCredentialAuth is what IssueApplicationCredential needs.
type ApplicationCredentialAuth struct {
	// AuthURL is Keystone's v3 endpoint as protocol.NormalizeAuthURL
	// returns it (IssueApplicationCredential checks it again).
	AuthURL string
	// ID is the credential's ID, sent as
	// auth.identity.application_credential.id.
	ID string
	// Secret is the credential's secret, sent as
	// auth.identity.application_credential.secret and nowhere else: no
	// error, log line or Debugf call ever holds it.
	Secret string
}

// applicationCredential is auth.identity.application_credential.
type applicationCredential struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// IssueApplicationCredential issues a token with the application_credential
// method: POST {AuthURL}/auth/tokens with
// {"methods": ["application_credential"], "application_credential": {"id",
// "secret"}} and no scope, since the credential fixes the user and the
// project. The token's project is Token.ProjectID; an answer without one is
// malformed.
//
// A wrong secret or an expired credential is 401, a deleted or unknown one
// 404 with a message that names the ID: both give an error wrapping
// ErrAuthFailed (any other 404 wraps ErrUnavailable, as for
// IssuePassword). Everything else is as for IssuePassword.
func (c *Client) IssueApplicationCredential(ctx context.Context, a ApplicationCredentialAuth) (*Token, error) {
	u, err := endpoint(a.AuthURL)
	if err != nil {
		return nil, err
	}
	if err := checkFields([2]string{"application credential ID", a.ID}, [2]string{"application credential secret", a.Secret}); err != nil {
		return nil, err
	}
	var body authRequest
	body.Auth.Identity = identity{Methods: []string{"application_credential"},
		ApplicationCredential: &applicationCredential{ID: a.ID, Secret: a.Secret}}
	r, err := postRequest(u, &body, nil, a.Secret)
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, r, issueOpts{sent: body.Auth.Identity.Methods, needProject: true,
		refused:   "the application credential's ID or secret is wrong, or it has expired or been deleted",
		missingID: a.ID, missing: "keystone has no application credential of this ID: the ID is wrong, or the credential was deleted"})
}

// Caps of what Keystone's schemas accept in an application credential.
const (
	maxLongNameRunes = 255  // a credential's or a role's name
	maxRulePathBytes = 225  // an access rule's path
	maxDescRunes     = 1000 // a description, as kept for display
)

// Role is one of Keystone's roles. A request names it by ID or, when ID
// is empty, by Name; Keystone's answers give both.
type Role struct {
	ID   string
	Name string
}

// AccessRule limits an application credential to one kind of request; a
// credential with rules may make only the requests one of them matches.
// The services behind keystonemiddleware's auth_token (every OpenStack
// service) enforce them; Keystone's own API does not (Keystone 22 lets a
// token bound by rules through to any of its paths).
type AccessRule struct {
	// Service is a service type of the catalog, such as "compute" or
	// "identity".
	Service string
	// Method is GET, HEAD, POST, PUT, PATCH or DELETE.
	Method string
	// Path is the request's path from "/": "*" (or "{name}") stands for
	// one segment, "**" for any number.
	Path string
}

// ruleMethods are the methods Keystone's schema allows in an access rule.
var ruleMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}

// Check refuses a rule Keystone's schema refuses. Its errors name the
// field and say what it must be.
func (r AccessRule) Check() error {
	if !isServiceType(r.Service) {
		return fmt.Errorf("the service of an access rule must be a service type of 1 to %d letters, digits and '-', such as compute", maxIDBytes)
	}
	if !slices.Contains(ruleMethods, r.Method) {
		return fmt.Errorf("the method of an access rule must be one of %s", strings.Join(ruleMethods, ", "))
	}
	if !strings.HasPrefix(r.Path, "/") || len(r.Path) > maxRulePathBytes || !utf8.ValidString(r.Path) ||
		strings.ContainsFunc(r.Path, isSpaceOrControl) {
		return fmt.Errorf("the path of an access rule must start with / and have at most %d bytes, none of them white space", maxRulePathBytes)
	}
	return nil
}

// isServiceType reports whether Keystone's schema takes s as an access
// rule's service: 1 to 64 ASCII letters, digits and '-'.
func isServiceType(s string) bool {
	return s != "" && len(s) <= maxIDBytes && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
	})
}

// ApplicationCredential is a user's application credential as Keystone
// keeps it, and what CreateApplicationCredential asks for. Its secret is
// not part of it: Keystone shows it once, and CreateApplicationCredential
// returns it apart.
type ApplicationCredential struct {
	// ID is Keystone's; CreateApplicationCredential ignores it.
	ID string
	// Name is unique among the user's application credentials: 1 to 255
	// characters.
	Name string
	// Description is free text; from Keystone, cleaned for display (one
	// line, at most 1000 characters).
	Description string
	// ProjectID is the project the credential signs in to: the creating
	// token's (CreateApplicationCredential ignores it).
	ProjectID string
	// Roles are the credential's roles on the project; for
	// CreateApplicationCredential, nil means all the token's roles.
	Roles []Role
	// ExpiresAt is when the credential stops signing in; zero means never.
	ExpiresAt time.Time
	// Unrestricted lets the credential's tokens create and delete
	// application credentials (and trusts); Keystone refuses that to a
	// restricted one.
	Unrestricted bool
	// AccessRules, when not empty, are the only requests the credential's
	// tokens may make.
	AccessRules []AccessRule
}

// wireAppCred is an application credential in Keystone's answers.
type wireAppCred struct {
	ID           *string        `json:"id"`
	Name         *string        `json:"name"`
	Description  *string        `json:"description"`
	ProjectID    *string        `json:"project_id"`
	ExpiresAt    *string        `json:"expires_at"`
	Unrestricted *bool          `json:"unrestricted"`
	Roles        []wireRole     `json:"roles"`
	AccessRules  []wireRuleSeen `json:"access_rules"`
	Secret       *string        `json:"secret"` // only in the answer of a create
}

// wireRole is a role in Keystone's answers.
type wireRole struct {
	ID   *string `json:"id"`
	Name *string `json:"name"`
}

// wireRuleSeen is an access rule in Keystone's answers.
type wireRuleSeen struct {
	Service *string `json:"service"`
	Method  *string `json:"method"`
	Path    *string `json:"path"`
}

// credential checks w (but not its secret) and builds the
// ApplicationCredential. Its errors complete "a credential whose ...":
// they name fields, and quote no value but an unparsable expires_at.
func (w *wireAppCred) credential() (*ApplicationCredential, error) {
	if w.ID == nil || checkID(*w.ID) != nil {
		return nil, fmt.Errorf("id is not 1 to %d printable ASCII characters", maxIDBytes)
	}
	if w.Name == nil || checkLongName(*w.Name) != nil {
		return nil, fmt.Errorf("name is not 1 to %d graphic characters", maxLongNameRunes)
	}
	cred := &ApplicationCredential{ID: *w.ID, Name: *w.Name, Unrestricted: w.Unrestricted != nil && *w.Unrestricted}
	if w.Description != nil {
		cred.Description = cleanText(*w.Description, nil, maxDescRunes)
	}
	if w.ProjectID != nil {
		if checkID(*w.ProjectID) != nil {
			return nil, fmt.Errorf("project_id is not 1 to %d printable ASCII characters", maxIDBytes)
		}
		cred.ProjectID = *w.ProjectID
	}
	var err error
	if w.ExpiresAt != nil {
		if cred.ExpiresAt, err = keystoneTime(*w.ExpiresAt); err != nil {
			return nil, fmt.Errorf("expires_at %q is not a time", cleanText(*w.ExpiresAt, nil, maxMessageRunes))
		}
	}
	if cred.Roles, err = parseRoles(w.Roles); err != nil {
		return nil, err
	}
	if cred.AccessRules, err = parseAccessRules(w.AccessRules); err != nil {
		return nil, err
	}
	return cred, nil
}

// parseAccessRules checks the access rules of Keystone's answers. Its
// error completes "a credential whose ...".
func parseAccessRules(rules []wireRuleSeen) ([]AccessRule, error) {
	var out []AccessRule
	for i, r := range rules {
		if r.Service == nil || r.Method == nil || r.Path == nil {
			return nil, fmt.Errorf("access rule %d has no service, method or path", i+1)
		}
		rule := AccessRule{Service: *r.Service, Method: *r.Method, Path: *r.Path}
		if rule.Check() != nil {
			return nil, fmt.Errorf("access rule %d is one keystone would not accept", i+1)
		}
		out = append(out, rule)
	}
	return out, nil
}

// parseRoles checks roles of Keystone's answers: each with an ID and a
// name. Its error completes "the token's ..." or "a credential whose ...".
func parseRoles(roles []wireRole) ([]Role, error) {
	var out []Role
	for i, r := range roles {
		if r.ID == nil || checkID(*r.ID) != nil || r.Name == nil || checkLongName(*r.Name) != nil {
			return nil, fmt.Errorf("role %d has no valid id or name", i+1)
		}
		out = append(out, Role{ID: *r.ID, Name: *r.Name})
	}
	return out, nil
}

// checkLongName is checkName for the names Keystone lets be 255
// characters long: an application credential's, a role's.
func checkLongName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxLongNameRunes ||
		strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		return fmt.Errorf("not 1 to %d graphic characters", maxLongNameRunes)
	}
	return nil
}
