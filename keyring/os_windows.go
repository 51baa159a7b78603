package keyring

const osKeychainName = "Windows Credential Manager"

func osWhere(item string) string {
	return "the Windows Credential Manager entry " + service + ":" + item + " (cmdkey /delete:" + service + ":" + item + ")"
}

func vanished(error) bool { return false }

func sessionBusMissing() error { return nil }

// osReady: every Windows user has a Credential Manager.
func osReady(Config) error { return nil }

func osSetUp() Setup {
	return Setup{Do: "make sure Windows Credential Manager is available to this user (it is after an interactive sign-in)"}
}
