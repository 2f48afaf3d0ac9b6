package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// bench holds the settings and the results of one side-by-side run.
type bench struct {
	root      string // temp dir for the daemons' dirs
	self      string // this binary, re-executed as the chatty writer
	ours, py  impl
	idle      time.Duration // idle CPU window
	settle    time.Duration // wait after all RUNNING before RSS
	rpcDur    time.Duration // each RPC load run
	clients   int           // concurrent RPC clients
	samples   int           // kill -9 and supervisorctl samples per session
	termLimit time.Duration // SIGTERM to exit cap
	logBytes1 int64         // bytes written by the single chatty child
	logBytesN int64         // bytes written by each of the 100 children
	res       *results
	scale     *scaleSet // issue 13's scale scenarios
	verbose   func(format string, a ...any)
}

func sleepersPrep(n, startsecs int) func(string) ([]program, error) {
	return func(string) ([]program, error) { return sleepers(n, startsecs), nil }
}

// launch starts im on the programs, waits until `running` of them are
// RUNNING and records the launch time under key (if not "").
func (b *bench) launch(im impl, key string, running int, prep func(string) ([]program, error)) (*daemon, error) {
	d, err := startDaemon(im, b.root, prep)
	if err != nil {
		return nil, err
	}
	t, err := d.waitRunning(running, 5*time.Minute)
	if err != nil {
		d.kill()
		return nil, err
	}
	if key != "" {
		b.res.add(key, im.Name, t.Sub(d.started).Seconds())
	}
	return d, nil
}

// rss records the daemon's resident set in MB after the settle time.
func (b *bench) rss(d *daemon, key string) error {
	time.Sleep(b.settle)
	kb, err := rssKB(d.pid())
	if err != nil {
		return err
	}
	b.res.add(key, d.impl.Name, kb/1024)
	return nil
}

// sessionOne: 1 program, for the RSS baseline.
func (b *bench) sessionOne(im impl) error {
	d, err := b.launch(im, "", 1, sleepersPrep(1, 0))
	if err != nil {
		return err
	}
	defer d.kill()
	return b.rss(d, "rss1")
}

// sessionStartsecs1: 200 programs with the default startsecs=1.
func (b *bench) sessionStartsecs1(im impl) error {
	d, err := b.launch(im, "launch200s1", 200, sleepersPrep(200, 1))
	if err != nil {
		return err
	}
	d.kill()
	return nil
}

// session200: launch, RSS, idle CPU, supervisorctl, RPC, kill -9 and
// SIGTERM on one daemon with 200 sleepers, in that order so that each figure
// is taken before the next one disturbs it.
func (b *bench) session200(im impl) error {
	d, err := b.launch(im, "launch200", 200, sleepersPrep(200, 0))
	if err != nil {
		return err
	}
	defer d.kill()
	if err := b.rss(d, "rss200"); err != nil {
		return err
	}
	c0, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	time.Sleep(b.idle)
	c1, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	b.res.add("idlecpu200", im.Name, c1.since(c0))

	ready := rpcReady(d.port)
	if ready {
		if err := b.ctlStatus(im, d, "ctl200"); err != nil {
			return err
		}
	} else {
		b.res.pend("ctl200", im.Name, "/RPC2 does not answer yet")
	}
	if im.Name == b.py.Name {
		// Our supervisorctl against the Python daemon isolates the client.
		if err := b.ctlStatus(b.ours, d, "ctl200cross"); err != nil {
			b.res.pend("ctl200cross", b.ours.Name, err.Error())
		}
		if err := b.ctlStatus(b.py, d, "ctl200cross"); err != nil {
			return err
		}
	}
	if err := b.rpcFigures(d, ready, "200"); err != nil {
		return err
	}
	if err := b.kill9(d); err != nil {
		return err
	}
	took, err := d.terminate(b.termLimit)
	if err != nil {
		b.res.addCensored("term200", im.Name, b.termLimit.Seconds())
		return nil
	}
	b.res.add("term200", im.Name, took.Seconds())
	return nil
}

