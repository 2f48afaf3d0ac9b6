// Package sdnotify is the service manager's notification protocol
// (sd_notify(3)) by hand: each notification is one datagram of
// newline-separated KEY=VALUE assignments sent on a unixgram socket to the
// address in $NOTIFY_SOCKET, a path ("/run/systemd/notify") or an abstract
// name ("@..."). There is nothing to answer and nothing to keep open, so it
// needs no library.
package sdnotify

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The variables the service manager sets for its main process.
const (
	SocketEnv       = "NOTIFY_SOCKET"
	WatchdogUsecEnv = "WATCHDOG_USEC"
	WatchdogPidEnv  = "WATCHDOG_PID"
)

// Notifications supervisord sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Reloading is RELOADING=1 with the MONOTONIC_USEC= that systemd ≥ 253
// asks to come with it (CLOCK_MONOTONIC, in microseconds).
func Reloading() string {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(ts.Nano()/1000, 10)
}

// sendTimeout bounds one send: the service manager reads its socket
// promptly; one that does not costs a notification, never a stuck sender.
const sendTimeout = time.Second

// Notifier sends notifications to one socket. The zero value and a nil
// *Notifier send nothing. It is safe for concurrent use.
type Notifier struct {
	addr *net.UnixAddr
}

// New returns a notifier for the NOTIFY_SOCKET value socket; "" (not under
// a service manager) returns nil, which sends nothing. Only absolute paths
// and abstract names ("@name") are accepted, as in sd_notify(3).
func New(socket string) (*Notifier, error) {
	if socket == "" {
		return nil, nil
	}
	if socket[0] != '/' && socket[0] != '@' {
		return nil, fmt.Errorf("%s=%q: not an absolute path or an abstract socket name", SocketEnv, socket)
	}
	if len(socket) < 2 {
		return nil, fmt.Errorf("%s=%q: empty socket name", SocketEnv, socket)
	}
	// Go's sockaddr maps a leading '@' to the abstract namespace's NUL.
	return &Notifier{addr: &net.UnixAddr{Name: socket, Net: "unixgram"}}, nil
}

// Notify sends state (e.g. Ready, or several lines) as one datagram.
func (n *Notifier) Notify(state string) error {
	if n == nil || n.addr == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(sendTimeout))
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %s: %w", n.addr.Name, err)
	}
	return nil
}

// WatchdogInterval is how often to send WATCHDOG=1 under getenv's
// WATCHDOG_USEC: half of it, as sd_watchdog_enabled(3) advises; ok is
// false when the watchdog is off, when WATCHDOG_USEC is not a positive
// number, or when WATCHDOG_PID names another process than pid.
func WatchdogInterval(getenv func(string) string, pid int) (interval time.Duration, ok bool, err error) {
	s := getenv(WatchdogUsecEnv)
	if s == "" {
		return 0, false, nil
	}
	usec, perr := strconv.ParseUint(strings.TrimSpace(s), 10, 63)
	if perr != nil || usec == 0 {
		return 0, false, fmt.Errorf("%s=%q: not a positive number of microseconds", WatchdogUsecEnv, s)
	}
	if p := getenv(WatchdogPidEnv); p != "" {
		wp, perr := strconv.Atoi(strings.TrimSpace(p))
		if perr != nil {
			return 0, false, fmt.Errorf("%s=%q: not a pid", WatchdogPidEnv, p)
		}
		if wp != pid {
			return 0, false, nil
		}
	}
	return time.Duration(usec) * time.Microsecond / 2, true, nil
}

// Environ returns env without the service manager's variables, for the
// children: a program that speaks sd_notify itself would otherwise talk to
// the service manager in supervisord's name. It returns env itself when
// none is there.
func Environ(env []string) []string {
	drop := func(kv string) bool {
		for _, k := range []string{SocketEnv, WatchdogUsecEnv, WatchdogPidEnv} {
			if strings.HasPrefix(kv, k+"=") {
				return true
			}
		}
		return false
	}
	n := 0
	for _, kv := range env {
		if drop(kv) {
			n++
		}
	}
	if n == 0 {
		return env
	}
	out := make([]string, 0, len(env)-n)
	for _, kv := range env {
		if !drop(kv) {
			out = append(out, kv)
		}
	}
	return out
}
