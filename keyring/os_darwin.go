package keyring

const osKeychainName = "the macOS login keychain"

func osWhere(item string) string {
	return "the login keychain's generic password of service " + service + ", account " + item +
		" (security delete-generic-password -s " + service + " -a " + item + ")"
}

func vanished(error) bool { return false }

func sessionBusMissing() error { return nil }

// osReady: every macOS user has a login keychain.
func osReady(Config) error { return nil }

func osSetUp() Setup {
	return Setup{Do: "unlock the login keychain, and allow vkc-credential to use it when macOS asks", Commands: []string{"security unlock-keychain"}}
}
