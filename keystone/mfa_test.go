package keystone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// receiptAnswer is Keystone's body of a 401 with an auth receipt, for a
// password that the user's rules find not enough.
func receiptAnswer(methods []string, rules [][]string) string {
	b, _ := json.Marshal(map[string]any{
		"receipt": map[string]any{
			"methods": methods,
			"user": map[string]any{"id": "u-42", "name": "alice",
				"domain": map[string]any{"id": "d-1", "name": "users"}},
			"expires_at": "2026-11-27T17:36:08.000000Z", "issued_at": goodIssued,
		},
		"required_auth_methods": rules,
	})
	return string(b)
}

// writeReceipt answers like Keystone asking for more methods.
func writeReceipt(w http.ResponseWriter, receipt, body string) {
	w.Header().Set("Openstack-Auth-Receipt", receipt)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, body)
}

// checkReceiptErrorShown checks that neither the message nor %#v of err
// shows the receipt.
func checkReceiptErrorShown(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assertNoSecrets(t, "a rendering of the error", s)
	}
}

func TestIssuePasswordMFARequired(t *testing.T) {
	tests := []struct {
		name    string
		methods []string
		rules   [][]string
	}{
		{"password then totp", []string{"password"}, [][]string{{"password", "totp"}}},
		{"rule in another order, beside one not met", []string{"password"}, [][]string{{"password", "webauthn"}, {"totp", "password"}}},
		{"receipt without methods: those sent count", nil, [][]string{{"password", "totp"}}},
		{"totp alone", []string{"password"}, [][]string{{"totp"}}},
	}
	for _, tt := range tests {
		for _, unscoped := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s unscoped %v", tt.name, unscoped), func(t *testing.T) {
				f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
					writeReceipt(w, testReceipt, receiptAnswer(tt.methods, tt.rules))
				})
				h := newHarness(t)
				a := testAuth(f.authURL())
				issue := h.c.IssuePassword
				if unscoped {
					a.ProjectID = ""
					issue = h.c.IssuePasswordUnscoped
				}
				tok, err := issue(context.Background(), a)
				if tok != nil {
					t.Errorf("got a token %+v", tok)
				}
				checkErr(t, err, ErrMFARequired)
				checkReceiptErrorShown(t, err)
				if errors.Is(err, ErrAuthFailed) || errors.Is(err, ErrUnavailable) {
					t.Errorf("error %q wraps ErrAuthFailed or ErrUnavailable", err)
				}
				var rerr *ReceiptError
				if !errors.As(err, &rerr) {
					t.Fatalf("error %#v is not a *ReceiptError", err)
				}
				if rerr.Receipt != testReceipt || rerr.UserID != "u-42" || !reflect.DeepEqual(rerr.RequiredMethods, tt.rules) {
					t.Errorf("ReceiptError %+v", *rerr)
				}
				for _, m := range []string{"401 with an auth receipt", "TOTP passcode", "/v3/auth/tokens", "(" + rulesText(tt.rules) + ")"} {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				if f.hits() != 1 {
					t.Errorf("%d requests, want 1", f.hits())
				}
			})
		}
	}
}

func TestIssuePasswordReceiptNotMetByTOTP(t *testing.T) {
	tests := []struct {
		name    string
		methods []string
		rules   [][]string
		mention string
	}{
		{"another factor", []string{"password"}, [][]string{{"password", "webauthn"}}, "password+webauthn"},
		{"totp and another", []string{"password"}, [][]string{{"password", "totp", "webauthn"}}, "password+totp+webauthn"},
		{"totp used already", []string{"password", "totp"}, [][]string{{"password", "totp"}}, "more than the methods used (password+totp): the user"},
		// Keystone's answer to an application credential of a password+totp user.
		{"no rule has the method", []string{"application_credential"}, [][]string{}, "none of the user's rules has application_credential in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeReceipt(w, testReceipt, receiptAnswer(tt.methods, tt.rules))
			})
			h := newHarness(t)
			_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			checkErr(t, err, ErrAuthFailed)
			if errors.Is(err, ErrMFARequired) {
				t.Errorf("error %q wraps ErrMFARequired", err)
			}
			if !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), "only an administrator can change") {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestIssuePassword401WithoutReceiptIsNotMFA(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		// The body of a receipt, but no header: plain 401.
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, receiptAnswer([]string{"password"}, [][]string{{"password", "totp"}}))
	})
	h := newHarness(t)
	_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
	checkErr(t, err, ErrAuthFailed)
	if errors.Is(err, ErrMFARequired) {
		t.Errorf("error %q wraps ErrMFARequired", err)
	}
}

