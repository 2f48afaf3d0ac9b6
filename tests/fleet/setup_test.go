// Package fleet_test runs three real daemons on 127.0.0.1 — two of ours
// (one on TCP with a password, one on a unix socket) and Debian's Python
// supervisord (on TCP) — and watches and drives them as a fleet: pkg/fleet
// in-process and `supervisorctl fleet` as a subprocess.
package fleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
	"github.com/gosupervisor/gosupervisor/pkg/fleet"
	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

var bins harness.Binaries

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, "gsfleet-bin-", &bins))
}

// nodeConf: a running program, a stopped one and a group of two.
const nodeConf = `[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s

[unix_http_server]
file=%[1]s/s.sock

%[2]s

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:app]
command=/bin/sh -c 'echo hello-%[3]s; exec sleep 1000'
startsecs=0

[program:idle]
command=/bin/sleep 1000
autostart=false

[program:work]
command=/bin/sleep 1000
process_name=%%(program_name)s_%%(process_num)d
numprocs=2
startsecs=0
`

// node is one daemon of the fleet.
type node struct {
	name   string
	url    string // as the [remote:NAME] section gives it
	user   string
	pass   string
	sock   string
	daemon *harness.Daemon
}

// remote is the node's [remote:NAME] section.
func (n *node) remote() string {
	s := fmt.Sprintf("[remote:%s]\nserverurl=%s\n", n.name, n.url)
	if n.user != "" {
		s += fmt.Sprintf("username=%s\npassword=%s\n", n.user, n.pass)
	}
	return s
}

func (n *node) target() fleet.Target {
	return fleet.Target{Name: n.name, Serverurl: n.url, Username: n.user, Password: n.pass}
}

// startNode runs one daemon: kind "go" or "python"; inet: serve TCP too.
func startNode(t *testing.T, name, kind string, inet bool, user, pass string) *node {
	t.Helper()
	dir := t.TempDir()
	n := &node{name: name, sock: filepath.Join(dir, "s.sock"), user: user, pass: pass}
	n.url = "unix://" + n.sock
	extra := ""
	if inet {
		port := testutil.FreePort(t)
		n.url = fmt.Sprintf("http://127.0.0.1:%d", port)
		extra = fmt.Sprintf("[inet_http_server]\nport=127.0.0.1:%d\n", port)
		if user != "" {
			extra += fmt.Sprintf("username=%s\npassword=%s\n", user, pass)
		}
	}
	conf := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nodeConf, dir, extra, name)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := bins.Supervisord
	if kind == "python" {
		bin = harness.PySupervisord
	}
	n.daemon = harness.StartDaemon(t, kind, bin, conf, n.sock, nil)
	for _, p := range []string{"app", "work:work_0", "work:work_1"} {
		if _, err := n.daemon.RPC.WaitState(p, "RUNNING", 10*time.Second, nil); err != nil {
			t.Fatalf("%s: %s: %v", name, p, err)
		}
	}
	return n
}

// startFleet runs the three nodes, in name order, and writes a fleet-only
// config naming them (with an include, as users split such files).
func startFleet(t *testing.T) ([]*node, string) {
	t.Helper()
	if harness.NoPython() {
		t.Skip(harness.ErrNoPython)
	}
	if err := harness.CheckPython(); err != nil {
		t.Fatal(err)
	}
	nodes := []*node{
		startNode(t, "alpha", "go", true, "admin", "s3cret"),
		startNode(t, "beta", "go", false, "", ""),
		startNode(t, "gamma", "python", true, "", ""),
	}
	dir := t.TempDir()
	var more strings.Builder
	for _, n := range nodes[1:] {
		more.WriteString(n.remote() + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "more.conf"), []byte(more.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "fleet.conf")
	text := nodes[0].remote() + "\n[include]\nfiles = more.conf\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return nodes, conf
}
