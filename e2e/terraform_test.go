package e2e

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tfTools is a real Terraform and the real OpenStack provider, built from
// source by scripts/install-terraform.sh (nothing comes from a registry).
type tfTools struct {
	terraform       string // the terraform (or tofu) binary
	provider        string // the terraform-provider-openstack binary
	providerVersion string // its version without the v, e.g. 3.4.0
}

// tfFind locates the tools: VKC_E2E_TERRAFORM and VKC_E2E_TF_PROVIDER_DIR
// when set, else $(go env GOPATH)/bin, where install-terraform.sh puts them.
func tfFind(t *testing.T) tfTools {
	t.Helper()
	gobin := ""
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		if first := filepath.SplitList(strings.TrimSpace(string(out))); len(first) > 0 && first[0] != "" {
			gobin = filepath.Join(first[0], "bin")
		}
	}
	tf := os.Getenv("VKC_E2E_TERRAFORM")
	if tf == "" {
		tf = filepath.Join(gobin, "terraform")
	}
	dir := os.Getenv("VKC_E2E_TF_PROVIDER_DIR")
	if dir == "" {
		dir = gobin
	}
	tools := tfTools{terraform: tf, provider: filepath.Join(dir, "terraform-provider-openstack")}
	for _, p := range []string{tools.terraform, tools.provider} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			t.Fatalf("%s is missing: run scripts/install-terraform.sh (or set VKC_E2E_TERRAFORM / VKC_E2E_TF_PROVIDER_DIR)", p)
		}
	}
	// A filesystem mirror names the provider's version; take the one the
	// binary was built as (go install MODULE@vX.Y.Z records it).
	tools.providerVersion = "0.0.1"
	if bi, err := buildinfo.ReadFile(tools.provider); err == nil && strings.HasPrefix(bi.Main.Version, "v") && !strings.Contains(bi.Main.Version, "-") {
		tools.providerVersion = strings.TrimPrefix(bi.Main.Version, "v")
	}
	return tools
}

// tfWorkspace is one Terraform working directory inside a sandbox, with a
// CLI config that installs the provider from a local filesystem mirror
// only: `terraform init` works with no network and no registry.
type tfWorkspace struct {
	dir string   // the configuration (main.tf) and its state
	env []string // the sandbox's environment plus Terraform's settings
}

// tfMainTF is the configuration under test; provider is its provider
// block.  The data source validates the token with Keystone and reports
// whose it is.
func tfMainTF(provider string) string {
	return `terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}

` + provider + `

data "openstack_identity_auth_scope_v3" "scope" {
  name = "scope"
  # Only so that the test can see which token the provider used.
  set_token_id = true
}

output "project_id" {
  value = data.openstack_identity_auth_scope_v3.scope.project_id
}

output "user_name" {
  value = data.openstack_identity_auth_scope_v3.scope.user_name
}

output "token_id" {
  value     = data.openstack_identity_auth_scope_v3.scope.token_id
  sensitive = true
}
`
}

// tfMirror lays out a filesystem mirror of the provider under root and
// writes a CLI config that installs providers from it and from nowhere
// else; it returns the config's path.
func tfMirror(t *testing.T, root string, tools tfTools) string {
	t.Helper()
	mirror := filepath.Join(root, "tf-mirror")
	// registry.opentofu.org too, so that VKC_E2E_TERRAFORM may name a tofu.
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		pdir := filepath.Join(mirror, host, "terraform-provider-openstack", "openstack", tools.providerVersion, runtime.GOOS+"_"+runtime.GOARCH)
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(tools.provider, filepath.Join(pdir, "terraform-provider-openstack_v"+tools.providerVersion)); err != nil {
			t.Fatal(err)
		}
	}
	cliConfig := filepath.Join(root, "terraformrc")
	rc := fmt.Sprintf(`disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path = %q
  }
}
`, mirror)
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	return cliConfig
}