// session1000: launch, RSS and RPC with 1,000 sleepers.
func (b *bench) session1000(im impl) error {
	d, err := b.launch(im, "launch1000", 1000, sleepersPrep(1000, 0))
	if err != nil {
		return err
	}
	defer d.kill()
	if err := b.rss(d, "rss1000"); err != nil {
		return err
	}
	return b.rpcFigures(d, rpcReady(d.port), "1000")
}

func (b *bench) rpcFigures(d *daemon, ready bool, n string) error {
	keys := []string{"rpcseq" + n, "rpc50_" + n, "rpc50p99_" + n}
	if !ready {
		for _, k := range keys {
			b.res.pend(k, d.impl.Name, "/RPC2 does not answer yet")
		}
		return nil
	}
	c := newRPCClient(d.port, b.clients)
	if err := c.checkAllProcessInfo(d.n); err != nil {
		return fmt.Errorf("%s: %w", d.impl.Name, err)
	}
	seq, err := c.load("supervisor.getAllProcessInfo", 1, b.rpcDur)
	if err != nil {
		return fmt.Errorf("%s sequential getAllProcessInfo: %w", d.impl.Name, err)
	}
	b.res.add(keys[0], d.impl.Name, seq.CallsPerSec)
	conc, err := c.load("supervisor.getAllProcessInfo", b.clients, b.rpcDur)
	if err != nil {
		return fmt.Errorf("%s concurrent getAllProcessInfo: %w", d.impl.Name, err)
	}
	b.res.add(keys[1], d.impl.Name, conc.CallsPerSec)
	b.res.add(keys[2], d.impl.Name, float64(conc.P99)/float64(time.Millisecond))
	return nil
}

// ctlStatus times whole supervisorctl runs of "status" against d.
func (b *bench) ctlStatus(ctl impl, d *daemon, key string) error {
	for range b.samples {
		t0 := time.Now()
		out, err := exec.Command(ctl.Ctl, "-c", d.conf, "status").CombinedOutput()
		took := time.Since(t0)
		if err != nil || strings.Count(string(out), "RUNNING") != d.n {
			return fmt.Errorf("%s status against %s: %v: %.300s", ctl.Ctl, d.impl.Name, err, out)
		}
		b.res.add(key, ctl.Name, took.Seconds())
	}
	return nil
}

