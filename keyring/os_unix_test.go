//go:build !darwin && !windows

package keyring

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// TestOSReady: no session bus, and a bus on which no Secret Service runs
// or can be started, are "not set up"; the Secret Service of the session
// scripts/test-env.sh starts is ready.
func TestOSReady(t *testing.T) {
	cfg := Config{Timeout: 5 * time.Second}
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		if err := osReady(cfg); err != nil {
			t.Fatalf("the session's Secret Service: %v", err)
		}
	} else if os.Getenv("VKC_E2E_REQUIRED") != "" {
		t.Fatal("no D-Bus session; run through scripts/test-env.sh")
	}

	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		need(t, "dbus-daemon (Debian: dbus-daemon)", err)
	}
	// A bus of its own, that knows no service it could start.
	dir := t.TempDir()
	config := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(config, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=`+dir+`</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dbus-daemon", "--config-file="+config, "--fork", "--print-address=1", "--print-pid=1", "--nopidfile").Output()
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("dbus-daemon printed %q", out)
	}
	t.Cleanup(func() { exec.Command("kill", f[1]).Run() })
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", f[0])
	if err := osReady(cfg); !errors.Is(err, ErrNotSetUp) || !strings.Contains(err.Error(), "no Secret Service") {
		t.Fatalf("a bus without a Secret Service: %v", err)
	}

	if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
		t.Skip("this machine has a per-user bus socket")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if err := osReady(cfg); !errors.Is(err, ErrNotSetUp) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no bus: %v", err)
	}
}

// TestDocsShowTheSetupCommands: docs/keychains.md shows each command the
// backends' setup hints give, as a line of its own, in the order given.
func TestDocsShowTheSetupCommands(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "keychains.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, block := range [][]string{
		{osStartSession, osReadPassword, osUnlock},
		{osReadPassword, osUnlockAgain},
		{passReadPassphrase, passMakeKey, passInit, passKeepInAgent, passPrimeAgent},
		{passReadPassphrase, passPrimeAgent},
	} {
		if !slices.ContainsFunc(windows(lines, len(block)), func(w []string) bool { return slices.Equal(w, block) }) {
			t.Errorf("docs/keychains.md does not show these lines together:\n%s", strings.Join(block, "\n"))
		}
	}
}

// windows returns every run of n consecutive lines.
func windows(lines []string, n int) [][]string {
	var out [][]string
	for i := 0; i+n <= len(lines); i++ {
		out = append(out, lines[i:i+n])
	}
	return out
}
