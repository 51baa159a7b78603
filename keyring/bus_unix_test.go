//go:build !darwin && !windows

package keyring

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNoSessionBusFailsFast(t *testing.T) {
	if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
		t.Skip("this machine has a per-user bus socket")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	called := false
	err := OS{Timeout: time.Second}.call("read", func() error { called = true; return nil })
	if called || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "dbus-run-session") {
		t.Fatalf("called=%t err=%v", called, err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "autolaunch:")
	if err := sessionBusMissing(); err == nil {
		t.Fatal("autolaunch: must count as no bus")
	}
}
