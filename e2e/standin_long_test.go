package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Runs that outlast tokens: Keystones whose tokens live shortLifetime,
// started by the tests (scripts/keystone-up.sh with
// VKC_E2E_TOKEN_EXPIRATION), so that the rest of the suite keeps hour-long
// tokens. Two of them: the runs under `exec --serve`, whose token POSTs
// are counted in the access log, and the run under plain `exec`, whose
// token exchanges must not be counted with them. The long runs go in
// parallel with each other.

const shortLifetime = 60 * time.Second

// The short-token Keystones, by name.
const (
	shortServe = "serve"
	shortPlain = "plain"
)

// shortTest is the test that needs them; TestMain starts them early, while
// the other tests run, when -run selects it.
const shortTest = "TestStandinOutlastsTokens"

type shortKS struct {
	once sync.Once
	dir  string
	env  *env
	err  error
}

var shortKeystones = map[string]*shortKS{shortServe: {}, shortPlain: {}}

// startShortKeystonesEarly starts the short-token Keystones in the
// background, one after the other, when the test that needs them is
// selected.
func startShortKeystonesEarly() {
	if ks == nil {
		return
	}
	if !flag.Parsed() {
		flag.Parse()
	}
	pattern := ""
	if f := flag.Lookup("test.run"); f != nil {
		pattern = f.Value.String()
	}
	if ok, _ := regexp.MatchString(strings.Split(pattern, "/")[0], shortTest); ok {
		go func() {
			for _, name := range []string{shortServe, shortPlain} {
				k := shortKeystones[name]
				k.once.Do(k.start)
			}
		}()
	}
}

func (k *shortKS) start() {
	dir, err := os.MkdirTemp("", "vkc-e2e-short-keystone-")
	if err != nil {
		k.err = err
		return
	}
	k.dir = dir
	up := exec.Command("bash", "../scripts/keystone-up.sh", dir)
	up.Env = append(os.Environ(), fmt.Sprintf("VKC_E2E_TOKEN_EXPIRATION=%d", int(shortLifetime.Seconds())))
	if out, err := up.CombinedOutput(); err != nil {
		k.err = fmt.Errorf("starting a short-token Keystone: %v\n%s", err, out)
		return
	}
	// The env file's values, as bash reads them.
	out, err := exec.Command("bash", "-c", `source "$1" && env | grep '^VKC_E2E_'`, "-", filepath.Join(dir, "env")).Output()
	if err != nil {
		k.err = fmt.Errorf("reading %s/env: %v", dir, err)
		return
	}
	v := childEnv(string(out))
	password, err := os.ReadFile(v["VKC_E2E_PASSWORD_FILE"])
	if err != nil {
		k.err = err
		return
	}
	k.env = &env{AuthURL: v["VKC_E2E_AUTH_URL"], ProjectID: v["VKC_E2E_PROJECT_ID"], Username: v["VKC_E2E_USERNAME"],
		Domain: v["VKC_E2E_USER_DOMAIN"], Password: string(password), KeystoneLog: v["VKC_E2E_KEYSTONE_LOG"]}
}

// stopShortKeystones stops those that were started; TestMain calls it.
func stopShortKeystones() {
	for _, k := range shortKeystones {
		k.once.Do(func() {}) // waits for a start under way
		if k.dir != "" {
			exec.Command("bash", "../scripts/keystone-down.sh", k.dir).Run()
			os.RemoveAll(k.dir)
		}
	}
}

// shortKeystone returns the short-token Keystone name, starting it if
// needed.
func shortKeystone(t *testing.T, name string) *env {
	t.Helper()
	needKeystone(t)
	k := shortKeystones[name]
	k.once.Do(k.start)
	if k.err != nil {
		t.Fatal(k.err)
	}
	return k.env
}

// tfOutlast is a configuration whose apply lasts more than three token
// lifetimes: after each of three waits longer than a token lives
// (Terraform's own terraform_data), the provider creates an EC2
// credential of the user at Keystone with the token it holds, which has
// died meanwhile, so it must sign in again; openstack_identity_auth_scope_v3
// then records which token it holds.
func tfOutlast(wait time.Duration) string {
	var b strings.Builder
	b.WriteString(`terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}

provider "openstack" {}

resource "openstack_identity_ec2_credential_v3" "c0" {}

data "openstack_identity_auth_scope_v3" "t0" {
  name         = "t0"
  set_token_id = true
  depends_on   = [openstack_identity_ec2_credential_v3.c0]
}
`)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, `
resource "terraform_data" "wait%d" {
  depends_on = [data.openstack_identity_auth_scope_v3.t%d]
  provisioner "local-exec" {
    command = "sleep %d"
  }
}

resource "openstack_identity_ec2_credential_v3" "c%d" {
  depends_on = [terraform_data.wait%d]
}

data "openstack_identity_auth_scope_v3" "t%d" {
  name         = "t%d"
  set_token_id = true
  depends_on   = [openstack_identity_ec2_credential_v3.c%d]
}
`, i, i-1, int(wait.Seconds()), i, i, i, i, i)
	}
	b.WriteString(`
output "tokens" {
  value     = [for t in [data.openstack_identity_auth_scope_v3.t0, data.openstack_identity_auth_scope_v3.t1, data.openstack_identity_auth_scope_v3.t2, data.openstack_identity_auth_scope_v3.t3] : t.token_id]
  sensitive = true
}
`)
	return b.String()
}

