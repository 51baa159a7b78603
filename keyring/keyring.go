// Package keyring keeps secrets in a keychain backend — the OS keychain,
// the Linux kernel's persistent keyring, or the pass password manager —
// behind one Store interface, with a timeout on every call and errors mapped
// to ones the rest of the program can act on.
//
// The backends are named in one table; each row carries what its backend
// knows about itself: how to open it (Open), whether it is set up on this
// machine (Ready), how to set it up or mend it (HowToSetUp), and where a
// secret lives and what it survives (Describe). Auto picks the first one
// that takes a secret here, and RoundTrip proves one end to end.
package keyring

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vkc-credential/protocol"
)

// service names every item of ours: the service of an OS keychain item, the
// folder of a pass entry, the prefix of a kernel key's description.
const service = "vkc-credential"

// DefaultTimeout bounds each keychain call when no timeout is given.
const DefaultTimeout = 10 * time.Second

// The errors of the backends. Each knows its class (protocol.CodeOf):
// ErrNotFound is protocol.CodeNotFound, the others
// protocol.CodeKeyringUnavailable.
var (
	// ErrNotFound means no secret is stored as the item.
	ErrNotFound = protocol.NewError(protocol.CodeNotFound, "no password stored")
	// ErrUnavailable means the keychain is missing, locked, refused the
	// call, or did not answer in time.
	ErrUnavailable = protocol.NewError(protocol.CodeKeyringUnavailable, "keychain unavailable")
	// ErrTimeout means the keychain did not answer in time; such errors
	// wrap ErrUnavailable too.
	ErrTimeout = protocol.NewError(protocol.CodeKeyringUnavailable, "keychain timed out")
	// ErrNotSetUp means the backend is not set up on this machine (not
	// installed, not initialised, or not offered by the system), as
	// opposed to set up and failing; such errors wrap ErrUnavailable too.
	ErrNotSetUp = protocol.NewError(protocol.CodeKeyringUnavailable, "not set up here")
)

// Store is a keychain backend: it keeps one secret per item. The caller
// decides what an item is; an item is 1–200 bytes of printable UTF-8.
// Get and Delete of an item that is not stored return an error matching
// ErrNotFound (errors.Is); a backend that cannot be reached, refuses, or
// does not answer in time returns an error wrapping ErrUnavailable (and
// ErrTimeout for the last).
type Store interface {
	// Get returns the secret stored as item.
	Get(item string) (string, error)
	// Set stores secret as item, replacing any earlier one.
	Set(item, secret string) error
	// Delete removes item.
	Delete(item string) error
}

// Config is what a backend is opened with: the bound on each call, and the
// place for the settings of a backend that has some (an address, a
// command). The zero Config is the default of every backend.
type Config struct {
	// Timeout bounds each call (DefaultTimeout when not positive).
	Timeout time.Duration
}

func (c Config) timeout() time.Duration { return orDefault(c.Timeout) }

// Setup says how to set a backend up on this machine, or how to mend it
// when it is set up and fails: what to do, and the commands that do it.
type Setup struct {
	// Do says what to do, in a sentence.
	Do string
	// Commands are shell commands to type into bash in this order, as
	// written (a command that starts with `read` waits for a line of
	// input: a passphrase, not echoed). None when there is nothing to run.
	Commands []string
}

// String puts the setup on one line, the commands quoted with backticks.
func (s Setup) String() string {
	if len(s.Commands) == 0 {
		return s.Do
	}
	return s.Do + ": `" + strings.Join(s.Commands, "`, then `") + "`"
}

// backend is one row of the table of backends.
type backend struct {
	name string
	open func(Config) (Store, error)
	// ready says, cheaply, within the timeout and without writing
	// anything, whether the backend is set up on this machine: nil when it
	// is; an error matching ErrNotSetUp that says what is missing when it
	// is not; another error wrapping ErrUnavailable when it could not tell.
	ready func(Config) error
	// setUp says how to set the backend up from where this machine stands,
	// or how to mend it (unlock, prime) once it is set up.
	setUp func() Setup
	// describe says where the secret lives and what it survives.
	describe func() string
	// where says where one item lives, and how a person deletes it.
	where func(item string) string
}

// backends is the table of backends, in the order Auto tries them.
var backends = [...]backend{
	{"os", openOS, osReady, osSetUp, osDescribe, osWhere},
	{"pass", openPass, passReady, passSetUp, passDescribe, passWhere},
	{"keyctl", openKeyctl, keyctlReady, keyctlSetUp, keyctlDescribe, keyctlWhere},
}

// Names returns the names of the backends, in the order Auto tries them.
func Names() []string {
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.name
	}
	return names
}

