package fleet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// run starts w until the test ends.
func run(t *testing.T, w *Watcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func target(name, url string) Target { return Target{Name: name, Serverurl: url} }

// waitNode polls node i of w's snapshot until cond holds.
func waitNode(t *testing.T, w *Watcher, i int, what string, cond func(Node) bool) Node {
	t.Helper()
	var last Node
	if !testutil.WaitUntil(5*time.Second, func() bool {
		last = w.Snapshot()[i]
		return cond(last)
	}) {
		t.Fatalf("%s: node %+v", what, last)
	}
	return last
}

func TestPolledOriginal(t *testing.T) {
	t.Parallel()
	f := &fakeNode{}
	f.setProcs(proc{"b", 20}, proc{"a", 0})
	srv := newFake(t, f)
	w := NewWatcher([]Target{target("n1", srv.URL)}, Options{PollEvery: 20 * time.Millisecond})
	ch, unsub := w.Changed()
	defer unsub()
	run(t, w)
	n := waitNode(t, w, 0, "up", func(n Node) bool { return n.State == Up })
	if n.Kind != KindSupervisor || n.Version != "4.2.5" || n.Supervisor != "RUNNING" || n.URL != srv.URL {
		t.Fatalf("node %+v", n)
	}
	if len(n.Processes) != 2 || n.Processes[0].Name != "a" || n.Processes[1].Statename != "RUNNING" ||
		n.Processes[1].Description != "desc b" {
		t.Fatalf("processes (sorted by group, name) %+v", n.Processes)
	}
	select {
	case <-ch:
	default:
		t.Fatal("no change notified")
	}
	f.setProcs(proc{"a", 20}, proc{"b", 20})
	waitNode(t, w, 0, "polled change", func(n Node) bool { return n.Processes[0].State == 20 })
	if f.called("supervisor.getAllProcessInfo") == 0 {
		t.Fatal("the original is not polled with getAllProcessInfo")
	}
	if got := f.called("gosupervisor.getVersion"); got != 1 {
		t.Fatalf("detected %d times while up, want once", got)
	}
}

func TestFollowedOurs(t *testing.T) {
	t.Parallel()
	f := &fakeNode{ours: true, updates: make(chan []proc)}
	f.setProcs(proc{"a", 0}, proc{"b", 20})
	srv := newFake(t, f)
	w := NewWatcher([]Target{target("n1", srv.URL)}, Options{PollEvery: 20 * time.Millisecond})
	run(t, w)
	n := waitNode(t, w, 0, "up", func(n Node) bool { return n.State == Up && n.Kind == KindGosupervisor })
	if n.Version != "0.9.0" || len(n.Processes) != 2 {
		t.Fatalf("node %+v", n)
	}
	waitNode(t, w, 0, "stream", func(Node) bool { return f.called("supervisor.getAllProcessInfo") == 1 && f.inFlight.Load() == 1 })
	f.updates <- []proc{{"a", 20}}
	n = waitNode(t, w, 0, "update", func(n Node) bool { return n.Processes[0].State == 20 })
	if n.Processes[1].Name != "b" || n.Processes[1].State != 20 {
		t.Fatalf("update merged wrongly: %+v", n.Processes)
	}
	if got := f.called("supervisor.getAllProcessInfo"); got != 1 {
		t.Fatalf("our node polled %d times; it should be followed", got)
	}
}

// closingServer accepts connections and closes them at once, recording
// when: a node that is down but whose port answers.
func closingServer(t *testing.T) (string, func() []time.Time) {
	f := &fakeNode{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, time.Now())
		f.mu.Unlock()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, f.times
}

func TestBackoffDoublesToCap(t *testing.T) {
	t.Parallel()
	url, times := closingServer(t)
	poll, maxB := 20*time.Millisecond, 160*time.Millisecond
	w := NewWatcher([]Target{target("down", url)}, Options{PollEvery: poll, MaxBackoff: maxB})
	run(t, w)
	n := waitNode(t, w, 0, "unreachable", func(n Node) bool { return n.State == Unreachable })
	if n.Error == "" {
		t.Fatal("no reason given")
	}
	if !testutil.WaitUntil(5*time.Second, func() bool { return len(times()) >= 8 }) {
		t.Fatalf("only %d attempts", len(times()))
	}
	ts := times()
	want := poll
	for i := 1; i < 8; i++ {
		gap := ts[i].Sub(ts[i-1])
		if gap < want*9/10 || gap > want*4+200*time.Millisecond {
			t.Fatalf("attempt %d after %v, want about %v (all: %v)", i, gap, want, ts)
		}
		want = min(2*want, maxB)
	}
}

func TestOneRequestInFlightPerNode(t *testing.T) {
	t.Parallel()
	f := &fakeNode{}
	f.setProcs(proc{"a", 20})
	srv := newFake(t, f)
	// Polling as fast as it may, with the answers slowed by the race
	// detector and the load: a second request would overlap.
	w := NewWatcher([]Target{target("n", srv.URL)}, Options{PollEvery: time.Millisecond})
	run(t, w)
	if !testutil.WaitUntil(5*time.Second, func() bool { _ = w.Snapshot(); return f.count() >= 50 }) {
		t.Fatalf("only %d requests", f.count())
	}
	if m := f.maxInFlight.Load(); m != 1 {
		t.Fatalf("%d requests in flight at once", m)
	}
}

func TestAuthFailed(t *testing.T) {
	t.Parallel()
	srv := newFake(t, &fakeNode{status: http.StatusUnauthorized})
	w := NewWatcher([]Target{target("n", srv.URL)}, Options{PollEvery: 20 * time.Millisecond})
	run(t, w)
	n := waitNode(t, w, 0, "auth failed", func(n Node) bool { return n.State == AuthFailed })
	if n.Error != "HTTP 401 Unauthorized" {
		t.Fatalf("error %q", n.Error)
	}
	nodes := Query(context.Background(), []Target{target("n", srv.URL)}, time.Second)
	if nodes[0].State != AuthFailed {
		t.Fatalf("query: %+v", nodes[0])
	}
}

func TestHangingNodeDelaysNothing(t *testing.T) {
	t.Parallel()
	hung := newFake(t, &fakeNode{hang: make(chan struct{})})
	good := &fakeNode{}
	good.setProcs(proc{"a", 20})
	srv := newFake(t, good)
	ts := []Target{target("hung", hung.URL), target("good", srv.URL)}
	w := NewWatcher(ts, Options{PollEvery: 10 * time.Millisecond, Timeout: time.Minute})
	run(t, w)
	waitNode(t, w, 1, "good up", func(n Node) bool { return n.State == Up })
	before := good.count()
	for good.count() < before+5 {
		start := time.Now()
		s := w.Snapshot()
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("Snapshot took %v", d)
		}
		if s[0].State != Connecting {
			t.Fatalf("hung node %+v", s[0])
		}
		testutil.WaitUntil(time.Second, func() bool { return good.count() > before })
	}
	start := time.Now()
	nodes := Query(context.Background(), ts, 300*time.Millisecond)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Query took %v", d)
	}
	if nodes[0].State != Unreachable || nodes[0].Error != "timed out" || nodes[1].State != Up {
		t.Fatalf("query: %+v", nodes)
	}
}

