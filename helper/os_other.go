//go:build !windows

package helper

const windows = false