// tfNewWorkspace writes main.tf with the provider block given into
// s.home/name and runs `terraform init` there (no credentials needed).
func tfNewWorkspace(t *testing.T, s *sandbox, tools tfTools, cliConfig, name, provider string) *tfWorkspace {
	t.Helper()
	return tfNewWorkspaceWith(t, s, tools, cliConfig, name, tfMainTF(provider))
}

// tfNewWorkspaceWith is tfNewWorkspace with a whole main.tf.
func tfNewWorkspaceWith(t *testing.T, s *sandbox, tools tfTools, cliConfig, name, mainTF string) *tfWorkspace {
	t.Helper()
	w := &tfWorkspace{dir: filepath.Join(s.home, name)}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(mainTF), 0o600); err != nil {
		t.Fatal(err)
	}
	// The sandbox's environment (no OS_*, its own HOME) without any TF_*
	// setting of the machine running the tests (TF_CLI_CONFIG_FILE,
	// TF_PLUGIN_CACHE_DIR, TF_LOG, TF_CLI_ARGS...).
	for _, kv := range s.env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_") || name == "CHECKPOINT_DISABLE" {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env, "TF_CLI_CONFIG_FILE="+cliConfig, "TF_DATA_DIR="+filepath.Join(w.dir, ".terraform-data"),
		"TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1")
	if r := w.run(t, nil, tools.terraform, "init", "-input=false", "-no-color"); r.code != 0 {
		t.Fatalf("terraform init: %s", r)
	}
	return w
}

// run runs name args in the workspace with extra environment, no
// terminal, and at most three minutes.
func (w *tfWorkspace) run(t *testing.T, extraEnv []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = w.dir
	return runProcess(t, cmd, append(append([]string{}, w.env...), extraEnv...), "", 3*time.Minute)
}

type tfOutputs struct{ projectID, userName, tokenID string }

