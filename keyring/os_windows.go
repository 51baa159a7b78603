package keyring

const (
	unlockHint     = "make sure Windows Credential Manager is available to this user"
	osKeychainName = "Windows Credential Manager"
)

func vanished(error) bool { return false }

func sessionBusMissing() error { return nil }
