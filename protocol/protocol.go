// Package protocol defines vkc-credential's wire format: the JSON request
// read from stdin, the settings it shares with the stored profiles, the
// answers written to stdout, and the error codes with their exit statuses.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version is the protocol version this program speaks.
const Version = 1

// maxRequestSize is the most stdin is read for a request.
const maxRequestSize = 1 << 20

// MaxMinTTLSeconds bounds min_ttl_seconds.
const MaxMinTTLSeconds = 86400

// maxSettingBytes bounds every setting: no real Keystone value comes near.
const maxSettingBytes = 1024

// ErrBadRequest matches (errors.Is) every refusal of a request, a setting
// or a profile name: input no caller should have sent. Its class is
// CodeUsage.
var ErrBadRequest = NewError(CodeUsage, "bad request")

// refusal is a refusal of input: its message is the reason alone, and it
// wraps each of kinds, ErrBadRequest, and what the reason wraps.
type refusal struct {
	err   error
	kinds []error
}

func (r *refusal) Error() string { return r.err.Error() }

// Unwrap returns the refusal's kinds, ErrBadRequest and its reason.
func (r *refusal) Unwrap() []error {
	return append(append(r.kinds[:len(r.kinds):len(r.kinds)], ErrBadRequest), r.err)
}

// refuse returns a refusal with a formatted message; %w wraps as with
// fmt.Errorf.
func refuse(format string, args ...any) error {
	return &refusal{err: fmt.Errorf(format, args...)}
}

// Settings are a profile's non-secret settings. The request, the stored
// profile and the answers share this one type; an empty field means "not
// given".
type Settings struct {
	AuthURL        string `json:"auth_url,omitempty"`
	ProjectID      string `json:"project_id,omitempty"`
	Username       string `json:"username,omitempty"`
	UserDomainName string `json:"user_domain_name,omitempty"`
	Region         string `json:"region,omitempty"`
	Interface      string `json:"interface,omitempty"`
	// ApplicationCredentialID, when set, names an application credential
	// whose secret stands in for the user's password; it fixes the user
	// and the project.
	ApplicationCredentialID string `json:"application_credential_id,omitempty"`
}

// Fill sets each empty field of s from lower, a source of lower
// precedence.
func (s *Settings) Fill(lower Settings) {
	for i, f := range s.fields() {
		if *f.value == "" {
			*f.value = *lower.fields()[i].value
		}
	}
}

// setting is one field of Settings, by its wire name.
type setting struct {
	name  string
	value *string
	// ascii: the value reaches a shell or a header, so it must be
	// printable ASCII; otherwise control and format characters are refused.
	ascii bool
}

// fields lists the settings in a fixed order, so that checks report the
// same field first every time.
func (s *Settings) fields() []setting {
	return []setting{
		{"auth_url", &s.AuthURL, true},
		{"project_id", &s.ProjectID, true},
		{"username", &s.Username, false},
		{"user_domain_name", &s.UserDomainName, true},
		{"region", &s.Region, true},
		{"interface", &s.Interface, true},
		{"application_credential_id", &s.ApplicationCredentialID, true},
	}
}

// Check refuses a value no Keystone setting has: longer than 1 KiB, with
// a control or format character, or, for every field but username (which
// never reaches a shell), anything but printable ASCII. A non-empty auth
// URL must pass NormalizeAuthURL; Check does not rewrite it. Fields are
// checked in a fixed order.
func (s Settings) Check() error {
	for _, f := range s.fields() {
		if err := checkSetting(f); err != nil {
			return err
		}
	}
	if s.AuthURL != "" {
		if _, err := NormalizeAuthURL(s.AuthURL); err != nil {
			return err
		}
	}
	return nil
}

func checkSetting(f setting) error {
	v := *f.value
	if len(v) > maxSettingBytes {
		return refuse("%s is longer than %d bytes", f.name, maxSettingBytes)
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }); i >= 0 {
		return refuse("%s holds a control or format character at byte %d", f.name, i)
	}
	if f.ascii {
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return refuse("%s holds a character that is not printable ASCII at byte %d", f.name, i)
			}
		}
	}
	return nil
}

// Request is the JSON object a caller may write to stdin. Every field is
// optional.
type Request struct {
	Version *int   `json:"version,omitempty"`
	Profile string `json:"profile,omitempty"`
	Settings
	MinTTLSeconds *int    `json:"min_ttl_seconds,omitempty"`
	Refresh       bool    `json:"refresh,omitempty"`
	Password      *string `json:"password,omitempty"`
}

