// Package keyringtest provides keychains for tests of the packages that
// take a keyring.Store: one in memory, and one in a file that several
// processes of a test can share.
package keyringtest

import (
	"sync"

	"vkc-credential/keyring"
)

// Memory is a keyring.Store in memory. Err, when set, is what every call
// fails with; Gets counts the reads. Tests may read and set Items and Err
// between calls.
type Memory struct {
	mu    sync.Mutex
	Items map[string]string
	Err   error
	Gets  int
}

// New returns an empty Memory.
func New() *Memory { return &Memory{Items: map[string]string{}} }

// Get returns the secret of item, or keyring.ErrNotFound.
func (m *Memory) Get(item string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Gets++
	if m.Err != nil {
		return "", m.Err
	}
	secret, ok := m.Items[item]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return secret, nil
}

// Set stores secret as item.
func (m *Memory) Set(item, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	m.Items[item] = secret
	return nil
}

// Delete removes item, or says keyring.ErrNotFound.
func (m *Memory) Delete(item string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	if _, ok := m.Items[item]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.Items, item)
	return nil
}
