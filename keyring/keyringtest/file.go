package keyringtest

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"

	"vkc-credential/keyring"
)

// File is a keyring.Store kept in the JSON file Path (an object of item
// to secret), for tests whose keychain must outlive one process: the
// command line's transcripts run each command as a process of its own.
// Err, when set, is what every call fails with. It takes no lock: the
// processes of one test run one at a time.
type File struct {
	Path string
	Err  error
}

func (f *File) load() (map[string]string, error) {
	items := map[string]string{}
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return items, nil
	}
	if err != nil {
		return nil, err
	}
	return items, json.Unmarshal(data, &items)
}

func (f *File) save(items map[string]string) error {
	data, err := json.Marshal(items)
	if err != nil {
		return err
	}
	return os.WriteFile(f.Path, data, 0o600)
}

// Get returns the secret of item, or keyring.ErrNotFound.
func (f *File) Get(item string) (string, error) {
	if f.Err != nil {
		return "", f.Err
	}
	items, err := f.load()
	if err != nil {
		return "", err
	}
	secret, ok := items[item]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return secret, nil
}

// Set stores secret as item.
func (f *File) Set(item, secret string) error {
	if f.Err != nil {
		return f.Err
	}
	items, err := f.load()
	if err != nil {
		return err
	}
	items[item] = secret
	return f.save(items)
}

// Delete removes item, or says keyring.ErrNotFound.
func (f *File) Delete(item string) error {
	if f.Err != nil {
		return f.Err
	}
	items, err := f.load()
	if err != nil {
		return err
	}
	if _, ok := items[item]; !ok {
		return keyring.ErrNotFound
	}
	delete(items, item)
	return f.save(items)
}
