// Command floor-readfile is benchmark floor (1): a Go program that only
// reads one small file and prints it. A cached `vkc-credential get` cannot
// be cheaper than this.
package main

import "os"

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.Write(data)
}