func TestMalformedReceipts(t *testing.T) {
	good := receiptAnswer([]string{"password"}, [][]string{{"password", "totp"}})
	tests := []struct {
		name    string
		receipt string
		body    string
		mention string
	}{
		{"receipt with a space", "gAAAA receipt", good, "not printable ASCII"},
		{"receipt not ASCII", testReceipt + "é", good, "not printable ASCII"},
		{"receipt over 8 KiB", testReceipt + strings.Repeat("A", maxTokenBytes), good, "larger than 8 KiB"},
		{"body not JSON", testReceipt, "<html>", "not the expected JSON object"},
		{"rules not lists", testReceipt, `{"receipt": {"user": {"id": "u"}}, "required_auth_methods": ["password"]}`, "not the expected JSON object"},
		{"no receipt", testReceipt, `{"required_auth_methods": [["password", "totp"]]}`, `no "receipt" with a user id`},
		{"no user id", testReceipt, `{"receipt": {"user": {}}, "required_auth_methods": [["password", "totp"]]}`, `no "receipt" with a user id`},
		{"user id too long", testReceipt, receiptWithUser(strings.Repeat("u", 65)), "user id is not 1 to 64 printable ASCII"},
		{"user id with a space", testReceipt, receiptWithUser("u 1"), "user id is not 1 to 64 printable ASCII"},
		{"no rules", testReceipt, `{"receipt": {"user": {"id": "u"}}}`, "without required_auth_methods"},
		{"null rules", testReceipt, `{"receipt": {"user": {"id": "u"}}, "required_auth_methods": null}`, "without required_auth_methods"},
		{"empty rule", testReceipt, `{"receipt": {"user": {"id": "u"}}, "required_auth_methods": [[]]}`, "an empty rule"},
		{"hostile method", testReceipt, `{"receipt": {"user": {"id": "u"}}, "required_auth_methods": [["password", "to\u202etp"]]}`, "method name that is not letters"},
		{"empty method", testReceipt, `{"receipt": {"user": {"id": "u"}}, "required_auth_methods": [["password", ""]]}`, "method name that is empty"},
		{"hostile receipt method", testReceipt, `{"receipt": {"methods": ["pass\nword"], "user": {"id": "u"}}, "required_auth_methods": [["totp"]]}`, "method name that is not letters"},
		{"body over 8 MiB", testReceipt, good + strings.Repeat(" ", maxBodyBytes), "larger than 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeReceipt(w, tt.receipt, tt.body) })
			h := newHarness(t)
			_, err := h.c.IssuePassword(context.Background(), testAuth(f.authURL()))
			checkErr(t, err, ErrUnavailable)
			if !strings.Contains(err.Error(), "malformed answer") || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not say malformed answer ... %s", err, tt.mention)
			}
			if strings.ContainsRune(err.Error(), '\u202e') {
				t.Errorf("error %q holds a format character from the network", err)
			}
			if errors.Is(err, ErrMFARequired) || f.hits() != 1 {
				t.Errorf("error %q after %d requests", err, f.hits())
			}
		})
	}
}

// receiptWithUser is a receipt body whose user id is id.
func receiptWithUser(id string) string {
	b, _ := json.Marshal(map[string]any{"receipt": map[string]any{"user": map[string]any{"id": id}},
		"required_auth_methods": [][]string{{"password", "totp"}}})
	return string(b)
}

func testReceiptAuth(authURL string) ReceiptAuth {
	return ReceiptAuth{AuthURL: authURL, Receipt: testReceipt, UserID: "u-42", Passcode: testPasscode, ProjectID: "p-123"}
}

