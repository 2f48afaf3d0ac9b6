package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// impl is one of the two implementations under comparison.
type impl struct {
	Name string // "ours" or "python"
	Supd string // supervisord binary
	Ctl  string // supervisorctl binary
}

// program is one [program:x] section of a generated config.
type program struct {
	Name      string
	Command   string
	Startsecs int
	Extra     string // further "key=value" lines
}

// sleepers returns n programs running sleep, each in its own section (and
// so its own group, which is what makes the original's shutdown slow).
func sleepers(n, startsecs int) []program {
	ps := make([]program, n)
	for i := range ps {
		ps[i] = program{Name: fmt.Sprintf("p%d", i), Command: "sleep 100000", Startsecs: startsecs}
	}
	return ps
}

// writeConfig writes dir/supervisord.conf for the programs with an inet
// HTTP server on 127.0.0.1:port; the same file serves both implementations.
func writeConfig(dir string, port int, progs []program) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "[supervisord]\nlogfile=%s\npidfile=%s\nchildlogdir=%s\n\n",
		filepath.Join(dir, "supervisord.log"), filepath.Join(dir, "supervisord.pid"), dir)
	fmt.Fprintf(&b, "[inet_http_server]\nport=127.0.0.1:%d\n\n", port)
	b.WriteString("[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
	fmt.Fprintf(&b, "[supervisorctl]\nserverurl=http://127.0.0.1:%d\n\n", port)
	for _, p := range progs {
		fmt.Fprintf(&b, "[program:%s]\ncommand=%s\nstartsecs=%d\n%s\n", p.Name, p.Command, p.Startsecs, p.Extra)
	}
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write config %s: %w", path, err)
	}
	return path, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// daemon is one running supervisord under test.
type daemon struct {
	impl    impl
	dir     string
	conf    string
	port    int
	n       int // programs in the config
	cmd     *exec.Cmd
	started time.Time
	log     *logTail
	done    chan struct{} // closed when cmd.Wait returns
	waitErr error
}

