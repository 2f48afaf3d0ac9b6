package pidproxy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// supervisorConf runs the daemonizing script under pidproxy as program x.
const supervisorConf = `[unix_http_server]
file=%(here)s/sv.sock

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/sv.sock

[program:x]
command=PIDPROXY DIR/daemon.pid DIR/daemon.sh DIR fg
startsecs=1
stopwaitsecs=10
autorestart=false
stdout_logfile=%(here)s/x.out
stderr_logfile=%(here)s/x.err
`

// supervisor is one supervisord with its own supervisorctl.
type supervisor struct{ name, supervisord, supervisorctl string }

func supervisors(t *testing.T) []supervisor {
	t.Helper()
	ours := supervisor{"go", built.Supervisord, built.Supervisorctl}
	if harness.NoPython() {
		return []supervisor{ours}
	}
	if err := harness.CheckPython(); err != nil {
		t.Fatal(err)
	}
	return []supervisor{{"python", harness.PySupervisord, harness.PySupervisorctl}, ours}
}

// TestStopUnderSupervisord runs [program:x] command=pidproxy PIDFILE SCRIPT
// under Debian's supervisord and ours, each pidproxy in turn, and checks
// that `supervisorctl stop x` ends the daemonized grandchild (SIGTERM
// relayed through the pidfile), the program and pidproxy: no process left.
func TestStopUnderSupervisord(t *testing.T) {
	t.Parallel()
	for _, sv := range supervisors(t) {
		t.Run(sv.name+"-supervisord", func(t *testing.T) {
			t.Parallel()
			forEachImpl(t, "stopping x under "+sv.name+" supervisord", func(t *testing.T, im impl) string {
				return stopUnder(t, sv, im)
			})
		})
	}
}

func stopUnder(t *testing.T, sv supervisor, im impl) string {
	dir := runDir(t)
	conf := filepath.Join(dir, "supervisord.conf")
	text := strings.NewReplacer("PIDPROXY", im.bin, "DIR", dir).Replace(supervisorConf)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	d := harness.StartDaemon(t, sv.name, sv.supervisord, conf, filepath.Join(dir, "sv.sock"), []string{markerVar + "=" + dir})
	info, err := d.RPC.WaitState("x", "RUNNING", 15*time.Second, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, d.Output())
	}
	proxy := int(info["pid"].(int64))
	daemon := waitPid(t, filepath.Join(dir, "daemon.pid"))
	child := waitPid(t, filepath.Join(dir, "child.pid"))
	t.Cleanup(func() {
		for _, pid := range []int{daemon, child, proxy} {
			killOurs(pid, dir)
		}
	})
	out, err := exec.Command(sv.supervisorctl, "-c", conf, "stop", "x").CombinedOutput()
	if err != nil || string(out) != "x: stopped\n" {
		t.Errorf("%s supervisorctl stop x: %v, %q", sv.name, err, out)
	}
	var left []string
	for name, pid := range map[string]int{"daemon": daemon, "program": child, "pidproxy": proxy} {
		if waitGone(pid) != nil {
			left = append(left, fmt.Sprintf("%s pid %d", name, pid))
		}
	}
	if len(left) > 0 {
		t.Errorf("%s pidproxy under %s supervisord: still running after stop: %v", im.name, sv.name, left)
	}
	signals, _ := os.ReadFile(filepath.Join(dir, "signals"))
	if string(signals) != "TERM\n" {
		t.Errorf("the daemon got %q, want TERM", signals)
	}
	state, _ := d.RPC.ProcessInfo("x")
	return fmt.Sprintf("stop: %q\nleft: %v\ndaemon got %q\nstate %v exit %v", out, left, signals, state["statename"], state["exitstatus"])
}
