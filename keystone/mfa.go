package keystone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// receiptHeader carries an auth receipt: in Keystone's 401 answer to a
// password that needs another factor, and back in the request that adds it.
const receiptHeader = "Openstack-Auth-Receipt"

// methodTOTP is the name of Keystone's TOTP auth method.
const methodTOTP = "totp"

// maxPasscodeBytes caps a passcode: TOTP passcodes are a few digits.
const maxPasscodeBytes = 64

// refusedReceipt says what a refused passcode suggests.
const refusedReceipt = "the passcode may be wrong or out of date, or the auth receipt expired (keystone keeps one 5 minutes by default)"

// ReceiptError is the error of IssuePassword and IssuePasswordUnscoped
// when Keystone accepted the password but the user's multi-factor rules
// ask for a TOTP passcode too. It wraps ErrMFARequired. Pass Receipt and
// UserID, with a passcode, to IssueWithReceipt.
type ReceiptError struct {
	// Receipt is the auth receipt, Keystone's Openstack-Auth-Receipt
	// header: it proves the password for a few minutes, so keep it like a
	// secret. Error and GoString never show it.
	Receipt string
	// UserID is the body's receipt.user.id, the user whose passcode
	// Keystone wants.
	UserID string
	// RequiredMethods is the body's required_auth_methods: the user's
	// rules, each a list of method names that together suffice. At least
	// one of them is met by the methods already used plus "totp".
	RequiredMethods [][]string

	method string // the request's method
	url    string // the request's URL, as displayURL renders it
}

// Error says that Keystone wants a TOTP passcode, naming the request and the
// rules, never the receipt.
func (e *ReceiptError) Error() string {
	return fmt.Sprintf("%v: %s %s answered 401 with an auth receipt: the password was accepted, and the user's rules (%s) ask for a TOTP passcode too; "+
		"get a passcode and send it with the receipt before the receipt expires",
		ErrMFARequired, e.method, e.url, rulesText(e.RequiredMethods))
}

// Unwrap returns ErrMFARequired.
func (e *ReceiptError) Unwrap() error { return ErrMFARequired }

// GoString is what %#v prints: the fields with the receipt masked.
func (e *ReceiptError) GoString() string {
	return fmt.Sprintf("&keystone.ReceiptError{Receipt:\"***\", UserID:%q, RequiredMethods:%#v}", e.UserID, e.RequiredMethods)
}

// rulesText renders rules of methods for a message: "password+totp or
// password+webauthn". The names are checked by parseReceipt.
func rulesText(rules [][]string) string {
	parts := make([]string, len(rules))
	for i, rule := range rules {
		parts[i] = strings.Join(rule, "+")
	}
	return strings.Join(parts, " or ")
}

// receiptBody is Keystone's 401 answer that comes with an auth receipt.
type receiptBody struct {
	Receipt *struct {
		Methods []string `json:"methods"`
		User    struct {
			ID *string `json:"id"`
		} `json:"user"`
	} `json:"receipt"`
	RequiredAuthMethods [][]string `json:"required_auth_methods"`
}

// receiptError judges a 401 with an auth receipt to r, which sent the
// methods sent: a *ReceiptError when adding a TOTP passcode meets one of
// the rules, ErrAuthFailed when none can be met that way, ErrUnavailable
// when the receipt or its body is malformed.
func (c *Client) receiptError(r *request, ans *answer, sent []string) error {
	receipt := strings.TrimSpace(ans.header.Get(receiptHeader))
	rec, err := parseReceipt(ans, receipt)
	if err != nil {
		return r.malformed(ans, err)
	}
	have := rec.methods
	if len(have) == 0 {
		have = sent
	}
	if !totpCompletes(rec.rules, have) {
		c.debugf("keystone: auth receipt of %d bytes, but no rule (%s) is met by adding totp to %s",
			len(receipt), rulesText(rec.rules), strings.Join(have, "+"))
		more := "more than the methods used (" + strings.Join(have, "+") + ")"
		if !slices.Contains(have, methodTOTP) {
			more += " and a TOTP passcode"
		}
		rules := "the user's rules are " + rulesText(rec.rules)
		if len(rec.rules) == 0 { // as for an application credential of a password+totp user
			rules = "none of the user's rules has " + strings.Join(have, "+") + " in it"
		}
		return r.answerError(ans, ErrAuthFailed, ProblemNone, fmt.Sprintf("keystone wants %s: %s, which only an administrator can change", more, rules))
	}
	c.debugf("keystone: auth receipt of %d bytes: %s accepted, the rules (%s) want a TOTP passcode too",
		len(receipt), strings.Join(have, "+"), rulesText(rec.rules))
	return &ReceiptError{Receipt: receipt, UserID: rec.userID, RequiredMethods: rec.rules,
		method: r.method, url: displayURL(r.url)}
}

// parsedReceipt is what parseReceipt found.
type parsedReceipt struct {
	userID  string
	methods []string   // the methods the receipt proves; may be empty
	rules   [][]string // required_auth_methods
}

