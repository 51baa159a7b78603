package keyringtest

import (
	"errors"
	"path/filepath"
	"testing"

	"vkc-credential/keyring"
)

// Both keychains keep, replace and delete items, say keyring.ErrNotFound
// for a missing one, and fail every call with Err when it is set; a File
// is read again by a second value on the same path (another process).
func TestStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keychain.json")
	for name, pair := range map[string][2]keyring.Store{
		"memory": {New(), nil},
		"file":   {&File{Path: path}, &File{Path: path}},
	} {
		s, again := pair[0], pair[1]
		if again == nil {
			again = s
		}
		if _, err := s.Get("a"); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("%s: get of nothing: %v", name, err)
		}
		if err := s.Delete("a"); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("%s: delete of nothing: %v", name, err)
		}
		if s.Set("a", "1") != nil || s.Set("a", "2") != nil || s.Set("b", "3") != nil {
			t.Fatalf("%s: set failed", name)
		}
		if v, err := again.Get("a"); err != nil || v != "2" {
			t.Errorf("%s: get a = %q, %v", name, v, err)
		}
		if err := again.Delete("a"); err != nil {
			t.Errorf("%s: delete: %v", name, err)
		}
		if _, err := s.Get("a"); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("%s: get after delete: %v", name, err)
		}
		locked := errors.New("locked")
		switch s := s.(type) {
		case *Memory:
			s.Err = locked
		case *File:
			s.Err = locked
		}
		_, err := s.Get("b")
		if !errors.Is(err, locked) || !errors.Is(s.Set("b", "4"), locked) || !errors.Is(s.Delete("b"), locked) {
			t.Errorf("%s: Err is not every call's error", name)
		}
	}
}
