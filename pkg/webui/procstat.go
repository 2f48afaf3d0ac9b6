package webui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// clkTck is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on every
// Linux architecture Go supports (sysconf would need cgo).
const clkTck = 100

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

// readStat returns utime+stime and starttime from /proc/<pid>/stat. The
// command name may hold spaces and parentheses, so fields are counted from
// the last ')'.
func (s *sampler) readStat(pid int) (ticks, startTime uint64, err error) {
	path := filepath.Join(s.root, strconv.Itoa(pid), "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s: %w", path, err)
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parsing %s: no command name", path)
	}
	f := bytes.Fields(data[i+1:])
	// f[0] is field 3 (state); utime, stime and starttime are fields 14, 15 and 22.
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("parsing %s: %d fields", path, len(f)+2)
	}
	var v [3]uint64
	for k, idx := range [3]int{11, 12, 19} {
		if v[k], err = strconv.ParseUint(string(f[idx]), 10, 64); err != nil {
			return 0, 0, fmt.Errorf("parsing %s: %w", path, err)
		}
	}
	return v[0] + v[1], v[2], nil
}

// readRSS returns the resident set size from /proc/<pid>/statm.
func (s *sampler) readRSS(pid int) (int64, error) {
	path := filepath.Join(s.root, strconv.Itoa(pid), "statm")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	f := bytes.Fields(data)
	if len(f) < 2 {
		return 0, fmt.Errorf("parsing %s: %d fields", path, len(f))
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return pages * s.pageSize, nil
}

// uptime is the system uptime in seconds (/proc/uptime), the clock of
// starttime.
func (s *sampler) uptime() (float64, error) {
	path := filepath.Join(s.root, "uptime")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	f := bytes.Fields(data)
	if len(f) < 1 {
		return 0, fmt.Errorf("parsing %s: empty", path)
	}
	up, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	return up, nil
}
