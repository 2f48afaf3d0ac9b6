package browser

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// The fleet's three nodes (issue 19): alpha, the console's daemon, watches
// beta (ours) and py (Debian's Python supervisord) through [remote:NAME].
const (
	alphaPrograms = `
[program:aone]
command=/bin/sleep 1000
startsecs=0

[program:atwo]
command=/bin/sleep 1000
startsecs=0
`
	betaPrograms = `
[program:bapi]
command=/bin/sleep 1000
startsecs=0

[group:bpool]
programs=bworker

[program:bworker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`
	pyPrograms = `
[program:pyweb]
command=/bin/sleep 1000
startsecs=0

[program:pycron]
command=/bin/sleep 1000
startsecs=0

[program:pyidle]
command=/bin/sleep 1000
autostart=false
`
)

// nodeConf writes one node's config in dir/name.conf.
func nodeConf(t testing.TB, dir, name string, port int, body string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(d, "supervisord.conf")
	text := fmt.Sprintf("[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\nidentifier=%[2]s\n\n[inet_http_server]\nport=127.0.0.1:%[3]d\n\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n", d, name, port) + body
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// waitRPC polls until url's /RPC2 answers supervisor.getState.
func waitRPC(t testing.TB, d *daemon, url string) {
	t.Helper()
	body := `<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>`
	ok := testutil.WaitUntil(15*time.Second, func() bool {
		resp, err := http.Post(url+"/RPC2", "text/xml", strings.NewReader(body))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if !ok {
		t.Fatalf("%s does not answer XML-RPC; output:\n%s", url, d.out)
	}
}

// TestFleetInChromium: the fleet view over three real daemons (fleet.mjs):
// every node's processes, an action on each, the node filter, a daemon
// stopped shown unreachable within 2 s while the others keep updating, at
// 1280x800 and 390x844.
func TestFleetInChromium(t *testing.T) {
	root := repoRoot(t)
	requireTools(t, root)
	if _, err := os.Stat("/usr/bin/supervisord"); err != nil {
		t.Fatalf("Debian's supervisor package is required for the fleet test: %v", err)
	}
	bin := buildDaemon(t, root)
	artifacts := filepath.Join(root, "test-artifacts")
	dir := t.TempDir()
	pa, pb, pp := testutil.FreePort(t), testutil.FreePort(t), testutil.FreePort(t)
	urlOf := func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p) }

	py := startDaemon(t, []string{"/usr/bin/supervisord", "-n", "-c", nodeConf(t, dir, "py", pp, pyPrograms)}, nil)
	defer py.stop(t)
	beta := startDaemon(t, []string{bin, "-n", "-c", nodeConf(t, dir, "beta", pb, betaPrograms)}, nil)
	defer beta.stop(t)
	remotes := fmt.Sprintf("\n[remote:beta]\nserverurl=%s\n\n[remote:py]\nserverurl=%s\n", urlOf(pb), urlOf(pp))
	alpha := startDaemon(t, []string{bin, "-n", "-c", nodeConf(t, dir, "alpha", pa, alphaPrograms+remotes)}, nil)
	defer alpha.stop(t)
	waitRPC(t, py, urlOf(pp))
	waitRPC(t, beta, urlOf(pb))
	waitRPC(t, alpha, urlOf(pa))

	runNode(t, root, "fleet.mjs", urlOf(pa), artifacts, "fleet", urlOf(pb), urlOf(pp), strconv.Itoa(beta.cmd.Process.Pid))
	requireShots(t, artifacts, "fleet", "desktop", "filter", "down", "local", "phone", "phone-top")
}

// TestFleetFollowsReload: the console watches the remotes of the config
// it runs: after SIGHUP those of the new file, and none (no fleet routes)
// once the file has no [remote:NAME] left.
func TestFleetFollowsReload(t *testing.T) {
	root := repoRoot(t)
	bin := buildDaemon(t, root)
	dir := t.TempDir()
	port := testutil.FreePort(t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	remote := func(name string) string {
		return fmt.Sprintf("\n[remote:%s]\nserverurl=http://127.0.0.1:%d\n", name, testutil.FreePort(t))
	}
	conf := nodeConf(t, dir, "console", port, alphaPrograms+remote("old"))
	d := startDaemon(t, []string{bin, "-n", "-c", conf}, nil)
	defer d.stop(t)
	waitRPC(t, d, url)
	// remotes is the fleet's remote node names ("404" without a fleet).
	remotes := func() string {
		resp, err := http.Get(url + "/api/v1/fleet")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return strconv.Itoa(resp.StatusCode)
		}
		var f struct {
			Nodes []struct {
				Name  string `json:"name"`
				Local bool   `json:"local"`
			} `json:"nodes"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
			return err.Error()
		}
		var names []string
		for _, n := range f.Nodes {
			if !n.Local {
				names = append(names, n.Name)
			}
		}
		return strings.Join(names, " ")
	}
	for _, step := range []struct{ remotes, want string }{
		{"", "old"},
		{remote("new") + remote("newer"), "new newer"},
		{"-", "404"},
	} {
		if step.remotes != "" {
			body := alphaPrograms
			if step.remotes != "-" {
				body += step.remotes
			}
			nodeConf(t, dir, "console", port, body)
			if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
		}
		var got string
		if !testutil.WaitUntil(10*time.Second, func() bool { got = remotes(); return got == step.want }) {
			t.Fatalf("remotes %q, want %q; output:\n%s", got, step.want, d.out)
		}
	}
}
