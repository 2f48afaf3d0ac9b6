// Package browser drives the web console in a real headless Chromium
// (Debian's chromium + playwright-core from npm): it starts supervisord on a
// temporary config with an inet HTTP server, with and without auth, and runs
// console.mjs against it. Screenshots go to test-artifacts/ at the
// repository root.
package browser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testutil"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/server"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/webui"
)

// standInEnv makes this test binary a minimal daemon (see standIn).
const standInEnv = "GOSUP_BROWSER_STANDIN_CONF"

func TestMain(m *testing.M) {
	spawn.ShimMain()
	if conf := os.Getenv(standInEnv); conf != "" {
		if err := standIn(conf); err != nil {
			fmt.Fprintln(os.Stderr, "stand-in daemon:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const programs = `
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:sleeper]
command=/bin/sleep 1000
startsecs=1

; %% is a literal % in the config dialect.
[program:ticker]
command=/bin/sh -c "while :; do echo tick $(date +%%s%%3N); sleep 0.2; done"
startsecs=0

[program:idle]
command=/bin/sleep 1000
autostart=false

[program:broken]
command=/bin/sh -c "echo cannot start >&2; exit 3"
startsecs=1
startretries=0

[group:pool]
programs=worker

[program:worker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

// requireTools fails (never skips) when the browser stack is missing.
func requireTools(t testing.TB, root string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("Debian's chromium is required for the web console test (apt-get install chromium, or make test-deps): %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is required for the web console test: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "tests/browser/node_modules/playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed (cd tests/browser && npm install, or make test-deps): %v", err)
	}
}

// daemon is a supervisord (ours, or the stand-in) running as a child.
type daemon struct {
	cmd  *exec.Cmd
	out  *strings.Builder
	done chan error
}

func startDaemon(t testing.TB, argv []string, env []string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(argv[0], argv[1:]...), out: &strings.Builder{}, done: make(chan error, 1)}
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	return d
}

func (d *daemon) stop(t testing.TB) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("daemon did not stop on SIGTERM; output:\n%s", d.out)
	}
}

// waitConsole polls until the console's API answers (true), or answers 404
// or nothing listens until the deadline (false: console not wired), or the
// daemon fails (error).
func (d *daemon) waitConsole(url, user, pass string, within time.Duration) (bool, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.done:
			d.done <- err
			return false, fmt.Errorf("daemon exited: %v", err)
		default:
		}
		req, _ := http.NewRequest("GET", url+"/api/v1/supervisor", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				return true, nil
			case 404: // HTTP served, console not plugged in
				return false, nil
			}
			return false, fmt.Errorf("GET /api/v1/supervisor: %s", resp.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false, nil
}

// buildDaemon builds cmd/supervisord for one test.
func buildDaemon(t testing.TB, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "supervisord")
	build := exec.Command("go", "build", "-o", bin, "./cmd/supervisord")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building supervisord: %v\n%s", err, out)
	}
	return bin
}

// startConsole runs supervisord (bin) on conf and waits until its console
// answers at url; while cmd/supervisord does not serve the console, it
// runs the stand-in daemon instead.
func startConsole(t *testing.T, bin, conf, url, user, pass string) *daemon {
	t.Helper()
	d := startDaemon(t, []string{bin, "-n", "-c", conf}, nil)
	ok, err := d.waitConsole(url, user, pass, 5*time.Second)
	if err != nil {
		d.stop(t)
		t.Fatalf("supervisord: %v; output:\n%s", err, d.out)
	}
	if ok {
		return d
	}
	// The console is not plugged into cmd/supervisord yet. Serve it from
	// a stand-in daemon built from the engine, pkg/server and pkg/webui,
	// so that it is still tested end to end in a browser.
	d.stop(t)
	t.Logf("NOTE: supervisord does not serve the web console yet; using the stand-in daemon (engine + pkg/server + pkg/webui)")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d = startDaemon(t, []string{self, "-test.run=^$"}, []string{standInEnv + "=" + conf})
	if ok, err := d.waitConsole(url, user, pass, 10*time.Second); !ok {
		d.stop(t)
		t.Fatalf("stand-in daemon: %v; output:\n%s", err, d.out)
	}
	return d
}

// runNode runs a console script in tests/browser and fails on its failure.
func runNode(t *testing.T, root string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	node := exec.CommandContext(ctx, "node", args...)
	node.Dir = filepath.Join(root, "tests/browser")
	out, err := node.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("browser run failed: %v", err)
	}
}

// requireShots fails for a screenshot that is missing or empty.
func requireShots(t *testing.T, artifacts, prefix string, shots ...string) {
	t.Helper()
	for _, shot := range shots {
		p := filepath.Join(artifacts, prefix+"-"+shot+".png")
		if fi, err := os.Stat(p); err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot %s missing or empty: %v", p, err)
		}
	}
}