// outputs reads the root module's outputs from the state.
func (w *tfWorkspace) outputs(t *testing.T, tools tfTools) tfOutputs {
	t.Helper()
	r := w.run(t, nil, tools.terraform, "output", "-json", "-no-color")
	var out map[string]struct {
		Value string `json:"value"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		t.Fatalf("terraform output -json: %s", r)
	}
	o := tfOutputs{out["project_id"].Value, out["user_name"].Value, out["token_id"].Value}
	if o.projectID != ks.ProjectID || o.userName != ks.Username {
		t.Fatalf("the provider authenticated as %q in project %q, want %q in %q", o.userName, o.projectID, ks.Username, ks.ProjectID)
	}
	return o
}

// tfTokenExpiry asks Keystone when token expires (GET /v3/auth/tokens).
func tfTokenExpiry(t *testing.T, token string) time.Time {
	t.Helper()
	req, _ := http.NewRequest("GET", strings.TrimSuffix(ks.AuthURL, "/")+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Subject-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil || body.Token.ExpiresAt.IsZero() {
		t.Fatalf("validating the provider's token: HTTP %d", resp.StatusCode)
	}
	return body.Token.ExpiresAt
}

// TestTerraformApplyWithExec runs a real `terraform apply` with the real
// OpenStack provider against the real Keystone, under
// `vkc-credential exec --min-ttl 55m`, with the old openrc password
// variables in the parent environment.
func TestTerraformApplyWithExec(t *testing.T) {
	needKeystone(t)
	tools := tfFind(t)
	s := newSandbox(t)
	profile := s.profileName("terraform")
	s.store(profile)
	warm := decodeToken(t, s.must("", "get", "--profile", profile))
	if ttl := time.Until(warm.ExpiresAt); ttl < 55*time.Minute {
		t.Fatalf("the warm token has only %s left; is Keystone's token lifetime not 1h?", ttl)
	}
	cliConfig := tfMirror(t, s.home, tools)
	parent := []string{"OS_USERNAME=" + ks.Username, "OS_PASSWORD=" + ks.Password, "OS_PROJECT_NAME=vkc-test",
		"OS_USER_DOMAIN_NAME=" + ks.Domain, "OS_PROJECT_DOMAIN_ID=default"}
	apply := []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	execArgs := []string{"exec", "--profile", profile, "--min-ttl", "55m", "--"}

	// exec must be served from the cache: the token warmed a moment ago
	// has almost its whole hour (Keystone's default lifetime) left, more
	// than --min-ttl 55m, so vkc-credential issues nothing and its cache
	// still holds the warm token afterwards.
	stillCached := func(t *testing.T) {
		t.Helper()
		a := decodeToken(t, s.must("", "get", "--profile", profile, "--min-ttl", "55m"))
		if !a.Cached || a.Token != warm.Token {
			t.Fatalf("exec --min-ttl 55m replaced the warm token (cached=%t)", a.Cached)
		}
	}

	t.Run("without vkc-credential", func(t *testing.T) {
		w := tfNewWorkspace(t, s, tools, cliConfig, "tf-none", `provider "openstack" {}`)
		r := w.run(t, nil, tools.terraform, apply...)
		if r.code == 0 || !strings.Contains(r.stderr, "auth_url") {
			t.Fatalf("terraform apply with no OS_* variables must fail for want of auth_url: %s", r)
		}
	})

	// The provider block as a user writes it: empty, all from the
	// environment.  With OS_PROJECT_ID set (exec sets it) gophercloud asks
	// for a project scope, so it exchanges our token for a new one with
	// the token method: one POST /v3/auth/tokens, {"methods":["token"]}
	// (no password exists anywhere in its environment).  Keystone gives a
	// token obtained from a token the expiry of the original, so the run
	// is still bounded by the token --min-ttl vouched for.
	t.Run("exec, provider from the environment", func(t *testing.T) {
		w := tfNewWorkspace(t, s, tools, cliConfig, "tf-env", `provider "openstack" {}`)
		posts0 := tokenPosts(t)
		r := w.run(t, parent, binary, append(execArgs, append([]string{tools.terraform}, apply...)...)...)
		if r.code != 0 {
			t.Fatalf("vkc-credential exec --min-ttl 55m -- terraform apply: %s", r)
		}
		posts := tokenPosts(t) - posts0
		o := w.outputs(t, tools)
		stillCached(t)
		if o.tokenID == warm.Token || posts != 1 {
			t.Fatalf("want the provider to rescope our token once; it used ours as is: %t, POST /v3/auth/tokens: %d",
				o.tokenID == warm.Token, posts)
		}
		if exp := tfTokenExpiry(t, o.tokenID); exp.Sub(warm.ExpiresAt).Abs() > time.Second {
			t.Fatalf("the provider's token expires at %s, ours at %s", exp, warm.ExpiresAt)
		}
	})

	// Our token as is: no project in the provider's environment (so no
	// scope to ask for) and allow_reauth = false (else gophercloud refuses
	// an unscoped token).  The provider validates the token (GET
	// /v3/auth/tokens) and issues nothing.
	t.Run("exec, token passed through", func(t *testing.T) {
		w := tfNewWorkspace(t, s, tools, cliConfig, "tf-passthrough", "provider \"openstack\" {\n  allow_reauth = false\n}")
		posts0 := tokenPosts(t)
		r := w.run(t, parent, binary, append(execArgs, append([]string{"env", "-u", "OS_PROJECT_ID", tools.terraform}, apply...)...)...)
		if r.code != 0 {
			t.Fatalf("vkc-credential exec --min-ttl 55m -- env -u OS_PROJECT_ID terraform apply: %s", r)
		}
		posts := tokenPosts(t) - posts0
		o := w.outputs(t, tools)
		stillCached(t)
		if o.tokenID != warm.Token || posts != 0 {
			t.Fatalf("want our token used as is: same token %t, POST /v3/auth/tokens: %d", o.tokenID == warm.Token, posts)
		}
	})

	// No password anywhere on disk: states, .terraform data, CLI config,
	// the vkc-credential config and cache.
	for _, name := range []string{"tf-env", "tf-passthrough"} {
		if _, err := os.Stat(filepath.Join(s.home, name, "terraform.tfstate")); err != nil {
			t.Errorf("no state file: %v", err)
		}
	}
	if hits := filesContaining(t, s.home, ks.Password); len(hits) > 0 {
		t.Fatalf("the password is in %v", hits)
	}
}
