package keyring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

func TestCallTimesOut(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent") // never dialled here
	release := make(chan struct{})
	defer close(release)
	k := OS{Timeout: 50 * time.Millisecond}
	err := k.call(opRead, func() error { <-release; return nil })
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("err = %v", err)
	}
}

func TestMapError(t *testing.T) {
	if err := mapError(opRead, gokeyring.ErrNotFound); err != ErrNotFound {
		t.Fatalf("not found: %v", err)
	}
	if err := mapError(opWrite, gokeyring.ErrSetDataTooBig); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("too big: %v", err)
	}
	err := mapError(opRead, fmt.Errorf("The name org.freedesktop.secrets was not provided by any .service files"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), osSetUp().Do) {
		t.Fatalf("no service: %v", err)
	}
	if mapError(opRead, nil) != nil {
		t.Fatal("nil must stay nil")
	}
}

// TestSecretService runs against the real Secret Service of the D-Bus
// session that scripts/test-env.sh starts.
func TestSecretService(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("VKC_E2E_REQUIRED") != "" {
			t.Fatal("no D-Bus session; run through scripts/test-env.sh")
		}
		t.Skip("no D-Bus session")
	}
	k := OS{Timeout: 10 * time.Second}
	item := fmt.Sprintf("keyring-test-%d", time.Now().UnixNano())
	pw := `pä ss "wörd' ` + "\t1"
	if _, err := k.Get(item); err != ErrNotFound {
		t.Fatalf("Get of a missing item: %v", err)
	}
	if err := k.Delete(item); err != ErrNotFound {
		t.Fatalf("Delete of a missing item: %v", err)
	}
	if err := k.Set(item, pw); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(item) })
	if got, err := k.Get(item); err != nil || got != pw {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := k.Set(item, pw+"2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.Get(item); got != pw+"2" {
		t.Fatalf("Set must replace: got %q", got)
	}
	if err := k.Delete(item); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(item); err != ErrNotFound {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := RoundTrip(k); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if s, name, skipped, err := Auto(10 * time.Second); err != nil || name != "os" || s == nil || skipped != nil {
		t.Fatalf("Auto with a Secret Service = %v, %q, %v, %v", s, name, skipped, err)
	}
}
