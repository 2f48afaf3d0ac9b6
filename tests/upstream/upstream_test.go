// Package upstream runs Python supervisor's own end-to-end tests
// (supervisor/tests/test_end_to_end.py from Debian's supervisor 4.2.5,
// unchanged) against our binaries, in every daemon/client pairing:
//
//	pyd-pyctl     Python supervisord, Python supervisorctl (the control)
//	ourd-pyctl    our supervisord,    Python supervisorctl
//	pyd-ourctl    Python supervisord, our supervisorctl
//	ourd-ourctl   our supervisord,    our supervisorctl
//
// The upstream tests spawn `sys.executable -m supervisor.supervisord` and
// `-m supervisor.supervisorctl`. Each pairing gets an overlay package
// directory on PYTHONPATH whose supervisor/__init__.py extends __path__ to
// the real package, so supervisor.compat, supervisor.xmlrpc and the rest
// still come from Debian's supervisor, while supervisor/supervisord.py or
// supervisor/supervisorctl.py, for the side that is ours, exec our binary
// with the same arguments.
//
// Every upstream test is reported as the subtest <pairing>/<test name>; a
// failure carries pytest's report, with the pexpect buffer it saw.
//
// Needs /usr/bin/python3 with Debian's supervisor, python3-pexpect and
// python3-pytest (make test-deps); without them the test fails.
// GOSUPERVISOR_NO_PYTHON=1 says the Python comparison is not wanted: skip.
// GOSUPERVISOR_UPSTREAM_K=<expr> passes -k <expr> to pytest, to run a subset.
//
// The fixtures use fixed paths (/tmp/issue-*.sock, .pid, .log). Where mount
// namespaces are allowed (root, or unprivileged user namespaces), each
// pairing runs with a private /tmp of its own, all four at once (about 1.5
// minutes); elsewhere, or with GOSUPERVISOR_UPSTREAM_SEQUENTIAL=1, they run
// one after another (about 3.7 minutes) under a lock file, so that two runs of
// this test (say from two checkouts) do not overlap.
package upstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	python3   = "/usr/bin/python3" // Debian's, the one that has its supervisor package
	realPkg   = "/usr/lib/python3/dist-packages/supervisor"
	upstream  = realPkg + "/tests/test_end_to_end.py"
	fixtures  = realPkg + "/tests/fixtures"
	lockPath  = "/tmp/gosupervisor-upstream-e2e.lock"
	markerEnv = "GOSUPERVISOR_UPSTREAM_E2E"
	// One pairing's whole pytest run. Each pexpect expectation times out
	// after 30-60 s, so a run cannot hang, but a pairing in which most tests
	// fail takes long; this bounds it.
	pairingTimeout = 8 * time.Minute
)

type pairing struct {
	name         string
	ourd, ourctl bool
}

var pairings = []pairing{
	{name: "pyd-pyctl"},
	{name: "ourd-pyctl", ourd: true},
	{name: "pyd-ourctl", ourctl: true},
	{name: "ourd-ourctl", ourd: true, ourctl: true},
}

