package helper

// The application credential operations against the real Keystone that
// scripts/test-env.sh (through scripts/keystone-up.sh) starts.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"vkc-credential/keyring"
	"vkc-credential/keyring/keyringtest"
	"vkc-credential/keystone"
)

// realGetenv returns the VKC_E2E_ variable name; without a real Keystone
// it skips the test, or fails it when VKC_E2E_REQUIRED is set (as CI does).
func realGetenv(t *testing.T, name string) string {
	t.Helper()
	if os.Getenv("VKC_E2E_AUTH_URL") == "" {
		if os.Getenv("VKC_E2E_REQUIRED") != "" {
			t.Fatal("VKC_E2E_REQUIRED is set but no Keystone is described; run the tests through scripts/test-env.sh")
		}
		t.Skip("no real Keystone: run through scripts/test-env.sh")
	}
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: restart Keystone with scripts/keystone-up.sh", name)
	}
	return v
}

func TestRealAppCred(t *testing.T) {
	authURL := realGetenv(t, "VKC_E2E_AUTH_URL")
	password, err := os.ReadFile(realGetenv(t, "VKC_E2E_PASSWORD_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	rulesService := realGetenv(t, "VKC_E2E_RULES_SERVICE")
	kr := keyringtest.New()
	dir := t.TempDir()
	var debug []string // checked for secrets at the end
	kc := keystone.Client{Debugf: func(format string, args ...any) { debug = append(debug, fmt.Sprintf(format, args...)) }}
	h := &Helper{
		Paths:    Paths{ConfigDir: filepath.Join(dir, "config"), CacheDir: filepath.Join(dir, "cache")},
		Keyring:  func(string) (keyring.Store, error) { return kr, nil },
		Keystone: func() (*keystone.Client, error) { return &kc, nil },
		Now:      time.Now, Timeout: 30 * time.Second, KeyringTimeout: time.Second,
	}
	ctx := context.Background()
	dev := Settings{AuthURL: authURL, ProjectID: realGetenv(t, "VKC_E2E_PROJECT_ID"), Username: realGetenv(t, "VKC_E2E_USERNAME"),
		UserDomainName: realGetenv(t, "VKC_E2E_USER_DOMAIN"), Region: DefaultRegion, Interface: DefaultInterface}
	if _, err := h.storeProfile(ctx, storeOptions{Profile: "dev", Settings: dev, Secret: string(password), Replace: true}); err != nil {
		t.Fatal(err)
	}
	tok, err := h.Get(ctx, GetOptions{Profile: "dev", Settings: dev})
	if err != nil {
		t.Fatal(err)
	}

	// The defaults: 90 days, restricted, the token's roles; a role by name
	// and an access rule as the command line parses them.
	rule, err := ParseAccessRule(rulesService + ":get:/v1/allowed/*")
	if err != nil {
		t.Fatal(err)
	}
	name := "vkc-helper-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	before := time.Now()
	cred, secret, err := h.CreateAppCred(ctx, tok, AppCredOptions{Name: name, Roles: []string{"reader"}, AccessRules: []keystone.AccessRule{rule}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.DeleteAppCred(context.Background(), tok, cred.ID) })
	if d := cred.ExpiresAt.Sub(before); d < DefaultAppCredLifetime || d > DefaultAppCredLifetime+time.Minute {
		t.Errorf("expires %s after the call, want %s", d, DefaultAppCredLifetime)
	}
	if cred.Name != name || cred.ProjectID != dev.ProjectID || cred.Unrestricted || len(cred.Roles) != 1 || cred.Roles[0].Name != "reader" ||
		len(cred.AccessRules) != 1 || cred.AccessRules[0] != rule {
		t.Errorf("created %+v", cred)
	}
	// It signs in, and its token passes the rule's call only.
	acTok, err := kc.IssueApplicationCredential(ctx, keystone.ApplicationCredentialAuth{AuthURL: authURL, ID: cred.ID, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	rulesURL := realGetenv(t, "VKC_E2E_RULES_URL")
	for path, want := range map[string]int{"/v1/allowed/x": http.StatusOK, "/v1/other": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, rulesURL+path, nil)
		req.Header.Set("X-Auth-Token", acTok.ID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	// A profile that signs in with it is refused before anything is sent.
	ci := Settings{AuthURL: authURL, ApplicationCredentialID: cred.ID, Region: DefaultRegion, Interface: DefaultInterface}
	if _, err := h.storeProfile(ctx, storeOptions{Profile: "ci", Settings: ci, Secret: secret, Replace: true, Verify: true}); err != nil {
		t.Fatal(err)
	}
	ciTok, err := h.Get(ctx, GetOptions{Profile: "ci", Settings: ci})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.CreateAppCred(ctx, ciTok, AppCredOptions{Name: name + "-child"}); !errors.Is(err, ErrAppCredOption) {
		t.Errorf("a restricted profile's create: %v", err)
	}

	// List by name finds it; delete by name ends its sign-in.
	listed, err := h.ListAppCreds(ctx, tok, name)
	if err != nil || len(listed) != 1 || listed[0].ID != cred.ID {
		t.Errorf("listed %+v, %v", listed, err)
	}
	if _, _, err := h.CreateAppCred(ctx, tok, AppCredOptions{Name: name}); !errors.Is(err, keystone.ErrConflict) {
		t.Errorf("a second of the name: %v", err)
	}
	deleted, err := h.DeleteAppCred(ctx, tok, name)
	if err != nil || deleted.ID != cred.ID {
		t.Fatalf("deleted %+v, %v", deleted, err)
	}
	_, err = kc.IssueApplicationCredential(ctx, keystone.ApplicationCredentialAuth{AuthURL: authURL, ID: cred.ID, Secret: secret})
	if !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("sign-in after the delete: %v", err)
	}
	if _, err := h.DeleteAppCred(ctx, tok, cred.ID); !errors.Is(err, keystone.ErrNotFound) {
		t.Errorf("a second delete: %v", err)
	}
	for _, line := range debug {
		for _, s := range []string{secret, string(password), tok.ID(), acTok.ID, ciTok.ID()} {
			if strings.Contains(line, s) {
				t.Errorf("a Debugf line holds a secret: %s", line)
			}
		}
	}
}
