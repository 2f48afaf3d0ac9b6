package spawn_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// Children in these tests are re-execs of the test binary; the role comes
// from the environment.
const (
	roleEnv = "SPAWNTEST_ROLE"
	argEnv  = "SPAWNTEST_ARG"
	// Under -race every exiting test binary would otherwise sleep 1 s.
	noRaceExitSleep = "GORACE=atexit_sleep_ms=0"
)

func TestMain(m *testing.M) {
	spawn.ShimMain()
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role, os.Getenv(argEnv)))
	}
	inheritedIgnored = sigIgnMask()
	// As supervisord does (and Python did), so direct spawns are possible.
	signal.Ignore(spawn.IgnoredSignals()...)
	os.Exit(m.Run())
}

// inheritedIgnored is the set of signals this test process was started
// with ignored (after the Go runtime's start-up): dispositions that survive
// exec, which children inherit from us as they would from the original.
var inheritedIgnored uint64

// sigIgnMask reads this process's ignored-signal mask from /proc.
func sigIgnMask() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:\t"); ok {
			n, _ := strconv.ParseUint(v, 16, 64)
			return n
		}
	}
	return 0
}

// runRole is the body of a child process; it returns the exit code.
func runRole(role, arg string) int {
	switch role {
	case "sleep":
		time.Sleep(60 * time.Second)
	case "exit":
		n, _ := strconv.Atoi(arg)
		return n
	case "print":
		n, _ := strconv.Atoi(arg)
		os.Stdout.Write([]byte(strings.Repeat("x", n)))
	case "info": // settings seen by the child, then wait for stdin EOF
		old := unix.Umask(0)
		wd, _ := os.Getwd()
		fmt.Printf("umask=%04o\ncwd=%s\nuid=%d\nvar=%s\n", old, wd, os.Getuid(), os.Getenv("SPAWNTEST_VAR"))
		io.Copy(io.Discard, os.Stdin)
	case "echo":
		io.Copy(os.Stdout, os.Stdin)
	case "streams":
		os.Stdout.WriteString("to-stdout\n")
		os.Stderr.WriteString("to-stderr\n")
	case "grandparent": // a sleeping grandchild in our group; we sleep too
		pid := startSelf("sleep", "")
		fmt.Printf("%d\n", pid)
		time.Sleep(60 * time.Second)
	case "orphaner": // a grandchild that outlives us, then exits
		pid := startSelf("orphan", strconv.Itoa(os.Getpid()))
		fmt.Printf("%d\n", pid)
	case "orphan":
		ppid, _ := strconv.Atoi(arg) // the orphaner, which may be gone already
		for deadline := time.Now().Add(10 * time.Second); os.Getppid() == ppid; {
			if time.Now().After(deadline) {
				return 3
			}
			time.Sleep(2 * time.Millisecond)
		}
	case "resolve":
		_, err := spawn.Resolve(arg, "")
		fmt.Println(err)
	case "nonroot-setuid":
		return nonrootSetuid()
	case "pid1":
		return pid1()
	case "limits":
		return limits()
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
		return 99
	}
	return 0
}

// startSelf starts the test binary in role without waiting for it (no
// Reaper runs in role processes).
func startSelf(role, arg string) int {
	env := []string{roleEnv + "=" + role, argEnv + "=" + arg}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, roleEnv+"=") && !strings.HasPrefix(kv, argEnv+"=") {
			env = append(env, kv)
		}
	}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"child-" + role}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(98)
	}
	return pid
}

// nonrootSetuid runs as a non-root user and asks for uid 0.
func nonrootSetuid() int {
	signal.Ignore(spawn.IgnoredSignals()...) // try the direct path first
	r, err := spawn.NewReaper()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	c, err := r.Spawn(spawn.Spec{Name: "x", Argv: []string{"true"}, Path: "/bin/true", Umask: -1, Cred: &spawn.Credential{}})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	out, _ := io.ReadAll(c.Stderr)
	exits, err := r.TakeExits()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	e := <-exits.C
	fmt.Printf("%s%d\n", out, e.Status.ExitStatus())
	return 0
}

// limits provokes parent-side spawn errors under tight rlimits (it runs as
// nobody: root ignores RLIMIT_NPROC) and prints the error texts.
func limits() int {
	r, err := spawn.NewReaper()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	// The runtime's poller is created with the first pollable file and
	// needs a descriptor of its own; a daemon has long done that.
	if pr, pw, err := os.Pipe(); err == nil {
		pr.Close()
		pw.Close()
	}
	spec := spawn.Spec{Name: "lim", Argv: []string{"true"}, Path: "/bin/true", Umask: -1}
	fds := func() int { e, _ := os.ReadDir("/proc/self/fd"); return len(e) }
	// Room for two new descriptors only (ReadDir itself needs one): the
	// second pipe fails and the first must be closed again.
	before := fds()
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		fmt.Println(err)
		return 1
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: uint64(before + 1), Max: orig.Max}); err != nil {
		fmt.Println(err)
		return 1
	}
	_, err = r.Spawn(spec)
	fmt.Printf("%v (leaked %d)\n", err, fds()-before)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		fmt.Println(err)
		return 1
	}
	if err := unix.Setrlimit(unix.RLIMIT_NPROC, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		fmt.Println(err)
		return 1
	}
	before = fds()
	_, err = r.Spawn(spec)
	fmt.Printf("%v (leaked %d)\n", err, fds()-before)
	return 0
}