func TestUpstreamEndToEnd(t *testing.T) {
	if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
		t.Skip("GOSUPERVISOR_NO_PYTHON=1: the upstream tests are Python's")
	}
	if err := checkPython(); err != nil {
		t.Fatalf("%v\n(run make test-deps, or set GOSUPERVISOR_NO_PYTHON=1 to skip the Python comparison)", err)
	}

	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if tmp, err = filepath.EvalSymlinks(tmp); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "bin")
	start := time.Now()
	for _, c := range []string{"supervisord", "supervisorctl"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, c), "./cmd/"+c)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", c, err, out)
		}
	}
	t.Logf("built our binaries in %v", time.Since(start).Round(time.Millisecond))
	e2e, err := stageUpstream(tmp)
	if err != nil {
		t.Fatal(err)
	}
	// The fixtures run `python prog.py`; not every system has a `python`,
	// and one found on PATH (pyenv, a venv) may be some other interpreter.
	pathDir := filepath.Join(tmp, "path")
	if err := os.MkdirAll(pathDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(python3, filepath.Join(pathDir, "python")); err != nil {
		t.Fatal(err)
	}

	// With a private /tmp each, the pairings run side by side (their own
	// goroutines, not t.Parallel, which -parallel would cap at GOMAXPROCS
	// although the runs mostly wait); without (no mount namespaces here),
	// one after another, holding a lock.
	parallel := os.Getenv("GOSUPERVISOR_UPSTREAM_SEQUENTIAL") != "1" && privateTmpWorks(tmp)
	if !parallel {
		t.Logf("no private /tmp (mount namespace), or GOSUPERVISOR_UPSTREAM_SEQUENTIAL=1: running the pairings one after another")
		unlock, err := lock()
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
	}
	// Stop in time to report, rather than be killed by go test's -timeout.
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
		defer cancel()
	}
	runs := make([]run, len(pairings))
	results := make([]result, len(pairings))
	var wg sync.WaitGroup
	for i, p := range pairings {
		runs[i] = run{
			p:       p,
			e2e:     e2e,
			bin:     bin,
			pathDir: pathDir,
			overlay: filepath.Join(tmp, "overlay-"+p.name),
			work:    filepath.Join(tmp, "work-"+p.name),
		}
		if !parallel {
			results[i] = runs[i].pytest(ctx)
			continue
		}
		runs[i].privateTmp = filepath.Join(tmp, "tmp-"+p.name)
		runs[i].keep = tmp
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runs[i].pytest(ctx)
		}()
	}
	wg.Wait()

	for i, p := range pairings {
		t.Run(p.name, func(t *testing.T) { runs[i].report(t, results[i]) })
	}
	control := results[0].names()
	for i, p := range pairings[1:] {
		seen := results[i+1].names()
		for n := range control {
			if len(seen) > 0 && !seen[n] {
				t.Errorf("upstream %s ran in %s (the control) but not in %s", n, pairings[0].name, p.name)
			}
		}
	}
}

// run is one pairing's pytest run.
type run struct {
	p                 pairing
	e2e, bin, pathDir string
	overlay, work     string
	privateTmp, keep  string // set: run in a mount namespace with privateTmp on /tmp
}

// result is what a run found.
type result struct {
	cases []junitCase
	log   string   // pytest's console output
	notes []string // for t.Log
	err   error    // the run did not produce a report
	shims []byte   // the overlay's exec log
}

func (res result) names() map[string]bool {
	m := map[string]bool{}
	for _, c := range res.cases {
		m[c.Name] = true
	}
	return m
}

// report reports res, the outcome of r, each upstream test as a subtest.
func (r run) report(t *testing.T, res result) {
	for _, n := range res.notes {
		t.Log(n)
	}
	if testing.Verbose() {
		t.Logf("pytest output:\n%s", lastLines(res.log, 40))
	}
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.log)
	}
	if len(res.cases) == 0 {
		t.Fatalf("pytest reported no upstream tests\n%s", res.log)
	}
	// The overlay really was used: each side that is ours was exec'd (when
	// all the tests ran: GOSUPERVISOR_UPSTREAM_K may pick ones that use only
	// one side), and none that is Python's.
	all := os.Getenv("GOSUPERVISOR_UPSTREAM_K") == ""
	for _, side := range []struct {
		name string
		ours bool
	}{{"supervisord", r.p.ourd}, {"supervisorctl", r.p.ourctl}} {
		used := bytes.Contains(res.shims, []byte(side.name+" "))
		if used && !side.ours || !used && side.ours && all {
			t.Errorf("overlay: our %s exec'd=%v, want %v; shim log:\n%s", side.name, used, side.ours, res.shims)
		}
	}
	for _, c := range res.cases {
		t.Run(c.Name, func(t *testing.T) {
			switch {
			case c.Failure != nil:
				t.Errorf("%s: upstream %s failed:\n%s", r.p.describe(), c.Name, c.report(c.Failure))
			case c.Error != nil:
				t.Errorf("%s: upstream %s errored:\n%s", r.p.describe(), c.Name, c.report(c.Error))
			case c.Skipped != nil:
				// A skip would hide a difference; upstream's file skips nothing
				// when END_TO_END is set.
				t.Errorf("%s: upstream %s was skipped: %s %s", r.p.describe(), c.Name, c.Skipped.Message, c.Skipped.Text)
			}
		})
	}
}

func (p pairing) describe() string {
	side := func(ours bool) string {
		if ours {
			return "ours"
		}
		return "python"
	}
	return fmt.Sprintf("daemon=%s ctl=%s", side(p.ourd), side(p.ourctl))
}

