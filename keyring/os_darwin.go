package keyring

const (
	unlockHint     = "unlock the login keychain (security unlock-keychain) and allow vkc-credential to use it"
	osKeychainName = "the macOS login keychain"
)

func osWhere(item string) string {
	return "the login keychain's generic password of service " + service + ", account " + item +
		" (security delete-generic-password -s " + service + " -a " + item + ")"
}

func vanished(error) bool { return false }

func sessionBusMissing() error { return nil }