// TestStandinOutlastsTokens: runs that last more than three token
// lifetimes. Under plain `exec`, a Terraform apply fails when its token
// dies. Under `exec --serve`, the same apply succeeds, and so do 20
// gophercloud clients with re-authentication on that call the identity
// API every few seconds (no failed call, each client at least three
// tokens); both runs at once, on one machine's cache, make Keystone issue
// one token per lifetime. The three run at the same time, as processes
// (parallel subtests would wait for each other on a 2-core machine, whose
// -parallel is 2).
func TestStandinOutlastsTokens(t *testing.T) {
	serveKS, plainKS := shortKeystone(t, shortServe), shortKeystone(t, shortPlain)
	tools := tfFind(t)
	clients := filepath.Join(t.TempDir(), "gophercloud-clients")
	if out, err := exec.Command("go", "build", "-o", clients, "../bench/gophercloud-clients").CombinedOutput(); err != nil {
		t.Fatalf("building bench/gophercloud-clients: %v\n%s", err, out)
	}
	wait := shortLifetime + 5*time.Second
	apply := []string{tools.terraform, "apply", "-auto-approve", "-input=false", "-no-color"}
	bound := 4*wait + 3*time.Minute

	// Plain exec, with a Keystone of its own: the provider's token
	// exchanges are not counted with the stand-ins' sign-ins.
	sp := newSandbox(t)
	plainProfile := sp.profileName("standin-tf-plain")
	storeAt(sp, plainKS, plainProfile)
	wp := tfNewWorkspaceWith(t, sp, tools, tfMirror(t, sp.home, tools), "tf", tfOutlast(wait))
	plainCmd := exec.Command(binary, append([]string{"exec", "--profile", plainProfile, "--"}, apply...)...)
	plainCmd.Dir = wp.dir

	// exec --serve: Terraform and the gophercloud clients, one user, one
	// cache, two stand-ins.
	s := newSandbox(t)
	profile := s.profileName("standin-long")
	storeAt(s, serveKS, profile)
	ws := tfNewWorkspaceWith(t, s, tools, tfMirror(t, s.home, tools), "tf", tfOutlast(wait))
	serveCmd := exec.Command(binary, append([]string{"exec", "--serve", "--profile", profile, "--"}, apply...)...)
	serveCmd.Dir = ws.dir
	duration := 3 * shortLifetime
	gcCmd := exec.Command(binary, "exec", "--serve", "--profile", profile, "--", clients, "-clients", "20", "-duration", duration.String(), "-every", "3s")

	posts0 := postsIn(t, serveKS.KeystoneLog)
	start := time.Now()
	plain := startProcess(t, plainCmd, wp.env, "")
	tf := startProcess(t, serveCmd, ws.env, "")
	gc := startProcess(t, gcCmd, s.env, "")
	gcResult, tfResult := gc.wait(t, bound), tf.wait(t, bound)
	took := time.Since(start)
	posts := postsIn(t, serveKS.KeystoneLog) - posts0
	plainResult := plain.wait(t, bound)

	if out := plainResult.stdout + plainResult.stderr; plainResult.code == 0 ||
		!strings.Contains(out, "openstack_identity_ec2_credential_v3.c1") || !strings.Contains(out, "re-authenticate") {
		t.Errorf("terraform apply under plain exec must fail at the first call after the token died: %s", plainResult)
	}
	standinTerraform(t, ws, tools, tfResult, tf.took())
	standinGophercloud(t, gcResult)
	lifetimes := int(took / shortLifetime)
	if posts > lifetimes+1 {
		t.Errorf("in %s (%d token lifetimes) Keystone saw %d token POSTs, want one per lifetime", took.Round(time.Second), lifetimes, posts)
	}
	t.Logf("terraform apply %s, gophercloud %s, plain exec %s; %d Keystone token POSTs for both stand-ins",
		tf.took().Round(time.Second), gc.took().Round(time.Second), plain.took().Round(time.Second), posts)
}

// standinTerraform checks the apply under `exec --serve`: it succeeded,
// lasted more than three lifetimes, and held a new token after each wait.
func standinTerraform(t *testing.T, w *tfWorkspace, tools tfTools, r result, took time.Duration) {
	t.Helper()
	if r.code != 0 {
		t.Errorf("exec --serve -- terraform apply: %s", r)
		return
	}
	out := w.run(t, nil, tools.terraform, "output", "-json", "tokens")
	var tokens []string
	if err := json.Unmarshal([]byte(out.stdout), &tokens); err != nil || len(tokens) != 4 {
		t.Errorf("terraform output tokens: %s", out)
		return
	}
	distinct := map[string]bool{}
	for _, tok := range tokens {
		distinct[tok] = true
	}
	if took < 3*shortLifetime || len(distinct) != 4 {
		t.Errorf("the apply took %s with %d distinct tokens, want more than 3 lifetimes and 4 tokens", took.Round(time.Second), len(distinct))
	}
}

// standinGophercloud checks the 20 clients: no failed call, at least three
// tokens each.
func standinGophercloud(t *testing.T, r result) {
	t.Helper()
	var res struct {
		Calls, Failed  int
		Errors         []string
		DistinctTokens []int `json:"distinct_tokens"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || len(res.DistinctTokens) != 20 {
		t.Errorf("exec --serve -- gophercloud-clients: %s", r)
		return
	}
	for i, n := range res.DistinctTokens {
		if n < 3 {
			t.Errorf("client %d used %d tokens, want at least 3", i, n)
		}
	}
	if res.Failed != 0 || res.Calls < 20*50 {
		t.Errorf("%d calls, %d failed: %v", res.Calls, res.Failed, res.Errors)
	}
}
