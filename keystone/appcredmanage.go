package keystone

// Managing a user's application credentials: create, list, delete.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// applicationCredentialsURL returns the URL of userID's application
// credentials under authURL, followed by "/" and id when id is not empty,
// after checking both IDs.
func applicationCredentialsURL(authURL, userID, id string) (string, error) {
	if err := checkFields([2]string{"user ID", userID}); err != nil {
		return "", err
	}
	if checkID(userID) != nil {
		return "", errors.New("keystone: the user ID is not 1 to 64 printable ASCII characters")
	}
	path := "users/" + url.PathEscape(userID) + "/application_credentials"
	if id != "" {
		if checkID(id) != nil {
			return "", errors.New("keystone: the application credential ID is not 1 to 64 printable ASCII characters")
		}
		path += "/" + url.PathEscape(id)
	}
	return apiURL(authURL, path)
}

// createRequest is the body of POST users/{user_id}/application_credentials.
type createRequest struct {
	Credential struct {
		Name         string          `json:"name"`
		Description  string          `json:"description,omitempty"`
		Roles        []roleRef       `json:"roles,omitempty"`
		ExpiresAt    string          `json:"expires_at,omitempty"` // omitted: never
		Unrestricted bool            `json:"unrestricted"`
		AccessRules  []wireRuleInput `json:"access_rules,omitempty"`
	} `json:"application_credential"`
}

// roleRef names a role in a request: by ID, or else by name.
type roleRef struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// wireRuleInput is an access rule in a request.
type wireRuleInput struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// expiresAtLayout is how Keystone takes expires_at: UTC, written with a
// "Z" (Keystone appends one to what it gets, so "+00:00" is refused).
const expiresAtLayout = "2006-01-02T15:04:05.000000Z"

// Check refuses what Keystone would refuse in a request to create a: a
// name that is empty, all white space or longer than 255 characters, a
// description that is not UTF-8, a role named by neither a valid ID nor a
// name, an access rule that AccessRule.Check refuses. Its errors name the
// field and say what it must be.
func (a ApplicationCredential) Check() error {
	if a.Name == "" || !utf8.ValidString(a.Name) || utf8.RuneCountInString(a.Name) > maxLongNameRunes || strings.TrimSpace(a.Name) == "" {
		return fmt.Errorf("the name of an application credential must be 1 to %d characters of UTF-8, not all white space", maxLongNameRunes)
	}
	if !utf8.ValidString(a.Description) {
		return errors.New("the description of an application credential must be UTF-8")
	}
	for _, r := range a.Roles {
		if !(r.ID != "" && checkID(r.ID) == nil || r.ID == "" && r.Name != "" && utf8.ValidString(r.Name)) {
			return errors.New("a role of an application credential must be named by a valid ID or name")
		}
	}
	for _, r := range a.AccessRules {
		if err := r.Check(); err != nil {
			return err
		}
	}
	return nil
}

// createBody checks want and encodes the request of
// CreateApplicationCredential.
func createBody(want ApplicationCredential) ([]byte, error) {
	if err := want.Check(); err != nil {
		return nil, fmt.Errorf("keystone: %v", err)
	}
	var body createRequest
	b := &body.Credential
	b.Name, b.Description, b.Unrestricted = want.Name, want.Description, want.Unrestricted
	for _, r := range want.Roles {
		if r.ID != "" {
			b.Roles = append(b.Roles, roleRef{ID: r.ID})
		} else {
			b.Roles = append(b.Roles, roleRef{Name: r.Name})
		}
	}
	if !want.ExpiresAt.IsZero() {
		b.ExpiresAt = want.ExpiresAt.UTC().Format(expiresAtLayout)
	}
	for _, r := range want.AccessRules {
		b.AccessRules = append(b.AccessRules, wireRuleInput(r))
	}
	data, err := json.Marshal(&body)
	if err != nil {
		return nil, fmt.Errorf("keystone: cannot encode the request: %w", err)
	}
	return data, nil
}

