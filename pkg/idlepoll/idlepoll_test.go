package idlepoll

import (
	"errors"
	"os"
	"testing"
	"time"
)

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func fd(f *os.File) int { return int(f.Fd()) }

// waitFired fails the test unless ch fires within the deadline.
func waitFired(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: ready did not run within 5s", what)
	}
}

func TestParkFiresOnDataOnceThenRearms(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	fired := make(chan struct{}, 4)
	ready := func() { fired <- struct{}{} }
	if err := p.Park(fd(r), ready); err != nil {
		t.Fatal(err)
	}
	if n := p.Parked(); n != 1 {
		t.Fatalf("Parked() = %d, want 1", n)
	}
	select {
	case <-fired:
		t.Fatal("ready ran before anything was written")
	case <-time.After(20 * time.Millisecond):
	}
	if err := p.Park(fd(r), ready); err == nil {
		t.Fatal("parking the same descriptor twice succeeded")
	}
	w.Write([]byte("x"))
	waitFired(t, fired, "first write")
	if n := p.Parked(); n != 0 {
		t.Fatalf("Parked() = %d after ready, want 0", n)
	}
	// One-shot: the unread byte does not fire again until re-parked, and a
	// re-park of a still-readable descriptor fires at once (level-triggered).
	select {
	case <-fired:
		t.Fatal("ready ran twice for one park")
	case <-time.After(20 * time.Millisecond):
	}
	if err := p.Park(fd(r), ready); err != nil {
		t.Fatalf("re-park: %v", err)
	}
	waitFired(t, fired, "re-park with unread data")
}

func TestParkFiresOnHangUp(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	fired := make(chan struct{})
	if err := p.Park(fd(r), func() { close(fired) }); err != nil {
		t.Fatal(err)
	}
	w.Close()
	waitFired(t, fired, "writer closed")
}

func TestManyDescriptors(t *testing.T) {
	p := newPoller(t)
	const n = 200
	ws := make([]*os.File, n)
	fired := make(chan int, n)
	for i := range n {
		r, w := pipe(t)
		ws[i] = w
		if err := p.Park(fd(r), func() { fired <- i }); err != nil {
			t.Fatal(err)
		}
	}
	for i := n - 1; i >= 0; i-- {
		ws[i].Write([]byte{byte(i)})
	}
	seen := map[int]bool{}
	deadline := time.After(5 * time.Second)
	for len(seen) < n {
		select {
		case i := <-fired:
			if seen[i] {
				t.Fatalf("descriptor %d fired twice", i)
			}
			seen[i] = true
		case <-deadline:
			t.Fatalf("%d of %d fired", len(seen), n)
		}
	}
}

func TestCloseHandsBackParked(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pipe(t)
	fired := make(chan struct{})
	if err := p.Park(fd(r), func() { close(fired) }); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	waitFired(t, fired, "Close")
	if err := p.Park(fd(r), func() {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Park after Close = %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestParkBadDescriptor(t *testing.T) {
	p := newPoller(t)
	if err := p.Park(-1, func() {}); err == nil {
		t.Fatal("Park(-1) succeeded")
	}
	if n := p.Parked(); n != 0 {
		t.Fatalf("Parked() = %d after a failed Park, want 0", n)
	}
}
