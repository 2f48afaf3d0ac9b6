package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// historyPrograms (issue 17): flappy is a real crash loop (exit 3 after
// 0.3 s, restarted at once); busy burns some CPU for the charts; steady
// just runs; pool is a group section. None uses our keys: the history is
// there for every config.
const historyPrograms = `
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:flappy]
command=/bin/sh -c "echo crashing >&2; sleep 0.3; exit 3"
startsecs=0
autorestart=true

[program:busy]
command=/bin/sh -c "while :; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 0.05; done"
startsecs=0

[program:steady]
command=/bin/sleep 1000
startsecs=0

[group:pool]
programs=worker

[program:worker]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)d
startsecs=0
`

// TestHistoryInChromium: the flapping badge, the detail view's charts and
// timeline after a real crash loop, group sections, and the table against
// getAllProcessInfo, at 1280x800 and 390x844 (history.mjs).
func TestHistoryInChromium(t *testing.T) {
	root := repoRoot(t)
	requireTools(t, root)
	bin := buildDaemon(t, root)
	artifacts := filepath.Join(root, "test-artifacts")
	dir := t.TempDir()
	port := testutil.FreePort(t)
	conf := filepath.Join(dir, "supervisord.conf")
	text := fmt.Sprintf("[supervisord]\nlogfile=%[1]s/supervisord.log\npidfile=%[1]s/supervisord.pid\nchildlogdir=%[1]s\nidentifier=browser-history\n\n[inet_http_server]\nport=127.0.0.1:%[2]d\n", dir, port) +
		historyPrograms
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	d := startConsole(t, bin, conf, url, "", "")
	defer d.stop(t)
	runNode(t, root, "history.mjs", url, artifacts, "history")
	requireShots(t, artifacts, "history", "nojs", "desktop-folded", "desktop-table", "desktop-crashloop", "desktop-detail",
		"phone-folded", "phone-table", "phone-crashloop", "phone-detail")
}
