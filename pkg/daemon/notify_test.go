package daemon

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/sdnotify"
)

// fakeManager is a notification socket that counts what it receives.
type fakeManager struct {
	mu   sync.Mutex
	msgs []string
}

func newFakeManager(t *testing.T) (*sdNotifier, *fakeManager) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &fakeManager{}
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.msgs = append(f.msgs, string(buf[:n]))
			f.mu.Unlock()
		}
	}()
	sd, err := newSDNotifier(func(k string) string {
		if k == sdnotify.SocketEnv {
			return path
		}
		return ""
	})
	if err != nil || sd == nil {
		t.Fatalf("newSDNotifier: %v, %v", sd, err)
	}
	return sd, f
}

func (f *fakeManager) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

func (f *fakeManager) count(msg string) int {
	n := 0
	for _, m := range f.received() {
		if m == msg {
			n++
		}
	}
	return n
}

func waitCond(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The watchdog pings only while the loop answers: a stuck probe stops the
// pings (after at most the one already earned), an answer resumes them.
func TestWatchdogPingsOnlyWhileTheLoopAnswers(t *testing.T) {
	sd, f := newFakeManager(t)
	var mu sync.Mutex
	stuck := make(chan struct{})
	blocked := false
	probes, stuckProbes := 0, 0
	probe := func() {
		mu.Lock()
		probes++
		b := blocked
		if b {
			stuckProbes++
		}
		mu.Unlock()
		if b {
			<-stuck
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const interval = 10 * time.Millisecond
	go sd.watchdog(ctx, interval, probe)
	waitCond(t, "3 pings from a loop that answers", 5*time.Second, func() bool { return f.count(sdnotify.Watchdog) >= 3 })

	mu.Lock()
	blocked = true
	mu.Unlock()
	waitCond(t, "a stuck probe", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return stuckProbes == 1
	})
	// Once a question is stuck, nothing more is asked and at most one ping
	// (earned by the answer before it) goes out. Twenty intervals of a
	// stuck loop: an observation window.
	atStuck := f.count(sdnotify.Watchdog)
	window := time.NewTimer(20 * interval)
	<-window.C
	if n := f.count(sdnotify.Watchdog); n > atStuck+1 {
		t.Errorf("%d pings while the loop was stuck", n-atStuck)
	}
	mu.Lock()
	if stuckProbes != 1 {
		t.Errorf("%d questions asked while one was unanswered", stuckProbes-1)
	}
	blocked = false
	mu.Unlock()
	close(stuck)
	before := f.count(sdnotify.Watchdog)
	waitCond(t, "pings after the loop answers again", 5*time.Second, func() bool { return f.count(sdnotify.Watchdog) >= before+3 })
	for _, m := range f.received() {
		if m != sdnotify.Watchdog {
			t.Errorf("unexpected datagram %q", m)
		}
	}
}

// Each phase is announced once; READY only while starting or reloading;
// nothing after STOPPING; a nil notifier sends nothing.
func TestNotifyPhases(t *testing.T) {
	sd, f := newFakeManager(t)
	sd.ready()
	sd.ready()
	sd.reloading()
	sd.reloading()
	sd.ready()
	sd.stopping()
	sd.ready()
	sd.reloading()
	sd.stopping()
	want := []string{"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"}
	var got []string
	waitCond(t, "4 datagrams", 5*time.Second, func() bool {
		got = nil
		for _, m := range f.received() {
			first, _, _ := strings.Cut(m, "\n")
			got = append(got, first)
		}
		return len(got) >= len(want)
	})
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("sent %q, want %q", got, want)
	}
	var nilNotifier *sdNotifier
	nilNotifier.ready()
	nilNotifier.stopping()
	nilNotifier.ended(true)
	w := nilNotifier.watch(nil, nil, nil)
	w.wait()
}
