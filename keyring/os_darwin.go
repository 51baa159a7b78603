package keyring

const (
	unlockHint     = "unlock the login keychain (security unlock-keychain) and allow vkc-credential to use it"
	osKeychainName = "the macOS login keychain"
)

func vanished(error) bool { return false }

func sessionBusMissing() error { return nil }