// checkPython reports what of the Python side is missing.
func checkPython() error {
	for _, f := range []string{python3, upstream, fixtures} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("upstream end-to-end tests need Debian's python3 and supervisor: %v", err)
		}
	}
	out, err := exec.Command(python3, "-c", "import pexpect, pytest").CombinedOutput()
	if err != nil {
		return fmt.Errorf("upstream end-to-end tests need python3-pexpect and python3-pytest: %v\n%s", err, out)
	}
	return nil
}

// repoRoot is the module root: go test runs in the package directory,
// tests/upstream.
func repoRoot() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.Contains(mod, []byte("module github.com/gosupervisor/gosupervisor\n")) {
		return "", fmt.Errorf("%s is not the gosupervisor module root (%v)", root, err)
	}
	return root, nil
}

// stageUpstream copies test_end_to_end.py byte for byte, with its fixtures,
// into dir/e2e. The tests find their fixtures with
// pkg_resources.resource_filename(__name__, 'fixtures/...'), next to the test
// file, and the configs name their programs by %(here)s, so the copy keeps
// them side by side. Debian's package leaves out fixtures/hello.sh, which
// issue-565.conf runs; the copy gets one that prints what that test reads.
func stageUpstream(dir string) (string, error) {
	e2e := filepath.Join(dir, "e2e")
	src, err := os.ReadFile(upstream)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(e2e, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(e2e, "test_end_to_end.py"), src, 0o644); err != nil {
		return "", err
	}
	// An ini file here makes this directory pytest's rootdir, so no
	// pytest.ini, tox.ini or setup.cfg above the temp dir is picked up.
	if err := os.WriteFile(filepath.Join(e2e, "pytest.ini"), []byte("[pytest]\n"), 0o644); err != nil {
		return "", err
	}
	dst := filepath.Join(e2e, "fixtures")
	err = filepath.WalkDir(fixtures, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(fixtures, path)
		if d.IsDir() {
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		return "", err
	}
	hello := filepath.Join(dst, "hello.sh")
	if _, err := os.Stat(hello); os.IsNotExist(err) {
		script := "#!/bin/bash\n" +
			"# test_issue_565 reads the first three of these lines through `supervisorctl tail -f`.\n" +
			"for n in 1 2 3 4 5 6 7 8 9 10; do\n" +
			"    echo \"The Øresund bridge ends in Malmö - $n\"\n" +
			"    sleep 1\n" +
			"done\n"
		if err := os.WriteFile(hello, []byte(script), 0o755); err != nil {
			return "", err
		}
	}
	return e2e, nil
}

// writeOverlay makes overlay/supervisor: an __init__.py that puts the
// overlay first and the real package second on the package's __path__, and,
// for each side of p that is ours, a module that execs our binary when run
// with -m (and is the real module when merely imported). Each exec is noted
// in work/shim.log, so the test can tell the overlay was in effect.
func writeOverlay(overlay, bin, work string, p pairing) error {
	pkg := filepath.Join(overlay, "supervisor")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		return err
	}
	init := fmt.Sprintf(`# gosupervisor upstream-test overlay: modules here shadow the real package's,
# everything else is imported from it.
import os
__path__ = [os.path.dirname(os.path.abspath(__file__)), %q]
exec(compile(open(os.path.join(__path__[1], '__init__.py')).read(),
             os.path.join(__path__[1], '__init__.py'), 'exec'))
`, realPkg)
	if err := os.WriteFile(filepath.Join(pkg, "__init__.py"), []byte(init), 0o644); err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		ours bool
	}{{"supervisord", p.ourd}, {"supervisorctl", p.ourctl}} {
		if !m.ours {
			continue
		}
		shim := fmt.Sprintf(`# gosupervisor upstream-test overlay: python -m supervisor.%[1]s runs our binary.
import os
import sys
BIN = %[2]q
if __name__ == '__main__':
    with open(%[4]q, 'a') as log:
        log.write('%[1]s %%r\n' %% (sys.argv[1:],))
    os.execv(BIN, [BIN] + sys.argv[1:])
else:
    _real = os.path.join(%[3]q, '%[1]s.py')
    exec(compile(open(_real).read(), _real, 'exec'))
`, m.name, filepath.Join(bin, m.name), realPkg, filepath.Join(work, "shim.log"))
		if err := os.WriteFile(filepath.Join(pkg, m.name+".py"), []byte(shim), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// junit is the part of pytest's --junitxml report we read.
type junit struct {
	Suites []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Cases []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Failure   *junitOutcome `xml:"failure"`
	Error     *junitOutcome `xml:"error"`
	Skipped   *junitOutcome `xml:"skipped"`
	SystemOut string        `xml:"system-out"`
	SystemErr string        `xml:"system-err"`
}

type junitOutcome struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func (c junitCase) report(o *junitOutcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", o.Message, strings.TrimSpace(o.Text))
	if s := strings.TrimSpace(c.SystemOut); s != "" {
		fmt.Fprintf(&b, "--- captured stdout\n%s\n", s)
	}
	if s := strings.TrimSpace(c.SystemErr); s != "" {
		fmt.Fprintf(&b, "--- captured stderr\n%s\n", s)
	}
	return b.String()
}

// pytest runs the staged upstream file under pytest with the overlay on
// PYTHONPATH and returns what it reported.
func (r run) pytest(ctx context.Context) (res result) {
	for _, d := range []string{r.work, r.privateTmp} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			res.err = err
			return res
		}
	}
	if err := writeOverlay(r.overlay, r.bin, r.work, r.p); err != nil {
		res.err = err
		return res
	}
	report := filepath.Join(r.work, "junit.xml")
	file := filepath.Join(r.e2e, "test_end_to_end.py")
	args := []string{python3, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-v",
		"--junitxml=" + report, "-o", "junit_logging=all", "-o", "junit_family=xunit1",
		// test_suite() is the file's unittest hook (unittest.main's
		// defaultTest), building a suite of the tests above; it is no test.
		"--deselect", "test_end_to_end.py::test_suite"}
	if k := os.Getenv("GOSUPERVISOR_UPSTREAM_K"); k != "" {
		args = append(args, "-k", k)
	}
	args = append(args, file)

	marker := randomToken()
	ctx, cancel := context.WithTimeout(ctx, pairingTimeout)
	defer cancel()
	env := append(cleanEnv(),
		"PYTHONPATH="+r.overlay,
		"PATH="+r.pathDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"END_TO_END=1", // upstream's switch: without it the class is a plain object
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1",
		markerEnv+"="+marker,
	)
	cmd := r.command(ctx, env, args)
	cmd.Dir = r.work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	runErr := cmd.Run()
	// pexpect puts every daemon in a session of its own; one that outlived
	// its test (SIGINT ignored, SIGHUP taken as reload) would hold the fixed
	// socket paths of later tests.
	if left := killMarked(marker); len(left) > 0 {
		res.notes = append(res.notes, fmt.Sprintf("killed %d process(es) left running by the upstream tests:\n%s", len(left), strings.Join(left, "\n")))
	}
	mode := "sharing /tmp"
	if r.privateTmp != "" {
		mode = "private /tmp " + r.privateTmp
	}
	res.notes = append(res.notes, fmt.Sprintf("pytest ran %v (%v; %s)", time.Since(start).Round(time.Second), runErr, mode))
	res.log = out.String()
	res.shims, _ = os.ReadFile(filepath.Join(r.work, "shim.log"))
	if ctx.Err() != nil {
		res.notes = append(res.notes, fmt.Sprintf("pytest was killed: %v (a pairing may take %v; and go test's -timeout)", ctx.Err(), pairingTimeout))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		res.err = fmt.Errorf("pytest wrote no report (%v): %v", runErr, err)
		return res
	}
	var j junit
	if err := xml.Unmarshal(b, &j); err != nil || len(j.Suites) == 0 {
		// pytest's report has either <testsuites> or a lone <testsuite>.
		var s junitSuite
		if err2 := xml.Unmarshal(b, &s); err2 != nil {
			res.err = fmt.Errorf("pytest's report %s: %v", report, err2)
			return res
		}
		j.Suites = []junitSuite{s}
	}
	for _, s := range j.Suites {
		res.cases = append(res.cases, s.Cases...)
	}
	return res
}

