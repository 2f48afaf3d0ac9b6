package extensions_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// An HTTP check against a real server becomes healthy; once the server
// answers 500, on_unhealthy=restart restarts it after exactly
// healthcheck_retries failed checks. supervisorctl status, ours and the
// original's, appends the health to checked RUNNING programs only and
// prints every other line as the original does.
func TestHTTPHealthRestart(t *testing.T) {
	t.Parallel()
	requirePython(t)
	e := newEnv(t)
	port := testutil.FreePort(t)
	closed := testutil.FreePort(t) // nobody listens here
	const retries = 2
	e.write("", fmt.Sprintf(`[program:web]
%s
startsecs=0
healthcheck=http://127.0.0.1:%d/health
healthcheck_interval=1
healthcheck_timeout=1
healthcheck_retries=%d
on_unhealthy=restart

[program:lazy]
command=sleep 1000
startsecs=0
healthcheck=tcp://127.0.0.1:%d
healthcheck_interval=1
healthcheck_timeout=1
healthcheck_retries=1
on_unhealthy=ignore

[program:idle]
command=sleep 1000
autostart=false
healthcheck=tcp://127.0.0.1:%d

[program:plain]
command=sleep 1000
startsecs=0

[program:stopped]
command=sleep 1000
autostart=false
`, helperProgram("http", strconv.Itoa(port), e.dir), port, retries, closed, closed))
	d := e.startDaemon()

	d.waitLog(`INFO health: web is healthy`, 15*time.Second)
	d.waitLog(`WARN health: lazy is unhealthy \(1 failure: connection refused\)`, 15*time.Second)
	pid1 := d.pidOf("web")
	if !alive(pid1) {
		t.Fatalf("web pid %d is not alive", pid1)
	}

	t.Run("status", func(t *testing.T) {
		pidOf := func(name string) string { return fmt.Sprint(d.info(name)["pid"]) }
		want := map[string]*regexp.Regexp{
			"web": regexp.MustCompile(`^` + regexp.QuoteMeta(originalLine("web", "RUNNING", "pid "+pidOf("web")+", ")) +
				`uptime \d+:\d\d:\d\d, healthy$`),
			"lazy": regexp.MustCompile(`^` + regexp.QuoteMeta(originalLine("lazy", "RUNNING", "pid "+pidOf("lazy")+", ")) +
				`uptime \d+:\d\d:\d\d, unhealthy \(\d+ failures?: connection refused\)$`),
			"idle":    regexp.MustCompile(`^` + regexp.QuoteMeta(originalLine("idle", "STOPPED", "Not started")) + `$`),
			"plain":   regexp.MustCompile(`^` + regexp.QuoteMeta(originalLine("plain", "RUNNING", "pid "+pidOf("plain")+", ")) + `uptime \d+:\d\d:\d\d$`),
			"stopped": regexp.MustCompile(`^` + regexp.QuoteMeta(originalLine("stopped", "STOPPED", "Not started")) + `$`),
		}
		outs := map[string]string{}
		for _, ctl := range []string{bins.Supervisorctl, pyCtl} {
			out, code := e.ctl(ctl, "status")
			// Stopped programs make status exit 3 (LSB "not running").
			if code != 3 {
				t.Errorf("%s status: exit %d, want 3\n%s", ctl, code, out)
			}
			lines := statusLines(out)
			if len(lines) != len(want) {
				t.Errorf("%s status: %d lines, want %d:\n%s", ctl, len(lines), len(want), out)
			}
			for name, re := range want {
				if !re.MatchString(lines[name]) {
					t.Errorf("%s status: line of %s is %q, want %s", ctl, name, lines[name], re)
				}
			}
			// Unchecked programs: the original's text, nothing appended.
			for _, name := range []string{"plain", "stopped"} {
				if strings.Contains(lines[name], "health") {
					t.Errorf("%s status: unchecked %s shows health: %q", ctl, name, lines[name])
				}
			}
			outs[ctl] = regexp.MustCompile(`\d+ failures`).ReplaceAllString(maskUptime(out), "N failures")
		}
		if a, b := outs[bins.Supervisorctl], outs[pyCtl]; a != b {
			t.Errorf("our supervisorctl and the original's differ:\nours:\n%s\noriginal's:\n%s", a, b)
		}
		// A namespec in the original's form works too.
		out, code := e.ctl(pyCtl, "status", "web", "plain")
		if code != 0 || !strings.Contains(out, ", healthy\n") {
			t.Errorf("python status web plain: exit %d\n%s", code, out)
		}
	})

	// Make this instance of the server fail; the next one is healthy.
	if err := os.WriteFile(e.path(fmt.Sprintf("fail-%d", pid1)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.waitLog(fmt.Sprintf(`WARN health: web is unhealthy \(%d failures: HTTP 500\)`, retries), 15*time.Second)
	d.waitCount(`INFO spawned: 'web' with pid \d+`, 2, 15*time.Second)
	pid2 := d.pidOf("web")
	if pid2 == pid1 {
		t.Fatalf("web was not restarted: pid still %d", pid1)
	}
	waitGone(t, "the unhealthy web", 5*time.Second, pid1)
	// The old server is gone, so its count of 500s is final.
	b, _ := os.ReadFile(e.path(fmt.Sprintf("served500-%d", pid1)))
	if n := strings.Count(string(b), "500"); n != retries {
		t.Errorf("web was restarted after %d failed checks, want healthcheck_retries=%d", n, retries)
	}
	// The restart is the on_unhealthy one: a stop, then a spawn.
	log := d.mainLog()
	iUnhealthy := strings.Index(log, "health: web is unhealthy")
	iStopped := strings.Index(log, "stopped: web (terminated by SIGTERM)")
	iSpawn := strings.Index(log, fmt.Sprintf("spawned: 'web' with pid %d", pid2))
	if iUnhealthy < 0 || iStopped < iUnhealthy || iSpawn < iStopped {
		t.Errorf("want unhealthy, then stopped, then spawned in the log; at %d, %d, %d", iUnhealthy, iStopped, iSpawn)
	}
	d.waitCount(`INFO health: web is healthy`, 2, 15*time.Second)
	if h := d.health("web"); h["status"] != "healthy" || h["failures"] != int64(0) || h["kind"] != "http" {
		t.Errorf("getProcessHealth(web) after the restart = %v", h)
	}
	out, _ := e.ctl(pyCtl, "status", "web")
	if !strings.HasSuffix(out, ", healthy\n") || !strings.Contains(out, fmt.Sprintf("pid %d,", pid2)) {
		t.Errorf("python status web after the restart: %q", out)
	}
}

// A TCP check against a real listener, and a program that depends on it:
// held back ("waiting for db") until db is healthy, then started.
func TestTCPHealthDependsOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	port := testutil.FreePort(t)
	e.write("", fmt.Sprintf(`[program:db]
%s
startsecs=0
healthcheck=tcp://127.0.0.1:%d
healthcheck_interval=1
healthcheck_timeout=1
healthcheck_retries=5

[program:app]
command=sleep 1000
startsecs=0
depends_on=db
`, helperProgram("tcp", strconv.Itoa(port), "2500ms"), port))
	d := e.startDaemon()

	// db is RUNNING but not listening yet: app waits.
	sawWaiting := false
	var lastApp map[string]any
	if !waitUntil(10*time.Second, func() bool {
		if d.count(`health: db is healthy`) > 0 {
			return true
		}
		app, db := d.info("app"), d.info("db")
		lastApp = app
		if app["statename"] == "STOPPED" && app["description"] == "waiting for db" && db["statename"] == "RUNNING" {
			out, _ := e.ctl(bins.Supervisorctl, "status", "app")
			if d.count(`health: db is healthy`) == 0 {
				if want := originalLine("app", "STOPPED", "waiting for db") + "\n"; out != want {
					t.Errorf("status app while held back: %q, want %q", out, want)
				}
				sawWaiting = true
				return true
			}
		}
		return false
	}) || !sawWaiting {
		t.Fatalf("app was never seen STOPPED, waiting for db, while db was RUNNING and not healthy; last app info %v", lastApp)
	}
	if n := len(d.spawns("app")); n != 0 {
		t.Fatalf("app spawned %d times while db was not healthy", n)
	}
	deps, err := d.rpc.Value("gosupervisor.getProcessDependencies", "app")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := deps.(map[string]any); fmt.Sprint(m["depends_on"]) != "[db]" {
		t.Errorf("getProcessDependencies(app) = %v", deps)
	}

	d.waitLog(`INFO health: db is healthy`, 15*time.Second)
	app := d.waitState("app", "RUNNING", 10*time.Second, nil)
	if !strings.HasPrefix(app["description"].(string), "pid ") || strings.Contains(app["description"].(string), "health") {
		t.Errorf("app RUNNING with description %q", app["description"])
	}
	log := d.mainLog()
	if i, j := strings.Index(log, "health: db is healthy"), strings.Index(log, "spawned: 'app'"); j < i {
		t.Errorf("app spawned (at %d) before db was healthy (at %d)", j, i)
	}
	if h := d.health("db"); h["status"] != "healthy" || h["kind"] != "tcp" {
		t.Errorf("getProcessHealth(db) = %v", h)
	}
	if !alive(d.pidOf("app")) {
		t.Errorf("app pid %d is not alive", d.pidOf("app"))
	}
}

// An exec check that hangs, with a grandchild of its own, is killed at its
// timeout with its whole process group, and counted as a failure.
func TestExecHealthTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	checks := e.path("checks")
	// Each check appends "PID START" (START in seconds since the epoch),
	// then its background sleep's pid, then sleeps in the foreground.
	e.write("", fmt.Sprintf(`[program:hang]
command=sleep 1000
startsecs=0
healthcheck=exec:/bin/sh -c 'echo $$ $(date +%%%%s.%%%%N) >> %[1]s; sleep 1000 & echo $! >> %[1]s; sleep 1000'
healthcheck_interval=1
healthcheck_timeout=1
healthcheck_retries=2
on_unhealthy=ignore
`, checks))
	d := e.startDaemon()

	f := readPids(t, checks, 1, 10*time.Second) // the first check's sh
	sh := f[0]
	var start float64
	var grandchild int
	waitUntil(5*time.Second, func() bool {
		b, _ := os.ReadFile(checks)
		fields := strings.Fields(string(b))
		if len(fields) < 3 {
			return false
		}
		start, _ = strconv.ParseFloat(fields[1], 64)
		grandchild, _ = strconv.Atoi(fields[2])
		return true
	})
	if grandchild == 0 {
		t.Fatalf("the check never wrote its grandchild's pid to %s", checks)
	}
	if _, g := procStat(grandchild); alive(grandchild) && g != sh {
		t.Errorf("the check's grandchild %d is in process group %d, want the check's own (%d)", grandchild, g, sh)
	}
	if !waitUntil(5*time.Second, func() bool { return !alive(sh) && len(inGroup(sh)) == 0 }) {
		t.Fatalf("the hung check's process group %d still has %v", sh, inGroup(sh))
	}
	gone := float64(time.Now().UnixNano()) / 1e9
	if el := gone - start; el < 0.9 || el > 3.5 {
		t.Errorf("the check with healthcheck_timeout=1 ended %.2fs after it started", el)
	}
	if alive(grandchild) {
		t.Errorf("the check's grandchild %d survived", grandchild)
	}

	d.waitLog(`WARN health: hang is unhealthy \(2 failures: timeout after 1s\)`, 15*time.Second)
	h := d.health("hang")
	if h["status"] != "unhealthy" || h["failures"].(int64) < 2 || h["last_error"] != "timeout after 1s" {
		t.Errorf("getProcessHealth(hang) = %v", h)
	}
	// Stopping the program kills a check in flight too; afterwards not one
	// process of any check is left.
	if out, code := e.ctl(bins.Supervisorctl, "stop", "hang"); code != 0 {
		t.Fatalf("stop hang: exit %d\n%s", code, out)
	}
	// Lines of the file: "PID START" of a check's sh (its process group),
	// then its background sleep's pid.
	b, _ := os.ReadFile(checks)
	var groups, grandchildren []int
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.Atoi(f[0])
		if len(f) == 2 {
			groups = append(groups, n)
		} else {
			grandchildren = append(grandchildren, n)
		}
	}
	if len(groups) < 2 {
		t.Fatalf("%d checks ran, want ≥ 2:\n%s", len(groups), b)
	}
	waitGone(t, "the checks' grandchildren", 5*time.Second, grandchildren...)
	if !waitUntil(5*time.Second, func() bool {
		for _, g := range groups {
			if len(inGroup(g)) > 0 {
				return false
			}
		}
		return true
	}) {
		for _, g := range groups {
			t.Errorf("check process group %d: %v still alive", g, inGroup(g))
		}
	}
	if left := marked(e.dir); len(left) > 0 {
		t.Errorf("processes of the test still alive after stop: %v", left)
	}
}
