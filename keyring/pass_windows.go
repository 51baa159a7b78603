package keyring

import "os/exec"

// killGroupOnCancel leaves cmd as it is: Windows has no process groups to
// kill, and exec.CommandContext kills the process itself.
func killGroupOnCancel(*exec.Cmd) {}
