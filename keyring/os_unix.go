//go:build !darwin && !windows

package keyring

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

const (
	unlockHint     = "make sure a Secret Service (gnome-keyring-daemon or KeePassXC) runs in this D-Bus session and its collection is unlocked"
	osKeychainName = "a Secret Service such as gnome-keyring or KWallet on the D-Bus session bus"
)

func osWhere(item string) string {
	return fmt.Sprintf("the Secret Service item with service=%s and username=%s (secret-tool clear service %s username %s)", service, item, service, item)
}

// vanished reports whether err says the item disappeared between the
// search and the read, as when `erase` races a `get`.
func vanished(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		// GDBus (gnome-keyring) answers a call on a deleted item with
		// UnknownMethod, "Object does not exist at path".
		case "org.freedesktop.Secret.Error.NoSuchObject", "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod":
			return true
		}
	}
	var dep *dbus.Error
	if errors.As(err, &dep) {
		return vanished(*dep)
	}
	return false
}

// sessionBusMissing tells, without starting anything, when there is no
// D-Bus session bus to find a Secret Service on. go-keyring would then run
// dbus-launch, which starts a private bus (and, through it, a private
// keyring daemon) that outlives this process and holds nobody's secrets.
func sessionBusMissing() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dir := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and %s/bus does not exist); "+
		"run inside a desktop session, or start one with `dbus-run-session -- SHELL` and a Secret Service such as gnome-keyring-daemon", ErrUnavailable, dir)
}
