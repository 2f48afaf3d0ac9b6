package ctl

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// startOurs starts our supervisorctl without waiting for it.
func startOurs(t *testing.T, stdin io.Reader, args ...string) (*exec.Cmd, *testutil.SyncBuffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "GOSUPERVISORCTL_AS_MAIN=1")
	cmd.Stdin = stdin
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

func TestTailFollowAndFg(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOpts{})
	tests := []struct {
		name   string
		args   []string
		expect []string
		end    func(cmd *exec.Cmd, stdin io.Closer)
		tail   string
	}{
		{"tail -f", []string{"tail", "-f", "printer"}, []string{"==> Press Ctrl-C to exit <==\n", "out-line\n"},
			func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(syscall.SIGINT) }, "\n"},
		{"tail -f stderr", []string{"tail", "-f", "printer", "stderr"}, []string{"err-line\n"},
			func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(syscall.SIGINT) }, "\n"},
		{"maintail -f", []string{"maintail", "-f"}, []string{"success: sleeper entered RUNNING state"},
			func(cmd *exec.Cmd, _ io.Closer) { cmd.Process.Signal(syscall.SIGINT) }, "\n"},
		{"fg", []string{"fg", "printer"}, []string{"==> Press Ctrl-C to exit <==\n", "out-line\n", "err-line\n"},
			func(_ *exec.Cmd, stdin io.Closer) { stdin.Close() }, "Exiting foreground\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// An *os.File stdin: exec.Cmd.Wait then has no copier to wait for.
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			cmd, out := startOurs(t, pr, append([]string{"-s", d.httpURL()}, tc.args...)...)
			pr.Close()
			waitFor(t, 10*time.Second, "streamed output", func() bool {
				for _, e := range tc.expect {
					if !strings.Contains(out.String(), e) {
						return false
					}
				}
				return true
			})
			tc.end(cmd, pw)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit: %v; output %q", err, out.String())
			}
			if !strings.HasSuffix(out.String(), tc.tail) {
				t.Errorf("output %q does not end with %q", out.String(), tc.tail)
			}
		})
	}
}