// startDaemon writes the config of the programs that prepare returns (it
// gets the fresh directory under root) and starts the implementation's
// supervisord in the foreground on it.
func startDaemon(im impl, root string, prepare func(dir string) ([]program, error)) (*daemon, error) {
	dir, err := os.MkdirTemp(root, im.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	progs, err := prepare(dir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf, err := writeConfig(dir, port, progs)
	if err != nil {
		return nil, err
	}
	d := &daemon{impl: im, dir: dir, conf: conf, port: port, n: len(progs), done: make(chan struct{})}
	d.log = &logTail{path: filepath.Join(dir, "supervisord.log")}
	d.cmd = exec.Command(im.Supd, "-n", "-c", conf)
	d.cmd.Dir = dir
	// Both implementations echo the log to stdout with -n; discard it.
	d.cmd.Stdout, d.cmd.Stderr = nil, nil
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", im.Supd, err)
	}
	go func() { d.waitErr = d.cmd.Wait(); close(d.done) }()
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// waitRunning polls the main log until n distinct programs logged their
// "success:" line and returns when the last one was seen.
func (d *daemon) waitRunning(n int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if err := d.log.poll(); err != nil && !errors.Is(err, os.ErrNotExist) {
			return time.Time{}, err
		}
		if len(d.log.success) >= n {
			return time.Now(), nil
		}
		select {
		case <-d.done:
			return time.Time{}, fmt.Errorf("%s exited early (%v); log %s", d.impl.Name, d.waitErr, d.log.path)
		default:
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: %d of %d programs RUNNING after %s", d.impl.Name, len(d.log.success), n, timeout)
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// terminate sends SIGTERM and waits for the daemon to exit; it returns how
// long that took, or an error after timeout (the daemon is then killed).
func (d *daemon) terminate(timeout time.Duration) (time.Duration, error) {
	t0 := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("SIGTERM %s: %w", d.impl.Name, err)
	}
	select {
	case <-d.done:
		return time.Since(t0), nil
	case <-time.After(timeout):
		d.kill()
		return 0, fmt.Errorf("%s still running %s after SIGTERM", d.impl.Name, timeout)
	}
}

// kill ends the daemon and then the children it left behind. The bench is
// a child subreaper, so orphans become its children: each one is checked to
// be ours before SIGKILL and reaped by pid.
func (d *daemon) kill() {
	select {
	case <-d.done:
	default:
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	_ = d.log.poll()
	d.log.close()
	me := os.Getpid()
	var left []int
	for _, pid := range d.log.allPids {
		if ppid, err := parentOf(pid); err == nil && ppid == me {
			_ = unix.Kill(pid, unix.SIGKILL)
			left = append(left, pid)
		}
	}
	reap(left, 5*time.Second+time.Duration(len(left))*time.Millisecond)
}

// reap waits for each of the pids (children of this process) to exit,
// within timeout in all.
func reap(pids []int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			var ws unix.WaitStatus
			got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
			if got == pid || err != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// logTail incrementally parses a supervisord main log (both
// implementations write the same line format).
type logTail struct {
	path    string
	f       *os.File
	buf     []byte
	off     int64
	partial []byte
	pids    map[string]int // program name -> pid of its latest spawn
	allPids []int          // every pid spawned, for cleanup
	success map[string]int // program name -> number of "success:" lines
}

func (t *logTail) poll() error {
	if t.pids == nil {
		t.pids, t.success = map[string]int{}, map[string]int{}
	}
	if t.f == nil {
		f, err := os.Open(t.path)
		if err != nil {
			return fmt.Errorf("open main log: %w", err)
		}
		t.f, t.buf = f, make([]byte, 64<<10)
	}
	for {
		n, err := t.f.ReadAt(t.buf, t.off)
		t.off += int64(n)
		t.feed(t.buf[:n])
		if n < len(t.buf) || err != nil {
			return nil
		}
	}
}

func (t *logTail) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

func (t *logTail) feed(p []byte) {
	data := append(t.partial, p...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		t.line(string(data[:i]))
		data = data[i+1:]
	}
	t.partial = append(t.partial[:0], data...)
}

// line records "spawned: 'NAME' with pid N" and "success: NAME entered RUNNING state".
func (t *logTail) line(s string) {
	if i := strings.Index(s, " spawned: '"); i >= 0 {
		rest := s[i+len(" spawned: '"):]
		if j := strings.Index(rest, "' with pid "); j >= 0 {
			if pid, err := strconv.Atoi(strings.TrimSpace(rest[j+len("' with pid "):])); err == nil {
				t.pids[rest[:j]] = pid
				t.allPids = append(t.allPids, pid)
			}
		}
		return
	}
	if i := strings.Index(s, " success: "); i >= 0 {
		rest := s[i+len(" success: "):]
		if j := strings.Index(rest, " entered RUNNING state"); j >= 0 {
			t.success[rest[:j]]++
		}
	}
}

// parentOf reads the parent pid from /proc/<pid>/stat.
func parentOf(pid int) (int, error) {
	f, err := procStatFields(pid)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f[1])
}

// procStatFields returns the fields of /proc/<pid>/stat after the command
// name: f[0] is the state (field 3), f[11] utime (14), f[12] stime (15).
func procStatFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, fmt.Errorf("stat of pid %d: %w", pid, err)
	}
	return parseStat(string(b))
}

func parseStat(s string) ([]string, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("malformed stat %q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return nil, fmt.Errorf("short stat %q", s)
	}
	return f, nil
}

// rssKB reads VmRSS from /proc/<pid>/status.
func rssKB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("status of pid %d: %w", pid, err)
	}
	return parseField(string(b), "VmRSS:")
}

// parseField returns the number after name in a /proc key-value file.
func parseField(s, name string) (float64, error) {
	for line := range strings.Lines(s) {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseFloat(f[0], 64)
		}
	}
	return 0, fmt.Errorf("no %s field", name)
}

// cpuClock is the process's CPU time (user+system, all threads). The tick
// counters of /proc/<pid>/stat include exited threads but have 10 ms
// resolution; the schedstat sum over live threads is nanosecond-exact but
// loses a thread that exits. since uses schedstat when no thread went away.
type cpuClock struct {
	ticks, sched float64
	tids         map[string]bool
}

func readCPU(pid int) (cpuClock, error) {
	f, err := procStatFields(pid)
	if err != nil {
		return cpuClock{}, err
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	c := cpuClock{ticks: (ut + st) / 100, tids: map[string]bool{}} // CLK_TCK is 100 on Linux
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return c, fmt.Errorf("tasks of pid %d: %w", pid, err)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // thread gone
		}
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			ns, _ := strconv.ParseFloat(fs[0], 64)
			c.sched += ns / 1e9
			c.tids[t.Name()] = true
		}
	}
	return c, nil
}

func (c cpuClock) since(before cpuClock) float64 {
	for tid := range before.tids {
		if !c.tids[tid] {
			return c.ticks - before.ticks
		}
	}
	return c.sched - before.sched
}
