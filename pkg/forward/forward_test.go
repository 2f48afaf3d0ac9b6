package forward

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a destination whose writes wait until it is opened.
type gate struct {
	mu     sync.Mutex
	open   chan struct{}
	buf    bytes.Buffer
	writes []int
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	g.writes = append(g.writes, len(p))
	return g.buf.Write(p)
}

func (g *gate) text() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(m string) { w.mu.Lock(); w.msgs = append(w.msgs, m); w.mu.Unlock() }
func (w *warnings) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPrefixPadding(t *testing.T) {
	s := NewSet(&bytes.Buffer{}, &bytes.Buffer{}, Options{})
	a, b := s.Source("stdout", "web"), s.Source("stderr", "worker_01")
	s.SetWidth(9)
	if got := string(a.Prefix()); got != "web       | " {
		t.Fatalf("prefix %q", got)
	}
	if got := string(b.Prefix()); got != "worker_01 | " {
		t.Fatalf("prefix %q", got)
	}
	s.SetWidth(4) // a reread removed the long name
	if got := string(a.Prefix()); got != "web  | " {
		t.Fatalf("prefix after SetWidth %q", got)
	}
	s.SetWidth(0)
	if got := string(b.Prefix()); got != "worker_01 | " {
		t.Fatalf("a longer name is never cut: %q", got)
	}
}

// A stuck destination never blocks Forward: lines beyond the limit are
// dropped, counted, and reported once when the queue drains.
func TestDropsWhenStuck(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	var warns warnings
	s := NewSet(g, &bytes.Buffer{}, Options{Limit: 100})
	s.SetWarn(warns.add)
	src := s.Source("stdout", "x")
	line := []byte("x | 123456789\n") // 14 bytes
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			src.Forward(line, 1)
		}
		// A batch that only partly fits keeps its whole lines.
		src.Forward(bytes.Repeat(line, 3), 3)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Forward blocked on a stuck destination")
	}
	if len(warns.get()) != 0 {
		t.Fatalf("warned during the streak: %q", warns.get())
	}
	close(g.open)
	waitFor(t, "the warning", func() bool { return len(warns.get()) == 1 })
	if !s.Sync(5 * time.Second) {
		t.Fatal("not drained")
	}
	out := g.text()
	kept := strings.Count(out, "\n")
	if kept == 0 || out != strings.Repeat(string(line), kept) {
		t.Fatalf("output is not whole lines: %q", out)
	}
	want := "dropped " + itoa(1003-kept) + " lines forwarded from 'x': supervisord's stdout is not keeping up"
	if got := warns.get()[0]; got != want {
		t.Fatalf("warning %q, want %q", got, want)
	}
	if len(out) > 100 {
		t.Fatalf("%d bytes got through a queue of 100", len(out))
	}
	// A new streak is reported again.
	g2 := &gate{open: make(chan struct{})}
	s.Stdout.dst = g2
	for range 50 {
		src.Forward(line, 1)
	}
	close(g2.open)
	waitFor(t, "the second warning", func() bool { return len(warns.get()) == 2 })
}

// A streak that never ends (stdout stuck for good) is still reported every
// StreakReport.
func TestLongStreakReported(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	defer close(g.open)
	var warns warnings
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	s := NewSet(g, &bytes.Buffer{}, Options{Limit: 10, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	s.SetWarn(warns.add)
	src := s.Source("stdout", "y")
	for range 5 {
		src.Forward([]byte("y | 1234\n"), 1)
	}
	mu.Lock()
	now = now.Add(StreakReport)
	mu.Unlock()
	src.Forward([]byte("y | 1234\n"), 1)
	waitFor(t, "the warning", func() bool { return len(warns.get()) == 1 })
	if got := warns.get()[0]; got != "dropped 5 lines forwarded from 'y': supervisord's stdout is not keeping up" {
		t.Fatalf("warning %q", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
