package keyring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// need skips a test that needs a tool this machine lacks, or fails it when
// VKC_E2E_REQUIRED is set (as CI does), so that a missing package cannot
// pass for a green run.
func need(t *testing.T, why string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("VKC_E2E_REQUIRED") != "" {
		t.Fatalf("%s: %v (VKC_E2E_REQUIRED is set)", why, err)
	}
	t.Skipf("%s: %v", why, err)
}

// memory is a Store in a map, with a hook to make it misbehave.
type memory struct {
	items map[string]string
	lie   func(item, secret string) string // what Get returns
	keep  bool                             // Delete leaves the item
}

func (m *memory) Get(item string) (string, error) {
	v, ok := m.items[item]
	if !ok {
		return "", ErrNotFound
	}
	if m.lie != nil {
		return m.lie(item, v), nil
	}
	return v, nil
}

func (m *memory) Set(item, secret string) error { m.items[item] = secret; return nil }

func (m *memory) Delete(item string) error {
	if _, ok := m.items[item]; !ok {
		return ErrNotFound
	}
	if !m.keep {
		delete(m.items, item)
	}
	return nil
}

func TestRoundTrip(t *testing.T) {
	m := &memory{items: map[string]string{}}
	if err := RoundTrip(m); err != nil {
		t.Fatalf("a working store: %v", err)
	}
	if len(m.items) != 0 {
		t.Fatalf("left behind: %v", m.items)
	}

	m.lie = func(_, v string) string { return v[:len(v)-1] }
	if err := RoundTrip(m); !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "read back:") {
		t.Fatalf("a store that reads back something else: %v", err)
	}
	if len(m.items) != 0 {
		t.Fatalf("a failed read back must still delete: %v", m.items)
	}

	m.lie, m.keep = nil, true
	if err := RoundTrip(m); !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), "read after delete:") {
		t.Fatalf("a store that does not delete: %v", err)
	}

	broken := fmt.Errorf("%w: locked", ErrUnavailable)
	if err := RoundTrip(failing{broken}); !errors.Is(err, broken) || !strings.HasPrefix(err.Error(), "write:") {
		t.Fatalf("a store that cannot write: %v", err)
	}
}

type failing struct{ err error }

func (f failing) Get(string) (string, error) { return "", f.err }
func (f failing) Set(string, string) error   { return f.err }
func (f failing) Delete(string) error        { return f.err }

func TestOpenAndDescribe(t *testing.T) {
	names := Names()
	if strings.Join(names, ",") != "os,pass,keyctl" {
		t.Fatalf("Names() = %v", names)
	}
	for _, name := range names {
		if d := Describe(name); !strings.Contains(d, "survives") {
			t.Errorf("Describe(%q) = %q: it must say what the secret survives", name, d)
		}
		// Where names the item in the form the backend keeps it, for a
		// person to find and delete it by hand.
		if w := Where(name, "identity-0a1b"); !strings.Contains(w, service) || !strings.Contains(w, "identity-0a1b") {
			t.Errorf("Where(%q, item) = %q: it must name the service and the item", name, w)
		}
		s, err := Open(name, Config{Timeout: time.Second})
		if err != nil && !errors.Is(err, ErrUnavailable) {
			t.Errorf("Open(%q): %v", name, err)
		}
		if (s == nil) == (err == nil) {
			t.Errorf("Open(%q) = %v, %v: exactly one of them must be nil", name, s, err)
		}
	}
	if _, err := Open("wallet", Config{}); err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "os, pass, keyctl") {
		t.Fatalf("Open of an unknown backend: %v", err)
	}
	if Describe("wallet") != "" || Where("wallet", "x") != "" {
		t.Fatal("Describe and Where of an unknown backend must be empty")
	}
}

// row is a backend of a test table: ready says whether it is set up, and
// it opens s.
func row(name string, ready error, s Store) backend {
	return backend{
		name:     name,
		open:     func(Config) (Store, error) { return s, nil },
		ready:    func(Config) error { return ready },
		setUp:    func() Setup { return Setup{Do: "set " + name + " up"} },
		describe: func() string { return name },
	}
}

