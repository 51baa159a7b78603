// Command gophercloud-clients runs OpenStack clients built on gophercloud
// v2, as Terraform's and packer's OpenStack plugins are, against whatever
// the OS_* variables name: each signs in with the password method and
// re-authenticates when a token is refused (AllowReauth), and calls the
// identity API (GET /v3/projects/ID, at the identity endpoint of its
// token's catalog) every -every for -duration. It is the load of
// e2e/standin_test.go and of scripts/bench-standin.sh under
// `vkc-credential exec --serve`.
//
//	gophercloud-clients [-clients 20] [-duration 3m] [-every 3s]
//
// It prints one JSON object: calls made, calls failed (with the first
// errors), and for each client how many distinct tokens it used (the
// tokens themselves are never printed). It exits 1 when a call failed.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
)

type result struct {
	Clients        int      `json:"clients"`
	Calls          int      `json:"calls"`
	Failed         int      `json:"failed"`
	Errors         []string `json:"errors,omitempty"`
	DistinctTokens []int    `json:"distinct_tokens"` // per client
	AllTokens      int      `json:"all_tokens"`      // across clients
}

func main() {
	clients := flag.Int("clients", 20, "clients at once, each with its own sign-in")
	duration := flag.Duration("duration", 3*time.Minute, "how long each client calls")
	every := flag.Duration("every", 3*time.Second, "the wait between two calls of a client")
	flag.Parse()
	res, err := run(*clients, *duration, *every)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gophercloud-clients:", err)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(res)
	if res.Failed > 0 {
		os.Exit(1)
	}
}

// authOptions are gophercloud's own reading of the environment, with the
// user's domain from OS_USER_DOMAIN_NAME as the Terraform provider and
// packer read it (gophercloud itself reads OS_DOMAIN_NAME).
func authOptions() (gophercloud.AuthOptions, error) {
	opts, err := openstack.AuthOptionsFromEnv()
	if err != nil {
		return opts, err
	}
	if opts.DomainName == "" && opts.DomainID == "" {
		opts.DomainName = os.Getenv("OS_USER_DOMAIN_NAME")
	}
	opts.AllowReauth = true
	return opts, nil
}

func run(n int, duration, every time.Duration) (*result, error) {
	opts, err := authOptions()
	if err != nil {
		return nil, err
	}
	project := os.Getenv("OS_PROJECT_ID")
	ctx := context.Background()
	res := &result{Clients: n, DistinctTokens: make([]int, n)}
	all := map[[32]byte]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	end := time.Now().Add(duration)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen, calls, failed, err := client(ctx, opts, project, end, every)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.DistinctTokens[i] = len(seen)
			for t := range seen {
				all[t] = true
			}
			res.Calls += calls
			res.Failed += len(failed)
			for _, f := range failed {
				if len(res.Errors) < 10 {
					res.Errors = append(res.Errors, f)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	res.AllTokens = len(all)
	return res, nil
}

// client signs in and calls until end; it returns the hashes of the
// tokens it used, its calls and the errors of the failed ones.
func client(ctx context.Context, opts gophercloud.AuthOptions, project string, end time.Time, every time.Duration) (map[[32]byte]bool, int, []string, error) {
	provider, err := openstack.AuthenticatedClient(ctx, opts)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("signing in: %w", err)
	}
	identity, err := openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{
		Region: os.Getenv("OS_REGION_NAME"), Availability: gophercloud.Availability(os.Getenv("OS_INTERFACE")),
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("the identity endpoint: %w", err)
	}
	seen := map[[32]byte]bool{}
	var failed []string
	calls := 0
	for time.Now().Before(end) {
		calls++
		if _, err := projects.Get(ctx, identity, project).Extract(); err != nil {
			failed = append(failed, time.Now().UTC().Format(time.RFC3339)+": "+err.Error())
		}
		seen[sha256.Sum256([]byte(provider.Token()))] = true
		time.Sleep(every)
	}
	return seen, calls, failed, nil
}
