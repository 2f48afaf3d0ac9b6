package supervisor

import (
	"math"
	"os"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/procstat"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
)

// Resource samples (issue 17): CPU %, resident memory and open descriptors
// of every process with a pid, every sampleEvery for the last hour. The
// sampler is one goroutine that reads /proc off the loop; the loop only
// hands it the pids, one call a round. It samples only while a console
// or API client watches (an events stream open, or a history read in the
// last watchLinger) or when [supervisord] history=true; otherwise it
// waits on a channel and costs nothing.

const (
	sampleEvery = 5 * time.Second
	// samplesKept is an hour of samples.
	samplesKept = int(time.Hour / sampleEvery)
	// watchLinger is how long a history read keeps the sampler going.
	watchLinger = 2 * time.Minute
)

// sample is 16 bytes: an hour of them is 11,520 bytes per process.
type sample struct {
	at    uint32 // Unix seconds
	rssKB uint32 // resident memory in KiB (up to 4 TiB)
	cpu   float32
	fds   int32 // -1: unreadable
}

// sampleRing is one process's samples and what its CPU % is measured from.
type sampleRing struct {
	buf  []sample // grows up to samplesKept, then wraps at next
	next int

	pid       int
	startTime uint64 // of pid (a reused pid is another process)
	ticks     uint64
	tickAt    time.Time
}

