package main

// Scale scenarios (issue 13, "Performance at scale"): N and 10·N sleepers
// launched against a floor measured in the same run, supervisorctl stop all
// / start all, getAllProcessInfo latency at the large size, and a crash
// loop. Python runs at N only (10,000 programs would take it many minutes).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	scaleBeginMark = "<!-- BEGIN GENERATED scale (issue 13) by bench/sidebyside: do not edit by hand -->"
	scaleEndMark   = "<!-- END GENERATED scale -->"
	scaleHeading   = "## Scale (issue 13)"

	// fdsPerChild is what our daemon holds per program with AUTO logs:
	// stdin, stdout and stderr pipes and two log files (5,013 descriptors
	// for 1,000 programs). The floor holds 4.
	fdsPerChild = 5
	fdReserve   = 500
)

// scaleSet is the configuration of the scale scenarios of a run.
type scaleSet struct {
	n, big     int           // small and large program counts (big 0: not run)
	wantBig    int           // big as asked, before any cap
	capWhy     string        // why big was lowered, if it was
	crashWin   time.Duration // crash loop measurement window
	rpcCalls   int           // sequential getAllProcessInfo calls at the large size
	floorBin   string
	floorJobs  int
	ctlLimit   time.Duration // cap on one supervisorctl stop all / start all
	nofile     uint64        // RLIMIT_NOFILE soft limit the daemons inherit
	pidMax     int
	res        *results
	refNames   map[string]string
	floorRuns  int // floor measurements per size and repetition
	floorLabel string
}

// count renders 10000 as "10,000".
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// newScaleResults defines the rows of the scale table for sizes n and big.
// Each row compares ours with the implementation in its Ref: "python",
// "floor", "small" (ours at n) or "" (ours alone).
func newScaleResults(n, big int) *results {
	r := &results{byKey: map[string]*figure{}}
	def := func(key, ref, label, unit string, scale float64, t target) {
		f := &figure{Key: key, Ref: ref, Label: label, Unit: unit, Scale: scale, Target: t,
			samples: map[string][]float64{}, censored: map[string]bool{}, pending: map[string]string{}}
		r.order = append(r.order, f)
		r.byKey[key] = f
	}
	N, B := count(n), count(big)
	def("launch_n", "python", N+" × sleep, startsecs=0: launch → all RUNNING", "s", 1, target{})
	def("floor_n", "floor", N+" × sleep: launch, ours vs the floor", "s", 1, target{ratioAtMost, 2})
	def("floor_big", "floor", B+" × sleep: launch, ours vs the floor", "s", 1, target{ratioAtMost, 2})
	def("rss1", "python", "RSS idle, 1 program", "MB", 1, target{})
	def("rss_n", "python", "RSS idle, "+N+" programs", "MB", 1, target{})
	def("rss_big", "", "RSS idle, "+B+" programs", "MB", 1, target{})
	def("perprog_n", "python", "RSS per added program, 1 → "+N, "KB", 1, target{oursAtMost, 25})
	def("perprog_big", "", "RSS per added program, 1 → "+B, "KB", 1, target{oursAtMost, 25})
	def("idle_n", "python", "idle daemon CPU, "+N+" programs, over the idle window", "s", 1, target{})
	def("idle_big", "", "idle daemon CPU, "+B+" programs, over the idle window", "s", 1, target{})
	def("stop_n", "python", "`supervisorctl stop all`, "+N+" programs", "s", 1, target{})
	def("start_n", "python", "`supervisorctl start all`, "+N+" programs", "s", 1, target{})
	def("ctl_n", "python", "stop all + start all, "+N+" programs", "s", 1, target{ratioAtMost, 0.1})
	def("stop_big", "", "`supervisorctl stop all`, "+B+" programs", "s", 1, target{})
	def("start_big", "", "`supervisorctl start all`, "+B+" programs", "s", 1, target{})
	def("ctl_big", "small", fmt.Sprintf("stop all + start all, %s programs (ratio ≈ %g is linear)", B, float64(big)/float64(n)), "s", 1, target{})
	def("rpcp50_n", "", "getAllProcessInfo, "+N+" programs, sequential calls, p50", "ms", 1000, target{})
	def("rpcp50_big", "", "getAllProcessInfo, "+B+" programs, sequential calls, p50", "ms", 1000, target{})
	def("rpcp99_big", "", "getAllProcessInfo, "+B+" programs, sequential calls, p99", "ms", 1000, target{})
	def("crashcpu", "python", "crash loop (`sh -c 'exit 1'`, autorestart): daemon CPU per minute", "s/min", 1, target{})
	def("crashlog", "python", "crash loop: main log growth per minute", "KB/min", 1.0/1024, target{})
	def("crashspawn", "python", "crash loop: spawns per minute", "1/min", 1, target{})
	return r
}