// DecodeRequest reads r to EOF (at most maxRequestSize bytes) and decodes
// one request. Empty input, or input of only white space, is no request:
// it returns nil, nil. Anything but exactly one well-formed JSON object of
// known fields with valid values is an error matching ErrBadRequest.
func DecodeRequest(r io.Reader) (*Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRequestSize+1))
	if err != nil {
		return nil, refuse("cannot read the request from stdin: %v", err)
	}
	if len(data) > maxRequestSize {
		return nil, refuse("the request on stdin is larger than %d bytes; send one small JSON object", maxRequestSize)
	}
	return parseRequest(data)
}

// ErrNotJSON matches the refusal of stdin that does not even start
// like a JSON object, such as a piped password: the command line can then
// say what was probably meant.
var ErrNotJSON = NewError(CodeUsage, "stdin does not hold a JSON object")

// parseRequest decodes one request from data; see DecodeRequest.
func parseRequest(data []byte) (*Request, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if !utf8.Valid(trimmed) {
		return nil, &refusal{err: errors.New("the request on stdin is not valid UTF-8"), kinds: []error{ErrNotJSON}}
	}
	if trimmed[0] != '{' {
		return nil, &refusal{err: errors.New(`the request on stdin must be one JSON object, like {"version": 1, "profile": "prod"}`), kinds: []error{ErrNotJSON}}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		return nil, refuse("bad request on stdin: %s", describeJSONError(err, trimmed))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, refuse("bad request on stdin: data after the JSON object; send exactly one object")
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

func (req *Request) validate() error {
	if req.Version != nil && *req.Version != Version {
		return refuse("unsupported request version %d; this vkc-credential speaks version %d", *req.Version, Version)
	}
	if req.MinTTLSeconds != nil && (*req.MinTTLSeconds < 0 || *req.MinTTLSeconds > MaxMinTTLSeconds) {
		return refuse("min_ttl_seconds must be between 0 and %d, not %d", MaxMinTTLSeconds, *req.MinTTLSeconds)
	}
	if req.Profile != "" {
		if err := CheckProfileName(req.Profile); err != nil {
			return err
		}
	}
	if err := req.Settings.Check(); err != nil {
		return refuse("%w (in the request)", err)
	}
	return nil
}

// describeJSONError says what is wrong with a request that did not
// decode; data is the request, for the byte a syntax error points at.
func describeJSONError(err error, data []byte) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q must be of JSON type %s, not %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		// Not syntaxErr's own text: it quotes the offending character,
		// which may be a piece of a password.
		if i := syntaxErr.Offset - 1; i >= 0 && i < int64(len(data)) && data[i] < 0x20 {
			return fmt.Sprintf("invalid JSON at byte %d: a raw control character (0x%02x), which a JSON string must escape", syntaxErr.Offset, data[i])
		}
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON object is truncated"
	}
	// encoding/json reports unknown fields as `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "bool":
		return "boolean"
	case "int", "ptr":
		return "number"
	}
	return kind
}

// CheckProfileName refuses a profile name that is not 1 to 64 ASCII
// letters, digits, '.', '_' and '-', or that starts with '.', or that has
// the shape of an identity's keychain item ("identity-" and hex digits, in
// any case): a 1.0 profile's secret is kept under the profile's name, so
// such a name could read or delete another identity's secret.
func CheckProfileName(name string) error {
	ok := len(name) >= 1 && len(name) <= 64 && name[0] != '.'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return refuse("invalid profile name %q: use 1 to 64 ASCII letters, digits, '.', '_' or '-', not starting with '.'", name)
	}
	if isIdentityItem(name) {
		return refuse("invalid profile name %q: names of the form identity-HEX are kept for vkc-credential's keychain items; choose another name", name)
	}
	return nil
}

// identityItemPrefix starts the name of every identity's keychain item.
const identityItemPrefix = "identity-"

// isIdentityItem reports whether name is "identity-" followed by one or
// more hex digits, ignoring case (some keychains compare names without
// case: Windows Credential Manager, pass on a macOS file system).
func isIdentityItem(name string) bool {
	if len(name) <= len(identityItemPrefix) || !strings.EqualFold(name[:len(identityItemPrefix)], identityItemPrefix) {
		return false
	}
	for i := len(identityItemPrefix); i < len(name); i++ {
		c := name[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
