// Command floor-linked is benchmark floor (2): it links the modules
// vkc-credential links (urfave/cli/v2, go-keyring, net/http,
// encoding/json, and since the clouds.yaml import of 1.1,
// go.yaml.in/yaml/v3: yaml.go), so their package initialisation runs,
// then reads one small file and prints it. Built with -tags
// floor_without_yaml it is the contract's floor (2) to the letter, an
// empty main that merely links net/http, go-keyring and urfave/cli/v2
// (which links encoding/json itself).
package main

import (
	"encoding/json"
	"net/http"
	"os"

	"github.com/urfave/cli/v2"
	"github.com/zalando/go-keyring"
)

// Referenced so that the linker keeps them.
var (
	_ = cli.NewApp
	_ = keyring.Get
	_ = http.NewRequest
	_ = json.Marshal
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.Write(data)
}
