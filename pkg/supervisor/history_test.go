package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// trace renders transitions as "FROM>TO" with their exit ("exit 1",
// "SIGKILL") and spawn error, for comparisons.
func trace(ts []rpc.Transition) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		s := t.From + ">" + t.To
		if t.Exited {
			if t.Signal != "" {
				s += " " + t.Signal
			} else {
				s += fmt.Sprintf(" exit %d", t.ExitStatus)
			}
		}
		if t.Spawnerr != "" {
			s += " (" + t.Spawnerr + ")"
		}
		out[i] = s
	}
	return out
}

func mustHistory(t *testing.T, e *engine, ns string) rpc.History {
	t.Helper()
	h, err := e.s.ProcessHistory(ns)
	if err != nil {
		t.Fatalf("ProcessHistory(%s): %v", ns, err)
	}
	return h
}

// TestHistoryCrashLoop: a child that exits 1 at once with autorestart
// leaves STARTING, RUNNING, EXITED (exit 1) every second; the ring keeps
// the last 100 in order, and RecentRestarts counts the restarts of the
// last ten minutes.
func TestHistoryCrashLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// crash exits at once 45 times, then stays up.
		f := newFakeSpawner(func(name string, n int) time.Duration {
			if name == "crash" && n < 45 {
				return time.Millisecond
			}
			return -1
		})
		e := newEngine(t, f, program("crash", "startsecs=0", "autorestart=true")+program("calm"))
		defer e.stop()
		time.Sleep(2*time.Second + 500*time.Millisecond)
		synctest.Wait()
		h := mustHistory(t, e, "crash")
		want := []string{
			"STOPPED>STARTING", "STARTING>RUNNING", "RUNNING>EXITED exit 1 (Bad exit code 1)",
			"EXITED>STARTING", "STARTING>RUNNING", "RUNNING>EXITED exit 1 (Bad exit code 1)",
			"EXITED>STARTING", "STARTING>RUNNING", "RUNNING>EXITED exit 1 (Bad exit code 1)",
		}
		if got := trace(h.Transitions); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("transitions\n%q\nwant\n%q", got, want)
		}
		if h.Name != "crash" || h.Group != "crash" || h.Transitions[2].Expected || !h.Transitions[1].Expected {
			t.Errorf("history %+v", h)
		}
		if got := e.s.RecentRestarts(); len(got) != 1 || got["crash"] != 2 {
			t.Errorf("RecentRestarts %v; want crash: 2", got)
		}
		// 40 more seconds: 120 more changes, of which the ring keeps 100.
		time.Sleep(40 * time.Second)
		synctest.Wait()
		h = mustHistory(t, e, "crash")
		if len(h.Transitions) != transitionsKept {
			t.Fatalf("%d transitions kept; want %d", len(h.Transitions), transitionsKept)
		}
		for i := 1; i < len(h.Transitions); i++ {
			if h.Transitions[i].Time.Before(h.Transitions[i-1].Time) {
				t.Fatalf("transition %d at %v before %v", i, h.Transitions[i].Time, h.Transitions[i-1].Time)
			}
		}
		if last := h.Transitions[len(h.Transitions)-1]; last.To != "EXITED" || time.Since(last.Time) > time.Second {
			t.Errorf("newest transition %+v", last)
		}
		// The flapping count is what the ring still holds.
		restarts := 0
		for _, tr := range trace(h.Transitions) {
			if tr == "EXITED>STARTING" {
				restarts++
			}
		}
		if got := e.s.RecentRestarts()["crash"]; got != restarts || restarts < 30 {
			t.Errorf("RecentRestarts after 42.5 s: %d; the ring has %d", got, restarts)
		}
		// Restarts older than ten minutes no longer count.
		time.Sleep(11 * time.Minute)
		synctest.Wait()
		if got := e.s.RecentRestarts(); len(got) != 0 {
			t.Errorf("RecentRestarts 11 min after the stop: %v", got)
		}
		if _, err := e.s.ProcessHistory("nosuch"); err == nil || !strings.Contains(err.Error(), "BAD_NAME") {
			t.Errorf("unknown process: %v", err)
		}
	})
}