func (r *sampleRing) add(s sample) {
	if len(r.buf) < samplesKept {
		if len(r.buf) == cap(r.buf) {
			grown := make([]sample, len(r.buf), min(max(2*cap(r.buf), 16), samplesKept))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % samplesKept
}

// ordered is the samples oldest first, from since (Unix seconds) on.
func (r *sampleRing) ordered(since int64) []rpc.Sample {
	out := make([]rpc.Sample, 0, len(r.buf))
	n := len(r.buf)
	for k := 0; k < n; k++ {
		s := r.buf[(r.next+k)%n]
		if int64(s.at) < since {
			continue
		}
		out = append(out, rpc.Sample{
			Time: time.Unix(int64(s.at), 0), CPU: math.Round(float64(s.cpu)*10) / 10,
			RSS: int64(s.rssKB) << 10, FDs: int(s.fds),
		})
	}
	return out
}

func (r *sampleRing) newest() int64 {
	if len(r.buf) == 0 {
		return 0
	}
	return int64(r.buf[(r.next+len(r.buf)-1)%len(r.buf)].at)
}

// sampler takes the samples. Its rings are keyed by the loop's process
// records, which it never dereferences.
type sampler struct {
	s        *Supervisor
	root     string
	pageSize int64
	always   bool
	wake     chan struct{}

	mu          sync.Mutex
	watchers    int
	lingerUntil time.Time
	rings       map[*proc]*sampleRing
}

func newSampler(s *Supervisor, root string, always bool) *sampler {
	if root == "" {
		root = procstat.Root
	}
	return &sampler{
		s: s, root: root, pageSize: int64(os.Getpagesize()), always: always,
		wake: make(chan struct{}, 1), rings: map[*proc]*sampleRing{},
	}
}

// WatchHistory says that a client watches the processes (the console's
// events stream) until it calls the function returned.
func (s *Supervisor) WatchHistory() (release func()) {
	sm := s.sampler
	sm.mu.Lock()
	sm.watchers++
	sm.mu.Unlock()
	sm.kick()
	var once sync.Once
	return func() {
		once.Do(func() {
			sm.mu.Lock()
			sm.watchers--
			// A console that reconnects finds the samples still coming.
			sm.lingerUntil = later(sm.lingerUntil, s.clock.Now().Add(watchLinger))
			sm.mu.Unlock()
		})
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// touch keeps sampling for watchLinger after a history read.
func (sm *sampler) touch() {
	sm.mu.Lock()
	sm.lingerUntil = later(sm.lingerUntil, sm.s.clock.Now().Add(watchLinger))
	sm.mu.Unlock()
	sm.kick()
}

func (sm *sampler) kick() {
	select {
	case sm.wake <- struct{}{}:
	default:
	}
}

// active reports whether samples are being taken.
func (sm *sampler) active() bool {
	if sm.always {
		return true
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return sm.watchers > 0 || sm.s.clock.Now().Before(sm.lingerUntil)
}

// run samples every sampleEvery while active, until done.
func (sm *sampler) run(done <-chan struct{}) {
	for {
		if !sm.active() {
			select {
			case <-sm.wake:
				continue
			case <-done:
				return
			}
		}
		sm.round()
		t := sm.s.clock.NewTimer(sampleEvery)
		select {
		case <-t.C():
		case <-done:
			t.Stop()
			return
		}
	}
}

// target is one process as the loop hands it to the sampler.
type target struct {
	p   *proc
	pid int
}

// sampleTargets lists every process and its pid (0: none), on the loop.
func (s *Supervisor) sampleTargets() []target {
	var out []target
	s.call(func() {
		for _, g := range s.order {
			for _, p := range g.procs {
				out = append(out, target{p, p.m.Pid()})
			}
		}
	})
	return out
}

// reading is one process's /proc figures of a round.
type reading struct {
	target
	ticks, startTime uint64
	rss              int64
	fds              int
}

// round takes one sample of every process with a pid.
func (sm *sampler) round() {
	targets := sm.s.sampleTargets()
	now := sm.s.clock.Now()
	reads := make([]reading, 0, len(targets))
	for _, t := range targets {
		if t.pid == 0 {
			continue
		}
		ticks, start, err := procstat.Stat(sm.root, t.pid)
		if err != nil {
			continue // gone since, or not ours to read
		}
		rss, err := procstat.RSS(sm.root, t.pid, sm.pageSize)
		if err != nil {
			continue
		}
		fds, err := procstat.OpenFDs(sm.root, t.pid)
		if err != nil {
			fds = -1
		}
		reads = append(reads, reading{target: t, ticks: ticks, startTime: start, rss: rss, fds: fds})
	}
	var uptime float64 = -1
	at := uint32(max(now.Unix(), 0))
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for _, rd := range reads {
		r := sm.rings[rd.p]
		if r == nil {
			r = &sampleRing{}
			sm.rings[rd.p] = r
		}
		var cpu float64
		if r.pid == rd.pid && r.startTime == rd.startTime && !r.tickAt.IsZero() {
			cpu = percent(float64(rd.ticks-r.ticks)/procstat.ClkTck, now.Sub(r.tickAt).Seconds())
		} else {
			// First sight of this child: its average since it started.
			if uptime < 0 {
				if uptime, _ = procstat.Uptime(sm.root); uptime <= 0 {
					uptime = 0
				}
			}
			cpu = percent(float64(rd.ticks)/procstat.ClkTck, uptime-float64(rd.startTime)/procstat.ClkTck)
		}
		r.pid, r.startTime, r.ticks, r.tickAt = rd.pid, rd.startTime, rd.ticks, now
		r.add(sample{at: at, rssKB: uint32(min(rd.rss>>10, 1<<32-1)), cpu: float32(cpu), fds: int32(rd.fds)})
	}
	// Forget removed processes, and samples older than an hour.
	keep := make(map[*proc]bool, len(targets))
	for _, t := range targets {
		keep[t.p] = true
	}
	old := now.Add(-time.Hour).Unix()
	for p, r := range sm.rings {
		if !keep[p] || r.newest() < old {
			delete(sm.rings, p)
		}
	}
}

// percent is busy seconds over elapsed seconds, in percent of one CPU,
// to one decimal.
func percent(busy, elapsed float64) float64 {
	if elapsed <= 0 || busy < 0 {
		return 0
	}
	p := busy / elapsed * 100
	return float64(int64(p*10+0.5)) / 10
}

// samples is p's samples of the last hour, oldest first.
func (sm *sampler) samples(p *proc) []rpc.Sample {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	r := sm.rings[p]
	if r == nil {
		return []rpc.Sample{}
	}
	return r.ordered(sm.s.clock.Now().Add(-time.Hour).Unix())
}
