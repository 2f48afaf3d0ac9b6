package daemon

import (
	"context"
	"os"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeEngine records handler calls; each blocks until release is closed,
// as the real ones wait for the engine's loop, or gives up once Run has
// returned.
type fakeEngine struct {
	mu      sync.Mutex
	calls   []string
	release chan struct{}
	stop    chan struct{}
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{release: make(chan struct{}), stop: make(chan struct{})}
}

func (f *fakeEngine) Run(ctx context.Context) error {
	<-f.stop
	return nil
}

func (f *fakeEngine) record(s string) {
	select {
	case <-f.release:
	case <-f.stop: // like the engine's calls once its loop has ended
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeEngine) HUP()                     { f.record("HUP") }
func (f *fakeEngine) ReopenLogs()              { f.record("USR2") }
func (f *fakeEngine) Terminate(signame string) { f.record(signame) }

func (f *fakeEngine) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// TestSignalsInOrder sends more signals than the queue's channel holds
// while the first handler is blocked: none is lost and they arrive in order.
func TestSignalsInOrder(t *testing.T) {
	q := &signalQueue{c: make(chan os.Signal, 1)}
	e := newFakeEngine()
	done := make(chan error, 1)
	go func() { done <- q.drive(context.Background(), e) }()
	sent := []os.Signal{syscall.SIGHUP, syscall.SIGUSR2, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM}
	var want []string
	for i := 0; i < 4; i++ {
		for _, sg := range sent {
			q.c <- sg // would block for good if drive waited on the handlers
		}
		want = append(want, "HUP", "USR2", "SIGINT", "SIGQUIT", "SIGTERM")
	}
	close(e.release)
	waitFor(t, func() bool { return len(e.recorded()) == len(want) })
	close(e.stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := e.recorded(); !reflect.DeepEqual(got, want) {
		t.Fatalf("handled %v, want %v", got, want)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