// scaleTable renders the scale rows: each is ours against its own reference.
func (s *scaleSet) table(ours string) string {
	var b strings.Builder
	b.WriteString("| figure | unit | ours | compared with | that | ours/that | target | verdict | samples (ours/that) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range s.res.order {
		if len(f.samples[ours])+len(f.samples[f.Ref])+len(f.pending) == 0 {
			continue
		}
		row := f.row(ours, f.Ref)
		name := s.refNames[f.Ref]
		if f.Ref == "" {
			name, row[3], row[4] = "–", "–", "–"
		}
		row = slices.Insert(row, 3, name)
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// derive fills the per-program RSS rows from the medians.
func (s *scaleSet) derive(impls ...string) {
	for _, sz := range []struct {
		key, rss string
		n        int
	}{{"perprog_n", "rss_n", s.n}, {"perprog_big", "rss_big", s.big}} {
		for _, im := range impls {
			a, b := median(s.res.fig("rss1").samples[im]), median(s.res.fig(sz.rss).samples[im])
			if !math.IsNaN(a) && !math.IsNaN(b) && sz.n > 1 {
				s.res.add(sz.key, im, (b-a)*1024/float64(sz.n-1))
			}
		}
	}
}

// prepareLimits raises RLIMIT_NOFILE for the daemons this process starts
// (they inherit it) and checks pid_max. Without CAP_SYS_RESOURCE the hard
// limit cannot be raised; the large size is then lowered to what fits and
// the reason is reported.
func (s *scaleSet) prepareLimits() error {
	need := uint64(fdsPerChild*max(s.n, s.big) + fdReserve)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Max < need {
		want := syscall.Rlimit{Cur: need, Max: need}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim = want
		}
	}
	// syscall.Setrlimit also stops the Go runtime from restoring the
	// original soft limit in children.
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("setrlimit NOFILE %d: %w", lim.Cur, err)
	}
	s.nofile = lim.Cur
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		s.pidMax, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	fit := func(n int) bool {
		return uint64(fdsPerChild*n+fdReserve) <= s.nofile && (s.pidMax == 0 || n+2000 <= s.pidMax)
	}
	if !fit(s.n) {
		return fmt.Errorf("%d programs need %d descriptors and %d pids: RLIMIT_NOFILE is %d (hard), pid_max %d",
			s.n, fdsPerChild*s.n+fdReserve, s.n+2000, s.nofile, s.pidMax)
	}
	if s.big > 0 && !fit(s.big) {
		capped := int(s.nofile-fdReserve) / fdsPerChild
		if s.pidMax > 0 {
			capped = min(capped, s.pidMax-2000)
		}
		capped -= capped % 500
		s.capWhy = fmt.Sprintf("%s programs need ≈ %s descriptors in the daemon (%d per program) but the hard RLIMIT_NOFILE is %s "+
			"and cannot be raised here (no CAP_SYS_RESOURCE); pid_max %s", count(s.big), count(fdsPerChild*s.big+fdReserve),
			fdsPerChild, count(int(s.nofile)), count(s.pidMax))
		if capped <= s.n {
			s.big = 0
			s.capWhy += "; the large size is not run"
		} else {
			s.big = capped
			s.capWhy += "; the large size is lowered to " + count(capped)
		}
	}
	return nil
}

// buildFloor compiles bench/floor into dir unless -floor named a binary.
func (s *scaleSet) buildFloor(dir string) error {
	if s.floorBin != "" {
		return nil
	}
	out := filepath.Join(dir, "floor")
	cmd := exec.Command("go", "build", "-o", out, "./bench/floor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./bench/floor (run from the repository root or pass -floor): %v: %s", err, b)
	}
	s.floorBin = out
	return nil
}

