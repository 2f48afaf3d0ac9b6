package spawn_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

func nobody(t testing.TB) *spawn.Credential {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &spawn.Credential{UID: uint32(uid), GID: uint32(gid)}
}

func currentUmask() int {
	old := unix.Umask(0o22)
	unix.Umask(old)
	return old
}

// TestSpawnSettings checks environment, directory, umask and process group
// as seen by the child, on the direct path and through the shim.
func TestSpawnSettings(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		umask     int
		forceShim bool
		wantUmask int
	}{
		{"direct", -1, false, currentUmask()},
		{"shim without umask", -1, true, currentUmask()},
		{"shim with umask 077", 0o77, false, 0o77},
		{"shim with umask 0", 0, false, 0},
	}
	h := startHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := roleSpec("info", "")
			spec.Env = append(spec.Env, "SPAWNTEST_VAR=a b=c")
			spec.Dir, spec.Umask, spec.ForceShim = dir, tc.umask, tc.forceShim
			c, err := h.r.Spawn(spec)
			if err != nil {
				t.Fatal(err)
			}
			defer closeChild(c)
			rd := bufio.NewReader(c.Stdout)
			var lines []string
			for range 4 {
				l, err := rd.ReadString('\n')
				if err != nil {
					t.Fatalf("reading child info: %v (got %q)", err, lines)
				}
				lines = append(lines, l)
			}
			// The child is alive (waiting on stdin): check its group.
			if pgid, err := unix.Getpgid(c.Pid); err != nil || pgid != c.Pid {
				t.Errorf("getpgid(%d) = %d, %v; want own group", c.Pid, pgid, err)
			}
			c.Stdin.Close()
			if e := h.mustExit(t, c.Pid); e.Status.ExitStatus() != 0 {
				t.Errorf("exit = %+v, want status 0", e)
			}
			want := fmt.Sprintf("umask=%04o\ncwd=%s\nuid=%d\nvar=a b=c\n", tc.wantUmask, dir, os.Getuid())
			if got := strings.Join(lines, ""); got != want {
				t.Errorf("child saw\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// SPEC §10 item 25.
func TestSpawnAsNobody(t *testing.T) {
	requireRoot(t)
	cred := nobody(t)
	h := startHarness(t)
	tests := []struct {
		name  string
		umask int
		want  string
	}{
		{"shim", 0o77, fmt.Sprintf("0077\n/tmp\n%d\n%d\n", cred.UID, cred.GID)},
		{"direct", -1, fmt.Sprintf("%04o\n/tmp\n%d\n%d\n", currentUmask(), cred.UID, cred.GID)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := h.r.Spawn(spawn.Spec{
				Name: "nobody", Argv: []string{"sh", "-c", "umask; pwd; id -u; id -G"}, Path: "/bin/sh",
				Env: []string{"PATH=/usr/bin:/bin"}, Dir: "/tmp", Umask: tc.umask, Cred: cred,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer closeChild(c)
			out, errOut := readAll(t, c.Stdout), readAll(t, c.Stderr)
			e := h.mustExit(t, c.Pid)
			if out != tc.want || errOut != "" || e.Status.ExitStatus() != 0 {
				t.Fatalf("got stdout %q stderr %q status %v; want %q", out, errOut, e.Status, tc.want)
			}
		})
	}
}

// Failures after fork are reported on the child's stderr in the original's
// words, and the child exits 127 (SPEC §3.4, §10 items 23 and 24).
func TestSpawnChildFailures(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("\x00\x01\x02 not a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	const notSpawned = "supervisor: child process was not spawned\n"
	tests := []struct {
		name   string
		root   bool
		spec   spawn.Spec
		stderr string
	}{
		{"missing directory direct", false,
			spawn.Spec{Argv: []string{"true"}, Path: "/bin/true", Dir: "/nonexistent", Umask: -1},
			"supervisor: couldn't chdir to /nonexistent: ENOENT\n" + notSpawned},
		{"missing directory shim", false,
			spawn.Spec{Argv: []string{"true"}, Path: "/bin/true", Dir: "/nonexistent", Umask: 0o22},
			"supervisor: couldn't chdir to /nonexistent: ENOENT\n" + notSpawned},
		{"exec format error", false,
			spawn.Spec{Argv: []string{"garbage", "arg"}, Path: garbage, Umask: -1},
			"supervisor: couldn't exec garbage: ENOEXEC\n" + notSpawned},
		{"setuid before chdir direct", true,
			spawn.Spec{Argv: []string{"true"}, Path: "/bin/true", Dir: "/root", Umask: -1},
			"supervisor: couldn't chdir to /root: EACCES\n" + notSpawned},
		{"setuid before chdir shim", true,
			spawn.Spec{Argv: []string{"true"}, Path: "/bin/true", Dir: "/root", Umask: 0o77},
			"supervisor: couldn't chdir to /root: EACCES\n" + notSpawned},
	}
	h := startHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Name = "failing"
			if tc.root {
				requireRoot(t)
				spec.Cred = nobody(t)
				if st, err := os.Stat("/root"); err != nil || st.Mode().Perm()&0o001 != 0 {
					t.Skip("/root is searchable by others here")
				}
			}
			c, err := h.r.Spawn(spec)
			if err != nil {
				t.Fatalf("Spawn: %v (the failure must happen in the child)", err)
			}
			defer closeChild(c)
			errOut, out := readAll(t, c.Stderr), readAll(t, c.Stdout)
			e := h.mustExit(t, c.Pid)
			if errOut != tc.stderr || out != "" {
				t.Errorf("stderr %q stdout %q; want stderr %q", errOut, out, tc.stderr)
			}
			if !e.Status.Exited() || e.Status.ExitStatus() != 127 {
				t.Errorf("exit %+v; want exit status 127", e)
			}
		})
	}
}

// A non-root supervisord cannot switch to another user.
func TestSpawnNonrootCannotSetuid(t *testing.T) {
	requireRoot(t)
	h := startHarness(t)
	spec := roleSpec("nonroot-setuid", "")
	spec.Cred = nobody(t)
	spec.Path = publicExe(t)
	c, err := h.r.Spawn(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	out, errOut := readAll(t, c.Stdout), readAll(t, c.Stderr)
	if errOut != "" {
		t.Errorf("child stderr: %q", errOut)
	}
	h.mustExit(t, c.Pid)
	want := "supervisor: couldn't setuid to 0: Can't drop privilege as nonroot user\n" +
		"supervisor: child process was not spawned\n127\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestSpawnStreams(t *testing.T) {
	h := startHarness(t)
	t.Run("stdin pipe", func(t *testing.T) {
		c, err := h.r.Spawn(roleSpec("echo", ""))
		if err != nil {
			t.Fatal(err)
		}
		defer closeChild(c)
		if _, err := c.Stdin.WriteString("hello\n"); err != nil {
			t.Fatal(err)
		}
		c.Stdin.Close()
		if got := readAll(t, c.Stdout); got != "hello\n" {
			t.Fatalf("echo gave %q", got)
		}
		h.mustExit(t, c.Pid)
	})
	t.Run("given stdin", func(t *testing.T) {
		in := filepath.Join(t.TempDir(), "in")
		os.WriteFile(in, []byte("from file"), 0o644)
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		spec := roleSpec("echo", "")
		spec.Stdin = f
		c, err := h.r.Spawn(spec)
		if err != nil {
			t.Fatal(err)
		}
		defer closeChild(c)
		if c.Stdin != nil {
			t.Error("Child.Stdin should be nil when Spec.Stdin is given")
		}
		if got := readAll(t, c.Stdout); got != "from file" {
			t.Fatalf("echo gave %q", got)
		}
		h.mustExit(t, c.Pid)
	})
	for _, redirect := range []bool{false, true} {
		t.Run(fmt.Sprintf("redirect_stderr=%v", redirect), func(t *testing.T) {
			spec := roleSpec("streams", "")
			spec.RedirectStderr = redirect
			c, err := h.r.Spawn(spec)
			if err != nil {
				t.Fatal(err)
			}
			defer closeChild(c)
			out := readAll(t, c.Stdout)
			if redirect {
				if c.Stderr != nil || out != "to-stdout\nto-stderr\n" {
					t.Fatalf("stdout %q, Stderr %v", out, c.Stderr)
				}
			} else if errOut := readAll(t, c.Stderr); out != "to-stdout\n" || errOut != "to-stderr\n" {
				t.Fatalf("stdout %q stderr %q", out, errOut)
			}
			h.mustExit(t, c.Pid)
		})
	}
	t.Run("large output", func(t *testing.T) {
		c, err := h.r.Spawn(roleSpec("print", "1000000"))
		if err != nil {
			t.Fatal(err)
		}
		defer closeChild(c)
		if got := readAll(t, c.Stdout); len(got) != 1000000 {
			t.Fatalf("read %d bytes", len(got))
		}
		h.mustExit(t, c.Pid)
	})
}

// Group kill reaches the grandchild; it then comes back to us (subreaper)
// and is reaped.
func TestKillGroup(t *testing.T) {
	h := startHarness(t)
	c, err := h.r.Spawn(roleSpec("grandparent", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	line, err := bufio.NewReader(c.Stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	gpid, _ := strconv.Atoi(strings.TrimSpace(line))
	if pg, _ := unix.Getpgid(gpid); pg != c.Pid {
		t.Fatalf("grandchild %d in group %d, want %d", gpid, pg, c.Pid)
	}
	if err := spawn.Kill(c.Pid, syscall.SIGKILL, true); err != nil {
		t.Fatal(err)
	}
	e := h.mustExit(t, c.Pid)
	if e.Status.Signal() != syscall.SIGKILL {
		t.Errorf("child exit %+v", e)
	}
	ge := h.mustExit(t, gpid)
	if ge.Status.Signal() != syscall.SIGKILL {
		t.Errorf("grandchild exit %+v, want SIGKILL", ge)
	}
	if err := unix.Kill(gpid, 0); !errors.Is(err, unix.ESRCH) {
		t.Errorf("grandchild %d still exists: %v", gpid, err)
	}
	if err := spawn.Kill(c.Pid, syscall.SIGTERM, false); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Kill of a reaped pid = %v, want ESRCH", err)
	}
	for _, pid := range []int{0, -1} {
		if err := spawn.Kill(pid, 0, false); err == nil {
			t.Errorf("Kill(%d) must be refused", pid)
		}
	}
}

func TestKillSingle(t *testing.T) {
	h := startHarness(t)
	c, err := h.r.Spawn(roleSpec("sleep", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	if err := spawn.Kill(c.Pid, syscall.SIGTERM, false); err != nil {
		t.Fatal(err)
	}
	if e := h.mustExit(t, c.Pid); e.Status.Signal() != syscall.SIGTERM {
		t.Fatalf("exit %+v, want SIGTERM", e)
	}
}

// An orphaned grandchild is reparented to us (subreaper) and reaped.
func TestOrphanReaped(t *testing.T) {
	h := startHarness(t)
	c, err := h.r.Spawn(roleSpec("orphaner", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	line, err := bufio.NewReader(c.Stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	gpid, _ := strconv.Atoi(strings.TrimSpace(line))
	h.mustExit(t, c.Pid)
	ge := h.mustExit(t, gpid)
	if ge.Status.ExitStatus() != 0 {
		t.Errorf("orphan exit %+v, want status 0", ge)
	}
	if z := zombies(); len(z) > 0 {
		t.Errorf("zombies left: %v", z)
	}
}

// As PID 1 of a pid namespace (no subreaper prctl), orphans still get reaped.
func TestPID1(t *testing.T) {
	requireRoot(t)
	unshare, err := spawn.Resolve("unshare", spawn.DefaultPath)
	if err != nil {
		t.Skipf("util-linux unshare not available: %v", err)
	}
	h := startHarness(t)
	c, err := h.r.Spawn(spawn.Spec{
		Name: "pid1", Argv: []string{"unshare", "--pid", "--fork", "--mount-proc", selfExe()}, Path: unshare,
		Env: []string{roleEnv + "=pid1", noRaceExitSleep}, Umask: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	out, errOut := readAll(t, c.Stdout), readAll(t, c.Stderr)
	e := h.mustExit(t, c.Pid)
	if strings.Contains(errOut, "unshare failed") {
		t.Skipf("cannot create a pid namespace here: %s", errOut)
	}
	if e.Status.ExitStatus() != 0 || !strings.HasPrefix(out, "OK reaped orphan ") {
		t.Fatalf("pid 1 run: status %v stdout %q stderr %q", e.Status, out, errOut)
	}
}

// A child that exits at once is reaped with its status.
func TestInstantExitIsReaped(t *testing.T) {
	h := startHarness(t)
	for i := range 200 {
		var spec spawn.Spec
		switch i % 3 {
		case 0:
			spec = spawn.Spec{Argv: []string{"true"}, Path: "/bin/true", Umask: -1}
		case 1:
			spec = roleSpec("exit", strconv.Itoa(i%7))
		default:
			spec = roleSpec("exit", strconv.Itoa(i%7))
			spec.Umask = 0o22 // through the shim
		}
		c, err := h.r.Spawn(spec)
		if err != nil {
			t.Fatal(err)
		}
		closeChild(c)
		e := h.mustExit(t, c.Pid)
		want := 0
		if i%3 != 0 {
			want = i % 7
		}
		if e.Status.ExitStatus() != want {
			t.Fatalf("spawn %d: exit %+v, want status %d", i, e, want)
		}
	}
}

// Spawns may fork concurrently; every instant exit is still reaped with
// its status.
func TestConcurrentSpawnsAreReaped(t *testing.T) {
	h := startHarness(t)
	const workers, each = 8, 40
	pids := make(chan int, workers*each)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c, err := h.r.Spawn(spawn.Spec{Argv: []string{"true"}, Path: "/bin/true", Umask: -1})
				if err != nil {
					errs <- err
					return
				}
				closeChild(c)
				pids <- c.Pid
			}
		}()
	}
	wg.Wait()
	close(pids)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n := 0
	for pid := range pids {
		if e := h.mustExit(t, pid); e.Status.ExitStatus() != 0 {
			t.Fatalf("pid %d: exit %+v, want status 0", pid, e)
		}
		n++
	}
	if n != workers*each {
		t.Fatalf("%d spawns, want %d", n, workers*each)
	}
}

// Many rapid spawn/exit cycles leave no zombie, descriptor or goroutine.
func TestRapidCyclesLeakNothing(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	before := openFds(t)
	h, err := newHarness()
	if err != nil {
		t.Fatal(err)
	}
	const n, batch = 1000, 50
	for i := 0; i < n; i += batch {
		pids := make([]int, 0, batch)
		for j := range batch {
			spec := spawn.Spec{Name: "true", Argv: []string{"true"}, Path: "/bin/true", Umask: -1, RedirectStderr: j%2 == 0}
			if j%25 == 0 {
				spec.ForceShim = true
			}
			c, err := h.r.Spawn(spec)
			if err != nil {
				t.Fatal(err)
			}
			closeChild(c)
			pids = append(pids, c.Pid)
		}
		for _, pid := range pids {
			if e := h.mustExit(t, pid); e.Status.ExitStatus() != 0 {
				t.Fatalf("exit %+v", e)
			}
		}
	}
	if z := zombies(); len(z) > 0 {
		t.Errorf("zombies: %v", z)
	}
	h.stop()
	if after := openFds(t); after != before {
		t.Errorf("open descriptors %d before, %d after", before, after)
	}
	// os/signal's delivery goroutine starts with the first Notify and
	// lives for the life of the process.
	goleak.VerifyNone(t, ignore, goleak.IgnoreTopFunction("os/signal.signal_recv"), goleak.IgnoreTopFunction("os/signal.loop"))
}

// Parent-side failures (pipes, fork) give the original's spawnerr texts and
// leak no descriptor.
func TestSpawnParentErrors(t *testing.T) {
	requireRoot(t)
	h := startHarness(t)
	spec := roleSpec("limits", "")
	spec.Cred = nobody(t)
	spec.Path = publicExe(t)
	c, err := h.r.Spawn(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer closeChild(c)
	out, errOut := readAll(t, c.Stdout), readAll(t, c.Stderr)
	h.mustExit(t, c.Pid)
	want := "too many open files to spawn 'lim' (leaked 0)\n" +
		"Too many processes in process table to spawn 'lim' (leaked 0)\n"
	if out != want || errOut != "" {
		t.Fatalf("got %q (stderr %q), want %q", out, errOut, want)
	}
}

// Children start with SIGPIPE and SIGXFSZ ignored and nothing blocked, as
// under the Python original (checked against supervisord 4.2.5), plus any
// signal the daemon itself was started with ignored (that survives exec).
func TestChildSignalDispositions(t *testing.T) {
	const pipeAndXfsz = 1<<(13-1) | 1<<(25-1)
	want := fmt.Sprintf("SigBlk:\t0000000000000000\nSigIgn:\t%016x\n", inheritedIgnored|pipeAndXfsz)
	h := startHarness(t)
	tests := []struct {
		name          string
		daemonIgnores bool
		umask         int
	}{
		{"direct", true, -1},
		{"shim with umask", true, 0o22},
		{"shim because the daemon handles SIGPIPE", false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.daemonIgnores {
				// Notify (not Reset, which leaves SIG_IGN in place after
				// Ignore) puts Go's handler back, as in a plain Go daemon.
				ch := make(chan os.Signal, 1)
				signal.Notify(ch, spawn.IgnoredSignals()...)
				defer signal.Ignore(spawn.IgnoredSignals()...)
				defer signal.Stop(ch)
			}
			c, err := h.r.Spawn(spawn.Spec{
				Name: "sig", Argv: []string{"sh", "-c", "grep -E 'Sig(Ign|Blk)' /proc/self/status"},
				Path: "/bin/sh", Umask: tc.umask,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer closeChild(c)
			out := readAll(t, c.Stdout)
			h.mustExit(t, c.Pid)
			if out != want {
				t.Fatalf("child dispositions %q, want %q", out, want)
			}
		})
	}
}
