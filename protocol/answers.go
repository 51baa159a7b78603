package protocol

import (
	"encoding/json"
	"time"
)

// TokenResponse is the answer of `get --format json`.
type TokenResponse struct {
	Version   int       `json:"version"`
	Profile   string    `json:"profile"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	IssuedAt  time.Time `json:"issued_at"`
	AuthURL   string    `json:"auth_url"`
	ProjectID string    `json:"project_id"`
	Region    string    `json:"region"`
	Cached    bool      `json:"cached"`
}

// KeystoneAuthResponse is the answer of `get --format keystoneauth`: the
// token and Keystone's whole token body, catalog included.
type KeystoneAuthResponse struct {
	AuthToken string          `json:"auth_token"`
	Body      json.RawMessage `json:"body"`
}

// StoreResponse is the answer of `store`.
type StoreResponse struct {
	Version  int    `json:"version"`
	Profile  string `json:"profile"`
	Stored   bool   `json:"stored"`
	Verified bool   `json:"verified"`
	Settings
	// Keyring names the backend that keeps the secret: os, keyctl or pass;
	// absent when SecretCommand gives it.
	Keyring string `json:"keyring,omitempty"`
	// SecretCommand is the command that prints the secret each time a
	// token must be issued, when the profile has one (it keeps no secret
	// in a keychain).
	SecretCommand string     `json:"secret_command,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	// CloudsYAML, for store --cloud, is the clouds.yaml stanza (auth_type
	// vkc) that replaces the cloud's plaintext one.
	CloudsYAML string `json:"clouds_yaml,omitempty"`
	// SecretSentTo is the host (and port) of the auth URL that this store
	// sent the password or secret to, to prove it or to look projects
	// up; absent when it sent none (--no-verify).
	SecretSentTo string `json:"secret_sent_to,omitempty"`
}

// Project is one entry of the answer of `projects`.
type Project struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	DomainID string `json:"domain_id"`
	Enabled  bool   `json:"enabled"`
}

// EraseResponse is the answer of `erase`.
type EraseResponse struct {
	Version         int    `json:"version"`
	Profile         string `json:"profile"`
	Erased          bool   `json:"erased"`
	PasswordRemoved bool   `json:"password_removed"`
	TokensRemoved   int    `json:"tokens_removed"`
	Revoked         bool   `json:"revoked"`
	// SharedTokenKept says that the cached token was left alone because
	// another profile of the same identity still uses it.
	SharedTokenKept bool `json:"shared_token_kept,omitempty"`
	// SharedPasswordKept says that the password stayed in the keychain
	// because another profile of the same identity still uses it.
	SharedPasswordKept bool `json:"shared_password_kept,omitempty"`
	// SecretLeft, after `erase --force`, names the secret that could not
	// be deleted, for the user to delete by hand.
	SecretLeft *SecretLeft `json:"secret_left,omitempty"`
}

// SecretLeft is a secret `erase --force` could not delete: the backend,
// why, and each item that may hold it (the identity's item first; the
// others are where earlier versions kept it).
type SecretLeft struct {
	Keyring string     `json:"keyring"`
	Reason  string     `json:"reason"`
	Items   []ItemLeft `json:"items"`
}

// ItemLeft is one keychain item that may hold a secret left behind, and
// where it is (with the command that deletes it).
type ItemLeft struct {
	Item  string `json:"item"`
	Where string `json:"where"`
}

// ProfileInfo is one entry of the answer of `list`.
type ProfileInfo struct {
	Profile string `json:"profile"`
	Settings
	// Identity names whose secret the profile uses: one per user, domain
	// and Keystone, shared by that user's profiles.
	Identity string `json:"identity"`
	// Keyring is the backend that keeps the secret; absent when
	// SecretCommand gives it.
	Keyring string `json:"keyring,omitempty"`
	// KeyringItem is the identity's item in that backend (the account of
	// an OS keychain item, a pass entry's name, a kernel key's
	// description after "vkc-credential:").
	KeyringItem string `json:"keyring_item,omitempty"`
	// SecretCommand is the command that prints the secret, when the
	// profile has one.
	SecretCommand string     `json:"secret_command,omitempty"`
	ExpiresAt     *time.Time `json:"expires_at"`
}

// VersionResponse is the answer of `version`.
type VersionResponse struct {
	Version         int    `json:"version"`
	ProtocolVersion int    `json:"protocol_version"`
	Program         string `json:"program"`
	ProgramVersion  string `json:"program_version"`
	GoVersion       string `json:"go_version"`
	// Commit is the source revision the binary was built from, and
	// BuildDate when it was built (RFC 3339, UTC); "unknown" when the
	// build did not record them.
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date"`
}

// ErrorBody is the "error" member of an error answer.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse is what stdout carries on failure in the JSON formats.
type ErrorResponse struct {
	Version int       `json:"version"`
	Error   ErrorBody `json:"error"`
}

// DoctorResponse is the answer of `doctor --format json`.
type DoctorResponse struct {
	Version int     `json:"version"`
	Checks  []Check `json:"checks"`
	Passed  int     `json:"passed"`
	Failed  int     `json:"failed"`
	Skipped int     `json:"skipped"`
}

// Check is one check of doctor: its status is "ok", "fail" or "skip".
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}
