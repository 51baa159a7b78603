package cmdline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vkc-credential/helper"
	"vkc-credential/helper/clouds"
	"vkc-credential/internal/shellcmd"
	"vkc-credential/keyring"
	"vkc-credential/keystone"
	"vkc-credential/protocol"
)

// keystoneError is the error of a real exchange with a fake Keystone that
// answers with handler: keystone's own error, with its class and Problem.
func keystoneError(t *testing.T, handler http.HandlerFunc) error {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return issueError(t, srv.URL+"/v3", &keystone.Client{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, time.Minute)
}

// issueError is the error of a password sign-in at authURL with c within
// limit.
func issueError(t *testing.T, authURL string, c *keystone.Client, limit time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	_, err := c.IssuePassword(ctx, keystone.PasswordAuth{AuthURL: authURL, Username: "u", UserDomainName: "users", Password: "pw", ProjectID: "p1"})
	if err == nil {
		t.Fatal("the sign-in succeeded")
	}
	return err
}

// answering is a handler that answers status with Keystone's error body.
func answering(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error": {"code": %d, "message": "keystone says no"}}`, status)
	}
}

// TestEachErrorKindsExitCodeAndHint: one row per kind of error (and per
// notable combination of kinds in one chain), through the edge's one
// exit: the exit status, the JSON error.code, and the hint's key words,
// each said once. The errors are made by the packages that make them.
func TestEachErrorKindsExitCodeAndHint(t *testing.T) {
	newWorld(t)
	_, caErr := keystone.NewHTTPClient("/nonexistent/ca.pem")
	rejected := keystoneError(t, answering(401))
	_, notJSON := protocol.DecodeRequest(strings.NewReader("hello"))
	_, badRequest := protocol.DecodeRequest(strings.NewReader(`{"version": 1, "nope": 1}`))
	_, badURL := protocol.NormalizeAuthURL("ftp://keystone.example/v3")
	paths, err := helper.DefaultPaths()
	if err != nil {
		t.Fatal(err)
	}
	_, noProfile := paths.LoadProfile("ghost")
	password := helper.Settings{AuthURL: "https://k.example/v3", Username: "u", UserDomainName: "users", ProjectID: "p1"}
	appCred := helper.Settings{AuthURL: "https://k.example/v3", ApplicationCredentialID: "ac-1"}
	projects := []keystone.Project{{ID: "p1", Name: "one"}, {ID: "p2", Name: "two"}}
	slow := fmt.Errorf("%w: %w: the keychain did not answer a read within 10s", keyring.ErrUnavailable, keyring.ErrTimeout)
	unsafe := unsafeFileErrors(t, paths)
	gone := fmt.Errorf("%w: no D-Bus session bus", keyring.ErrUnavailable)

	tests := []struct {
		name      string
		command   string // "get" when empty
		defaulted bool   // the profile was not named
		err       error
		code      protocol.Code
		hint      []string // each said exactly once
		noHint    bool     // the message is the error's own
	}{
		{"internal", "", false, errors.New("surprise"), protocol.CodeInternal, nil, true},
		{"damaged file", "", false, fmt.Errorf("profile file x: %w", helper.ErrDamaged), protocol.CodeInternal, []string{"store --profile prod` again"}, false},
		{"directory not ours", "", false, unsafe.linkedDir, protocol.CodeInternal, []string{"is a symbolic link", "move it away"}, false},

		{"usage", "", false, usagef("bad flag"), protocol.CodeUsage, nil, true},
		{"bad request", "", false, badRequest, protocol.CodeUsage, nil, true},
		{"not JSON, get", "", false, notJSON, protocol.CodeUsage, []string{"--no-stdin"}, false},
		{"not JSON, store", "store", false, notJSON, protocol.CodeUsage, []string{"--password-stdin", "--no-stdin"}, false},
		{"invalid auth URL", "", false, badURL, protocol.CodeUsage, []string{"--auth-url"}, false},
		{"missing setting", "", false, &helper.MissingSettingError{Field: "project_id"}, protocol.CodeUsage, []string{"--project-id", "OS_PROJECT_ID"}, false},
		{"no project of that name", "", false, &helper.ProjectNameError{Name: "x", Projects: projects}, protocol.CodeUsage, []string{"another --project-name"}, false},
		{"two projects of that name", "", false, &helper.ProjectNameError{Name: "one", Projects: projects, Matches: []string{"p1", "p3"}}, protocol.CodeUsage, []string{"--project-id with one of them"}, false},
		{"CA file", "", false, caErr, protocol.CodeUsage, []string{"--cacert"}, false},
		{"identity changed", "", false, fmt.Errorf("%w: the request's auth_url differs", helper.ErrIdentityChanged), protocol.CodeUsage, nil, true},
		{"empty password", "", false, helper.ErrEmptyPassword, protocol.CodeUsage, nil, true},
		{"unsafe file", "", false, fmt.Errorf("%w: x is not ours", helper.ErrUnsafeFile), protocol.CodeUsage, nil, true},
		{"profile file others may read", "", false, unsafe.looseProfile, protocol.CodeUsage, []string{"has mode 0644, which lets others read it", "run `chmod 600` on it"}, false},
		{"profile file not ours", "", false, unsafe.linkedProfile, protocol.CodeUsage, []string{"is a symbolic link", "move it away"}, false},
		{"clouds.yaml others may write", "store", false, unsafe.writableClouds, protocol.CodeUsage, []string{"any user may write it", "(chmod o-w)", "move it away", "OS_CLIENT_CONFIG_FILE"}, false},
		{"clouds.yaml that cannot be read", "store", false, unsafe.unreadableClouds, protocol.CodeUsage, nil, true},
		{"no project", "", false, helper.ErrNoProject, protocol.CodeUsage, nil, true},
		{"application credential option", "", false, fmt.Errorf("%w: the expiry is past", helper.ErrAppCredOption), protocol.CodeUsage, nil, true},
		{"application credential name taken", "appcred", false, fmt.Errorf("%w: 409", keystone.ErrConflict), protocol.CodeUsage, []string{"another --name", "appcred list --profile prod"}, false},
		{"clouds.yaml", "store", false, fmt.Errorf("%w: no cloud x", clouds.ErrNoCloud), protocol.CodeUsage, nil, true},

		{"profile not found", "", false, noProfile, protocol.CodeNotFound, []string{"store --profile prod --openrc FILE"}, false},
		{"profile not found, none named", "", true, noProfile, protocol.CodeNotFound, []string{"--profile NAME"}, false},
		{"no password", "", false, &helper.NoSecretError{Profile: "prod", Settings: password, Keyring: "os", Err: keyring.ErrNotFound},
			protocol.CodeNotFound, []string{"no password is stored for profile \"prod\"", "store --profile prod`"}, false},
		{"no application credential secret", "", false, &helper.NoSecretError{Profile: "prod", Settings: appCred, Keyring: "os", Err: keyring.ErrNotFound},
			protocol.CodeNotFound, []string{"no application credential secret is stored for profile \"prod\"", "store --profile prod`"}, false},
		{"secret gone while read", "", false, keyring.ErrNotFound, protocol.CodeNotFound, []string{"store --profile prod`"}, false},
		{"application credential not found", "appcred", false, fmt.Errorf("%w: no ci", keystone.ErrNotFound), protocol.CodeNotFound, []string{"appcred list --profile prod"}, false},

		{"rejected, unknown cause", "", false, &helper.RejectedError{Profile: "prod", Settings: password, Err: rejected},
			protocol.CodeAuthFailed, []string{"no role on", "--password-stdin"}, false},
		{"rejected project", "store", false, &helper.RejectedError{Profile: "prod", Settings: password, Cause: helper.RejectProject, Projects: projects, FirstStore: true, NewSecret: true, Err: rejected},
			protocol.CodeAuthFailed, []string{"one (p1)", "--project-name", "nothing was saved"}, false},
		{"rejected new password, first store", "store", false, &helper.RejectedError{Profile: "prod", Settings: password, Cause: helper.RejectSecret, FirstStore: true, NewSecret: true, Err: rejected},
			protocol.CodeAuthFailed, []string{"nothing was saved", "vkc-credential store --profile prod --auth-url"}, false},
		{"rejected new password, stored before", "store", false, &helper.RejectedError{Profile: "prod", Settings: password, Cause: helper.RejectSecret, NewSecret: true, Err: rejected},
			protocol.CodeAuthFailed, []string{"the stored password is kept"}, false},
		{"rejected stored password", "", false, &helper.RejectedError{Profile: "prod", Settings: password, Cause: helper.RejectSecret, Err: rejected},
			protocol.CodeAuthFailed, []string{"the stored password was refused", "--password-stdin"}, false},
		{"rejected passcode", "", false, &helper.RejectedError{Profile: "prod", Settings: password, Cause: helper.RejectAfterPasscode, Err: rejected},
			protocol.CodeAuthFailed, []string{"--totp-command"}, false},
		{"rejected application credential", "", false, &helper.RejectedError{Profile: "prod", Settings: appCred, Cause: helper.RejectSecret, Err: rejected},
			protocol.CodeAuthFailed, []string{"--application-credential-id NEW_ID"}, false},
		{"a token refused", "", false, rejected, protocol.CodeAuthFailed, nil, true},
		{"application credentials not managed with this token", "appcred", false, refused(rejected),
			protocol.CodeAuthFailed, []string{"only the user's own sign-in", "get --profile prod --refresh"}, false},

		{"keystone 404", "", false, keystoneError(t, answering(404)), protocol.CodeKeystoneUnavailable, []string{"check the auth URL"}, false},
		{"keystone 400", "", false, keystoneError(t, answering(400)), protocol.CodeKeystoneUnavailable, []string{"malformed", "the project ID"}, false},
		{"keystone 409", "", false, keystoneError(t, answering(409)), protocol.CodeKeystoneUnavailable, []string{"try again later"}, false},
		{"keystone 503", "", false, keystoneError(t, answering(503)), protocol.CodeKeystoneUnavailable, []string{"overloaded", "try again later"}, false},
		{"keystone timeout", "", false, issueError(t, blockingKeystone(t), &keystone.Client{}, 100*time.Millisecond),
			protocol.CodeKeystoneUnavailable, []string{"--timeout", "try again later"}, false},
		{"keystone gave up before the deadline", "", false, gaveUpError(t),
			protocol.CodeKeystoneUnavailable, []string{"--timeout", "try again later"}, false},
		{"keystone unreachable", "", false, issueError(t, closedKeystone(t), &keystone.Client{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, time.Minute),
			protocol.CodeKeystoneUnavailable, []string{"the network", "try again later"}, false},
		{"untrusted certificate", "", false, issueError(t, tlsKeystone(t), &keystone.Client{}, time.Minute),
			protocol.CodeKeystoneUnavailable, []string{"private CA", "--cacert"}, false},
		{"clocks disagree", "", false, fmt.Errorf("%w: expired already", helper.ErrClock), protocol.CodeKeystoneUnavailable, []string{"check this machine's clock"}, false},
		{"lock busy", "", false, fmt.Errorf("%w /x.lock", helper.ErrLockBusy), protocol.CodeKeystoneUnavailable, []string{"remove the lock file"}, false},
		{"revoke failed", "erase", false, &helper.RevokeError{Profile: "prod", Err: keystoneError(t, answering(503))},
			protocol.CodeKeystoneUnavailable, []string{"erased here", "try again later"}, false},
		{"revoke refused", "erase", false, &helper.RevokeError{Profile: "prod", Err: rejected}, protocol.CodeKeystoneUnavailable, nil, true},
		// Issue 15: the revoke's CA file cannot be read. The erase is done
		// and the revocation failed: exit 5, as the contract says, with the
		// CA file's hint.
		{"revoke with an unreadable CA file", "erase", false, &helper.RevokeError{Profile: "prod", Err: caErr},
			protocol.CodeKeystoneUnavailable, []string{"erased here", "--cacert"}, false},

		{"keychain unavailable", "", false, gone, protocol.CodeKeyringUnavailable, nil, true},
		{"keychain timeout inside unavailable", "", false, slow, protocol.CodeKeyringUnavailable, []string{"--keyring-timeout"}, false},
		{"backend not set up", "", false, fmt.Errorf("%w: %w: no pass", keyring.ErrUnavailable, keyring.ErrNotSetUp), protocol.CodeKeyringUnavailable, nil, true},
		{"secret command failed", "", false, &helper.SecretCommandError{Profile: "prod", Err: errors.New("it failed (exit status 2)")},
			protocol.CodeKeyringUnavailable, []string{"run it in a shell", "--secret-command COMMAND"}, false},
		{"secret command timed out", "", false, &helper.SecretCommandError{Profile: "prod", Err: fmt.Errorf("it %w", shellcmd.ErrTimeout)},
			protocol.CodeKeyringUnavailable, []string{"--keyring-timeout"}, false},
		{"secret left", "erase", false, &helper.SecretLeft{Keyring: "os", Items: []string{"x"}, Err: slow}, protocol.CodeKeyringUnavailable, []string{"--keyring-timeout"}, false},

		{"second factor", "", false, &keystone.ReceiptError{}, protocol.CodeMFARequired, []string{"vkc-credential get --profile prod` once in a terminal"}, false},
		{"no passcode", "", false, errNoPasscode, protocol.CodeMFARequired, []string{"vkc-credential get --profile prod` once in a terminal"}, false},
		{"passcode command", "", false, fmt.Errorf("%w: exit 1", errPasscodeCommand), protocol.CodeMFARequired, nil, true},
		{"not a passcode", "", false, fmt.Errorf("%w: letters", errNotAPasscode), protocol.CodeMFARequired, nil, true},
		{"no passcode from the dialog", "", false, &noAnswerError{program: "zenity", from: "VKC_ASKPASS", passcode: true, err: errors.New("exit status 1")},
			protocol.CodeMFARequired, []string{"answer the dialog", "get --profile prod` once in a terminal"}, false},
		{"no password from the dialog", "store", false, &noAnswerError{program: "zenity", from: "VKC_ASKPASS", err: errors.New("exit status 1")},
			protocol.CodeUsage, []string{"answer the dialog", "--password-stdin"}, false},

		{"checks failed", "doctor", false, errChecksFailed, protocol.CodeChecksFailed, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			inv := newInvocation(strings.NewReader(""), &stdout, &stderr)
			inv.command, inv.profile, inv.profileDefaulted, inv.jsonErrors = tt.command, "prod", tt.defaulted, true
			if inv.command == "" {
				inv.command = "get"
			}
			if got := protocol.CodeOf(tt.err); got != tt.code {
				t.Errorf("class %s, want %s", got, tt.code)
			}
			if code := inv.fail(tt.err); code != tt.code.ExitCode() {
				t.Errorf("exit %d, want %d", code, tt.code.ExitCode())
			}
			var answer protocol.ErrorResponse
			if err := json.Unmarshal([]byte(stdout.String()), &answer); err != nil || answer.Error.Code != tt.code {
				t.Errorf("stdout %q is not a JSON error of code %s", stdout.String(), tt.code)
			}
			msg := answer.Error.Message
			if want := "vkc-credential: " + msg + "\n"; stderr.String() != want {
				t.Errorf("stderr %q, want %q", stderr.String(), want)
			}
			if tt.noHint && msg != terminalSafe(tt.err.Error()) {
				t.Errorf("message %q adds a hint to %q", msg, tt.err.Error())
			}
			for _, h := range tt.hint {
				if n := strings.Count(msg, h); n != 1 {
					t.Errorf("message %q says %q %d times, want once", msg, h, n)
				}
			}
			if !tt.noHint && len(tt.hint) == 0 {
				t.Error("a row with a hint names none of its words")
			}
		})
	}
}

