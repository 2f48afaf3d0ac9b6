package webui

import (
	"os"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/procstat"
)

// clkTck is USER_HZ, the unit of /proc/<pid>/stat times.
const clkTck = procstat.ClkTck

// minSampleGap keeps CPU figures meaningful when several clients ask in
// quick succession: deltas are taken over at least this long.
const minSampleGap = time.Second

// stat is what the console shows of a process's resource use.
type stat struct {
	cpu float64 // percent of one CPU
	rss int64   // bytes
}

// sampler reads /proc and derives CPU % from the difference between two
// readings of the same process.
type sampler struct {
	root     string
	clock    func() time.Time
	pageSize int64

	mu   sync.Mutex
	last map[int]*sample
}

type sample struct {
	startTime uint64 // detects pid reuse
	ticks     uint64 // utime+stime
	at        time.Time
	cpu       float64
}

func newSampler(root string, clock func() time.Time) *sampler {
	return &sampler{root: root, clock: clock, pageSize: int64(os.Getpagesize()), last: map[int]*sample{}}
}

// get returns the current figures for pid; ok is false when /proc has
// nothing readable for it (gone, or another mount namespace).
func (s *sampler) get(pid int) (stat, bool) {
	ticks, startTime, err := s.readStat(pid)
	if err != nil {
		return stat{}, false
	}
	rss, err := s.readRSS(pid)
	if err != nil {
		return stat{}, false
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, ok := s.last[pid]
	switch {
	case ok && prev.startTime == startTime:
		if dt := now.Sub(prev.at); dt >= minSampleGap {
			prev.cpu = percent(float64(ticks-prev.ticks)/clkTck, dt.Seconds())
			prev.ticks, prev.at = ticks, now
		}
	default:
		// First sight: the average since the process started.
		prev = &sample{startTime: startTime, ticks: ticks, at: now}
		if up, err := s.uptime(); err == nil {
			prev.cpu = percent(float64(ticks)/clkTck, up-float64(startTime)/clkTck)
		}
		s.last[pid] = prev
	}
	return stat{cpu: prev.cpu, rss: rss}, true
}

func percent(busy, elapsed float64) float64 {
	if elapsed <= 0 || busy < 0 {
		return 0
	}
	p := busy / elapsed * 100
	return float64(int64(p*10+0.5)) / 10 // one decimal is all the console shows
}

// prune forgets processes that are not among pids.
func (s *sampler) prune(pids []int) {
	keep := make(map[int]bool, len(pids))
	for _, p := range pids {
		keep[p] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid := range s.last {
		if !keep[pid] {
			delete(s.last, pid)
		}
	}
}

// readStat returns utime+stime and starttime from /proc/<pid>/stat.
func (s *sampler) readStat(pid int) (ticks, startTime uint64, err error) {
	return procstat.Stat(s.root, pid)
}

// readRSS returns the resident set size from /proc/<pid>/statm.
func (s *sampler) readRSS(pid int) (int64, error) {
	return procstat.RSS(s.root, pid, s.pageSize)
}

// uptime is the system uptime in seconds (/proc/uptime), the clock of
// starttime.
func (s *sampler) uptime() (float64, error) { return procstat.Uptime(s.root) }
