package keystone

// The body of POST auth/tokens, and judging its answer: what every way
// of issuing a token shares.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// authRequest is the body of POST /v3/auth/tokens.
type authRequest struct {
	Auth struct {
		Identity identity `json:"identity"`
		// Scope is a projectScope, the string "unscoped", or nil for none
		// (an application credential fixes its own).
		Scope any `json:"scope,omitempty"`
	} `json:"auth"`
}

// identity is auth.identity: the methods and, for each, its credentials.
type identity struct {
	Methods               []string               `json:"methods"`
	Password              *passwordMethod        `json:"password,omitempty"`
	ApplicationCredential *applicationCredential `json:"application_credential,omitempty"`
	TOTP                  *totpMethod            `json:"totp,omitempty"`
	Token                 *tokenMethod           `json:"token,omitempty"`
}

// projectScope is auth.scope for a project.
type projectScope struct {
	Project struct {
		ID string `json:"id"`
	} `json:"project"`
}

// scope returns auth.scope for projectID: the project, or explicitly
// unscoped for "" (without a scope Keystone would scope the token to the
// user's default project).
func scope(projectID string) any {
	if projectID == "" {
		return "unscoped"
	}
	var s projectScope
	s.Project.ID = projectID
	return s
}

// postRequest builds a POST of auth/tokens to u with body as JSON; secrets
// are masked in anything Keystone sends back.
func postRequest(u string, body *authRequest, header http.Header, secrets ...string) (*request, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("keystone: cannot encode the request: %w", err)
	}
	return &request{method: http.MethodPost, url: u, body: data, header: header, secrets: secrets}, nil
}

// issueOpts says how issue judges an answer.
type issueOpts struct {
	sent        []string // the methods sent
	refused     string   // what a 401 or 403 suggests, beyond Keystone's message; "" for nothing
	needProject bool     // a token without a project is a malformed answer
	// missingID, when set, is the ID of the credential sent: a 404 whose
	// message names it means the credential does not exist (Keystone
	// answers so for an application credential that was deleted or never
	// was), which is ErrAuthFailed saying missing.
	missingID, missing string
	// goneIs404: a 404 means Keystone cannot validate the token sent (it
	// expired or was revoked), which is ErrAuthFailed saying refused.
	goneIs404 bool
}

// issue sends r, a POST of auth/tokens, and judges the answer (see
// IssuePassword) as o says.
func (c *Client) issue(ctx context.Context, r *request, o issueOpts) (*Token, error) {
	ans, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	switch ans.status {
	case http.StatusCreated, http.StatusOK:
	case http.StatusUnauthorized:
		if ans.header.Get(receiptHeader) != "" {
			return nil, c.receiptError(r, ans, o.sent)
		}
		return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.refused)
	case http.StatusForbidden:
		return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.refused)
	case http.StatusNotFound:
		if o.missingID != "" && namesID(keystoneMessage(ans.body, r.secrets), o.missingID) {
			return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.missing)
		}
		if o.goneIs404 {
			return nil, r.answerError(ans, ErrAuthFailed, ProblemNone, o.refused)
		}
		return nil, r.unexpectedStatus(ans)
	default:
		return nil, r.unexpectedStatus(ans)
	}
	tok, err := parseToken(ans)
	if err == nil && o.needProject && tok.ProjectID == "" {
		err = errors.New("a token without a project, which this method always gives")
	}
	if err != nil {
		return nil, r.malformed(ans, err)
	}
	tok.ReceivedAt = ans.receivedAt
	scoped := "unscoped"
	if tok.ProjectID != "" {
		scoped = "scoped to a project"
	}
	c.debugf("keystone: token of %d bytes, %s, issued at %s, expires at %s (lifetime %s), body of %d bytes",
		len(tok.ID), scoped, tok.IssuedAt.Format(time.RFC3339), tok.ExpiresAt.Format(time.RFC3339),
		tok.ExpiresAt.Sub(tok.IssuedAt), len(tok.Body))
	return tok, nil
}
