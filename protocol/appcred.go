package protocol

import "time"

// AppCredential is an application credential as `appcred` answers
// describe it: never its secret.
type AppCredential struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ProjectID   string `json:"project_id"`
	// ExpiresAt is when it stops signing in; null when it never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	Roles     []Role     `json:"roles"`
	// AccessRules, when not empty, are the only requests its tokens may
	// make.
	AccessRules []AccessRule `json:"access_rules"`
	// Unrestricted: its tokens may create and delete application
	// credentials.
	Unrestricted bool `json:"unrestricted"`
	// Profiles, in `appcred list`, are the profiles stored here that sign
	// in with it.
	Profiles []string `json:"profiles,omitempty"`
}

// Role is a role of an application credential.
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// AccessRule is an access rule of an application credential: requests
// of METHOD to PATH of the catalog's service SERVICE.
type AccessRule struct {
	Service string `json:"service"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// AppCredCreateResponse is the answer of `appcred create`: the store
// answer of the profile that signs in with the new credential, the
// credential, and, only for `--show-secret`, its secret.
type AppCredCreateResponse struct {
	StoreResponse
	ApplicationCredential AppCredential `json:"application_credential"`
	Secret                string        `json:"secret,omitempty"`
}

// AppCredDeleteResponse is the answer of `appcred delete`: the credential
// deleted, and the profiles that signed in with it, now erased.
type AppCredDeleteResponse struct {
	Version               int           `json:"version"`
	Deleted               bool          `json:"deleted"`
	ApplicationCredential AppCredential `json:"application_credential"`
	ProfilesErased        []string      `json:"profiles_erased"`
}