// TestHistoryBackoffAndSignal: quick exits give BACKOFF with the exit
// status the machine itself does not report, then FATAL; a kill -9 from
// outside is recorded with its signal.
func TestHistoryBackoffAndSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(name string, _ int) time.Duration {
			if name == "quick" {
				return 10 * time.Millisecond
			}
			return -1
		})
		e := newEngine(t, f, program("quick", "startsecs=1", "startretries=1")+program("victim", "startsecs=1"))
		defer e.stop()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		const quick = "Exited too quickly (process log may have details)"
		want := []string{
			"STOPPED>STARTING", "STARTING>BACKOFF exit 1 (" + quick + ")",
			"BACKOFF>STARTING", "STARTING>BACKOFF exit 1 (" + quick + ")",
			"BACKOFF>FATAL (" + quick + ")",
		}
		if got := trace(mustHistory(t, e, "quick").Transitions); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("quick\n%q\nwant\n%q", got, want)
		}
		pid := 0
		for _, pi := range e.s.Processes() {
			if pi.Name == "victim" {
				pid = pi.PID
			}
		}
		f.exitAfter(pid, 0, syscall.WaitStatus(syscall.SIGKILL))
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		got := trace(mustHistory(t, e, "victim").Transitions)
		if len(got) < 4 || got[2] != "RUNNING>EXITED SIGKILL (Bad exit code -1)" || got[3] != "EXITED>STARTING" {
			t.Errorf("victim %q", got)
		}
		h := mustHistory(t, e, "victim")
		if tr := h.Transitions[2]; tr.Pid != pid || tr.ExitStatus != -1 {
			t.Errorf("kill -9: %+v (pid %d)", tr, pid)
		}
	})
}