// kill9 SIGKILLs children one at a time and times until the main log says
// the replacement is RUNNING (startsecs=0, autorestart unexpected).
func (b *bench) kill9(d *daemon) error {
	for i := range b.samples {
		name := fmt.Sprintf("p%d", i)
		if err := d.log.poll(); err != nil {
			return err
		}
		pid, before := d.log.pids[name], d.log.success[name]
		if pid == 0 {
			return fmt.Errorf("%s: no pid logged for %s", d.impl.Name, name)
		}
		t0 := time.Now()
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			return fmt.Errorf("kill %s pid %d: %w", name, pid, err)
		}
		deadline := t0.Add(10 * time.Second)
		for {
			if err := d.log.poll(); err != nil {
				return err
			}
			if d.log.success[name] > before {
				b.res.add("kill9", d.impl.Name, time.Since(t0).Seconds())
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: %s not RUNNING again 10 s after SIGKILL", d.impl.Name, name)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	return nil
}

// sessionLog: n chatty children each writing per bytes of 64-byte lines,
// stdout rotated at 10 MB x 3. Throughput is timed from opening the gate
// FIFO to the sum of the log files' sizes reaching n*per.
//
// format "json" sets stdout_log_format=json (EXTENSIONS.md §5, ours only):
// the figures are still per MB the children wrote, and a writer is done
// when its end line's record ends its file.
func (b *bench) sessionLog(im impl, n int, per int64, key, format string) error {
	const maxBytes = 10 << 20
	extra := ""
	mark := endLine(64)
	if format != "" {
		extra = "stdout_log_format=" + format + "\n"
		mark = append(append([]byte(`"line":"`), mark[:len(mark)-1]...), "\"}\n"...)
	}
	var gate string
	prep := func(dir string) ([]program, error) {
		gate = filepath.Join(dir, "gate")
		if err := unix.Mkfifo(gate, 0o600); err != nil {
			return nil, fmt.Errorf("mkfifo %s: %w", gate, err)
		}
		if err := os.Mkdir(filepath.Join(dir, "ready"), 0o755); err != nil {
			return nil, fmt.Errorf("ready dir: %w", err)
		}
		ps := make([]program, n)
		for i := range ps {
			name := fmt.Sprintf("w%d", i)
			ps[i] = program{
				Name: name,
				Command: fmt.Sprintf("%s writer -bytes %d -gate %s -ready %s", b.self, per, gate,
					filepath.Join(dir, "ready", name)),
				Extra: fmt.Sprintf("autorestart=false\nstdout_logfile=%s\nstdout_logfile_maxbytes=%d\nstdout_logfile_backups=3\n%s",
					filepath.Join(dir, name+".log"), maxBytes, extra),
			}
		}
		return ps, nil
	}
	d, err := b.launch(im, "", n, prep)
	if err != nil {
		return err
	}
	defer d.kill()
	readyDir := filepath.Join(d.dir, "ready")
	deadline := time.Now().Add(time.Minute)
	for {
		es, err := os.ReadDir(readyDir)
		if err != nil {
			return fmt.Errorf("ready dir: %w", err)
		}
		if len(es) >= n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d writers started", im.Name, len(es), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the writers reach open(gate)
	// A writer is done when its end line is the last line of its log file,
	// or of the first backup if the file rotated right after it.
	files := make([][]string, n)
	for i := range files {
		base := filepath.Join(d.dir, fmt.Sprintf("w%d.log", i))
		files[i] = []string{base, base + ".1"}
	}
	tailBuf := make([]byte, len(mark))
	quiesceCache()
	c0, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	t0 := time.Now()
	g, err := os.OpenFile(gate, os.O_RDWR, 0) // O_RDWR: never blocks, releases every reader
	if err != nil {
		return fmt.Errorf("open gate: %w", err)
	}
	defer g.Close()
	done := make([]bool, n)
	left := n
	deadline = t0.Add(5 * time.Minute)
	for left > 0 {
		time.Sleep(2 * time.Millisecond)
		for i := range files {
			if done[i] {
				continue
			}
			for _, f := range files[i] {
				ok, err := endsWith(f, mark, tailBuf)
				if err != nil {
					return err
				}
				if ok {
					done[i] = true
					left--
					break
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d writers incomplete after 5 min", im.Name, left, n)
		}
	}
	dt := time.Since(t0)
	if per < maxBytes && format == "" { // no rotation: every byte must be in the file
		for i := range files {
			if st, err := os.Stat(files[i][0]); err != nil || st.Size() != per/64*64 {
				return fmt.Errorf("%s: %s incomplete (%v)", im.Name, files[i][0], err)
			}
		}
	}
	c1, err := readCPU(d.pid())
	if err != nil {
		return err
	}
	mb := float64(int64(n)*(per/64*64)) / (1 << 20)
	b.res.add(key+"mbs", im.Name, mb/dt.Seconds())
	cpuPerMB := c1.since(c0) * 1000 / mb
	b.res.add(key+"cpu", im.Name, cpuPerMB)
	// Right after each run, in the same session, the floor: dd copying the
	// single writer's stream (the same size whatever n, so that every
	// session's sample measures the same thing).
	d.kill()
	floor, err := b.copyFloor(d.dir, b.logBytes1, 0)
	if err != nil {
		return err
	}
	b.res.add("logfloor", b.ours.Name, floor)
	if format == "json" {
		// And the floor of the bytes json writes: dd copying lines as long
		// as the records (the first writer's, pid digits included).
		rec := jsonRecordLen(d.dir)
		if rec <= 64 {
			return fmt.Errorf("%s: no json record in w0.log", im.Name)
		}
		floor, err := b.copyFloor(d.dir, b.logBytes1, rec)
		if err != nil {
			return err
		}
		b.res.add("logfloorj", b.ours.Name, floor)
	}
	return nil
}

// quiesceCache writes back and drops the page cache (when allowed: root),
// the usual preparation of a file-system benchmark. On this kind of VM the
// write path's CPU cost per MB varied from 0.5 to 3.4 ms depending on how
// much cache earlier runs left behind: fresh guest pages are much dearer
// than recycled ones.
func quiesceCache() {
	unix.Sync()
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0)
}

// copyFloor returns the CPU per MB that dd spends copying a chatty writer's
// per bytes from a pipe into a file in 64 KiB blocks: the two copies and
// the file system's write path that any log capture pays, with no daemon,
// no event loop and no rotation.
//
// line > 64 makes the writer's lines that long (as many lines as per bytes
// of 64-byte lines hold): the floor of a format that writes line bytes per
// 64 read. The result stays per MB of 64-byte lines.
func (b *bench) copyFloor(dir string, per int64, line int) (float64, error) {
	const block = 64 << 10
	per -= per % block
	mb := float64(per) / (1 << 20)
	if line > 64 {
		per = per / 64 * int64(line)
		per -= per % block
	}
	quiesceCache()
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("floor pipe: %w", err)
	}
	writer := exec.Command(b.self, "writer", "-bytes", fmt.Sprint(per), "-line", fmt.Sprint(max(line, 64)))
	writer.Stdout = w
	dd := exec.Command("dd", "of="+filepath.Join(dir, "floor.log"), fmt.Sprintf("bs=%d", block),
		"iflag=fullblock", fmt.Sprintf("count=%d", per/block), "status=none")
	dd.Stdin = r
	if err := dd.Start(); err != nil {
		r.Close()
		w.Close()
		return 0, fmt.Errorf("floor: dd: %w", err)
	}
	err = writer.Start()
	r.Close()
	w.Close()
	if err != nil {
		dd.Process.Kill()
		dd.Wait()
		return 0, fmt.Errorf("floor: writer: %w", err)
	}
	ddErr := dd.Wait()
	writer.Process.Signal(unix.SIGTERM) // it idles after writing, like in the daemon
	writer.Wait()
	if ddErr != nil {
		return 0, fmt.Errorf("floor: dd: %w", ddErr)
	}
	st, err := os.Stat(filepath.Join(dir, "floor.log"))
	if err != nil {
		return 0, fmt.Errorf("floor: %w", err)
	}
	if st.Size() != per {
		return 0, fmt.Errorf("floor: dd copied %d bytes of %d", st.Size(), per)
	}
	cpu := dd.ProcessState.UserTime() + dd.ProcessState.SystemTime()
	return cpu.Seconds() * 1000 / mb, nil
}

// jsonRecordLen is the length of the last record in dir/w0.log, or in
// w0.log.1 when the file rotated right after it (newline included), 0 if
// there is none.
func jsonRecordLen(dir string) int {
	for _, name := range []string{"w0.log", "w0.log.1"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(data) < 2 {
			continue
		}
		i := bytes.LastIndexByte(data[:len(data)-1], '\n')
		return len(data) - 1 - i
	}
	return 0
}

// endsWith reports whether the file at path ends with mark (buf is scratch
// of len(mark)); a missing file does not.
func endsWith(path string, mark, buf []byte) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() < int64(len(mark)) {
		return false, nil
	}
	if _, err := f.ReadAt(buf, st.Size()-int64(len(mark))); err != nil {
		return false, nil
	}
	return bytes.Equal(buf, mark), nil
}
