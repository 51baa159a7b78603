//go:build !darwin && !windows

package keyring

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestNoSessionBusFailsFast(t *testing.T) {
	if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
		t.Skip("this machine has a per-user bus socket")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	called := false
	err := OS{Timeout: time.Second}.call(opRead, func() error { called = true; return nil })
	if called || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "dbus-run-session") {
		t.Fatalf("called=%t err=%v", called, err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "autolaunch:")
	if err := sessionBusMissing(); err == nil {
		t.Fatal("autolaunch: must count as no bus")
	}
}

func TestVanishedItemIsNotFound(t *testing.T) {
	gone := dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownMethod", Body: []any{"Object does not exist at path “/org/freedesktop/secrets/collection/login/16”"}}
	if err := mapError(opRead, gone); err != ErrNotFound {
		t.Fatalf("read of a vanished item: %v", err)
	}
	if err := mapError(opRead, &gone); err != ErrNotFound {
		t.Fatalf("read of a vanished item (pointer): %v", err)
	}
	// Writing into a collection that does not exist is a keychain problem.
	if err := mapError(opWrite, gone); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("write: %v", err)
	}
}
