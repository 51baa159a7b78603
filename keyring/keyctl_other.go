//go:build !linux

package keyring

func openKeyctl(Config) (Store, error) { return nil, keyctlReady(Config{}) }

func keyctlReady(Config) error { return notSetUp("the kernel keyring exists only on Linux") }

func keyctlSetUp() Setup {
	return Setup{Do: "the kernel keyring exists only on Linux; keep the secret in another backend here"}
}

func keyctlDescribe() string {
	return "the Linux kernel's persistent keyring of the user (on Linux only); it survives logging out, but not a reboot"
}

func keyctlWhere(item string) string {
	return "the key described " + service + ":" + item + " in the persistent keyring (on Linux only)"
}
