package keyring

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// keyctl keeps each secret as a key of type "user" described
// "vkc-credential:ITEM" in the user's persistent keyring
// (persistent-keyring(7)): it outlives the login session that stored it, so
// another SSH session of the same user finds it, but not a reboot, and the
// kernel drops the whole keyring after it goes unused for
// /proc/sys/kernel/keys/persistent_keyring_expiry seconds.
type keyctl struct {
	timeout time.Duration
}

// Permission bits of a key (keyctl_setperm(3)): six rights (view, read,
// write, search, link, setattr) for each of possessor, user, group, other.
const (
	permPossessorAll = 0x3f000000
	permUserAll      = 0x003f0000
	permGroupOther   = 0x0000ffff
)

// keyPerm lets whoever possesses the key, and its owner, do everything with
// it; the group and others get nothing.
const keyPerm = permPossessorAll | permUserAll

func openKeyctl(cfg Config) (Store, error) { return keyctl{timeout: cfg.Timeout}, nil }

func keyDescription(item string) string { return service + ":" + item }

// Get returns the secret stored as item.
func (k keyctl) Get(item string) (string, error) {
	if err := checkItem(item); err != nil {
		return "", err
	}
	var secret string
	err := k.do(opRead, func(ring int) error {
		id, err := unix.KeyctlSearch(ring, "user", keyDescription(item), 0)
		if err != nil {
			return err
		}
		b, err := readKey(id)
		secret = string(b)
		return err
	})
	return secret, err
}

// Set stores secret as item, replacing any earlier one, with the key's
// permissions limited to its possessor and its owner.
func (k keyctl) Set(item, secret string) error {
	if err := checkItem(item); err != nil {
		return err
	}
	return k.do(opWrite, func(ring int) error {
		// add_key replaces the payload of a key of the same description
		// in place, or links a new key in place of a revoked one.
		id, err := unix.AddKey("user", keyDescription(item), []byte(secret), ring)
		if err != nil {
			return err
		}
		if err := unix.KeyctlSetperm(id, keyPerm); err != nil {
			unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
			return err
		}
		return nil
	})
}

// Delete removes item; ErrNotFound if there was none.
func (k keyctl) Delete(item string) error {
	if err := checkItem(item); err != nil {
		return err
	}
	return k.do(opDelete, func(ring int) error {
		id, err := unix.KeyctlSearch(ring, "user", keyDescription(item), 0)
		if err != nil {
			return err
		}
		// Unlinking takes it out of the keyring at once, so that a search
		// right after cannot meet it while the kernel's garbage collector
		// has yet to reap it; invalidating destroys it wherever else it
		// may be linked.
		if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0); err != nil {
			return err
		}
		_, err = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return err
	})
}

// do runs fn with the ID of the user's persistent keyring, bounded by
// k.timeout, and maps its error.
func (k keyctl) do(what op, fn func(ring int) error) error {
	err := withPersistent(orDefault(k.timeout), fn)
	if err == errNoAnswer {
		return fmt.Errorf("%w: %w: the kernel keyring did not answer a %s within %s", ErrUnavailable, ErrTimeout, what, orDefault(k.timeout))
	}
	return keyctlError(what, err)
}

// withPersistent runs fn, bounded by timeout, on an OS thread of its own
// whose thread keyring links the user's persistent keyring. That link is
// what makes this process possess the persistent keyring, which it needs to
// add or find keys in it; the kernel keeps the session and thread keyrings
// per thread. The goroutine never unlocks its thread, so the thread, its
// keyring and the link die when fn returns, and nothing of ours is left
// linked in the session.
func withPersistent(timeout time.Duration, fn func(ring int) error) error {
	return bounded(timeout, func() error {
		runtime.LockOSThread()
		ring, err := unix.KeyctlInt(unix.KEYCTL_GET_PERSISTENT, -1, unix.KEY_SPEC_THREAD_KEYRING, 0, 0)
		if err != nil {
			return fmt.Errorf("get persistent keyring: %w", err)
		}
		return fn(ring)
	})
}

