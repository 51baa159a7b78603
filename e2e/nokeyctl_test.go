//go:build linux

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// noKeyctlEnv, set in the environment of this test binary, makes it run
// the program its arguments name under a seccomp filter that refuses the
// kernel keyring's system calls (keyctl, add_key, request_key) with
// ENOSYS, as a container's seccomp profile does.
const noKeyctlEnv = "VKC_E2E_EXEC_WITHOUT_KEYCTL"

func init() {
	if os.Getenv(noKeyctlEnv) == "" {
		return
	}
	err := execWithoutKeyctl(os.Args[1:])
	fmt.Fprintln(os.Stderr, "e2e: running without keyctl:", err)
	os.Exit(125)
}

// withoutKeyctl is a command that runs program with args under that
// filter, when noKeyctlEnv is in its environment.
func withoutKeyctl(t *testing.T, program string, args ...string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exec.Command(self, append([]string{program}, args...)...)
}

// runWithoutKeyctl runs the binary in s with args under that filter.
func (s *sandbox) runWithoutKeyctl(stdin string, args ...string) result {
	s.t.Helper()
	return s.runCmd(withoutKeyctl(s.t, binary, args...), []string{noKeyctlEnv + "=1"}, stdin)
}

func execWithoutKeyctl(argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("no program to run")
	}
	// The filter belongs to this thread, which then replaces the process.
	runtime.LockOSThread()
	const deny = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_KEYCTL, Jt: 3},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_ADD_KEY, Jt: 2},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_REQUEST_KEY, Jt: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		{Code: unix.BPF_RET | unix.BPF_K, K: deny},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0); err != nil {
		return err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, noKeyctlEnv+"=") {
			env = append(env, kv)
		}
	}
	return syscall.Exec(argv[0], argv, env)
}

// TestWithoutKeyctlBlocksTheKernelKeyring: the filter does what the tests
// that use it rely on.
func TestWithoutKeyctlBlocksTheKernelKeyring(t *testing.T) {
	keyctl, err := exec.LookPath("keyctl")
	if err != nil {
		t.Skip("keyctl is not installed")
	}
	out, err := exec.Command(keyctl, "show", "@s").CombinedOutput()
	if err != nil {
		t.Skipf("the kernel keyring is not available here: %v %s", err, out)
	}
	cmd := withoutKeyctl(t, keyctl, "show", "@s")
	cmd.Env = append(os.Environ(), noKeyctlEnv+"=1")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Function not implemented") {
		t.Fatalf("keyctl under the filter: %v %s", err, out)
	}
}
