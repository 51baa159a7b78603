package e2e

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Keystone stand-in (`exec --serve`, `serve`) against the real parts.
// The tests whose runs must outlast tokens use a second Keystone whose
// tokens live 60 s (standin_long_test.go); these use the suite's own.

// storeAt stores profile in s for the e2e user of Keystone e.
func storeAt(s *sandbox, e *env, profile string) {
	s.t.Helper()
	s.must(e.Password, "store", "--profile", profile, "--auth-url", e.AuthURL, "--project-id", e.ProjectID,
		"--username", e.Username, "--user-domain-name", e.Domain, "--password-stdin")
}

// postsIn counts the token POSTs a Keystone's access log holds.
func postsIn(t *testing.T, log string) int {
	t.Helper()
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), `"POST /v3/auth/tokens HTTP/1.1"`)
}

// childEnv parses `env` output.
func childEnv(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// portClosed reports whether nothing listens at the auth URL any more.
func portClosed(t *testing.T, authURL string) bool {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(authURL))
	if err != nil || u.Host == "" {
		t.Fatalf("not an auth URL: %q", authURL)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return true
}

// The openrc variables a user's shell may still hold: the real password
// among them.
func openrcLeftovers() []string {
	return []string{"OS_USERNAME=" + ks.Username, "OS_PASSWORD=" + ks.Password, "OS_PROJECT_NAME=vkc-test",
		"OS_USER_DOMAIN_NAME=" + ks.Domain, "OS_PROJECT_DOMAIN_ID=default", "OS_TOKEN=stale", "OS_AUTH_TOKEN=stale", "OS_CLOUD=vk"}
}

// TestStandinEnvironment: what `exec --serve` hands the command, and that
// the stand-in is gone when the command is.
func TestStandinEnvironment(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("standin-env")
	s.store(profile)
	r := s.run(openrcLeftovers(), "", "exec", "--serve", "--profile", profile, "--", "env")
	if r.code != 0 {
		t.Fatalf("exec --serve -- env: %s", r)
	}
	child := childEnv(r.stdout)
	secret := child["OS_PASSWORD"]
	if strings.Contains(r.stdout, ks.Password) || !strings.HasPrefix(secret, "vkc-session-") || len(secret) < len("vkc-session-")+22 {
		t.Fatalf("OS_PASSWORD is not a session secret: %q", secret)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/v3$`).MatchString(child["OS_AUTH_URL"]) {
		t.Fatalf("OS_AUTH_URL %q", child["OS_AUTH_URL"])
	}
	for k, v := range map[string]string{"OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3", "OS_USERNAME": ks.Username,
		"OS_USER_DOMAIN_NAME": ks.Domain, "OS_PROJECT_ID": ks.ProjectID, "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public",
		"VKC_EXEC_PROFILE": profile} {
		if child[k] != v {
			t.Errorf("child %s=%q, want %q", k, child[k], v)
		}
	}
	for _, gone := range []string{"OS_TOKEN", "OS_AUTH_TOKEN", "OS_PROJECT_NAME", "OS_PROJECT_DOMAIN_ID", "OS_CLOUD"} {
		if _, ok := child[gone]; ok {
			t.Errorf("%s reached the child", gone)
		}
	}
	if !portClosed(t, child["OS_AUTH_URL"]) {
		t.Fatal("the stand-in still listens after the command ended")
	}
	// A second run gets another secret.
	if again := childEnv(s.must("", "exec", "--serve", "--profile", profile, "--", "env").stdout); again["OS_PASSWORD"] == secret {
		t.Fatal("two runs share a session secret")
	}
}

// TestStandinWithOpenstackCLI: the openstack CLI signs in with a password
// at the stand-in, for a password profile and an application-credential
// one, and Keystone sees no token POST when the cache is warm. Plain exec
// of an application-credential profile still fails with the CLI (issue 16
// item 3), and says to use --serve.
func TestStandinWithOpenstackCLI(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	password := s.profileName("standin-osc")
	s.store(password)
	appcred := s.profileName("standin-osc-ac")
	secret, err := os.ReadFile(os.Getenv("VKC_E2E_APP_CRED_SECRET_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	s.must(string(secret), "store", "--profile", appcred, "--auth-url", ks.AuthURL,
		"--application-credential-id", os.Getenv("VKC_E2E_APP_CRED_ID"), "--password-stdin")

	for _, profile := range []string{password, appcred} {
		t.Run(profile, func(t *testing.T) {
			cached := decodeToken(t, s.must("", "get", "--profile", profile)) // warm
			posts0 := tokenPosts(t)
			r := s.run(openrcLeftovers(), "", "exec", "--serve", "--profile", profile, "--",
				kaOpenstack, "token", "issue", "-f", "value", "-c", "id", "-c", "project_id")
			if r.code != 0 || r.stdout != cached.Token+"\n"+ks.ProjectID+"\n" {
				t.Fatalf("exec --serve -- openstack token issue: want the cached token and the project: %s", r)
			}
			r = s.run(nil, "", "exec", "--serve", "--profile", profile, "--", kaOpenstack, "catalog", "list", "-f", "value", "-c", "Type")
			if r.code != 0 || !strings.Contains(r.stdout, "identity") {
				t.Fatalf("exec --serve -- openstack catalog list: %s", r)
			}
			if n := tokenPosts(t) - posts0; n != 0 {
				t.Fatalf("Keystone saw %d token POSTs with a warm cache, want 0", n)
			}
		})
	}
	r := s.run(nil, "", "exec", "--profile", appcred, "--", kaOpenstack, "catalog", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "403") || !strings.Contains(r.stderr, "vkc-credential exec --serve") {
		t.Fatalf("plain exec of an application credential: want the CLI's 403 and the hint: %s", r)
	}
}

// standinHostile is the command run under `exec --serve` by
// TestStandinHostileCallers: curl against the stand-in, one line per
// request, "NAME STATUS". Secrets go in files, never in an argv.
const standinHostile = `set -u
cd "$WORK"
env > child-env.txt
tr '\0' ' ' < /proc/$PPID/cmdline > parent-argv.txt
echo "$OS_AUTH_URL" > url.txt
url=$OS_AUTH_URL/auth/tokens
port=${OS_AUTH_URL#http://127.0.0.1:}; port=${port%/v3}
body() { printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"%s"},"password":"%s"}}}%s}}' \
  "$OS_USERNAME" "$OS_USER_DOMAIN_NAME" "$1" "${2:+,\"scope\":$2}"; }
