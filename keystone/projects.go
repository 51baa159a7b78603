package keystone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Caps of Keystone's IDs and names, as its database columns and schemas
// bound them.
const (
	maxIDBytes   = 64 // an ID: printable ASCII
	maxNameRunes = 64 // a name: graphic Unicode
)

// Project is a project a token's user can scope a token to.
type Project struct {
	// ID is the project's ID, for PasswordAuth.ProjectID.
	ID string
	// Name is the project's name, unique within its domain.
	Name string
	// DomainID is the ID of the project's domain.
	DomainID string
	// Enabled is Keystone's enabled flag of the project; a project
	// without one counts as enabled, Keystone's default.
	Enabled bool
}

// Projects lists the projects that token's user has a role on: GET
// {authURL}/auth/projects with the token as X-Auth-Token, expecting 200.
// The token may be unscoped (IssuePasswordUnscoped) or scoped to any
// project. An ID that is not 1 to 64 printable ASCII characters, or a name
// that is not 1 to 64 graphic characters, is a malformed answer.
//
// Retries are as for IssuePassword; 401 and 403 (an expired or revoked
// token) give an error wrapping ErrAuthFailed, anything else that fails an
// error wrapping ErrUnavailable (and ErrTimeout or errUntrustedCertificate
// as for IssuePassword). An authURL that protocol.NormalizeAuthURL refuses,
// or a token that no Keystone issues, is refused before anything is sent.
func (c *Client) Projects(ctx context.Context, authURL, token string) ([]Project, error) {
	u, err := apiURL(authURL, "auth/projects")
	if err != nil {
		return nil, err
	}
	projects, err := getList(ctx, c, u, token, "keystone refused the token, which may have expired or been revoked", parseProjects)
	if err == nil {
		c.debugf("keystone: %d projects", len(projects))
	}
	return projects, err
}

// parseProjects checks the answer of GET auth/projects:
// {"projects": [{"id", "name", "domain_id", "enabled", ...}], ...}.
func parseProjects(ans *answer) ([]Project, error) {
	var body struct {
		Projects *[]struct {
			ID       *string `json:"id"`
			Name     *string `json:"name"`
			DomainID *string `json:"domain_id"`
			Enabled  *bool   `json:"enabled"`
		} `json:"projects"`
	}
	if err := decodeBody(ans, &body); err != nil {
		return nil, err
	}
	if body.Projects == nil {
		return nil, errors.New(`a body without a "projects" list`)
	}
	projects := make([]Project, 0, len(*body.Projects))
	for i, p := range *body.Projects {
		if p.ID == nil || p.Name == nil || p.DomainID == nil {
			return nil, fmt.Errorf("project %d of the list without an id, a name or a domain_id", i+1)
		}
		if err := checkID(*p.ID); err != nil {
			return nil, fmt.Errorf("project %d of the list, whose id is %v", i+1, err)
		}
		if err := checkID(*p.DomainID); err != nil {
			return nil, fmt.Errorf("project %d of the list, whose domain_id is %v", i+1, err)
		}
		if err := checkName(*p.Name); err != nil {
			return nil, fmt.Errorf("project %d of the list, whose name is %v", i+1, err)
		}
		projects = append(projects, Project{ID: *p.ID, Name: *p.Name, DomainID: *p.DomainID,
			Enabled: p.Enabled == nil || *p.Enabled})
	}
	return projects, nil
}

// checkID refuses an ID from the network that no Keystone gives: empty,
// longer than maxIDBytes, or with a byte that is not printable ASCII. Its
// error completes "... is ".
func checkID(id string) error {
	if id == "" || len(id) > maxIDBytes || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return fmt.Errorf("not 1 to %d printable ASCII characters", maxIDBytes)
	}
	return nil
}

// checkName refuses a name from the network that no Keystone gives: empty,
// invalid UTF-8, longer than maxNameRunes, or with a rune that is not
// graphic (control and format characters, such as U+202E). Its error
// completes "... is ".
func checkName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameRunes ||
		strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) {
		return fmt.Errorf("not 1 to %d graphic characters", maxNameRunes)
	}
	return nil
}

// isSpaceOrControl reports whether r is white space or a control character.
func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