func TestConsoleInChromium(t *testing.T) {
	root := repoRoot(t)
	requireTools(t, root)
	bin := buildDaemon(t, root)
	artifacts := filepath.Join(root, "test-artifacts")
	tests := []struct {
		name, user, pass string
	}{
		{"noauth", "", ""},
		{"auth", "admin", "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			port := testutil.FreePort(t)
			auth := ""
			if tt.user != "" {
				auth = fmt.Sprintf("username=%s\npassword=%s\n", tt.user, tt.pass)
			}
			conf := filepath.Join(dir, "supervisord.conf")
			text := fmt.Sprintf("[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\nidentifier=browser-%[2]s\n\n[inet_http_server]\nport=127.0.0.1:%[3]d\n%[4]s", dir, tt.name, port, auth) +
				programs
			if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			url := fmt.Sprintf("http://127.0.0.1:%d", port)

			d := startConsole(t, bin, conf, url, tt.user, tt.pass)
			defer d.stop(t)

			args := []string{"console.mjs", url, artifacts, tt.name}
			if tt.user != "" {
				args = append(args, tt.user, tt.pass)
			}
			runNode(t, root, args...)
			requireShots(t, artifacts, tt.name, "nojs", "nojs-menu", "nojs-phone", "prejs-phone", "prejs", "table", "tail", "phone")
		})
	}
}

// healthPrograms exercise depends_on and health checks (EXTENSIONS.md §1,
// §2) with real checks: api's tcp check connects to the daemon's own HTTP
// port and passes; cache's exec check fails until health.mjs creates
// cache.ok; warming's keeps failing below its retries, so it stays
// starting; report depends on db, whose check passes once db.ok exists.
const healthPrograms = `
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:api]
command=/bin/sleep 1000
startsecs=0
healthcheck=tcp://127.0.0.1:%[2]d
healthcheck_interval=1

[program:cache]
command=/bin/sleep 1000
startsecs=0
healthcheck=exec:/bin/sh -c "test -e %[1]s/cache.ok || { echo cache is cold; exit 1; }"
healthcheck_interval=1
healthcheck_retries=1
on_unhealthy=ignore

[program:warming]
command=/bin/sleep 1000
startsecs=0
healthcheck=exec:/bin/sh -c "echo still warming up; exit 2"
healthcheck_interval=1
healthcheck_retries=1000
on_unhealthy=ignore

[program:db]
command=/bin/sleep 1000
startsecs=0
healthcheck=exec:/bin/sh -c "test -e %[1]s/db.ok || { echo db is loading; exit 1; }"
healthcheck_interval=1
healthcheck_retries=1000
on_unhealthy=ignore

[program:report]
command=/bin/sleep 1000
startsecs=0
depends_on=db

[program:plain]
command=/bin/sleep 1000
startsecs=0
`

// TestHealthInChromium: the console's health badges, the wait of a
// program held back by depends_on, and both changing live, at desktop and
// phone widths (health.mjs).
func TestHealthInChromium(t *testing.T) {
	root := repoRoot(t)
	requireTools(t, root)
	bin := buildDaemon(t, root)
	artifacts := filepath.Join(root, "test-artifacts")
	dir := t.TempDir()
	port := testutil.FreePort(t)
	conf := filepath.Join(dir, "supervisord.conf")
	text := fmt.Sprintf("[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\nidentifier=browser-health\n\n[inet_http_server]\nport=127.0.0.1:%[2]d\n", dir, port) +
		fmt.Sprintf(healthPrograms, dir, port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	d := startConsole(t, bin, conf, url, "", "")
	defer d.stop(t)
	runNode(t, root, "health.mjs", url, artifacts, "health", dir)
	requireShots(t, artifacts, "health", "desktop", "phone", "nojs", "live")
}

// standIn is a minimal supervisord for the browser test while the console
// is not plugged into cmd/supervisord: the engine, and pkg/server with
// pkg/webui on the config's [inet_http_server]. It runs until SIGTERM.
func standIn(path string) error {
	signal.Ignore(spawn.IgnoredSignals()...)
	cfg, err := config.Load(path, config.Options{})
	if err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	if cfg.InetHTTP == nil {
		return errors.New("no [inet_http_server] in " + path)
	}
	reaper, err := spawn.NewReaper()
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	// The reaper must outlive the shutdown: the engine waits for its children.
	go reaper.Run(context.Background())
	ring := logfile.NewRing(1 << 20)
	sup, err := supervisor.New(supervisor.Options{
		Config: cfg, LoadOptions: config.Options{}, Reaper: reaper,
		Log: ringLog{ring}, MainLogRing: ring,
	})
	if err != nil {
		return err
	}
	// The real HTTP layer (auth, /RPC2, legacy links) with the console
	// plugged in as cmd/supervisord is meant to do it.
	h := server.Handler(sup, ringLog{ring}, *cfg.InetHTTP, server.Options{
		UI: func(d *rpc.Server) http.Handler { return webui.New(sup, d, webui.Options{}) },
	})
	l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", cfg.InetHTTP.Host, cfg.InetHTTP.Port))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	runErr := sup.Run(ctx)
	shut, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	var rr *supervisor.RestartRequest
	if errors.As(runErr, &rr) {
		return nil
	}
	return runErr
}

// ringLog writes the engine's and the server's log lines to the main log
// ring in the original's line format (close enough for a stand-in).
type ringLog struct{ ring *logfile.Ring }

func (l ringLog) Log(level loglevel.Level, msg string) {
	fmt.Fprintf(l.ring, "%s INFO %s\n", time.Now().Format("2006-01-02 15:04:05,000"), msg)
}
func (ringLog) Enabled(loglevel.Level) bool { return true }