// floor runs bench/floor on n sleepers and returns the time from exec to
// its "ready" line; the children are killed and reaped before it returns.
func (b *bench) floor(n int) (float64, error) {
	s := b.scale
	dir, err := os.MkdirTemp(b.root, "floor-")
	if err != nil {
		return 0, fmt.Errorf("temp dir: %w", err)
	}
	cmd := exec.Command(s.floorBin, "-n", strconv.Itoa(n), "-dir", dir, "-j", strconv.Itoa(s.floorJobs), "--", "sleep", "100000")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start floor: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- l
	}()
	var took time.Duration
	var lineErr error
	select {
	case l := <-lines:
		took = time.Since(t0)
		if !strings.HasPrefix(l, "ready ") {
			lineErr = fmt.Errorf("floor: %q instead of ready", l)
		}
	case <-time.After(5 * time.Minute):
		lineErr = fmt.Errorf("floor: %d children not started after 5 min", n)
	}
	stdin.Close()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
	}
	// If the floor died before reaping, its children are ours now.
	if pids, err := os.ReadFile(filepath.Join(dir, "pids")); err == nil {
		var left []int
		for _, f := range strings.Fields(string(pids)) {
			pid, _ := strconv.Atoi(f)
			if ppid, err := parentOf(pid); err == nil && ppid == os.Getpid() {
				_ = unix.Kill(pid, unix.SIGKILL)
				left = append(left, pid)
			}
		}
		reap(left, 30*time.Second)
	}
	if lineErr != nil {
		return 0, lineErr
	}
	return took.Seconds(), nil
}

// scaleOne: 1 program, the RSS baseline of the per-program rows.
func (b *bench) scaleOne(im impl) error {
	d, err := b.launch(im, "", 1, sleepersPrep(1, 0))
	if err != nil {
		return err
	}
	defer d.kill()
	time.Sleep(b.settle)
	kb, err := rssKB(d.pid())
	if err != nil {
		return err
	}
	b.scale.res.add("rss1", im.Name, kb/1024)
	return nil
}

// scaleSession: floor (ours only), launch, RSS, idle CPU, getAllProcessInfo
// latency (ours only), then stop all / start all, on n sleepers. size is
// "n" or "big".
func (b *bench) scaleSession(im impl, n int, size string) error {
	s := b.scale
	isOurs := im.Name == b.ours.Name
	if isOurs {
		for range s.floorRuns {
			f, err := b.floor(n)
			if err != nil {
				return err
			}
			s.res.add("floor_"+size, "floor", f)
		}
	}
	d, err := startDaemon(im, b.root, sleepersPrep(n, 0))
	if err != nil {
		return err
	}
	defer d.kill()
	t, err := d.waitRunning(n, 5*time.Minute)
	if err != nil {
		return err
	}
	launch := t.Sub(d.started).Seconds()
	if isOurs {
		s.res.add("floor_"+size, im.Name, launch)
	}
	if size == "n" {
		s.res.add("launch_n", im.Name, launch)
	}
	time.Sleep(b.settle)
	kb, err := rssKB(d.pid())
	if err != nil {
		return err
	}
	s.res.add("rss_"+size, im.Name, kb/1024)
	c0, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	time.Sleep(b.idle)
	c1, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	s.res.add("idle_"+size, im.Name, c1.since(c0))

	if isOurs {
		if err := b.rpcLatency(d, size); err != nil {
			return err
		}
	}
	stop, start, censored, err := b.stopStart(im, d)
	if err != nil {
		return err
	}
	switch {
	case censored:
		s.res.addCensored("ctl_"+size, im.Name, stop+start)
	case size == "big":
		s.res.add("stop_big", im.Name, stop)
		s.res.add("start_big", im.Name, start)
		s.res.add("ctl_big", im.Name, stop+start)
	default:
		s.res.add("stop_n", im.Name, stop)
		s.res.add("start_n", im.Name, start)
		s.res.add("ctl_n", im.Name, stop+start)
		if isOurs {
			s.res.add("ctl_big", "small", stop+start)
		}
	}
	return nil
}

// rpcLatency times rpcCalls sequential getAllProcessInfo calls, the first
// checked to list every program RUNNING.
func (b *bench) rpcLatency(d *daemon, size string) error {
	s := b.scale
	if !rpcReady(d.port) {
		s.res.pend("rpcp50_"+size, d.impl.Name, "/RPC2 does not answer")
		return nil
	}
	c := newRPCClient(d.port, 1)
	if err := c.checkAllProcessInfo(d.n); err != nil {
		return fmt.Errorf("%s: %w", d.impl.Name, err)
	}
	body := callBody("supervisor.getAllProcessInfo")
	lat := make([]time.Duration, 0, s.rpcCalls)
	for range s.rpcCalls {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		t0 := time.Now()
		_, err := c.call(ctx, body)
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			return fmt.Errorf("%s getAllProcessInfo: %w", d.impl.Name, err)
		}
	}
	slices.Sort(lat)
	s.res.add("rpcp50_"+size, d.impl.Name, percentile(lat, 0.50).Seconds())
	if size == "big" {
		s.res.add("rpcp99_big", d.impl.Name, percentile(lat, 0.99).Seconds())
	}
	return nil
}