func lookup(name string) (backend, error) {
	for _, b := range backends {
		if b.name == name {
			return b, nil
		}
	}
	return backend{}, fmt.Errorf("unknown keychain backend %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Open returns the backend called name (one of Names), configured by cfg.
// It does not contact the backend; a backend that cannot exist on this
// operating system is an error wrapping ErrUnavailable.
func Open(name string, cfg Config) (Store, error) {
	b, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return b.open(cfg)
}

// Ready says whether the backend called name is set up on this machine,
// without storing anything: nil when it is; an error matching ErrNotSetUp
// (and ErrUnavailable) that says what is missing when it is not; another
// error wrapping ErrUnavailable when it could not tell within cfg's
// timeout. A backend that is ready may still fail (a locked keychain, a
// gpg key whose passphrase nobody gave): RoundTrip tells.
func Ready(name string, cfg Config) error {
	b, err := lookup(name)
	if err != nil {
		return err
	}
	return b.ready(cfg)
}

// HowToSetUp says how to set up the backend called name on this machine,
// from where it stands now, or how to mend it when it is set up; the zero
// Setup for an unknown name.
func HowToSetUp(name string) Setup {
	if b, err := lookup(name); err == nil {
		return b.setUp()
	}
	return Setup{}
}

// Describe says in one line where the backend called name keeps secrets
// and what they survive; "" for an unknown name.
func Describe(name string) string {
	if b, err := lookup(name); err == nil {
		return b.describe()
	}
	return ""
}

// Where says where the backend called name keeps item, and the command
// that deletes it by hand (for a secret a program could not delete); ""
// for an unknown name.
func Where(name, item string) string {
	if b, err := lookup(name); err == nil {
		return b.where(item)
	}
	return ""
}

// Auto picks the backend to keep a new secret in: the first, in the order
// of Names, that is set up here and takes a secret — a round trip of a
// throwaway secret (write, read back, delete) proves each candidate, since
// a locked keychain or a gpg key without its passphrase answers some calls
// and refuses others. Each call is bounded by timeout (DefaultTimeout when
// not positive). It returns the store, its name, and why each backend tried
// before it was passed over (nil when the first was chosen). When none can
// be used, the error wraps ErrUnavailable (and ErrTimeout when a backend did
// not answer in time) and names each backend and why it failed.
func Auto(timeout time.Duration) (Store, string, []error, error) {
	return auto(Config{Timeout: timeout}, backends[:])
}

func auto(cfg Config, table []backend) (Store, string, []error, error) {
	var skipped []error
	for _, b := range table {
		s, err := prove(b, cfg)
		if err == nil {
			return s, b.name, skipped, nil
		}
		skipped = append(skipped, fmt.Errorf("%s: %w", b.name, err))
	}
	return nil, "", nil, noBackend(skipped)
}

// prove opens b if it is set up here and a round trip succeeds in it.
func prove(b backend, cfg Config) (Store, error) {
	if err := b.ready(cfg); err != nil {
		return nil, err
	}
	s, err := b.open(cfg)
	if err != nil {
		return nil, err
	}
	if err := RoundTrip(s); err != nil {
		return nil, err
	}
	return s, nil
}

// noBackend is Auto's error when no backend can be used: one line naming
// each backend's failure, matching each of them with errors.Is.
type noBackend []error

func (e noBackend) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return "no keychain backend can be used here: " + strings.Join(msgs, "; ")
}

func (e noBackend) Unwrap() []error { return append([]error{ErrUnavailable}, e...) }

// notSetUp is the error of a backend that is not set up here; the message
// says what is missing.
func notSetUp(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{ErrUnavailable, ErrNotSetUp}, args...)...)
}

// RoundTrip proves s works end to end: it writes a throwaway secret under a
// throwaway item, reads it back, deletes it and checks that it is gone. The
// error says which step failed and wraps that step's error.
func RoundTrip(s Store) error {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	item := ".roundtrip-" + hex.EncodeToString(rnd[:4])
	secret := "vkc-credential round trip " + hex.EncodeToString(rnd[4:])
	if err := s.Set(item, secret); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	got, err := s.Get(item)
	derr := s.Delete(item)
	switch {
	case err != nil:
		return fmt.Errorf("read back: %w", err)
	case got != secret:
		return fmt.Errorf("read back: %w: the secret read differs from the one written", ErrUnavailable)
	case derr != nil:
		return fmt.Errorf("delete: %w", derr)
	}
	if _, err := s.Get(item); !errors.Is(err, ErrNotFound) {
		if err == nil {
			err = fmt.Errorf("%w: the secret is still there after it was deleted", ErrUnavailable)
		}
		return fmt.Errorf("read after delete: %w", err)
	}
	return nil
}

// The kinds of call, for messages and for telling a vanished item from a
// keychain failure.
type op string

const (
	opRead   op = "read"
	opWrite  op = "write"
	opDelete op = "delete"
)

func orDefault(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return DefaultTimeout
	}
	return timeout
}

// errNoAnswer is what bounded returns when fn did not finish in time.
var errNoAnswer = errors.New("no answer in time")

// bounded runs fn in a goroutine of its own and waits at most timeout for
// it; errNoAnswer when it did not finish in time. A call that times out is
// abandoned: the process is about to exit anyway.
func bounded(timeout time.Duration, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return errNoAnswer
	}
}

// maxItem is the longest item in bytes; a pass entry's file name must stay
// under the usual 255-byte limit.
const maxItem = 200

// checkItem refuses an item no backend can keep as given: empty, too long,
// not UTF-8, or with control characters.
func checkItem(item string) error {
	switch {
	case item == "":
		return errors.New("keyring: empty item name")
	case len(item) > maxItem:
		return fmt.Errorf("keyring: item name longer than %d bytes", maxItem)
	case !utf8.ValidString(item):
		return fmt.Errorf("keyring: item name %q is not UTF-8", item)
	case strings.IndexFunc(item, unicode.IsControl) >= 0:
		return fmt.Errorf("keyring: item name %q has control characters", item)
	}
	return nil
}
