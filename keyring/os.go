package keyring

import (
	"errors"
	"fmt"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// OS is the operating system's keychain through github.com/zalando/go-keyring:
// macOS Keychain, Windows Credential Manager, or a Secret Service
// (gnome-keyring, KWallet, KeePassXC) on the D-Bus session bus. Items are
// kept under the service "vkc-credential" with the item as the account.
// Each call gives up after Timeout (DefaultTimeout when zero).
type OS struct {
	Timeout time.Duration
}

// Get returns the secret stored as item.
func (k OS) Get(item string) (string, error) {
	if err := checkItem(item); err != nil {
		return "", err
	}
	var pw string
	err := k.call(opRead, func() error {
		var err error
		pw, err = gokeyring.Get(service, item)
		return err
	})
	return pw, err
}

// Set stores secret as item, replacing any earlier one.
func (k OS) Set(item, secret string) error {
	if err := checkItem(item); err != nil {
		return err
	}
	return k.call(opWrite, func() error { return gokeyring.Set(service, item, secret) })
}

// Delete removes item; ErrNotFound if there was none.
func (k OS) Delete(item string) error {
	if err := checkItem(item); err != nil {
		return err
	}
	return k.call(opDelete, func() error { return gokeyring.Delete(service, item) })
}

// call runs fn bounded by k.Timeout, after checking, on Linux, that there is
// a session bus to find a Secret Service on.
func (k OS) call(what op, fn func() error) error {
	if err := sessionBusMissing(); err != nil {
		return err
	}
	timeout := orDefault(k.Timeout)
	err := bounded(timeout, fn)
	if err == errNoAnswer {
		return fmt.Errorf("%w: %w: the keychain did not answer a %s within %s; %s", ErrUnavailable, ErrTimeout, what, timeout, osSetUp())
	}
	return mapError(what, err)
}

func mapError(what op, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gokeyring.ErrNotFound):
		return ErrNotFound
	case what == opRead && vanished(err):
		// An item deleted between the search and the read (a racing
		// erase) is not stored, not a keychain failure.
		return ErrNotFound
	case errors.Is(err, gokeyring.ErrSetDataTooBig):
		return fmt.Errorf("%w: the password is too large for this keychain", ErrUnavailable)
	}
	return fmt.Errorf("%w: keychain %s failed: %v; %s", ErrUnavailable, what, err, osSetUp())
}

func openOS(cfg Config) (Store, error) {
	//lint:ignore S1016 Config is to carry other backends' settings too; OS takes the timeout alone.
	return OS{Timeout: cfg.Timeout}, nil
}

func osDescribe() string {
	return "the OS keychain (" + osKeychainName + "); it survives reboots"
}
