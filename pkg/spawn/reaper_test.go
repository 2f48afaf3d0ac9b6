package spawn_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// Children that exit before Run starts (their SIGCHLD predates Notify) are
// reaped by Run's first pass, and reaping never waits for the consumer.
func TestReapBeforeRunAndWithoutConsumer(t *testing.T) {
	r, err := spawn.NewReaper()
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var pids []int
	for range n {
		c, err := r.Spawn(spawn.Spec{Name: "true", Argv: []string{"true"}, Path: "/bin/true", Umask: -1})
		if err != nil {
			t.Fatal(err)
		}
		closeChild(c)
		pids = append(pids, c.Pid)
	}
	waitFor(t, "children to become zombies", func() bool { return len(zombies()) == n })

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	// Nobody reads Exits yet: the reaper must still clear every zombie.
	waitFor(t, "zombies to be reaped", func() bool { return len(zombies()) == 0 })
	exits, err := r.TakeExits()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.TakeExits(); !errors.Is(err, spawn.ErrExitsTaken) {
		t.Errorf("a second consumer took the exits: %v", err)
	}
	var got []int
	for range n {
		e := <-exits.C
		if e.Status.ExitStatus() != 0 {
			t.Errorf("exit %+v, want status 0", e)
		}
		got = append(got, e.Pid)
	}
	slices.Sort(got)
	slices.Sort(pids)
	if !slices.Equal(got, pids) {
		t.Errorf("reaped %v, spawned %v", got, pids)
	}
}

// Exits is closed once Run returns.
func TestExitsClosedAfterRun(t *testing.T) {
	r, err := spawn.NewReaper()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	cancel()
	<-done
	exits, err := r.TakeExits()
	if err != nil {
		t.Fatal(err)
	}
	exits.Release()
	exits.Release() // twice is harmless
	if exits, err = r.TakeExits(); err != nil {
		t.Fatalf("released exits not available again: %v", err)
	}
	if _, ok := <-exits.C; ok {
		t.Fatal("Exits still open after Run returned")
	}
}
