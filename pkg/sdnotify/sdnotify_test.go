package sdnotify

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// listen is a fake service manager's notification socket.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifyPathAndAbstract(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		fmt.Sprintf("@gosupervisor-sdnotify-test-%d", os.Getpid()),
	} {
		t.Run(name[:1], func(t *testing.T) {
			c := listen(t, name)
			n, err := New(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range []string{Ready, Reloading(), Stopping, Watchdog} {
				if err := n.Notify(msg); err != nil {
					t.Fatal(err)
				}
				if got := recv(t, c); got != msg {
					t.Errorf("received %q, want %q", got, msg)
				}
			}
		})
	}
}

func TestReloadingCarriesMonotonicUsec(t *testing.T) {
	r := Reloading()
	first, rest, _ := strings.Cut(r, "\n")
	var usec int64
	if first != "RELOADING=1" || !strings.HasPrefix(rest, "MONOTONIC_USEC=") {
		t.Fatalf("%q", r)
	}
	if _, err := fmt.Sscanf(rest, "MONOTONIC_USEC=%d", &usec); err != nil || usec <= 0 {
		t.Errorf("%q: %v", rest, err)
	}
}

func TestNoSocket(t *testing.T) {
	n, err := New("")
	if n != nil || err != nil {
		t.Fatalf("New(\"\") = %v, %v", n, err)
	}
	if err := n.Notify(Ready); err != nil {
		t.Errorf("nil notifier: %v", err)
	}
	for _, bad := range []string{"relative/path", "@"} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	// A socket nobody listens on is an error, reported, not a hang.
	n, _ = New(filepath.Join(t.TempDir(), "gone"))
	if err := n.Notify(Ready); err == nil {
		t.Errorf("send to a missing socket succeeded")
	}
}

func TestWatchdogInterval(t *testing.T) {
	const pid = 4242
	tests := []struct {
		usec, wpid string
		want       time.Duration
		ok, err    bool
	}{
		{"", "", 0, false, false},
		{"200000", "", 100 * time.Millisecond, true, false},
		{"200000", "4242", 100 * time.Millisecond, true, false},
		{"200000", "1", 0, false, false}, // another process's watchdog
		{"0", "", 0, false, true},
		{"x", "", 0, false, true},
		{"200000", "y", 0, false, true},
	}
	for _, tc := range tests {
		env := map[string]string{WatchdogUsecEnv: tc.usec, WatchdogPidEnv: tc.wpid}
		got, ok, err := WatchdogInterval(func(k string) string { return env[k] }, pid)
		if got != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("USEC=%q PID=%q: %v %v %v", tc.usec, tc.wpid, got, ok, err)
		}
	}
}

func TestEnviron(t *testing.T) {
	env := []string{"A=1", "NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_USEC=1", "WATCHDOG_PID=2", "NOTIFY_SOCKETX=keep"}
	if got, want := Environ(env), []string{"A=1", "NOTIFY_SOCKETX=keep"}; !slices.Equal(got, want) {
		t.Errorf("%q", got)
	}
	plain := []string{"A=1"}
	if got := Environ(plain); &got[0] != &plain[0] {
		t.Errorf("copied an environment with nothing to drop")
	}
}
