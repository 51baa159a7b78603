package keystone

import (
	"encoding/json"
	"errors"
	"fmt"
)

// TokenInfo is what a token's body says about its user and scope: what
// managing the user's application credentials needs. ParseTokenInfo reads
// it from Token.Body (or a cached copy of it), so that a token's hot path
// never pays for decoding it.
type TokenInfo struct {
	// UserID is token.user.id.
	UserID string
	// ProjectID is token.project.id; "" for a token without a project.
	ProjectID string
	// Roles are token.roles: the user's roles on the project, implied
	// ones included.
	Roles []Role
	// Services are the types of the catalog's services (token.catalog[].type),
	// in the catalog's order: the services an access rule can name.
	Services []string
	// ApplicationCredentialID is token.application_credential.id, set when
	// the token was issued by an application credential; Restricted is
	// then its restricted flag (Keystone lets only unrestricted ones
	// create or delete application credentials).
	ApplicationCredentialID string
	Restricted              bool
}

// ParseTokenInfo reads a TokenInfo from Keystone's token body
// ({"token": {...}}). A body without a user ID, or with an ID, name or
// service type that no Keystone gives, is an error that names the field,
// never its value.
func ParseTokenInfo(body []byte) (*TokenInfo, error) {
	var env struct {
		Token json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("keystone: the token body cannot be decoded (%v)", err)
	}
	var t struct {
		User *struct {
			ID *string `json:"id"`
		} `json:"user"`
		Roles   []wireRole `json:"roles"`
		Catalog []struct {
			Type *string `json:"type"`
		} `json:"catalog"`
		AppCred *struct {
			ID         *string `json:"id"`
			Restricted *bool   `json:"restricted"`
		} `json:"application_credential"`
	}
	if err := json.Unmarshal(env.Token, &t); err != nil {
		return nil, fmt.Errorf("keystone: the token body cannot be decoded (%v)", err)
	}
	if t.User == nil || t.User.ID == nil {
		return nil, errors.New("keystone: the token body has no user id")
	}
	if err := checkID(*t.User.ID); err != nil {
		return nil, fmt.Errorf("keystone: the token's user id is %v", err)
	}
	projectID, err := tokenProject(env.Token)
	if err != nil {
		return nil, fmt.Errorf("keystone: %v", err)
	}
	info := &TokenInfo{UserID: *t.User.ID, ProjectID: projectID}
	if info.Roles, err = parseRoles(t.Roles); err != nil {
		return nil, fmt.Errorf("keystone: the token's %v", err)
	}
	for i, s := range t.Catalog {
		if s.Type == nil || !isServiceType(*s.Type) {
			return nil, fmt.Errorf("keystone: the type of service %d of the token's catalog is not 1 to %d letters, digits and '-'", i+1, maxIDBytes)
		}
		info.Services = append(info.Services, *s.Type)
	}
	if ac := t.AppCred; ac != nil {
		if ac.ID == nil || checkID(*ac.ID) != nil {
			return nil, fmt.Errorf("keystone: the token's application_credential id is not 1 to %d printable ASCII characters", maxIDBytes)
		}
		info.ApplicationCredentialID = *ac.ID
		// Keystone writes "restricted"; without it, assume the worst.
		info.Restricted = ac.Restricted == nil || *ac.Restricted
	}
	return info, nil
}
