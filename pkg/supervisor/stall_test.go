package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// TestNoStallUnderChattyProgramsRPCsAndListenerRestarts: 500 programs
// emitting PROCESS_LOG events, a pool listening to them and restarted
// again and again, and 200 concurrent clients: every call is answered.
// Before the feed, a listener's spawn on the loop posted to the loop's own
// full inbox and the engine waited on itself for ever.
func TestNoStallUnderChattyProgramsRPCsAndListenerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("500 children")
	}
	script := needChildutils(t)
	out := filepath.Join(t.TempDir(), "events.jsonl")
	h := start(t, listenerSection(script, "listener", out, "ok", "PROCESS_LOG", "buffer_size=50")+`
[program:chatty]
command=/bin/sh -c 'while :; do echo chat; sleep 1; done'
numprocs=500
process_name=%(program_name)s_%(process_num)s
startsecs=0
stdout_events_enabled=true
stdout_logfile=NONE
`)
	h.waitFor("500 chatty programs running", 60*time.Second, func() bool {
		n := 0
		for _, in := range h.s.Processes() {
			if in.State == int(process.Running) {
				n++
			}
		}
		return n == 501
	})

	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for c := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if c%2 == 0 {
					if got := len(h.s.Processes()); got != 501 {
						errs <- fmt.Errorf("client %d call %d: %d processes", c, i, got)
						return
					}
				} else if _, ok := h.s.Group("chatty"); !ok {
					errs <- fmt.Errorf("client %d call %d: no group chatty", c, i)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // restart the listener while the clients run
		defer wg.Done()
		for range 5 {
			if err := restart(h.s, "listener"); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		os.WriteFile(filepath.Join(os.TempDir(), "gosupervisor-stall.txt"), buf, 0o644)
		t.Fatalf("clients still waiting after 120 s: the loop stalled; stacks in %s", filepath.Join(os.TempDir(), "gosupervisor-stall.txt"))
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.log.count("spawned: 'listener'"); n < 6 {
		t.Errorf("listener spawned %d times, want 6 (1 + 5 restarts)", n)
	}
	if strings.Contains(h.log.String(), "panic") {
		t.Errorf("log mentions a panic:\n%s", h.log)
	}
}

// restart stops and starts a process through the API, waiting for each.
func restart(s *Supervisor, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wait, err := s.StopProcess(name)
	if err != nil {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	if wait != nil {
		if err := wait(ctx); err != nil {
			return fmt.Errorf("waiting for %s to stop: %w", name, err)
		}
	}
	if wait, err = s.StartProcess(name); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if wait != nil {
		if err := wait(ctx); err != nil {
			return fmt.Errorf("waiting for %s to start: %w", name, err)
		}
	}
	return nil
}

// The loop never sends to its own inbox: in tests, trying to is a panic.
func TestCallFromTheLoopPanics(t *testing.T) {
	h := start(t, "[program:x]\ncommand=/bin/sleep 1000\nautostart=false\n")
	for _, what := range []string{"call", "post"} {
		var got any
		h.s.call(func() {
			defer func() { got = recover() }()
			if what == "call" {
				h.s.call(func() {})
			} else {
				h.s.post(func() {})
			}
		})
		if msg, _ := got.(string); !strings.Contains(msg, what+" from the loop goroutine") {
			t.Errorf("%s from the loop: recovered %v; want the guard's panic", what, got)
		}
	}
}