// command is args[0] run with args and env, in its own process group, and,
// when r.privateTmp is set, in a new mount namespace (and, not being root, a
// user namespace) where r.privateTmp is /tmp and r.keep is still at its path:
// this test binary re-executes itself as nsHelper to set that up.
func (r run) command(ctx context.Context, env, args []string) *exec.Cmd {
	var cmd *exec.Cmd
	attr := &syscall.SysProcAttr{Setpgid: true}
	if r.privateTmp == "" {
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = env
	} else {
		self, err := os.Executable()
		if err != nil {
			self = os.Args[0]
		}
		cmd = exec.CommandContext(ctx, self, args...)
		cmd.Env = append(env, helperTmpEnv+"="+r.privateTmp, helperKeepEnv+"="+r.keep)
		attr.Cloneflags = syscall.CLONE_NEWNS
		if uid, gid := os.Getuid(), os.Getgid(); uid != 0 {
			attr.Cloneflags |= syscall.CLONE_NEWUSER
			attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
			attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
			attr.GidMappingsEnableSetgroups = false
			// Our uid keeps its own number in the user namespace, so the
			// helper's exec would drop the capabilities it needs to mount;
			// ambient ones survive it (and the helper clears them).
			attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN}
		}
	}
	cmd.SysProcAttr = attr
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// privateTmpWorks tries the mount-namespace set-up of command on a shell
// that checks the harness dir is still there and writes to the private /tmp.
func privateTmpWorks(tmp string) bool {
	r := run{privateTmp: filepath.Join(tmp, "tmp-probe"), keep: tmp}
	if err := os.MkdirAll(r.privateTmp, 0o755); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := r.command(ctx, os.Environ(), []string{"/bin/sh", "-c", "test -d " + tmp + " && touch /tmp/probe-in-private-tmp"})
	if err := cmd.Run(); err != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(r.privateTmp, "probe-in-private-tmp"))
	return err == nil
}

