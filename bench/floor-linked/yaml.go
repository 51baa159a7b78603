//go:build !floor_without_yaml

package main

import "go.yaml.in/yaml/v3"

// Referenced so that the linker keeps it: the binary links yaml for the
// clouds.yaml import.
var _ = yaml.Unmarshal