// CreateApplicationCredential creates an application credential for
// userID, the user of token, on the token's project: POST
// {authURL}/users/{userID}/application_credentials with want's name,
// description, roles (nil: the token's), expiry (zero: never), access
// rules and unrestricted flag, expecting 201. It returns the credential
// as Keystone made it and its secret, which Keystone shows this once: no
// error, log line or Debugf call ever holds it.
//
// The request is made once, never retried: a retry after an answer that
// was lost could create a second credential. 401 and 403 (an expired
// token, another user's ID, a token of a restricted application
// credential, the user's limit of credentials) give an error wrapping
// ErrAuthFailed that quotes Keystone; 409 (the name is
// taken) one wrapping ErrConflict; anything else that fails one wrapping
// ErrUnavailable, a 400 (a role the token lacks, an expiry in the past)
// with Keystone's reason. Fields that Keystone would refuse (an empty
// name, an access rule that AccessRule.Check refuses, an ID no Keystone
// gives), an authURL that protocol.NormalizeAuthURL refuses or a token no
// Keystone issues are refused before anything is sent.
func (c *Client) CreateApplicationCredential(ctx context.Context, authURL, token, userID string, want ApplicationCredential) (*ApplicationCredential, string, error) {
	u, err := applicationCredentialsURL(authURL, userID, "")
	if err != nil {
		return nil, "", err
	}
	data, err := createBody(want)
	if err != nil {
		return nil, "", err
	}
	r, err := withToken(http.MethodPost, u, token, false)
	if err != nil {
		return nil, "", err
	}
	r.body, r.noRetry = data, true
	ans, err := c.do(ctx, r)
	if err != nil {
		return nil, "", err
	}
	switch ans.status {
	case http.StatusCreated, http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, "", r.answerError(ans, ErrAuthFailed, ProblemNone, "")
	case http.StatusConflict:
		return nil, "", r.answerError(ans, ErrConflict, ProblemNone, "")
	case http.StatusBadRequest:
		return nil, "", r.answerError(ans, ErrUnavailable, ProblemNone, "keystone refused the application credential's settings")
	case http.StatusNotFound:
		return nil, "", r.answerError(ans, ErrUnavailable, ProblemRoles, "keystone found no such role, or no such API at the auth URL")
	default:
		return nil, "", r.unexpectedStatus(ans)
	}
	cred, secret, err := parseCreated(ans)
	if err != nil {
		return nil, "", r.malformed(ans, err)
	}
	c.debugf("keystone: application credential %s created on project %s, %d roles, %d access rules, unrestricted %t, expires %s",
		cred.ID, cred.ProjectID, len(cred.Roles), len(cred.AccessRules), cred.Unrestricted, expiryText(cred.ExpiresAt))
	return cred, secret, nil
}

// parseCreated checks the answer of a create:
// {"application_credential": {..., "secret": "..."}}. Its errors never
// hold the secret.
func parseCreated(ans *answer) (*ApplicationCredential, string, error) {
	var body struct {
		Credential *wireAppCred `json:"application_credential"`
	}
	if err := decodeBody(ans, &body); err != nil {
		return nil, "", err
	}
	if body.Credential == nil {
		return nil, "", errors.New(`a body without an "application_credential" object`)
	}
	cred, err := body.Credential.credential()
	if err != nil {
		return nil, "", fmt.Errorf("an application credential whose %v", err)
	}
	secret := body.Credential.Secret
	if secret == nil || *secret == "" {
		return nil, "", errors.New("an application credential without a secret")
	}
	if err := checkOpaque("a secret", *secret); err != nil {
		return nil, "", fmt.Errorf("an application credential with %v", err)
	}
	return cred, *secret, nil
}

// expiryText renders an expiry for a Debugf line.
func expiryText(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// ApplicationCredentials lists userID's application credentials, those
// called name only when name is not empty: GET
// {authURL}/users/{userID}/application_credentials[?name=NAME], expecting
// 200. Keystone lets a restricted application credential's token list
// them. 401 and 403 give an error wrapping ErrAuthFailed that quotes
// Keystone; the rest is as for Projects.
func (c *Client) ApplicationCredentials(ctx context.Context, authURL, token, userID, name string) ([]ApplicationCredential, error) {
	u, err := applicationCredentialsURL(authURL, userID, "")
	if err != nil {
		return nil, err
	}
	if name != "" {
		if !utf8.ValidString(name) {
			return nil, errors.New("keystone: the application credential name is not valid UTF-8")
		}
		u += "?" + url.Values{"name": {name}}.Encode()
	}
	creds, err := getList(ctx, c, u, token, "", parseApplicationCredentials)
	if err == nil {
		c.debugf("keystone: %d application credentials", len(creds))
	}
	return creds, err
}

// parseApplicationCredentials checks the answer of a list:
// {"application_credentials": [...], "links": {...}}.
func parseApplicationCredentials(ans *answer) ([]ApplicationCredential, error) {
	var body struct {
		Credentials *[]wireAppCred `json:"application_credentials"`
	}
	if err := decodeBody(ans, &body); err != nil {
		return nil, err
	}
	if body.Credentials == nil {
		return nil, errors.New(`a body without an "application_credentials" list`)
	}
	creds := make([]ApplicationCredential, 0, len(*body.Credentials))
	for i, w := range *body.Credentials {
		cred, err := w.credential()
		if err != nil {
			return nil, fmt.Errorf("application credential %d of the list, whose %v", i+1, err)
		}
		creds = append(creds, *cred)
	}
	return creds, nil
}

// DeleteApplicationCredential deletes userID's application credential id:
// DELETE {authURL}/users/{userID}/application_credentials/{id}, expecting
// 204 (or 200). A 404 whose message names id gives an error wrapping
// ErrNotFound; 401 and 403 (an expired token, a token of a restricted
// application credential) one wrapping ErrAuthFailed that quotes Keystone;
// the rest is as for Projects.
func (c *Client) DeleteApplicationCredential(ctx context.Context, authURL, token, userID, id string) error {
	if err := checkFields([2]string{"application credential ID", id}); err != nil {
		return err
	}
	u, err := applicationCredentialsURL(authURL, userID, id)
	if err != nil {
		return err
	}
	r, err := withToken(http.MethodDelete, u, token, false)
	if err != nil {
		return err
	}
	return c.remove(ctx, r, "application credential "+id+" deleted", "", func(ans *answer) error {
		if namesID(keystoneMessage(ans.body, r.secrets), id) {
			return r.answerError(ans, ErrNotFound, ProblemNone, "")
		}
		return r.unexpectedStatus(ans)
	})
}
