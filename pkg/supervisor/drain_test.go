package supervisor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// TestLastOutputIsLoggedBeforeExited: when `exited:` is written, the
// child's whole output is already in its log file, as the original's
// finish() drains the pipes first; and with loglevel debug the SIGCHLD and
// dispatcher lines are there in the original's order.
func TestLastOutputIsLoggedBeforeExited(t *testing.T) {
	h := start(t, `[program:quick]
command=/bin/sh -c 'i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done; echo LAST'
autostart=false
autorestart=false
startsecs=0
stdout_logfile=%(here)s/quick.out
`)
	seen := make(chan bool, 1)
	h.log.setHook(func(msg string) {
		if strings.HasPrefix(msg, "exited: quick") {
			data, _ := os.ReadFile(filepath.Join(h.dir, "quick.out"))
			seen <- bytes.HasSuffix(data, []byte("line19999\nLAST\n"))
		}
	})
	for range 3 {
		if _, err := h.s.StartProcess("quick"); err != nil {
			t.Fatal(err)
		}
		select {
		case complete := <-seen:
			if !complete {
				t.Fatal("exited: was logged before the child's last output reached its log")
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no exited: line; log:\n%s", h.log)
		}
		h.waitFor("quick EXITED", 10*time.Second, func() bool {
			in, _ := h.s.Group("quick")
			return len(in) == 1 && in[0].State == int(process.Exited)
		})
	}
	var order []string
	for _, line := range strings.Split(h.log.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "fd ") && strings.Contains(line, "closed, stopped monitoring <POutputDispatcher at "):
			order = append(order, "closed")
		case strings.HasPrefix(line, "exited: quick"):
			order = append(order, "exited")
		case line == "received SIGCHLD indicating a child quit":
			order = append(order, "SIGCHLD")
		}
	}
	want := strings.TrimSpace(strings.Repeat("closed closed exited SIGCHLD ", 3))
	if got := strings.Join(order, " "); got != want {
		t.Errorf("debug lines in order %q; want %q", got, want)
	}
}

// TestEmptyDirectoryAndServerurl: directory= given empty makes the child
// fail chdir("") as the original's does, and serverurl= given empty sets
// no SUPERVISOR_SERVER_URL.
func TestEmptyDirectoryAndServerurl(t *testing.T) {
	h := start(t, `[unix_http_server]
file=%(here)s/sv.sock

[program:nodir]
command=/bin/echo hello
directory=
startretries=0
stderr_logfile=%(here)s/nodir.err

[program:nourl]
command=/bin/sh -c 'echo "url=${SUPERVISOR_SERVER_URL-unset}"'
serverurl=
autorestart=false
startsecs=0
stdout_logfile=%(here)s/nourl.out

[program:autourl]
command=/bin/sh -c 'echo "url=${SUPERVISOR_SERVER_URL-unset}"'
serverurl=AUTO
autorestart=false
startsecs=0
stdout_logfile=%(here)s/autourl.out
`)
	read := func(name string) string {
		data, _ := os.ReadFile(filepath.Join(h.dir, name))
		return string(data)
	}
	h.waitFor("nodir FATAL", 20*time.Second, func() bool {
		in, _ := h.s.Group("nodir")
		return len(in) == 1 && in[0].State == int(process.Fatal)
	})
	if got, want := read("nodir.err"), "supervisor: couldn't chdir to : ENOENT\nsupervisor: child process was not spawned\n"; got != want {
		t.Errorf("nodir stderr %q; want %q", got, want)
	}
	h.waitFor("both url programs to print", 20*time.Second, func() bool {
		return strings.Contains(read("nourl.out"), "\n") && strings.Contains(read("autourl.out"), "\n")
	})
	if got := read("nourl.out"); got != "url=unset\n" {
		t.Errorf("serverurl= child saw %q", got)
	}
	if got, want := read("autourl.out"), "url=unix://"+filepath.Join(h.dir, "sv.sock")+"\n"; got != want {
		t.Errorf("serverurl=AUTO child saw %q; want %q", got, want)
	}
}