func TestAutoTakesTheFirstThatWorks(t *testing.T) {
	slow := fmt.Errorf("%w: %w: slow", ErrUnavailable, ErrTimeout)
	absent := notSetUp("not installed")
	locked := fmt.Errorf("%w: locked", ErrUnavailable)
	works := func() Store { return &memory{items: map[string]string{}} }

	// A backend that is set up but refuses a write, or cannot read back
	// (a locked keychain, a gpg key without its passphrase), is passed
	// over like one that is not set up.
	s, name, skipped, err := auto(Config{}, []backend{row("a", slow, works()), row("b", absent, works()),
		row("c", nil, failing{locked}), row("d", nil, readless{locked}), row("e", nil, works()), row("f", nil, works())})
	if err != nil || s == nil || name != "e" {
		t.Fatalf("auto = %v, %q, %v", s, name, err)
	}
	if len(skipped) != 4 || !errors.Is(skipped[0], ErrTimeout) || !strings.HasPrefix(skipped[0].Error(), "a: ") || !strings.HasPrefix(skipped[1].Error(), "b: ") ||
		skipped[2].Error() != "c: write: keychain unavailable: locked" || skipped[3].Error() != "d: read back: keychain unavailable: locked" {
		t.Fatalf("skipped = %v", skipped)
	}

	s, name, _, err = auto(Config{}, []backend{row("a", slow, works()), row("b", absent, works()), row("c", nil, failing{locked})})
	if s != nil || name != "" || !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrTimeout) || !errors.Is(err, absent) || !errors.Is(err, locked) {
		t.Fatalf("auto with nothing usable = %v, %q, %v", s, name, err)
	}
	if msg := err.Error(); msg != "no keychain backend can be used here: a: keychain unavailable: keychain timed out: slow; "+
		"b: keychain unavailable: not set up here: not installed; c: write: keychain unavailable: locked" {
		t.Fatalf("the error must name each backend and why, on one line: %q", msg)
	}
}

// readless takes writes and deletes but cannot read.
type readless struct{ err error }

func (r readless) Get(string) (string, error) { return "", r.err }
func (r readless) Set(string, string) error   { return nil }
func (r readless) Delete(string) error        { return nil }

// TestEveryRowKnowsItself: each backend says what it survives and how to
// set it up; Ready of each answers with nil or an error of the kinds it
// promises; the unknown name is no backend.
func TestEveryRowKnowsItself(t *testing.T) {
	for _, name := range Names() {
		if s := HowToSetUp(name); s.Do == "" {
			t.Errorf("HowToSetUp(%q) says nothing", name)
		}
		if err := Ready(name, Config{Timeout: 5 * time.Second}); err != nil && !errors.Is(err, ErrUnavailable) {
			t.Errorf("Ready(%q) = %v: not a keychain error", name, err)
		}
	}
	if err := Ready("wallet", Config{}); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready of an unknown backend: %v", err)
	}
	if s := HowToSetUp("wallet"); s.Do != "" || s.Commands != nil {
		t.Fatalf("HowToSetUp of an unknown backend: %+v", s)
	}
	if got := (Setup{Do: "do", Commands: []string{"a", "b c"}}).String(); got != "do: `a`, then `b c`" {
		t.Fatalf("Setup.String() = %q", got)
	}
}

func TestCheckItem(t *testing.T) {
	for _, item := range []string{"default", "prod.eu-1", ".probe", "https://infra.mail.ru:35357/v3/ users ivan@example.com", "проект"} {
		if err := checkItem(item); err != nil {
			t.Errorf("checkItem(%q): %v", item, err)
		}
	}
	for _, item := range []string{"", "a\nb", "a\x00b", "\xff", strings.Repeat("x", maxItem+1)} {
		if err := checkItem(item); err == nil {
			t.Errorf("checkItem(%q) must refuse it", item)
		}
	}
}
