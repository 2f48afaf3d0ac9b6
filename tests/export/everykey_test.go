package export_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// everyKey uses every key the export maps or notes: numprocs, a
// heterogeneous group, depends_on on a program and on a group, both
// environment files (one optional and missing), every kind of log,
// health checks, restart policies, names that need escaping, and an
// event listener (left out with a warning).
const everyKey = `
[supervisord]
environment_file=-%(here)s/missing.env
environment=GLOBAL="g 1"
umask=027
minfds=2048
childlogdir=%(here)s/logs

[program:db]
command=/bin/sleep 1000
directory=%(here)s
user=root
umask=077
priority=10
autorestart=true
exitcodes=0,3
stopsignal=INT
stopwaitsecs=30
stopasgroup=true
stdout_logfile=%(here)s/logs/db.out
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=3
stderr_logfile=%(here)s/logs/db.err
stderr_syslog=true
healthcheck=tcp://127.0.0.1:1
healthcheck_interval=5
healthcheck_timeout=2
healthcheck_retries=2
healthcheck_start_period=3
on_unhealthy=ignore
environment_file=%(here)s/db.env
environment=DB_MODE=fast,PCT="50%%",DOLLAR="$x",QUOTE='a"b'

[program:worker]
command=sleep 1000
process_name=%(program_name)s@%(process_num)02d
numprocs=3
numprocs_start=1
depends_on=db
killasgroup=true
exitcodes=1,2
startsecs=3
startretries=5
backoff=exponential
backoff_max=20
stdout_logfile=AUTO
stdout_logfile_maxbytes=1MB
stderr_logfile=NONE
stdout_log_format=json
stdout_forward=true
critical=true

[program:web-ui]
command=/bin/sh -c "exec /bin/sleep 1000 100%% $HOME \"quoted\""
redirect_stderr=true
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=0
stderr_log_format=timestamped
stderr_forward=true
autostart=false
startretries=unlimited
priority=20
healthcheck=http://127.0.0.1:1/health
serverurl=http://127.0.0.1:9001

[program:cron]
command=/bin/true
autorestart=false
startsecs=0
stdout_logfile=/dev/null
stderr_logfile=NONE
stderr_syslog=true
stdout_capture_maxbytes=1KB
stdout_events_enabled=true
healthcheck=exec:/bin/true --quick
priority=30

[program:report]
command=/bin/sleep 1000
process_name=report.%(process_num)d
numprocs=2
autorestart=unexpected
stdout_logfile=%(here)s/logs/report.log
stderr_logfile=syslog
priority=30

[group:tools]
programs=cron,report
priority=40
depends_on=web-ui

[program:late]
command=/bin/sleep 1000
priority=999
depends_on=tools:*

[eventlistener:listener]
command=/bin/cat
events=PROCESS_STATE
`

func TestExportEveryKey(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "supervisord.conf")
	writeFile(t, conf, everyKey, 0o644)
	writeFile(t, filepath.Join(dir, "db.env"), "DB_PASSWORD=secret\n", 0o600)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "units")
	r := supervisord(t, []string{"PATH=/usr/bin:/bin"}, "export", "systemd", "-c", conf, "-o", out)
	if r.status != 0 {
		t.Fatalf("export exited %d\n%s%s", r.status, r.stdout, r.stderr)
	}
	// The config's own warnings first, as supervisord logs them (once per
	// instance of report).
	deprecated := "Warning: For [program:report], stderr_logfile=syslog but this is deprecated and will be removed.  Use stderr_syslog=true to enable syslog instead.\n"
	if want := deprecated + deprecated +
		"Warning: [eventlistener:listener] not exported: an event listener talks to supervisord on stdin/stdout\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	units := readUnits(t, out)
	var names []string
	for n := range units {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{
		"db.service", "db.target", "late.service", "late.target",
		"tools-cron.service", "tools-report.0.service", "tools-report.1.service", "tools.target",
		"web-ui.service", "web-ui.target",
		`worker-worker\x4001.service`, `worker-worker\x4002.service`, `worker-worker\x4003.service`, "worker.target",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("units %q\nwant  %q", names, want)
	}
	verify(t, out, units)
	checkEveryKey(t, dir, units)
}

// checkEveryKey spot-checks the directives whose values came through
// quoting or resolution; the mapping itself is pkg/sdexport's tests.
func checkEveryKey(t *testing.T, dir string, units map[string]string) {
	has := func(unit, line string) {
		t.Helper()
		if !slices.Contains(strings.Split(units[unit], "\n"), line) {
			t.Errorf("%s: no line %q in\n%s", unit, line, units[unit])
		}
	}
	has("db.service", "EnvironmentFile=-"+filepath.Join(dir, "missing.env"))
	has("db.service", "EnvironmentFile="+filepath.Join(dir, "db.env"))
	has("db.service", `Environment="PCT=50%%"`)
	has("db.service", `Environment="QUOTE=a\"b"`)
	has("db.service", "StandardOutput=append:"+filepath.Join(dir, "logs/db.out"))
	has(`worker-worker\x4002.service`, "ExecStart=@/usr/bin/sleep sleep 1000")
	has(`worker-worker\x4002.service`, "Requires=db.service")
	has("web-ui.service", `ExecStart=/bin/sh -c "exec /bin/sleep 1000 100%% $$HOME \"quoted\""`)
	has("late.service", "Requires=tools-report.1.service")
	has("tools-cron.service", "Requires=web-ui.service")
}

// TestExportOddPaths: paths with blanks and '%', a command found on the
// program's own PATH, tabs and newlines in arguments; verify must find
// the quoted command and accept every value.
func TestExportOddPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sp ace")
	trueBin, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "bin", "my prog"), string(trueBin), 0o755)
	conf := filepath.Join(dir, "supervisord.conf")
	writeFile(t, conf, `[supervisord]
[program:a]
command="%(here)s/bin/my prog" x
directory=%(here)s
stdout_logfile=%(here)s/out %%%% log
environment_file=-%(here)s/e nv
[program:b]
command="my prog" "tab	x" 'nl
  y'
environment=PATH="%(here)s/bin"
`, 0o644)
	units := exportAndVerify(t, conf, nil)
	has := func(unit, line string) {
		t.Helper()
		if !slices.Contains(strings.Split(units[unit], "\n"), line) {
			t.Errorf("%s: no line %q in\n%s", unit, line, units[unit])
		}
	}
	has("a.service", `ExecStart="`+dir+`/bin/my prog" x`)
	has("a.service", "StandardOutput=append:"+dir+"/out %% log")
	has("b.service", `ExecStart=@"`+dir+`/bin/my prog" "my prog" "tab\tx" "nl\ny"`)
}
