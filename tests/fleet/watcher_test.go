package fleet_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
)

func stateOf(n fleet.Node, name string) string {
	for _, p := range n.Processes {
		if p.Name == name {
			return p.Statename
		}
	}
	return ""
}

// The watcher follows our nodes, polls the original, proxies an action to
// each, and shows a stopped node as unreachable within 2 s while the
// others keep updating.
func TestWatcherOnRealDaemons(t *testing.T) {
	nodes, _ := startFleet(t)
	targets := make([]fleet.Target, len(nodes))
	for i, n := range nodes {
		targets[i] = n.target()
	}
	w := fleet.NewWatcher(targets, fleet.Options{PollEvery: 200 * time.Millisecond, MaxBackoff: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	wantKind := []fleet.Kind{fleet.KindGosupervisor, fleet.KindGosupervisor, fleet.KindSupervisor}
	var snap []fleet.Node
	allUp := func() bool {
		snap = w.Snapshot()
		for i, n := range snap {
			if n.State != fleet.Up || n.Kind != wantKind[i] || len(n.Processes) != 4 {
				return false
			}
		}
		return true
	}
	if !testutil.WaitUntil(10*time.Second, allUp) {
		t.Fatalf("not all up: %+v", snap)
	}
	if snap[2].Version != "4.2.5" || snap[0].Supervisor != "RUNNING" || stateOf(snap[1], "idle") != "STOPPED" {
		t.Fatalf("snapshot %+v", snap)
	}

	for _, n := range nodes {
		if _, err := w.Call(context.Background(), n.name, "supervisor.startProcess", "idle", false); err != nil {
			t.Fatalf("%s: start idle: %v", n.name, err)
		}
	}
	if !testutil.WaitUntil(5*time.Second, func() bool {
		snap = w.Snapshot()
		for _, n := range snap {
			if stateOf(n, "idle") != "RUNNING" {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("start not seen on every node: %+v", snap)
	}
	var fe *fleet.Fault
	if _, err := w.Call(context.Background(), "gamma", "supervisor.startProcess", "nope"); !asFault(err, &fe) || fe.Code != 10 {
		t.Fatalf("fault from the original: %v", err)
	}

	nodes[1].daemon.Stop(t)
	stopped := time.Now()
	if !testutil.WaitUntil(2*time.Second, func() bool { return w.Snapshot()[1].State == fleet.Unreachable }) {
		t.Fatalf("beta not unreachable 2 s after it stopped: %+v", w.Snapshot()[1])
	}
	t.Logf("beta unreachable after %v: %s", time.Since(stopped), w.Snapshot()[1].Error)
	// The others keep updating: an action on each still shows.
	for _, i := range []int{0, 2} {
		if _, err := w.Call(context.Background(), nodes[i].name, "supervisor.stopProcess", "idle", false); err != nil {
			t.Fatalf("%s: stop idle: %v", nodes[i].name, err)
		}
	}
	if !testutil.WaitUntil(5*time.Second, func() bool {
		snap = w.Snapshot()
		return stateOf(snap[0], "idle") == "STOPPED" && stateOf(snap[2], "idle") == "STOPPED" &&
			snap[0].State == fleet.Up && snap[2].State == fleet.Up
	}) {
		t.Fatalf("alpha and gamma stopped updating: %+v", snap)
	}
}

// A node that hangs rather than dies (SIGSTOP: its sockets stay open, it
// answers nothing) shows as unreachable within 2 s with the default
// options, ours through the event stream's confirmed heartbeat, the
// original through the poll's timeout; both are up again once resumed.
func TestWatcherHungNodes(t *testing.T) {
	nodes, _ := startFleet(t)
	targets := make([]fleet.Target, len(nodes))
	for i, n := range nodes {
		targets[i] = n.target()
	}
	w := fleet.NewWatcher(targets, fleet.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if !testutil.WaitUntil(10*time.Second, func() bool {
		s := w.Snapshot()
		return s[0].State == fleet.Up && s[2].State == fleet.Up
	}) {
		t.Fatalf("not up: %+v", w.Snapshot())
	}
	for _, i := range []int{0, 2} {
		pid := nodes[i].daemon.Pid()
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	}
	stopped := time.Now()
	// 2 s from the stop, plus the poll period in which it may fall.
	if !testutil.WaitUntil(3*time.Second, func() bool {
		s := w.Snapshot()
		return s[0].State == fleet.Unreachable && s[2].State == fleet.Unreachable
	}) {
		t.Fatalf("hung nodes not unreachable 3 s after SIGSTOP: %+v / %+v", w.Snapshot()[0], w.Snapshot()[2])
	}
	t.Logf("alpha and gamma unreachable %v after SIGSTOP: %q, %q", time.Since(stopped), w.Snapshot()[0].Error, w.Snapshot()[2].Error)
	if w.Snapshot()[1].State != fleet.Up {
		t.Errorf("beta, not stopped, is %s", w.Snapshot()[1].State)
	}
	for _, i := range []int{0, 2} {
		if err := syscall.Kill(nodes[i].daemon.Pid(), syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}
	if !testutil.WaitUntil(10*time.Second, func() bool {
		s := w.Snapshot()
		return s[0].State == fleet.Up && s[2].State == fleet.Up
	}) {
		t.Fatalf("not up again after SIGCONT: %+v / %+v", w.Snapshot()[0], w.Snapshot()[2])
	}
}
