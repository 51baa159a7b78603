//go:build !darwin && !windows

package keyring

import (
	"errors"

	"github.com/godbus/dbus/v5"
)

const unlockHint = "make sure a Secret Service (gnome-keyring-daemon or KeePassXC) runs in this D-Bus session and its collection is unlocked"

// vanished reports whether err says the item disappeared between the
// search and the read, as when `erase` races a `get`.
func vanished(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		case "org.freedesktop.Secret.Error.NoSuchObject", "org.freedesktop.DBus.Error.UnknownObject":
			return true
		}
	}
	var dep *dbus.Error
	if errors.As(err, &dep) {
		return vanished(*dep)
	}
	return false
}