// fakeProc writes what procstat reads of pid under root: ticks of CPU,
// started at start ticks after boot, rss pages, fds descriptors.
func fakeProc(t *testing.T, root string, pid int, ticks, start uint64, pages, fds int) {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprint(pid))
	if err := os.MkdirAll(filepath.Join(dir, "fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (a (b) c) S 1 1 1 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0 %d 1000 %d\n", pid, ticks, start, pages)
	for name, data := range map[string]string{"stat": stat, "statm": fmt.Sprintf("1000 %d 0 0 0 0 0\n", pages)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range fds {
		if err := os.WriteFile(filepath.Join(dir, "fd", fmt.Sprint(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHistorySampling: nothing is sampled until someone watches; then a
// sample every 5 s with CPU from the tick difference, memory and
// descriptors; sampling goes on for watchLinger after the watcher leaves,
// then stops.
func TestHistorySampling(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "uptime"), []byte("1000.00 4000.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first child is pid 1001: started 900 s after boot, 1 s of CPU.
	fakeProc(t, root, 1001, 100, 90000, 256, 3)
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngineOn(t, f, program("busy"), nil, func(o *Options) { o.ProcRoot = root })
		defer e.stop()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := len(e.s.sampler.rings); n != 0 {
			t.Fatalf("%d rings sampled while nobody watches", n)
		}
		release := e.s.WatchHistory()
		synctest.Wait()
		fakeProc(t, root, 1001, 150, 90000, 512, 3) // 0.5 s of CPU in the next 5 s
		time.Sleep(sampleEvery)
		synctest.Wait()
		h := mustHistory(t, e, "busy")
		if len(h.Samples) != 2 || !h.Sampling || h.SampleEvery != 5*time.Second {
			t.Fatalf("samples %+v", h)
		}
		// First sight: the average since the start (1 s over 100 s).
		s0, s1 := h.Samples[0], h.Samples[1]
		if s0.CPU != 1 || s0.RSS != 256*int64(os.Getpagesize()) || s0.FDs != 3 {
			t.Errorf("first sample %+v", s0)
		}
		if s1.CPU != 10 || s1.RSS != 512*int64(os.Getpagesize()) || s1.Time.Sub(s0.Time) != 5*time.Second {
			t.Errorf("second sample %+v", s1)
		}
		release()
		release() // twice is once
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		e.s.sampler.mu.Lock()
		n := len(e.s.sampler.rings[e.procNamed("busy")].buf)
		e.s.sampler.mu.Unlock()
		// The history read at 65 s (and the release) keep it going until
		// 185 s: rounds at 60, 65, …, 180 s.
		if want := 25; n != want {
			t.Errorf("%d samples after the watcher left; want %d", n, want)
		}
		if e.s.sampler.active() {
			t.Error("still sampling 10 min after the last watcher")
		}
	})
}

// procNamed is the loop's record of a process, for white-box checks.
func (e *engine) procNamed(name string) *proc {
	var out *proc
	e.s.call(func() { out = e.s.findProc(name) })
	return out
}

// TestHistoryAlways: with [supervisord] history=true samples are taken
// with nobody watching, and an hour of them is kept, no more.
func TestHistoryAlways(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "uptime"), []byte("1000.00 4000.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeProc(t, root, 1001, 100, 90000, 256, 3)
	synctest.Test(t, func(t *testing.T) {
		f := newFakeSpawner(func(string, int) time.Duration { return -1 })
		e := newEngineOn(t, f, "[supervisord]\nhistory=true\n"+program("busy"), nil, func(o *Options) { o.ProcRoot = root })
		defer e.stop()
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		h := mustHistory(t, e, "busy")
		if len(h.Samples) != samplesKept || !h.Sampling {
			t.Fatalf("%d samples after 2 h; want %d", len(h.Samples), samplesKept)
		}
		if first := h.Samples[0].Time; time.Since(first) > time.Hour {
			t.Errorf("oldest sample %v old", time.Since(first))
		}
	})
}

// TestHistoryMemory measures the bound stated in docs/BENCHMARKS.md: a
// process with a full ring of transitions and an hour of samples.
func TestHistoryMemory(t *testing.T) {
	if got := unsafe.Sizeof(transition{}); got != 40 {
		t.Errorf("transition is %d bytes; docs/BENCHMARKS.md says 40", got)
	}
	if got := unsafe.Sizeof(sample{}); got != 16 {
		t.Errorf("sample is %d bytes; docs/BENCHMARKS.md says 16", got)
	}
	const n = 1000
	per := bytesPerProcess(n)
	t.Logf("history of one process, full: %d bytes (%d transitions, %d samples)", per, transitionsKept, samplesKept)
	// 4,000 bytes of transitions and 11,520 of samples, in the allocator's
	// 4,096- and 12,288-byte size classes, plus the two records.
	if limit := uint64(17 << 10); per > limit {
		t.Errorf("%d bytes per process; bound %d", per, limit)
	}
}

// bytesPerProcess fills n processes' histories to the brim and returns
// the heap they take, per process.
func bytesPerProcess(n int) uint64 {
	s := &Supervisor{clock: realClock{}}
	s.sampler = newSampler(s, "", false)
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = &proc{}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, p := range procs {
		h := &history{}
		p.hist = h
		for k := range transitionsKept + 10 {
			h.add(transition{at: int64(k), spawnerr: "Exited too quickly (process log may have details)"})
		}
		r := &sampleRing{}
		for k := range samplesKept + 10 {
			r.add(sample{at: uint32(k)})
		}
		s.sampler.rings[p] = r
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(procs)
	runtime.KeepAlive(s)
	return (after.HeapAlloc - before.HeapAlloc) / uint64(n)
}

// BenchmarkRecordTransition is the loop's cost of one state change.
func BenchmarkRecordTransition(b *testing.B) {
	h := &history{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.add(transition{at: int64(i)})
	}
}
