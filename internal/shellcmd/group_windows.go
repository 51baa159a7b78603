package shellcmd

import "os/exec"

// ownGroup leaves cmd as it is: Windows has no process groups to kill, and
// exec.CommandContext kills the process itself.
func ownGroup(*exec.Cmd) {}

func killGroup(int) error { return nil }
