// Command vkc-credential keeps a VK Cloud (OpenStack Keystone v3) password
// in the OS keychain and hands calling tools a cached project token.
package main

import (
	"os"

	"vkc-credential/cmdline"
)

func main() {
	os.Exit(cmdline.Main())
}
