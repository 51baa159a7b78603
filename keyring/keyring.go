// Package keyring keeps profile passwords in the OS keychain through
// github.com/zalando/go-keyring, with a timeout on every call and errors
// mapped to ones the rest of the program can act on.
package keyring

import (
	"errors"
	"fmt"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// Service is the keychain service name every item is stored under; the
// account is the profile name.
const Service = "vkc-credential"

// DefaultTimeout bounds each keychain call when OS.Timeout is not set.
const DefaultTimeout = 10 * time.Second

var (
	// ErrNotFound means no password is stored for the profile.
	ErrNotFound = errors.New("no password stored")
	// ErrUnavailable means the keychain is missing, locked, refused the
	// call, or did not answer in time.
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrTimeout means the keychain did not answer in time; such errors
	// wrap ErrUnavailable too.
	ErrTimeout = errors.New("keychain timed out")
)

// Store is what the rest of the program needs of a keychain.
type Store interface {
	Get(profile string) (string, error)
	Set(profile, password string) error
	Delete(profile string) error
}

// OS is the operating system's keychain. Each call gives up after Timeout
// (DefaultTimeout when zero).
type OS struct {
	Timeout time.Duration
}

// The kinds of call, for messages and for telling a vanished item from a
// keychain failure.
type op string

const (
	opRead   op = "read"
	opWrite  op = "write"
	opDelete op = "delete"
)

// Get returns the password stored for profile.
func (k OS) Get(profile string) (string, error) {
	var pw string
	err := k.call(opRead, func() error {
		var err error
		pw, err = gokeyring.Get(Service, profile)
		return err
	})
	return pw, err
}

// Set stores password for profile, replacing any earlier one.
func (k OS) Set(profile, password string) error {
	return k.call(opWrite, func() error { return gokeyring.Set(Service, profile, password) })
}

// Delete removes the password of profile; ErrNotFound if there was none.
func (k OS) Delete(profile string) error {
	return k.call(opDelete, func() error { return gokeyring.Delete(Service, profile) })
}

// call runs fn in a goroutine and waits at most k.Timeout for it. A call
// that times out is abandoned: the process is about to exit anyway.
func (k OS) call(what op, fn func() error) error {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := sessionBusMissing(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return mapError(what, err)
	case <-timer.C:
		return fmt.Errorf("%w: %w: the keychain did not answer a %s within %s; %s", ErrUnavailable, ErrTimeout, what, timeout, unlockHint)
	}
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
	return fmt.Errorf("%w: keychain %s failed: %v; %s", ErrUnavailable, what, err, unlockHint)
}
