package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// admin talks to the real Keystone as its bootstrap admin.
type admin struct {
	t     *testing.T
	token string
}

func newAdmin(t *testing.T) *admin {
	t.Helper()
	pw, err := os.ReadFile(os.Getenv("VKC_E2E_ADMIN_PASSWORD_FILE"))
	if err != nil {
		t.Fatalf("admin password: %v", err)
	}
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": "admin", "domain": map[string]string{"id": "default"}, "password": string(pw)}}},
		"scope": map[string]any{"project": map[string]any{"name": "admin", "domain": map[string]string{"id": "default"}}},
	}}
	a := &admin{t: t}
	resp := a.do("POST", "/auth/tokens", body, nil, 201)
	a.token = resp.Header.Get("X-Subject-Token")
	return a
}

func (a *admin) do(method, path string, body any, out any, want int) *http.Response {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, strings.TrimSuffix(ks.AuthURL, "/")+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("X-Auth-Token", a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp
}

func (a *admin) id(path, key string) string {
	a.t.Helper()
	var raw map[string]json.RawMessage
	a.do("GET", path, nil, &raw, 200)
	var list []struct{ ID string }
	if err := json.Unmarshal(raw[key], &list); err != nil || len(list) != 1 {
		a.t.Fatalf("GET %s: %d %s (%v)", path, len(list), key, err)
	}
	return list[0].ID
}

// newUser creates a user of the domain users with password and the member
// role on each of projects, deleted when the test ends; it returns its id.
func (a *admin) newUser(name, password string, projects ...string) string {
	a.t.Helper()
	domainID := a.id("/domains?name=users", "domains")
	roleID := a.id("/roles?name=member", "roles")
	var created struct{ User struct{ ID string } }
	a.do("POST", "/users", map[string]any{"user": map[string]any{"name": name, "domain_id": domainID, "password": password}}, &created, 201)
	uid := created.User.ID
	a.t.Cleanup(func() { a.do("DELETE", "/users/"+uid, nil, nil, 204) })
	for _, project := range projects {
		a.do("PUT", "/projects/"+project+"/users/"+uid+"/roles/"+roleID, nil, nil, 204)
	}
	return uid
}

// TestPasswordChangedInKeystone: a password that used to work is
// rejected (the user's password was changed in Keystone). get --refresh
// exits 4 and says to store again; nothing is deleted; the cached token is
// served only until it expires; storing the new password mends it.
func TestPasswordChangedInKeystone(t *testing.T) {
	needKeystone(t)
	a := newAdmin(t)
	name := fmt.Sprintf("rotate.%d@example.com", time.Now().UnixNano())
	oldPW, newPW := "öld pass "+name, "new pass ü "+name
	uid := a.newUser(name, oldPW, ks.ProjectID)

	s := newSandbox(t)
	profile := s.profileName("rotate")
	storeArgs := []string{"store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
		"--username", name, "--password-stdin"}
	s.must(oldPW, storeArgs...)
	tok := decodeToken(t, s.must("", "get", "--profile", profile))
	cache0 := snapshotDir(t, filepath.Join(s.home, ".cache"))

	a.do("PATCH", "/users/"+uid, map[string]any{"user": map[string]any{"password": newPW}}, nil, 200)

	r := s.run(nil, "", "get", "--profile", profile, "--refresh")
	wantError(t, r, 4, "auth_failed", true, "vkc-credential store --profile "+profile)
	if pw, ok := secretToolLookup(t, identityItem(ks.AuthURL, ks.Domain, name)); !ok || pw != oldPW {
		t.Fatal("the stored password was deleted or changed")
	}
	if !bytes.Equal(snapshotDir(t, filepath.Join(s.home, ".cache")), cache0) {
		t.Fatal("the token cache changed")
	}
	// Without --refresh the cached token is still what get returns, until
	// its expiry: get never asks Keystone while the cache is good.
	if again := decodeToken(t, s.must("", "get", "--profile", profile)); !again.Cached || again.Token != tok.Token {
		t.Fatal("the cached token was not served")
	}
	// A wrong store keeps the old password; the right one mends the profile.
	// Keystone records the password change as a revocation event with
	// whole-second precision and treats tokens issued within that second
	// as revoked too, so the new token is asked for in a later second.
	time.Sleep(1100 * time.Millisecond)
	wantError(t, s.run(nil, oldPW, "store", "--profile", profile, "--password-stdin"), 4, "auth_failed", true, "store")
	s.must(newPW, "store", "--profile", profile, "--password-stdin")
	if fresh := decodeToken(t, s.must("", "get", "--profile", profile, "--refresh")); fresh.Cached || validate(t, fresh.Token) != 200 {
		t.Fatal("the new password did not give a valid token")
	}
}