// readKey returns the payload of key id.
func readKey(id int) ([]byte, error) {
	buf := make([]byte, 512)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, err
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]byte, n)
	}
}

const keyctlElsewhere = "or keep the secret in another keychain backend"

func keyctlError(what op, err error) error {
	var errno unix.Errno
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &errno):
		return fmt.Errorf("%w: kernel keyring %s failed: %v", ErrUnavailable, what, err)
	}
	switch errno {
	case unix.ENOKEY:
		if what != opWrite {
			return ErrNotFound
		}
	case unix.EKEYREVOKED, unix.EKEYEXPIRED:
		if what != opWrite {
			return fmt.Errorf("%w: the key in the kernel's persistent keyring was revoked or has expired", ErrNotFound)
		}
	case unix.ENOSYS:
		return notSetUp("the keyctl system calls are not available (%v): a container's seccomp profile (Docker's default one) blocks them, or the kernel lacks CONFIG_KEYS; allow keyctl in the container, %s", err, keyctlElsewhere)
	case unix.EOPNOTSUPP:
		return notSetUp("this kernel has no persistent keyrings (%v; it needs CONFIG_PERSISTENT_KEYRINGS); %s", err, keyctlElsewhere)
	case unix.EPERM, unix.EACCES:
		return fmt.Errorf("%w: the kernel refused access to the persistent keyring (%v): a security module, a container or a key of another owner stands in the way; %s", ErrUnavailable, err, keyctlElsewhere)
	case unix.EDQUOT:
		return fmt.Errorf("%w: the user's kernel key quota is full (%v); raise /proc/sys/kernel/keys/maxkeys and maxbytes, or delete unused keys (keyctl show)", ErrUnavailable, err)
	}
	return fmt.Errorf("%w: kernel keyring %s failed: %v", ErrUnavailable, what, err)
}

// keyctlReady fetches the persistent keyring. A kernel without persistent
// keyrings, or a seccomp profile or security module that refuses keyctl,
// is not set up.
func keyctlReady(cfg Config) error {
	err := withPersistent(cfg.timeout(), func(int) error { return nil })
	if err == errNoAnswer {
		return fmt.Errorf("%w: %w: the kernel keyring did not answer within %s", ErrUnavailable, ErrTimeout, cfg.timeout())
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		// Refused the keyring itself, not a key in it: Docker's default
		// seccomp profile answers EPERM.
		return notSetUp("the kernel refused this user's persistent keyring (%v): a container's seccomp profile or a security module stands in the way; %s", err, keyctlElsewhere)
	}
	return keyctlError(opRead, err)
}

func keyctlSetUp() Setup {
	return Setup{Do: "the kernel's persistent keyrings must be available (CONFIG_PERSISTENT_KEYRINGS, in the kernels of the usual distributions) " +
		"and the keyctl, add_key and request_key system calls allowed: a container's seccomp profile (Docker's default one) blocks them; " +
		"run the container with a profile that allows them, or keep the secret in another backend"}
}

func keyctlDescribe() string {
	expiry := "3 days"
	if b, err := os.ReadFile("/proc/sys/kernel/keys/persistent_keyring_expiry"); err == nil {
		if s, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && s > 0 {
			expiry = seconds(s)
		}
	}
	return "the Linux kernel's persistent keyring of this user; it survives logging out, but not a reboot, nor " + expiry + " without use"
}

func keyctlWhere(item string) string {
	d := keyDescription(item)
	return "the key of type user described " + d + " in this user's persistent keyring" +
		" (keyctl invalidate $(keyctl search $(keyctl get_persistent @s) user " + d + "))"
}

// seconds writes a number of seconds the way a person would say it.
func seconds(s int) string {
	unit := func(n int, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return strconv.Itoa(n) + " " + name + "s"
	}
	switch {
	case s%86400 == 0:
		return unit(s/86400, "day")
	case s%3600 == 0:
		return unit(s/3600, "hour")
	case s%60 == 0:
		return unit(s/60, "minute")
	}
	return unit(s, "second")
}
