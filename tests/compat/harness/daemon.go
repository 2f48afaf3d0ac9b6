package harness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Daemon is one supervisord subprocess started by a test.
type Daemon struct {
	Name string // "python" or "go", for messages
	Conf string // absolute config path
	Sock string // unix socket path (the RPC endpoint the tests use)
	RPC  *Client

	cmd  *exec.Cmd
	done chan struct{} // closed when the subprocess has been waited for
	mu   sync.Mutex
	out  bytes.Buffer // stdout+stderr of the daemon, for failure messages
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Output returns what the daemon printed so far.
func (d *Daemon) Output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Exited reports whether the daemon process has ended.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// WaitExit waits up to timeout for the daemon to exit by itself.
func (d *Daemon) WaitExit(timeout time.Duration) error {
	select {
	case <-d.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s supervisord (pid %d) still running after %s", d.Name, d.Pid(), timeout)
	}
}

// StartDaemon runs `bin -n -c conf` with env appended to the test's
// environment, waits until it answers supervisor.getState with RUNNING on the
// unix socket sock, and stops it (SIGTERM, then SIGKILL) in t.Cleanup.
func StartDaemon(t testing.TB, name, bin, conf, sock string, env []string) *Daemon {
	t.Helper()
	d := &Daemon{Name: name, Conf: conf, Sock: sock, RPC: NewUnixClient(sock), done: make(chan struct{})}
	d.cmd = exec.Command(bin, "-n", "-c", conf)
	d.cmd.Env = append(os.Environ(), env...)
	w := lockedWriter{&d.mu, &d.out}
	d.cmd.Stdout, d.cmd.Stderr = w, w
	// Own process group, so a Ctrl-C on the test run does not reach it
	// before the cleanup does; it is still killed by pid only.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s supervisord: %v", name, err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() { d.Stop(t) })
	if err := d.WaitReady(15 * time.Second); err != nil {
		t.Fatalf("%v\n--- %s supervisord output:\n%s", err, name, d.Output())
	}
	return d
}

// WaitReady polls supervisor.getState until it says RUNNING.
func (d *Daemon) WaitReady(timeout time.Duration) error {
	var last error
	err := Poll(timeout, func() bool {
		if d.Exited() {
			last = fmt.Errorf("exited with %v", d.cmd.ProcessState)
			return true
		}
		v, err := d.RPC.Value("supervisor.getState")
		if err != nil {
			last = err
			return false
		}
		m, _ := v.(map[string]any)
		if m["statename"] == "RUNNING" {
			last = nil
			return true
		}
		last = fmt.Errorf("state %v", v)
		return false
	})
	if err == nil {
		err = last
	}
	if err != nil {
		return fmt.Errorf("%s supervisord on %s never served RPC: %w (last: %v)", d.Name, d.Sock, err, last)
	}
	return nil
}

// Stop terminates the daemon: SIGTERM (it stops its children), then SIGKILL
// of the daemon and of every child pid it reported, if it hangs.
func (d *Daemon) Stop(t testing.TB) {
	if d.Exited() {
		return
	}
	var children []int
	if infos, err := d.RPC.Value("supervisor.getAllProcessInfo"); err == nil {
		for _, i := range asSlice(infos) {
			if pid, ok := asMap(i)["pid"].(int64); ok && pid > 0 {
				children = append(children, int(pid))
			}
		}
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	if d.WaitExit(20*time.Second) == nil {
		return
	}
	t.Errorf("%s supervisord pid %d ignored SIGTERM for 20s; killing it and its children %v", d.Name, d.Pid(), children)
	_ = d.cmd.Process.Kill()
	for _, pid := range children {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-d.done
}

// Poll calls cond every 20ms until it returns true or timeout passes.
func Poll(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out after " + timeout.String())
		}
		<-tick.C
	}
}

// FreePort returns a currently unused 127.0.0.1 TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	n, _ := strconv.Atoi(port)
	return n
}

func asSlice(v any) []any        { s, _ := v.([]any); return s }
func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
