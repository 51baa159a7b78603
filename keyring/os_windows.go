package keyring

const (
	unlockHint     = "make sure Windows Credential Manager is available to this user"
	osKeychainName = "Windows Credential Manager"
)

func osWhere(item string) string {
	return "the Windows Credential Manager entry " + service + ":" + item + " (cmdkey /delete:" + service + ":" + item + ")"
}

func vanished(error) bool { return false }

func sessionBusMissing() error { return nil }
