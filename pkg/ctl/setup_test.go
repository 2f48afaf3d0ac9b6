package ctl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

const (
	pySupervisord   = "/usr/bin/supervisord"
	pySupervisorctl = "/usr/bin/supervisorctl"
)

func setupAndRun(m *testing.M) int { return m.Run() }

// needPython fails (not skips) when the oracle is missing, unless the
// environment opts out explicitly.
func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(pySupervisord); err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skip("GOSUPERVISOR_NO_PYTHON=1: Python supervisord not used")
		}
		t.Fatalf("Python supervisord is required as the oracle (%v); set GOSUPERVISOR_NO_PYTHON=1 to skip", err)
	}
}

// daemon is one running Python supervisord.
type daemon struct {
	dir, conf, sock string
	port            int
	cmd             *exec.Cmd
}

func (d *daemon) unixURL() string { return "unix://" + d.sock }
func (d *daemon) httpURL() string { return fmt.Sprintf("http://127.0.0.1:%d", d.port) }

// baseConfig holds the programs shared by the comparison tests; @DIR@,
// @PORT@ and @AUTH@ are filled in per daemon.
const baseConfig = `[unix_http_server]
file=@DIR@/sv.sock
[inet_http_server]
port=127.0.0.1:@PORT@
@AUTH@
[supervisord]
logfile=@DIR@/supervisord.log
pidfile=@DIR@/supervisord.pid
childlogdir=@DIR@
@RPC@
[program:sleeper]
command=/bin/sleep 1000
startsecs=0
stopwaitsecs=2
[program:quick]
command=/bin/sh -c "echo hi; exit 3"
autostart=false
startretries=0
startsecs=1
[program:stubborn]
command=/bin/sh -c "trap '' TERM; echo ready; while :; do sleep 0.1; done"
autostart=false
startsecs=0
stopwaitsecs=30
[program:printer]
command=/bin/sh -c "echo out-line; echo err-line >&2; exec /bin/sleep 1000"
startsecs=0
stdout_logfile=@DIR@/printer.out
stderr_logfile=@DIR@/printer.err
[program:nolog]
command=/bin/sleep 1000
autostart=false
stdout_logfile=@DIR@/nolog.out
[program:notexist]
command=/nonexistent/cmd
autostart=false
[program:multi]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
startsecs=0
[program:ga]
command=/bin/sleep 1000
startsecs=0
autostart=false
[program:gb]
command=/bin/sleep 1000
startsecs=0
autostart=false
[group:grp]
programs=ga,gb
`

const rpcSection = `[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface`

type daemonOpts struct {
	noRPC bool
	auth  bool
	extra string // appended to the config
}

func renderConfig(d *daemon, o daemonOpts) string {
	s := strings.ReplaceAll(baseConfig, "@DIR@", d.dir)
	s = strings.ReplaceAll(s, "@PORT@", fmt.Sprint(d.port))
	auth := ""
	if o.auth {
		auth = "username=user\npassword=secret"
	}
	s = strings.ReplaceAll(s, "@AUTH@", auth)
	rpc := rpcSection
	if o.noRPC {
		rpc = ""
	}
	return strings.ReplaceAll(s, "@RPC@", rpc) + o.extra
}

// startDaemon runs the Python supervisord in the foreground and waits until
// its autostart programs are up.
func startDaemon(t *testing.T, o daemonOpts) *daemon {
	t.Helper()
	needPython(t)
	// A short directory keeps the unix socket path under the 108-byte limit.
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &daemon{dir: dir, sock: filepath.Join(dir, "sv.sock"), port: testutil.FreePort(t)}
	d.conf = filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(d.conf, []byte(renderConfig(d, o)), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(pySupervisord, "-n", "-c", d.conf)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := d.cmd.Process.Pid
	t.Cleanup(func() {
		// supervisord puts every child in a process group of its own, so
		// killing the daemon's group would orphan them: kill each child's
		// group first (that also takes grandchildren such as sleep loops).
		for _, child := range childPids(pid) {
			syscall.Kill(-child, syscall.SIGKILL)
		}
		syscall.Kill(-pid, syscall.SIGKILL)
		d.cmd.Wait()
	})
	client, err := NewClient(d.unixURL(), map[bool]string{true: "user"}[o.auth], map[bool]string{true: "secret"}[o.auth])
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	waitFor(t, 15*time.Second, "supervisord up", func() bool {
		if o.noRPC {
			var methods []string
			return client.Call(context.Background(), "system.listMethods", &methods) == nil
		}
		var infos []ProcessInfo
		if client.Call(context.Background(), "supervisor.getAllProcessInfo", &infos) != nil {
			return false
		}
		for _, info := range infos {
			if info.Name == "sleeper" && info.Statename == "RUNNING" {
				return true
			}
		}
		return false
	})
	return d
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runResult is what one supervisorctl run produced.
type runResult struct {
	stdout, stderr string
	code           int
}

// runCtl runs our supervisorctl (python=false) or the original with args,
// feeding stdin. Both see argv[0] "/usr/bin/supervisorctl".
func runCtl(t *testing.T, python bool, stdin string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if python {
		cmd = exec.CommandContext(ctx, pySupervisorctl, args...)
	} else {
		self, err := os.Executable() // this test binary acts as our supervisorctl
		if err != nil {
			t.Error(err)
			return runResult{}
		}
		cmd = exec.CommandContext(ctx, self, args...)
		cmd.Args[0] = pySupervisorctl
		cmd.Env = append(os.Environ(), "GOSUPERVISORCTL_AS_MAIN=1")
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("supervisorctl %v (python=%v) timed out; output %q", args, python, out.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Errorf("run supervisorctl %v: %v", args, err) // Errorf: called from goroutines too
	}
	return runResult{stdout: out.String(), stderr: errb.String(), code: code}
}

type mask struct {
	re   *regexp.Regexp
	repl string
}

func masks() []mask {
	return []mask{
		{regexp.MustCompile(`pid \d+, uptime \d+:\d\d:\d\d`), "pid N, uptime U"},
		{regexp.MustCompile(`(?m)(^|> )[1-9]\d*$`), "${1}N"},
		{regexp.MustCompile(`[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M`), "DATE"},
	}
}

// normalize masks what legitimately differs between two runs.
func normalize(s string, ds ...*daemon) string {
	for _, d := range ds {
		s = strings.ReplaceAll(s, d.dir, "<DIR>")
		s = strings.ReplaceAll(s, fmt.Sprint(d.port), "<PORT>")
	}
	for _, m := range masks() {
		s = m.re.ReplaceAllString(s, m.repl)
	}
	return s
}

// childPids lists the processes whose parent is pid.
func childPids(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which may contain spaces): state, ppid, ...
		rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}