body "$OS_PASSWORD" > right.json
body "not-the-secret" > wrong.json
body "$OS_PASSWORD" '{"project":{"id":"0123456789abcdef0123456789abcdef"}}' > other-project.json
head -c 10485760 /dev/zero > big.json
req() { name=$1; shift; echo "$name $(curl -s -o "out-$name" -D "hdr-$name" -w '%{http_code}' -H 'Content-Type: application/json' "$@")"; }
# No token may be issued while wrong secrets come: the cache starts cold.
rm -f "$XDG_CACHE_HOME"/vkc-credential/*.json
req wrong --data-binary @wrong.json "$url"
req host -H "Host: evil.example:$port" --data-binary @right.json "$url"
req big --data-binary @big.json "$url"
req scope --data-binary @other-project.json "$url"
req origin -H 'Origin: https://evil.example' --data-binary @right.json "$url"
req unknown "$OS_AUTH_URL/projects"
curl -s -Z --parallel-max 50 -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
  --data-binary @wrong.json "$url?[1-1000]" 2>/dev/null | sort | uniq -c | while read -r n code; do echo "flood-$code $n"; done
echo "cache-after-wrong $(ls "$XDG_CACHE_HOME"/vkc-credential/ | grep -c '\.json$')"
echo "posts-after-wrong $(grep -c '"POST /v3/auth/tokens ' "$KEYSTONE_LOG")"
req right --data-binary @right.json "$url"
echo "cache-after-right $(ls "$XDG_CACHE_HOME"/vkc-credential/ | grep -c '\.json$')"
tr -d '\r' < hdr-right | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p' > token.txt
printf 'X-Auth-Token: %s\nX-Subject-Token: %s\n' "$(cat token.txt)" "$(cat token.txt)" > auth-headers.txt
req validate -H @auth-headers.txt "$url"
req delete -X DELETE -H @auth-headers.txt "$url"
req again --data-binary @right.json "$url"
tr -d '\r' < hdr-again | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p' > token-again.txt
`

// TestStandinHostileCallers: what a caller without the secret, or with
// it and bad intent, gets; no wrong secret reaches Keystone or the
// keychain; the real password reaches no part of the command.
func TestStandinHostileCallers(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("standin-hostile")
	s.store(profile)
	s.must("", "get", "--profile", profile) // warm: the stand-in starts from the cache
	work := filepath.Join(s.home, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	posts0 := tokenPosts(t)
	extra := append(openrcLeftovers(), "WORK="+work, "KEYSTONE_LOG="+ks.KeystoneLog)
	r := s.runCmd(exec.Command(binary, "exec", "--serve", "--debug", "--profile", profile, "--", "bash", "-c", standinHostile), extra, "")
	if r.code != 0 {
		t.Fatalf("exec --serve -- the hostile script: %s", r)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			got[k] = v
		}
	}
	for name, want := range map[string]string{
		"wrong": "401", "host": "404", "big": "413", "scope": "401", "origin": "401", "unknown": "404",
		"cache-after-wrong": "0", "posts-after-wrong": strconv.Itoa(posts0),
		"right": "201", "cache-after-right": "1", "validate": "200", "delete": "204", "again": "201",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	flood401, _ := strconv.Atoi(got["flood-401"])
	flood429, _ := strconv.Atoi(got["flood-429"])
	if flood401+flood429 != 1000 || flood401 == 0 {
		t.Errorf("the flood of 1000 wrong secrets got %d 401 and %d 429 (%v)", flood401, flood429, got)
	}
	if n := tokenPosts(t) - posts0; n != 1 {
		t.Errorf("Keystone saw %d token POSTs, want 1 (the right secret's, on a cold cache)", n)
	}
	if t.Failed() {
		t.Fatalf("%s", r)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(data))
	}
	// DELETE revoked nothing: the token still validates at Keystone, and
	// the next sign-in gets it again.
	tok := read("token.txt")
	if validate(t, tok) != 200 || read("token-again.txt") != tok {
		t.Fatal("after DELETE the token was not the same valid token")
	}
	for _, name := range []string{"out-wrong", "out-host", "out-big", "out-scope", "out-origin", "out-unknown"} {
		if out := read(name); !strings.Contains(out, `"error"`) || !strings.Contains(out, `"message"`) {
			t.Errorf("%s is not a Keystone-shaped error: %s", name, out)
		}
	}
	// The real password: not in the command's environment, not in any
	// argv, not in any file; the session secret in no file but the
	// command's own dumps of its environment.
	if env := childEnv(read("child-env.txt")); strings.Contains(read("child-env.txt"), ks.Password) || env["OS_PASSWORD"] == "" {
		t.Fatal("the real password reached the command's environment")
	}
	if strings.Contains(read("parent-argv.txt"), ks.Password) || !strings.Contains(read("parent-argv.txt"), "--serve") {
		t.Fatalf("vkc-credential's argv: %s", read("parent-argv.txt"))
	}
	if hits := filesContaining(t, s.home, ks.Password); len(hits) > 0 {
		t.Fatalf("the password is in %v", hits)
	}
	secret := childEnv(read("child-env.txt"))["OS_PASSWORD"]
	for _, hit := range filesContaining(t, s.home, secret) {
		if base := filepath.Base(hit); base != "child-env.txt" && base != "right.json" && base != "other-project.json" {
			t.Errorf("the session secret is in %s", hit)
		}
	}
	if strings.Contains(r.stderr, secret) || strings.Contains(r.stderr, tok) {
		t.Error("the debug log holds the session secret or the token")
	}
	if !portClosed(t, read("url.txt")) {
		t.Fatal("the stand-in still listens after the command ended")
	}
}

// TestStandinTOTP: a TOTP profile's stand-in gets new tokens through the
// stored --totp-command; without one, a sign-in that needs a passcode is
// 401 naming the cause (the terminal belongs to the command).
func TestStandinTOTP(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	pw := readEnvFile(t, "VKC_E2E_MFA_PASSWORD_FILE")
	counter := filepath.Join(s.home, "totp-runs")
	command := fmt.Sprintf(`echo run >> %q; oathtool --totp -b "$(cat %q)"`, counter, os.Getenv("VKC_E2E_MFA_TOTP_SECRET_FILE"))
	store := func(profile string, extra ...string) {
		s.must(pw, append([]string{"store", "--profile", profile, "--auth-url", ks.AuthURL, "--project-id", ks.ProjectID,
			"--username", os.Getenv("VKC_E2E_MFA_USERNAME"), "--password-stdin"}, extra...)...)
	}
	withCommand := s.profileName("standin-mfa")
	store(withCommand, "--totp-command", command) // verified: the cache is warm
	bare := s.profileName("standin-mfa-bare")
	store(bare, "--no-verify") // the same identity and project, no command
	os.Remove(counter)
	// The command drops the cached token, then signs in at the stand-in.
	script := `rm -f "$XDG_CACHE_HOME"/vkc-credential/*.json
printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"%s"},"password":"%s"}}}}}' \
  "$OS_USERNAME" "$OS_USER_DOMAIN_NAME" "$OS_PASSWORD" > "$HOME/auth.json"
curl -s -o "$HOME/answer.json" -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary @"$HOME/auth.json" "$OS_AUTH_URL/auth/tokens"
cat "$HOME/answer.json"`

	r := s.run(nil, "", "exec", "--serve", "--profile", bare, "--", "bash", "-c", script)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "401\n") || !strings.Contains(r.stdout, "second factor") ||
		!strings.Contains(r.stdout, "--totp-command") || !strings.Contains(r.stderr, "the stand-in could not hand out a token") {
		t.Fatalf("a passcode wanted, no command: %s", r)
	}
	if _, err := os.Stat(counter); err == nil {
		t.Fatal("the bare profile ran a passcode command")
	}
	// Warm again (the bare run dropped the token), then the stand-in
	// starts from the cache, and the command drops it again.
	time.Sleep(1100 * time.Millisecond) // Keystone refuses a passcode used twice within its window
	s.must("", "get", "--profile", withCommand)
	os.Remove(counter)
	time.Sleep(1100 * time.Millisecond)
	posts0 := tokenPosts(t)
	r = s.run(nil, "", "exec", "--serve", "--profile", withCommand, "--", "bash", "-c", script)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "201\n") {
		t.Fatalf("a passcode from --totp-command: %s", r)
	}
	runs, _ := os.ReadFile(counter)
	tok := decodeToken(t, s.must("", "get", "--profile", withCommand)).Token
	// The password, the receipt with the passcode, and (since one passcode
	// serves all the identity's projects) perhaps the project's re-scope.
	if posts := tokenPosts(t) - posts0; strings.Count(string(runs), "run") != 1 || posts < 2 || posts > 3 || !strings.Contains(tokenMethods(t, tok), "totp") {
		t.Fatalf("passcode command runs %q, %d token POSTs, methods %q", runs, posts, tokenMethods(t, tok))
	}
}
