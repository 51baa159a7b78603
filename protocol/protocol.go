// Package protocol defines vkc-credential's wire format: the JSON request
// read from stdin, the answers written to stdout, and the error codes with
// their exit statuses.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"vkc-credential/keystone"
)

// Version is the protocol version this program speaks.
const Version = 1

// MaxRequestSize is the most stdin is read for a request.
const MaxRequestSize = 1 << 20

// MaxMinTTLSeconds bounds min_ttl_seconds.
const MaxMinTTLSeconds = 86400

// Request is the JSON object a caller may write to stdin. Every field is
// optional; an empty string means "not given".
type Request struct {
	Version        *int    `json:"version,omitempty"`
	Profile        string  `json:"profile,omitempty"`
	AuthURL        string  `json:"auth_url,omitempty"`
	ProjectID      string  `json:"project_id,omitempty"`
	Username       string  `json:"username,omitempty"`
	UserDomainName string  `json:"user_domain_name,omitempty"`
	Region         string  `json:"region,omitempty"`
	Interface      string  `json:"interface,omitempty"`
	MinTTLSeconds  *int    `json:"min_ttl_seconds,omitempty"`
	Refresh        bool    `json:"refresh,omitempty"`
	Password       *string `json:"password,omitempty"`
}

// DecodeRequest reads r to EOF (at most MaxRequestSize bytes) and decodes
// one request. Empty input, or input of only white space, is no request:
// it returns nil, nil. Anything but exactly one well-formed JSON object of
// known fields with valid values is an error of code CodeUsage.
func DecodeRequest(r io.Reader) (*Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRequestSize+1))
	if err != nil {
		return nil, Errorf(CodeUsage, "cannot read the request from stdin: %v", err)
	}
	if len(data) > MaxRequestSize {
		return nil, Errorf(CodeUsage, "the request on stdin is larger than %d bytes; send one small JSON object", MaxRequestSize)
	}
	return ParseRequest(data)
}

// ParseRequest decodes one request from data; see DecodeRequest.
func ParseRequest(data []byte) (*Request, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if !utf8.Valid(trimmed) {
		return nil, Errorf(CodeUsage, "the request on stdin is not valid UTF-8")
	}
	if trimmed[0] != '{' {
		return nil, Errorf(CodeUsage, "the request on stdin must be one JSON object, like {\"version\": 1, \"profile\": \"prod\"}")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return nil, Errorf(CodeUsage, "bad request on stdin: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errorf(CodeUsage, "bad request on stdin: data after the JSON object; send exactly one object")
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

func (req *Request) validate() error {
	if req.Version != nil && *req.Version != Version {
		return Errorf(CodeUsage, "unsupported request version %d; this vkc-credential speaks version %d", *req.Version, Version)
	}
	if req.MinTTLSeconds != nil && (*req.MinTTLSeconds < 0 || *req.MinTTLSeconds > MaxMinTTLSeconds) {
		return Errorf(CodeUsage, "min_ttl_seconds must be between 0 and %d, not %d", MaxMinTTLSeconds, *req.MinTTLSeconds)
	}
	if req.Profile != "" {
		if err := CheckProfileName(req.Profile); err != nil {
			return err
		}
	}
	if req.AuthURL != "" {
		if _, err := keystone.NormalizeAuthURL(req.AuthURL); err != nil {
			return Errorf(CodeUsage, "bad auth_url in the request: %v", err)
		}
	}
	fields := []struct{ name, value string }{
		{"auth_url", req.AuthURL}, {"project_id", req.ProjectID}, {"username", req.Username},
		{"user_domain_name", req.UserDomainName}, {"region", req.Region}, {"interface", req.Interface},
	}
	for _, f := range fields {
		if err := CheckSetting(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}

// CheckSetting refuses a setting value with control characters or of
// absurd length; such a value is never a real Keystone setting.
func CheckSetting(name, value string) error {
	if len(value) > 1024 {
		return Errorf(CodeUsage, "%s is longer than 1024 bytes", name)
	}
	if strings.IndexFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return Errorf(CodeUsage, "%s holds a control character", name)
	}
	return nil
}

func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q must be of JSON type %s, not %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON object is truncated"
	}
	// encoding/json reports unknown fields as `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "ptr":
		return "number"
	}
	return kind
}

// CheckProfileName reports whether name is a valid profile name: 1 to 64
// ASCII letters, digits, '.', '_' and '-', not starting with '.'.
func CheckProfileName(name string) error {
	ok := len(name) >= 1 && len(name) <= 64 && name[0] != '.'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return Errorf(CodeUsage, "invalid profile name %q: use 1 to 64 ASCII letters, digits, '.', '_' or '-', not starting with '.'", name)
	}
	return nil
}

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
	Version        int        `json:"version"`
	Profile        string     `json:"profile"`
	Stored         bool       `json:"stored"`
	Verified       bool       `json:"verified"`
	AuthURL        string     `json:"auth_url"`
	ProjectID      string     `json:"project_id"`
	Username       string     `json:"username"`
	UserDomainName string     `json:"user_domain_name"`
	Region         string     `json:"region"`
	Interface      string     `json:"interface"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
}

// EraseResponse is the answer of `erase`.
type EraseResponse struct {
	Version         int    `json:"version"`
	Profile         string `json:"profile"`
	Erased          bool   `json:"erased"`
	PasswordRemoved bool   `json:"password_removed"`
	TokensRemoved   int    `json:"tokens_removed"`
	Revoked         bool   `json:"revoked"`
}

// ProfileInfo is one entry of the answer of `list`.
type ProfileInfo struct {
	Profile        string     `json:"profile"`
	AuthURL        string     `json:"auth_url"`
	ProjectID      string     `json:"project_id"`
	Username       string     `json:"username"`
	UserDomainName string     `json:"user_domain_name"`
	Region         string     `json:"region"`
	Interface      string     `json:"interface"`
	ExpiresAt      *time.Time `json:"expires_at"`
}

// VersionResponse is the answer of `version`.
type VersionResponse struct {
	Version         int    `json:"version"`
	ProtocolVersion int    `json:"protocol_version"`
	Program         string `json:"program"`
	ProgramVersion  string `json:"program_version"`
	GoVersion       string `json:"go_version"`
}