func TestCallRefreshesPolledNode(t *testing.T) {
	t.Parallel()
	f := &fakeNode{}
	f.setProcs(proc{"a", 0})
	srv := newFake(t, f)
	w := NewWatcher([]Target{target("n", srv.URL)}, Options{PollEvery: time.Hour})
	run(t, w)
	waitNode(t, w, 0, "up", func(n Node) bool { return n.State == Up })
	res, err := w.Call(context.Background(), "n", "supervisor.startProcess", "a")
	if err != nil || res != true {
		t.Fatalf("call: %v %v", res, err)
	}
	waitNode(t, w, 0, "refreshed", func(n Node) bool { return n.Processes[0].State == 20 })
	var fe *Fault
	if _, err := w.Call(context.Background(), "n", "supervisor.startProcess", "zz"); !errors.As(err, &fe) || fe.Code != 10 {
		t.Fatalf("fault: %v", err)
	}
	if _, err := w.Call(context.Background(), "nope", "supervisor.getState"); !errors.Is(err, ErrNoNode) {
		t.Fatalf("unknown node: %v", err)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	orig, ours := &fakeNode{}, &fakeNode{ours: true}
	orig.setProcs(proc{"a", 20})
	ours.setProcs(proc{"b", 0})
	s1, s2 := newFake(t, orig), newFake(t, ours)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	nodes := Query(context.Background(), []Target{target("o", s1.URL), target("g", s2.URL), target("x", refused)}, time.Second)
	if nodes[0].Kind != KindSupervisor || nodes[0].State != Up || nodes[0].Processes[0].Name != "a" {
		t.Fatalf("original: %+v", nodes[0])
	}
	if nodes[1].Kind != KindGosupervisor || nodes[1].Version != "0.9.0" || nodes[1].Processes[0].Statename != "STOPPED" {
		t.Fatalf("ours: %+v", nodes[1])
	}
	if nodes[2].State != Unreachable || nodes[2].Error == "" {
		t.Fatalf("refused: %+v", nodes[2])
	}
	if orig.count() != 1 {
		t.Fatalf("query made %d requests, want one multicall", orig.count())
	}
}