// stopStart times the implementation's own `supervisorctl stop all` and
// then `start all`, checking that each reported every program, and waits
// until the main log shows every program RUNNING again.
func (b *bench) stopStart(im impl, d *daemon) (stop, start float64, censored bool, err error) {
	limit := b.scale.ctlLimit
	run := func(verb, word string) (float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		t0 := time.Now()
		out, err := exec.CommandContext(ctx, im.Ctl, "-c", d.conf, verb, "all").CombinedOutput()
		took := time.Since(t0).Seconds()
		if ctx.Err() != nil {
			censored = true // reported as ≥ the cap
			return limit.Seconds(), nil
		}
		if got := strings.Count(string(out), ": "+word); err != nil || got != d.n {
			return 0, fmt.Errorf("%s %s all: %v, %d of %d %s: %.300s", im.Name, verb, err, got, d.n, word, out)
		}
		return took, nil
	}
	if err := d.log.poll(); err != nil {
		return 0, 0, false, err
	}
	before := len(d.log.allPids)
	if stop, err = run("stop", "stopped"); err != nil {
		return 0, 0, false, err
	}
	if start, err = run("start", "started"); err != nil {
		return 0, 0, false, err
	}
	deadline := time.Now().Add(limit)
	for {
		if err := d.log.poll(); err != nil {
			return 0, 0, false, err
		}
		if len(d.log.allPids)-before >= d.n || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stop, start, censored, nil
}

// scaleCrash: one program that exits 1 at once, startsecs=0, autorestart:
// daemon CPU, main log bytes and spawns over the crash window, per minute.
func (b *bench) scaleCrash(im impl) error {
	s := b.scale
	prep := func(string) ([]program, error) {
		return []program{{Name: "crash", Command: "sh -c 'exit 1'", Startsecs: 0, Extra: "autorestart=true\n"}}, nil
	}
	d, err := startDaemon(im, b.root, prep)
	if err != nil {
		return err
	}
	defer d.kill()
	// Warm up: wait for the second spawn, so start-up is not measured.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := d.log.poll(); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if len(d.log.allPids) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: crash loop did not respawn within 30 s", im.Name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	size := func() (int64, error) {
		st, err := os.Stat(d.log.path)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	c0, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	l0, err := size()
	if err != nil {
		return err
	}
	_ = d.log.poll()
	sp0 := len(d.log.allPids)
	t0 := time.Now()
	time.Sleep(s.crashWin)
	c1, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	l1, err := size()
	if err != nil {
		return err
	}
	_ = d.log.poll()
	perMin := 60 / time.Since(t0).Seconds()
	s.res.add("crashcpu", im.Name, c1.since(c0)*perMin)
	s.res.add("crashlog", im.Name, float64(l1-l0)*perMin)
	s.res.add("crashspawn", im.Name, float64(len(d.log.allPids)-sp0)*perMin)
	return nil
}

// scaleHeader describes the settings of the scale table.
func (s *scaleSet) header(b *bench, took time.Duration, load string, reps int) string {
	var h strings.Builder
	fmt.Fprintf(&h, "Run of %s (%d repetition(s), %s; Python at %s programs only).\n\n",
		time.Now().Format("2006-01-02 15:04 MST"), reps, took.Round(time.Second), count(s.n))
	fmt.Fprintf(&h, "- load average during the run: %s\n", load)
	fmt.Fprintf(&h, "- sizes: %s and %s programs `sleep 100000`, startsecs=0, AUTO child logs; RLIMIT_NOFILE %s, pid_max %s\n",
		count(s.n), count(s.big), count(int(s.nofile)), count(s.pidMax))
	if s.capWhy != "" {
		fmt.Fprintf(&h, "- **large size capped**: asked for %s; %s\n", count(s.wantBig), s.capWhy)
	}
	fmt.Fprintf(&h, "- floor: %s, %d measurement(s) per size before our daemon's launch\n", s.floorLabel, s.floorRuns)
	fmt.Fprintf(&h, "- settings: RSS %s after all RUNNING, idle window %s, %d sequential getAllProcessInfo calls, "+
		"supervisorctl cap %s per command, crash-loop window %s (scaled to a minute)\n\n",
		b.settle, b.idle, s.rpcCalls, s.ctlLimit, s.crashWin)
	return h.String()
}