// pid1 runs as PID 1 of a fresh pid namespace: an orphaned grandchild must
// come back to it and be reaped.
func pid1() int {
	if os.Getpid() != 1 {
		fmt.Println("not pid 1:", os.Getpid())
		return 1
	}
	h, err := newHarness()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer h.stop()
	c, err := h.r.Spawn(roleSpec("orphaner", ""))
	if err != nil {
		fmt.Println(err)
		return 1
	}
	line, err := bufio.NewReader(c.Stdout).ReadString('\n')
	if err != nil {
		fmt.Println("reading grandchild pid:", err)
		return 1
	}
	gpid, _ := strconv.Atoi(strings.TrimSpace(line))
	closeChild(c)
	ce, ok1 := h.waitExit(c.Pid, 10*time.Second)
	ge, ok2 := h.waitExit(gpid, 10*time.Second)
	if !ok1 || !ok2 || ge.Status.ExitStatus() != 0 {
		fmt.Printf("child %+v (%v), grandchild %d %+v (%v)\n", ce, ok1, gpid, ge, ok2)
		return 1
	}
	if z := zombies(); len(z) > 0 {
		fmt.Println("zombies:", z)
		return 1
	}
	fmt.Printf("OK reaped orphan %d\n", gpid)
	return 0
}

// harness runs a Reaper and records its exits by pid.
type harness struct {
	r       *spawn.Reaper
	cancel  context.CancelFunc
	done    sync.WaitGroup
	mu      sync.Mutex
	exits   map[int]spawn.Exit
	changed chan struct{} // closed and replaced on every exit
}

func newHarness() (*harness, error) {
	r, err := spawn.NewReaper()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{r: r, cancel: cancel, exits: map[int]spawn.Exit{}, changed: make(chan struct{})}
	exits, err := r.TakeExits()
	if err != nil {
		cancel()
		return nil, err
	}
	h.done.Add(2)
	go func() { defer h.done.Done(); r.Run(ctx) }()
	go func() {
		defer h.done.Done()
		for e := range exits.C {
			h.mu.Lock()
			h.exits[e.Pid] = e
			close(h.changed)
			h.changed = make(chan struct{})
			h.mu.Unlock()
		}
	}()
	return h, nil
}

func startHarness(t testing.TB) *harness {
	t.Helper()
	h, err := newHarness()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	h.done.Wait()
}

// waitExit returns the exit of pid once reaped; it consumes the record.
func (h *harness) waitExit(pid int, d time.Duration) (spawn.Exit, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		h.mu.Lock()
		e, ok := h.exits[pid]
		delete(h.exits, pid)
		ch := h.changed
		h.mu.Unlock()
		if ok {
			return e, true
		}
		select {
		case <-ch:
		case <-timer.C:
			return spawn.Exit{}, false
		}
	}
}

func (h *harness) mustExit(t testing.TB, pid int) spawn.Exit {
	t.Helper()
	e, ok := h.waitExit(pid, 10*time.Second)
	if !ok {
		t.Fatalf("pid %d not reaped within 10s", pid)
	}
	return e
}

// publicExe is a copy of the test binary that other users can run (the
// go test build directory is private to root).
func publicExe(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "spawn-public-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(selfExe())
	if err != nil {
		t.Fatal(err)
	}
	p := dir + "/spawn.test"
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func selfExe() string {
	p, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return p
}

func roleSpec(role, arg string) spawn.Spec {
	return spawn.Spec{
		Name:  role,
		Argv:  []string{"child-" + role},
		Path:  selfExe(),
		Env:   []string{roleEnv + "=" + role, argEnv + "=" + arg, noRaceExitSleep},
		Umask: -1,
	}
}

func closeChild(c *spawn.Child) {
	for _, f := range []*os.File{c.Stdin, c.Stdout, c.Stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// readAll reads f to EOF, failing after a deadline instead of hanging.
func readAll(t testing.TB, f *os.File) string {
	t.Helper()
	if err := f.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("reading child output: %v (got %q)", err, b)
	}
	return string(b)
}

// zombies lists our children in state Z.
func zombies() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(me) {
			out = append(out, pid)
		}
	}
	return out
}

func openFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
