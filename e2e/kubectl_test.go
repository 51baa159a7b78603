package e2e

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeAPIServer plays a Kubernetes API server that, like
// k8s-keystone-auth, accepts a request only when its bearer token
// validates against the real Keystone.
type fakeAPIServer struct {
	*httptest.Server
	accepted, refused atomic.Int32
	lastToken         atomic.Value
}

func newFakeAPIServer(t *testing.T) *fakeAPIServer {
	f := &fakeAPIServer{}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || validate(t, tok) != 200 {
			f.refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
			return
		}
		f.accepted.Add(1)
		f.lastToken.Store(tok)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"default"}}]}`)
	}))
	t.Cleanup(f.Close)
	return f
}

// kubeconfig writes a kubeconfig whose user runs vkc-credential as an exec
// credential plugin, in the client.authentication.k8s.io version given.
func (f *fakeAPIServer) kubeconfig(t *testing.T, dir, profile, apiVersion string) string {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw})
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: vk
  cluster:
    server: %s
    certificate-authority: %s
contexts:
- name: vk
  context: {cluster: vk, user: vk-keystone}
current-context: vk
users:
- name: vk-keystone
  user:
    exec:
      apiVersion: %s
      command: %s
      args: [get, --profile, %s, --format, exec-credential]
      interactiveMode: Never
      provideClusterInfo: false
`, f.URL, caFile, apiVersion, binary, profile)
	path := filepath.Join(dir, "kubeconfig-"+strings.ReplaceAll(apiVersion, "/", "-"))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKubectlExecCredential(t *testing.T) {
	needKeystone(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not installed")
	}
	api := newFakeAPIServer(t)
	for _, apiVersion := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		t.Run(strings.TrimPrefix(apiVersion, "client.authentication.k8s.io/"), func(t *testing.T) {
			s := newSandbox(t)
			profile := s.profileName("kube")
			s.store(profile, "--no-verify") // nothing cached yet
			kubeconfig := api.kubeconfig(t, t.TempDir(), profile, apiVersion)
			before, accepted := tokenPosts(t), api.accepted.Load()
			for i := range 2 {
				r := s.runCmd(exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/api/v1/namespaces"), nil, "")
				if r.code != 0 || !strings.Contains(r.stdout, `"NamespaceList"`) {
					t.Fatalf("kubectl run %d: %s", i+1, r)
				}
			}
			if got := tokenPosts(t) - before; got != 1 {
				t.Fatalf("two kubectl runs caused %d token issues, want 1", got)
			}
			if api.accepted.Load()-accepted < 2 {
				t.Fatal("the API server did not accept both runs")
			}
			cached := decodeToken(t, s.must("", "get", "--profile", profile))
			if api.lastToken.Load() != cached.Token {
				t.Fatal("kubectl did not present the cached Keystone token")
			}
			// The plugin's own answer, in the version kubectl asked for.
			info := fmt.Sprintf(`{"apiVersion":%q,"kind":"ExecCredential","spec":{"interactive":false}}`, apiVersion)
			r := s.run([]string{"KUBERNETES_EXEC_INFO=" + info}, "", "get", "--profile", profile, "--format", "exec-credential")
			var cred struct {
				APIVersion, Kind string
				Status           struct{ Token, ExpirationTimestamp string }
			}
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &cred) != nil || cred.APIVersion != apiVersion ||
				cred.Kind != "ExecCredential" || cred.Status.Token != cached.Token ||
				cred.Status.ExpirationTimestamp != cached.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z") {
				t.Fatalf("exec-credential answer: %s", r)
			}
		})
	}
	// A profile that is not stored: kubectl fails, and says why.
	s := newSandbox(t)
	kubeconfig := api.kubeconfig(t, t.TempDir(), "not-stored-anywhere", "client.authentication.k8s.io/v1")
	r := s.runCmd(exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/api/v1/namespaces"), nil, "")
	if r.code == 0 || !strings.Contains(r.stderr, "not-stored-anywhere") {
		t.Fatalf("kubectl with a missing profile: %s", r)
	}
}