func TestIssueWithReceipt(t *testing.T) {
	for _, projectID := range []string{"p-123", ""} {
		t.Run("project "+projectID, func(t *testing.T) {
			body := goodBody
			if projectID == "" {
				body = `{"token": {"methods": ["password", "totp"], "issued_at": "` + goodIssued + `", "expires_at": "` + goodExpires + `"}}`
			}
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, body) })
			h := newHarness(t)
			a := testReceiptAuth(f.authURL())
			a.ProjectID = projectID
			tok, err := h.c.IssueWithReceipt(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			if tok.ID != testToken || tok.ProjectID != projectID || string(tok.Body) != body {
				t.Errorf("token %+v", tok)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPost || r.path != "/v3/auth/tokens" || r.header.Get("Openstack-Auth-Receipt") != testReceipt {
				t.Errorf("request %s %s with receipt %q", r.method, r.path, r.header.Get("Openstack-Auth-Receipt"))
			}
			var got any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			var scope any = "unscoped"
			if projectID != "" {
				scope = map[string]any{"project": map[string]any{"id": projectID}}
			}
			want := map[string]any{"auth": map[string]any{
				"identity": map[string]any{
					"methods": []any{"totp"},
					"totp":    map[string]any{"user": map[string]any{"id": "u-42", "passcode": testPasscode}},
				},
				"scope": scope,
			}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("request body\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestIssueWithReceiptRefused(t *testing.T) {
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
		want    error
		mention string
	}{
		{"wrong passcode", func(w http.ResponseWriter) {
			writeError(w, 401, "Invalid username or TOTP passcode "+testPasscode)
		}, ErrAuthFailed, "the passcode may be wrong or out of date"},
		{"expired receipt", func(w http.ResponseWriter) {
			writeError(w, 401, "Could not find auth receipt: "+testReceipt+".")
		}, ErrAuthFailed, "the auth receipt expired"},
		{"403", func(w http.ResponseWriter) { writeError(w, 403, "no") }, ErrAuthFailed, "403"},
		{"yet another receipt", func(w http.ResponseWriter) {
			writeReceipt(w, testReceipt+"2", receiptAnswer([]string{"password", "totp"}, [][]string{{"password", "totp", "webauthn"}}))
		}, ErrAuthFailed, "password+totp+webauthn"},
		{"400", func(w http.ResponseWriter) { writeError(w, 400, "bad") }, ErrUnavailable, "400"},
		{"token without times", func(w http.ResponseWriter) { writeToken(w, 201, `{"token": {}}`) }, ErrUnavailable, "malformed answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { tt.respond(w) })
			h := newHarness(t)
			_, err := h.c.IssueWithReceipt(context.Background(), testReceiptAuth(f.authURL()))
			checkErr(t, err, tt.want)
			if errors.Is(err, ErrMFARequired) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q, or wraps ErrMFARequired", err, tt.mention)
			}
		})
	}
}

func TestIssueWithReceiptRefusesBeforeSending(t *testing.T) {
	f := newFakeKeystone(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeToken(w, 201, goodBody) })
	h := newHarness(t)
	h.c.Debugf("start") // no request is made
	for name, mutate := range map[string]func(*ReceiptAuth){
		"plain http remote":     func(a *ReceiptAuth) { a.AuthURL = "http://example.com/v3" },
		"no receipt":            func(a *ReceiptAuth) { a.Receipt = "" },
		"receipt with CRLF":     func(a *ReceiptAuth) { a.Receipt = testReceipt + "\r\nX-Evil: 1" },
		"no user ID":            func(a *ReceiptAuth) { a.UserID = "" },
		"user ID with a space":  func(a *ReceiptAuth) { a.UserID = "u 42" },
		"no passcode":           func(a *ReceiptAuth) { a.Passcode = "" },
		"passcode with newline": func(a *ReceiptAuth) { a.Passcode = testPasscode + "\n" },
		"passcode too long":     func(a *ReceiptAuth) { a.Passcode = testPasscode + strings.Repeat("1", maxPasscodeBytes) },
		"passcode not UTF-8":    func(a *ReceiptAuth) { a.Passcode = testPasscode + "\xff" },
		"project not UTF-8":     func(a *ReceiptAuth) { a.ProjectID = "p\xff" },
	} {
		a := testReceiptAuth(f.authURL())
		mutate(&a)
		_, err := h.c.IssueWithReceipt(context.Background(), a)
		if err == nil {
			t.Errorf("%s: IssueWithReceipt succeeded", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		assertNoSecrets(t, "error", err.Error())
		if strings.Contains(err.Error(), "X-Evil") {
			t.Errorf("%s: error %q quotes the receipt", name, err)
		}
	}
	if f.hits() != 0 {
		t.Errorf("%d requests were sent", f.hits())
	}
}

func TestReceiptErrorRendering(t *testing.T) {
	e := &ReceiptError{Receipt: testReceipt, UserID: "u-42", RequiredMethods: [][]string{{"password", "totp"}, {"password", "webauthn"}},
		method: "POST", url: "https://h/v3/auth/tokens"}
	want := "keystone requires a second factor: POST https://h/v3/auth/tokens answered 401 with an auth receipt: the password was accepted, " +
		"and the user's rules (password+totp or password+webauthn) ask for a TOTP passcode too; get a passcode and send it with the receipt before the receipt expires"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%q, want\n%q", got, want)
	}
	wantGo := `&keystone.ReceiptError{Receipt:"***", UserID:"u-42", RequiredMethods:[][]string{[]string{"password", "totp"}, []string{"password", "webauthn"}}}`
	if got := fmt.Sprintf("%#v", e); got != wantGo {
		t.Errorf("%%#v =\n%s, want\n%s", got, wantGo)
	}
	if !errors.Is(e, ErrMFARequired) || errors.Is(e, ErrAuthFailed) {
		t.Error("a ReceiptError must wrap ErrMFARequired only")
	}
}

func TestTOTPCompletes(t *testing.T) {
	pw := []string{"password"}
	for _, tt := range []struct {
		rules [][]string
		have  []string
		want  bool
	}{
		{[][]string{{"password", "totp"}}, pw, true},
		{[][]string{{"totp"}}, pw, true},
		{[][]string{{"password"}}, pw, false},
		{[][]string{{"password", "totp", "x"}}, pw, false},
		{[][]string{{"password", "x"}, {"totp", "password"}}, pw, true},
		{[][]string{{"password", "totp"}}, []string{"password", "totp"}, false},
		{[][]string{{"token", "totp"}}, pw, false},
		{nil, pw, false},
	} {
		if got := totpCompletes(tt.rules, tt.have); got != tt.want {
			t.Errorf("totpCompletes(%v, %v) = %v, want %v", tt.rules, tt.have, got, tt.want)
		}
	}
}
