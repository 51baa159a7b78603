package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// `serve` and the signals of `exec --serve`, against the real parts.

// lineReader is what a background process printed: its lines as they come.
type lineReader struct {
	lines chan string
	all   bytes.Buffer
	mu    sync.Mutex
}

// startBackground starts the binary with args in s, in a session of its
// own (no terminal), and returns it with a reader of its stdout.
func startBackground(t *testing.T, s *sandbox, extraEnv []string, args ...string) (*exec.Cmd, *lineReader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append([]string{}, s.env...), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lr := &lineReader{lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lr.mu.Lock()
			lr.all.WriteString(sc.Text() + "\n")
			lr.mu.Unlock()
			lr.lines <- sc.Text()
		}
		close(lr.lines)
	}()
	return cmd, lr, &stderr
}

// waitLine waits for a line that starts with prefix and returns it.
func (lr *lineReader) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(processTimeout)
	for {
		select {
		case l, ok := <-lr.lines:
			if !ok {
				t.Fatalf("the output ended without a line %q: %s", prefix, lr.all.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line %q after %s", prefix, processTimeout)
		}
	}
}

// exitCode waits for cmd and returns its exit status.
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(processTimeout):
		t.Fatalf("%v did not end", cmd.Args)
	}
	return cmd.ProcessState.ExitCode()
}

// TestStandinSignalsAndExit: SIGINT and SIGTERM reach the command, whose
// status passes through; `serve` prints the variables, serves, and stops
// cleanly on SIGTERM, leaving no file.
func TestStandinSignalsAndExit(t *testing.T) {
	needKeystone(t)
	s := newSandbox(t)
	profile := s.profileName("standin-signals")
	s.store(profile)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		name := strings.TrimPrefix(fmt.Sprint(sig), "signal ")
		script := fmt.Sprintf(`trap 'echo got-%d; exit 42' %d; echo ready; while :; do sleep 0.1; done`, sig, sig)
		cmd, out, stderr := startBackground(t, s, nil, "exec", "--serve", "--profile", profile, "--", "sh", "-c", script)
		out.waitLine(t, "ready")
		cmd.Process.Signal(sig)
		out.waitLine(t, fmt.Sprintf("got-%d", sig))
		if code := exitCode(t, cmd); code != 42 {
			t.Fatalf("%s: exit %d, want the command's 42; stderr: %s", name, code, stderr)
		}
	}
	for script, want := range map[string]int{"exit 7": 7, "kill -KILL $$": 128 + 9, "true": 0} {
		if r := s.run(nil, "", "exec", "--serve", "--profile", profile, "--", "sh", "-c", script); r.code != want {
			t.Fatalf("sh -c %q: exit %d, want %d: %s", script, r.code, want, r)
		}
	}

	// serve, on a port chosen here, with TMPDIR of its own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tmp := filepath.Join(s.home, "tmp")
	os.Mkdir(tmp, 0o700)
	before := treeOf(t, s.home)
	cmd, out, stderr := startBackground(t, s, []string{"TMPDIR=" + tmp}, "serve", "--profile", profile, "--listen", addr)
	out.waitLine(t, "unset OS_PASSCODE")
	lines := out.all.String()
	if !strings.Contains(lines, "export OS_AUTH_URL='http://"+addr+"/v3'\n") || !strings.Contains(lines, "export OS_PASSWORD='vkc-session-") ||
		!strings.Contains(lines, "unset OS_TOKEN\n") || strings.Contains(lines, "VKC_EXEC_PROFILE") {
		t.Fatalf("serve printed: %s", lines)
	}
	osc := exec.Command("bash", "-c", `eval "$LINES" && `+kaOpenstack+` token issue -f value -c project_id`)
	// (The CLI's own cache of entry points goes elsewhere: not serve's.)
	pyCache := append(openrcLeftovers(), "LINES="+lines, "XDG_CACHE_HOME="+t.TempDir())
	if r := s.runCmd(osc, pyCache, ""); r.code != 0 || strings.TrimSpace(r.stdout) != ks.ProjectID {
		t.Fatalf("eval the lines; openstack token issue: %s", r)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd); code != 0 || stderr.Len() != 0 {
		t.Fatalf("serve after SIGTERM: exit %d, stderr %q", code, stderr)
	}
	if after := treeOf(t, s.home); after != before {
		t.Fatalf("serve left files behind:\nbefore %s\nafter  %s", before, after)
	}
	if !portClosed(t, "http://"+addr+"/v3") {
		t.Fatal("serve still listens after SIGTERM")
	}
	wantError(t, s.run(nil, "", "serve", "--profile", profile, "--listen", "0.0.0.0:0"), 2, "", false, "loopback only")
}

// treeOf lists the files and directories under root (names only).
func treeOf(t *testing.T, root string) string {
	t.Helper()
	var names []string
	filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err == nil {
			names = append(names, strings.TrimPrefix(path, root))
		}
		return nil
	})
	sort.Strings(names)
	return strings.Join(names, " ")
}