// parseReceipt checks an auth receipt and the body that came with it. Its
// errors never hold the receipt.
func parseReceipt(ans *answer, receipt string) (*parsedReceipt, error) {
	if err := checkOpaque("an auth receipt", receipt); err != nil {
		return nil, err
	}
	if ans.tooLarge {
		return nil, fmt.Errorf("an auth receipt with a body larger than %d MiB", maxBodyBytes>>20)
	}
	var b receiptBody
	if err := json.Unmarshal(ans.body, &b); err != nil {
		return nil, fmt.Errorf("an auth receipt whose body is not the expected JSON object (%v)", err)
	}
	if b.Receipt == nil || b.Receipt.User.ID == nil {
		return nil, errors.New(`an auth receipt whose body has no "receipt" with a user id`)
	}
	if err := checkID(*b.Receipt.User.ID); err != nil {
		return nil, fmt.Errorf("an auth receipt whose user id is %v", err)
	}
	// An empty list is Keystone's answer when none of the user's rules
	// has the methods used in it; a missing one is no answer of Keystone's.
	if b.RequiredAuthMethods == nil {
		return nil, errors.New("an auth receipt without required_auth_methods")
	}
	for _, rule := range b.RequiredAuthMethods {
		if len(rule) == 0 {
			return nil, errors.New("an auth receipt with an empty rule in required_auth_methods")
		}
		for _, m := range rule {
			if err := checkMethod(m); err != nil {
				return nil, err
			}
		}
	}
	for _, m := range b.Receipt.Methods {
		if err := checkMethod(m); err != nil {
			return nil, err
		}
	}
	return &parsedReceipt{userID: *b.Receipt.User.ID, methods: b.Receipt.Methods, rules: b.RequiredAuthMethods}, nil
}

// checkMethod refuses an auth method name that no Keystone has: names are
// short lowercase words such as "password", "totp", "application_credential".
func checkMethod(m string) error {
	if m == "" || len(m) > maxIDBytes {
		return fmt.Errorf("an auth receipt with a method name that is empty or longer than %d bytes", maxIDBytes)
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return errors.New("an auth receipt with a method name that is not letters, digits, '_', '-' and '.'")
		}
	}
	return nil
}

// totpCompletes reports whether one of rules holds totp, which have lacks,
// and nothing else that have lacks.
func totpCompletes(rules [][]string, have []string) bool {
	if slices.Contains(have, methodTOTP) {
		return false
	}
	for _, rule := range rules {
		if !slices.Contains(rule, methodTOTP) {
			continue
		}
		met := true
		for _, m := range rule {
			if m != methodTOTP && !slices.Contains(have, m) {
				met = false
				break
			}
		}
		if met {
			return true
		}
	}
	return false
}

// ReceiptAuth is what IssueWithReceipt needs: the auth receipt of a
// *ReceiptError and a TOTP passcode.
type ReceiptAuth struct {
	// AuthURL is Keystone's v3 endpoint, the one that gave the receipt.
	AuthURL string
	// Receipt is ReceiptError.Receipt, sent back as the
	// Openstack-Auth-Receipt header.
	Receipt string
	// UserID is ReceiptError.UserID, sent as auth.identity.totp.user.id.
	UserID string
	// Passcode is the TOTP passcode, sent as
	// auth.identity.totp.user.passcode and nowhere else: no error, log line
	// or Debugf call ever holds it.
	Passcode string
	// ProjectID is the token's scope, sent as auth.scope.project.id; ""
	// asks for an unscoped token, as IssuePasswordUnscoped does.
	ProjectID string
}

// totpMethod is auth.identity.totp.
type totpMethod struct {
	User struct {
		ID       string `json:"id"`
		Passcode string `json:"passcode"`
	} `json:"user"`
}

// request builds the POST of IssueWithReceipt.
func (a *ReceiptAuth) request() (*request, error) {
	u, err := endpoint(a.AuthURL)
	if err != nil {
		return nil, err
	}
	if a.Receipt == "" {
		return nil, errors.New("keystone: no auth receipt given")
	}
	if err := checkOpaque("an auth receipt", a.Receipt); err != nil {
		return nil, fmt.Errorf("keystone: cannot send %v", err)
	}
	if err := checkID(a.UserID); err != nil {
		return nil, fmt.Errorf("keystone: the user ID is %v", err)
	}
	if err := checkFields([2]string{"passcode", a.Passcode}); err != nil {
		return nil, err
	}
	if len(a.Passcode) > maxPasscodeBytes || strings.ContainsFunc(a.Passcode, isSpaceOrControl) {
		return nil, fmt.Errorf("keystone: the passcode is longer than %d bytes or holds white space or control characters", maxPasscodeBytes)
	}
	if a.ProjectID != "" && !utf8.ValidString(a.ProjectID) {
		return nil, errors.New("keystone: the project ID is not valid UTF-8")
	}
	var body authRequest
	totp := &totpMethod{}
	totp.User.ID = a.UserID
	totp.User.Passcode = a.Passcode
	body.Auth.Identity = identity{Methods: []string{methodTOTP}, TOTP: totp}
	body.Auth.Scope = scope(a.ProjectID)
	h := http.Header{}
	h.Set(receiptHeader, a.Receipt)
	return postRequest(u, &body, h, a.Receipt, a.Passcode)
}

// IssueWithReceipt issues a token with the totp method and an auth receipt,
// the second step of a user with multi-factor rules: IssuePassword (or
// IssuePasswordUnscoped) gave a *ReceiptError, and a passcode was had.
// POST {AuthURL}/auth/tokens with the receipt as the Openstack-Auth-Receipt
// header and {"methods": ["totp"], "totp": {"user": {"id", "passcode"}}},
// scoped to ProjectID (or unscoped for ""). Keystone adds the receipt's
// methods to totp and checks the rules again.
//
// A wrong or stale passcode, or an expired receipt, is 401: an error
// wrapping ErrAuthFailed. Everything else is as for IssuePassword; the
// passcode and the receipt are never in an error or a Debugf line.
func (c *Client) IssueWithReceipt(ctx context.Context, a ReceiptAuth) (*Token, error) {
	r, err := a.request()
	if err != nil {
		return nil, err
	}
	return c.issue(ctx, r, issueOpts{sent: []string{methodTOTP}, refused: refusedReceipt})
}
