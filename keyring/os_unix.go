//go:build !darwin && !windows

package keyring

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

const osKeychainName = "a Secret Service such as gnome-keyring or KWallet on the D-Bus session bus"

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

// noSessionBus says, without starting anything, why there is no D-Bus
// session bus to find a Secret Service on; "" when there is one.
// go-keyring would otherwise run dbus-launch, which starts a private bus
// (and, through it, a private keyring daemon) that outlives this process
// and holds nobody's secrets.
func noSessionBus() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	dir := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return ""
		}
	}
	return fmt.Sprintf("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and %s/bus does not exist)", dir)
}

// sessionBusMissing is the error of an OS keychain call made without a
// session bus, or nil when there is one.
func sessionBusMissing() error {
	if why := noSessionBus(); why != "" {
		return notSetUp("%s; to use the OS keychain here, %s", why, osSetUp())
	}
	return nil
}

// osReady asks the session bus for the Secret Service's default collection
// (the one go-keyring keeps items in). No bus, no Secret Service on it, or
// a Secret Service without a default collection (gnome-keyring started by
// D-Bus activation, with no login keyring created) is not set up.
func osReady(cfg Config) error {
	if why := noSessionBus(); why != "" {
		return notSetUp("%s", why)
	}
	var path dbus.ObjectPath
	err := bounded(cfg.timeout(), func() error {
		// A connection of its own, closed after: the shared one would keep
		// the address it first met.
		conn, err := dbus.ConnectSessionBus()
		if err != nil {
			return notSetUp("the D-Bus session bus does not answer (%v)", err)
		}
		defer conn.Close()
		return conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
			Call("org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&path)
	})
	var de dbus.Error
	switch {
	case err == errNoAnswer:
		return fmt.Errorf("%w: %w: the Secret Service did not answer within %s", ErrUnavailable, ErrTimeout, cfg.timeout())
	case errors.As(err, &de) && de.Name == "org.freedesktop.DBus.Error.ServiceUnknown":
		return notSetUp("no Secret Service (such as gnome-keyring) runs on the D-Bus session bus, and none can be started there")
	case err != nil && errors.Is(err, ErrNotSetUp):
		return err
	case err != nil:
		return fmt.Errorf("%w: the Secret Service failed: %v", ErrUnavailable, err)
	case path == "/" || path == "":
		return notSetUp("the Secret Service on the D-Bus session bus has no default keyring yet")
	}
	return nil
}

// The commands of osSetUp; docs/keychains.md shows the same (a test keeps
// the two in step).
const (
	osStartSession = "dbus-run-session -- bash"
	osReadPassword = "read -rsp 'keyring password: ' KRPW; echo"
	osUnlock       = `printf '%s' "$KRPW" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; unset KRPW`
	osUnlockAgain  = `printf '%s' "$KRPW" | gnome-keyring-daemon --replace --unlock --components=secrets >/dev/null; unset KRPW`
)

// osSetUp says how to get an unlocked Secret Service where there is none:
// gnome-keyring, started with its login keyring unlocked (it creates that
// keyring the first time, with the password given). Only this works
// without a desktop: a daemon started by D-Bus activation or with --start
// has no login keyring and cannot ask for a password to create one, and
// go-keyring then fails with "failed to unlock correct collection". In a
// fresh session there is no daemon yet; in a session bus that exists,
// --replace takes over from a daemon D-Bus activation started. (Not in
// the fresh one: --replace stops the daemon GNOME_KEYRING_CONTROL names,
// which an inherited variable may place in another session.)
func osSetUp() Setup {
	if noSessionBus() != "" {
		return Setup{
			Do: "start a shell with a D-Bus session of its own, and in that shell start gnome-keyring with its login keyring unlocked " +
				"(Debian/Ubuntu: apt-get install dbus gnome-keyring; the first time, the password you type creates the keyring; " +
				"the OS keychain works while that shell runs, and a later one needs the same commands and password), in bash",
			Commands: []string{osStartSession, osReadPassword, osUnlock},
		}
	}
	return Setup{
		Do: "make sure a Secret Service (gnome-keyring, KeePassXC, KWallet) runs in this D-Bus session with its default keyring unlocked " +
			"(a desktop unlocks it when you log in); without a desktop, start gnome-keyring with its login keyring unlocked " +
			"(Debian/Ubuntu: apt-get install gnome-keyring; the first time, the password you type creates the keyring), in bash",
		Commands: []string{osReadPassword, osUnlockAgain},
	}
}