const (
	helperTmpEnv  = "GOSUPERVISOR_UPSTREAM_PRIVATE_TMP"
	helperKeepEnv = "GOSUPERVISOR_UPSTREAM_KEEP"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperTmpEnv) != "" {
		nsHelper()
	}
	os.Exit(m.Run())
}

// nsHelper runs in the fresh mount namespace command made: it puts the
// private dir on /tmp, mounts the harness dir back at its own path under it,
// and execs os.Args[1:]. It does not return.
func nsHelper() {
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "upstream test namespace helper: %s: %v\n", what, err)
		os.Exit(127)
	}
	runtime.LockOSThread() // the thread that clears the ambient capabilities execs
	private, keep := os.Getenv(helperTmpEnv), os.Getenv(helperKeepEnv)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperTmpEnv+"=") && !strings.HasPrefix(kv, helperKeepEnv+"=") {
			env = append(env, kv)
		}
	}
	// Nothing mounted here may reach the parent namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		fail("make / private", err)
	}
	// keep (where the binaries, the overlay and the staged tests are) is
	// under /tmp when TMPDIR is: hold it open to mount it back once the
	// private dir covers /tmp.
	rel, err := filepath.Rel("/tmp", keep)
	under := err == nil && rel != "." && !strings.HasPrefix(rel, "..")
	var keepFd int
	if under {
		if keepFd, err = syscall.Open(keep, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			fail("open "+keep, err)
		}
	}
	if err := syscall.Mount(private, "/tmp", "", syscall.MS_BIND, ""); err != nil {
		fail("bind "+private+" on /tmp", err)
	}
	if under {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			fail("mkdir "+keep, err)
		}
		if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", keepFd), keep, "", syscall.MS_BIND, ""); err != nil {
			fail("bind "+keep+" back", err)
		}
		syscall.Close(keepFd)
	}
	if len(os.Args) < 2 {
		fail("exec", fmt.Errorf("no command"))
	}
	// What runs next gets no capabilities from us (in the user namespace
	// command made when not root; a no-op otherwise).
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		fail("clear ambient capabilities", err)
	}
	err = syscall.Exec(os.Args[1], os.Args[1:], env)
	fail("exec "+os.Args[1], err)
}

// cleanEnv is the environment without variables that would point the
// interpreter somewhere else than Debian's python3 and its packages.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "PATH":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func randomToken() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// killMarked SIGKILLs the processes whose environment carries marker=token:
// the ones this run started, directly or not, and no others. It returns
// their pids and command lines.
func killMarked(token string) []string {
	want := []byte(markerEnv + "=" + token + "\x00")
	self := os.Getpid()
	killed := map[int]bool{}
	var left []string
	for round := 0; round < 3; round++ {
		entries, _ := os.ReadDir("/proc")
		found := 0
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self {
				continue
			}
			env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			if err != nil || !bytes.Contains(env, want) {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				if !killed[pid] {
					left = append(left, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
				}
				killed[pid] = true
				found++
			}
		}
		if found == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return left
}

// lock serializes runs of this test on the machine: the upstream fixtures
// use fixed paths under /tmp.
func lock() (func(), error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %v", lockPath, err)
	}
	return func() { f.Close() }, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
