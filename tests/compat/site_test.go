package compat

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// baseConfig is the differential config; %(here)s keeps the text identical
// for both daemons apart from the inet port.
const baseConfig = `[unix_http_server]
file=%(here)s/sv.sock

[inet_http_server]
port=127.0.0.1:PORT

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/childlogs
identifier=compat

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/sv.sock

[program:sleeper]
command=/bin/sleep 1000
stdout_logfile=%(here)s/sleeper.out
stderr_logfile=%(here)s/sleeper.err

[program:talker]
command=/bin/sh -c "printf 'out1\nout2\n'; printf 'a\nr1\n' >&2; exec /bin/sleep 1000"
stdout_logfile=%(here)s/talker.out
stderr_logfile=%(here)s/talker.err

[program:catter]
command=/bin/cat
stdout_logfile=%(here)s/catter.out

[program:crashy]
command=/bin/sleep 1001
autorestart=true
stdout_logfile=%(here)s/crashy.out

[program:manual]
command=/bin/sleep 1002
autostart=false
stdout_logfile=%(here)s/manual.out

[group:g]
programs=ga,gb
priority=500

[program:ga]
command=/bin/sleep 1004
autostart=false

[program:gb]
command=/bin/sleep 1005
autostart=false
`

// reloadable are the sections item 12 edits: changeme changes its command,
// notexist disappears, newprog appears.
const (
	reloadBefore = `
[program:changeme]
command=/bin/sleep 1003

[program:notexist]
command=/nonexistent/cmd
autostart=false
`
	reloadAfter = `
[program:changeme]
command=/bin/sleep 1006

[program:newprog]
command=/bin/sleep 1007
`
)

// site is one daemon's directory, config and process.
type site struct {
	dir, conf, sock string
	port            int
	d               *harness.Daemon
}

func newSite(t *testing.T, extra string) *site {
	t.Helper()
	dir := t.TempDir()
	s := &site{dir: dir, conf: filepath.Join(dir, "supervisord.conf"), sock: filepath.Join(dir, "sv.sock"), port: harness.FreePort(t)}
	if err := os.Mkdir(filepath.Join(dir, "childlogs"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.write(t, extra)
	return s
}

func (s *site) write(t *testing.T, extra string) {
	t.Helper()
	text := strings.Replace(baseConfig, "PORT", fmt.Sprint(s.port), 1) + extra
	if err := os.WriteFile(s.conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *site) start(t *testing.T, name, bin string) {
	t.Helper()
	s.d = harness.StartDaemon(t, name, bin, s.conf, s.sock, nil)
	if err := s.d.RPC.WaitSettled(15 * time.Second); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func writeFile(path, text string) error {
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
