//go:build !linux

package keyring

import (
	"fmt"
	"time"
)

func openKeyctl(time.Duration) (Store, error) { return nil, keyctlUsable(0) }

func keyctlUsable(time.Duration) error {
	return fmt.Errorf("%w: the kernel keyring exists only on Linux", ErrUnavailable)
}

func keyctlDescribe() string {
	return "the Linux kernel's persistent keyring of the user (on Linux only); it survives logging out, but not a reboot"
}

func keyctlWhere(item string) string {
	return "the key described " + service + ":" + item + " in the persistent keyring (on Linux only)"
}