// unsafeFiles are the errors of files and directories that are not safe
// to use, as the packages below the edge make them: they say what is
// wrong, the edge says how to mend it.
type unsafeFiles struct {
	looseProfile, linkedProfile, linkedDir, writableClouds, unreadableClouds error
}

func unsafeFileErrors(t *testing.T, paths helper.Paths) unsafeFiles {
	t.Helper()
	var u unsafeFiles
	profiles := filepath.Join(paths.ConfigDir, "profiles")
	if err := os.MkdirAll(profiles, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(profiles, "loose.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, u.looseProfile = paths.LoadProfile("loose")
	if err := os.Symlink(filepath.Join(profiles, "loose.json"), filepath.Join(profiles, "linked.json")); err != nil {
		t.Fatal(err)
	}
	_, u.linkedProfile = paths.LoadProfile("linked")
	dir := t.TempDir()
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	u.linkedDir = helper.CheckDir(filepath.Join(dir, "link"))
	writable := filepath.Join(dir, "clouds.yaml")
	if err := os.WriteFile(writable, []byte("clouds: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(writable, 0o666); err != nil {
		t.Fatal(err)
	}
	load := func(file string) error {
		env := clouds.Env{Home: t.TempDir(), Dir: t.TempDir(), LookupEnv: func(name string) (string, bool) {
			return file, name == "OS_CLIENT_CONFIG_FILE"
		}}
		_, err := clouds.Load("vk", env)
		return err
	}
	u.writableClouds = load(writable)
	u.unreadableClouds = load(filepath.Join(writable, "clouds.yaml")) // through a file, not a directory
	for _, err := range []error{u.looseProfile, u.linkedProfile, u.linkedDir, u.writableClouds, u.unreadableClouds} {
		if err == nil {
			t.Fatal("an unsafe file was used")
		}
	}
	return u
}

// blockingKeystone is the auth URL of a Keystone that never answers
// before the client gives up.
func blockingKeystone(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server sees the client leave
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v3"
}

// closedKeystone is the auth URL of a port nothing listens on any more.
func closedKeystone(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL + "/v3"
}

// tlsKeystone is the auth URL of a Keystone whose certificate no system
// root vouches for (a private CA).
func tlsKeystone(t *testing.T) string {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.URL + "/v3"
}

// gaveUpError is the error of a sign-in whose retry, asked for by a 429's
// Retry-After, would pass the deadline: Keystone said "try later", and the
// time limit is why no retry was made.
func gaveUpError(t *testing.T) error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	return issueError(t, srv.URL+"/v3", &keystone.Client{MaxBackoff: time.Hour}, 30*time.Second)
}

// TestEveryKeystoneProblemHasAHint: what Keystone's failures point at
// each have the edge's words.
func TestEveryKeystoneProblemHasAHint(t *testing.T) {
	for p := keystone.ProblemNone + 1; p <= keystone.ProblemHandshake; p++ {
		if problemHints[p] == "" {
			t.Errorf("keystone.Problem %d has no hint", p)
		}
	}
}

// TestHintsFollowTheOutermostError: the hint, like the class, is that of
// the first error in the chain the edge knows, whatever the order of the
// table.
func TestHintsFollowTheOutermostError(t *testing.T) {
	inv := newInvocation(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	inv.profile = "prod"
	// A passcode error inside a lock error: the lock's hint.
	err := fmt.Errorf("%w; %w", fmt.Errorf("%w /x.lock", helper.ErrLockBusy), errNoPasscode)
	if h := inv.hint(err); !strings.Contains(h, "lock file") || strings.Contains(h, "terminal") {
		t.Errorf("hint %q", h)
	}
	if code := protocol.CodeOf(err); code != protocol.CodeKeystoneUnavailable {
		t.Errorf("class %s", code)
	}
	err = fmt.Errorf("%w; %w", errNoPasscode, fmt.Errorf("%w /x.lock", helper.ErrLockBusy))
	if h := inv.hint(err); strings.Contains(h, "lock file") || !strings.Contains(h, "terminal") {
		t.Errorf("hint %q", h)
	}
	if code := protocol.CodeOf(err); code != protocol.CodeMFARequired {
		t.Errorf("class %s", code)
	}
}

// TestUntrustedCertificateHintSaidOnce (issue 15): a Keystone whose
// certificate comes from a private CA gets exit 5 and the --cacert hint,
// once (keystone said its own as well before).
func TestUntrustedCertificateHintSaidOnce(t *testing.T) {
	w := newWorld(t)
	w.storeAt(t, "prod", tlsKeystone(t))
	r := w.run("", "get", "--profile", "prod", "--refresh")
	if r.code != 5 || strings.Count(r.stderr, "private CA") != 1 || strings.Count(r.stderr, "--cacert") != 1 {
		t.Fatalf("exit %d, want 5 and the private CA hint once: %q", r.code, r.stderr)
	}
	var answer protocol.ErrorResponse
	if json.Unmarshal([]byte(r.stdout), &answer) != nil || answer.Error.Code != protocol.CodeKeystoneUnavailable {
		t.Fatalf("stdout %q", r.stdout)
	}
}

// TestEraseRevokeWithUnreadableCACert (issue 15): erase --revoke whose
// revocation fails because the --cacert file cannot be read erases the
// profile and exits 5 (keystone_unavailable), as every failed revocation
// does, with the CA file's hint; it exited 2 before.
func TestEraseRevokeWithUnreadableCACert(t *testing.T) {
	w := newWorld(t)
	w.store(t, "prod")
	r := w.run("", "erase", "--profile", "prod", "--revoke", "--cacert", t.TempDir()+"/missing.pem")
	if r.code != 5 || !strings.Contains(r.stderr, "erased here") || strings.Count(r.stderr, "--cacert") != 1 {
		t.Fatalf("exit %d, want 5 saying the profile was erased and how to mend --cacert: %q", r.code, r.stderr)
	}
	var answer protocol.EraseResponse
	if json.Unmarshal([]byte(r.stdout), &answer) != nil || !answer.Erased || answer.Revoked {
		t.Fatalf("stdout %q is not the answer of an erase that did not revoke", r.stdout)
	}
	if r := w.run("", "get", "--profile", "prod"); r.code != 3 {
		t.Fatalf("the profile is still there: %+v", r)
	}
}

// TestNoSecretSaysWhichSecret: the exit-3 message of a profile whose
// secret is gone names the kind of secret it keeps.
func TestNoSecretSaysWhichSecret(t *testing.T) {
	w := newWorld(t)
	if r := w.run("s3cret", "store", "--profile", "ci", "--auth-url", w.ks.URL+"/v3", "--application-credential-id", "ac-1",
		"--password-stdin", "--no-verify"); r.code != 0 {
		t.Fatalf("store: %+v", r)
	}
	clear(w.kr.Items)
	r := w.run("", "get", "--profile", "ci")
	if r.code != 3 || !strings.Contains(r.stderr, `no application credential secret is stored for profile "ci"; run `+"`vkc-credential store --profile ci`") {
		t.Fatalf("exit %d, want 3 naming the application credential secret: %q", r.code, r.stderr)
	}
}
