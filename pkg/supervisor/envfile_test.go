package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/process"
)

// environment_file (EXTENSIONS.md §4): the precedence of the layers, a
// file read again at each spawn, and a spawn whose file has become
// unreadable failing as a spawn error.
func TestEnvironmentFileAtEachSpawn(t *testing.T) {
	files := t.TempDir()
	daemonEnv, progEnv, out := filepath.Join(files, "daemon.env"), filepath.Join(files, "prog.env"), filepath.Join(files, "out")
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(daemonEnv, "L1=daemon-file\nL2=daemon-file\nL3=daemon-file\nL4=daemon-file\nPATH=/nonexistent-daemon-file\n")
	t.Setenv("L0", "supervisord")
	t.Setenv("L1", "supervisord")
	write(progEnv, "export L3=prog-file\nL4='prog-file'\nBIN=/bin\nPATH=\"/usr/bin:/bin\" # a comment\n")
	h := startWith(t, fmt.Sprintf("environment_file=%s\nenvironment=L2=daemon-env,L3=daemon-env,L4=daemon-env\n", daemonEnv),
		fmt.Sprintf(`[program:envy]
command=sh -c 'echo "$L0 $L1 $L2 $L3 $L4 $L5 $SUPERVISOR_PROCESS_NAME" >> %s'
environment_file=%s
environment=L4=prog-env,L5=prog-env
autostart=true
autorestart=false
startsecs=0
startretries=0

[program:optional]
command=/bin/sleep 1000
environment_file=-%s/missing.env
autostart=true
startsecs=0
`, out, progEnv, files))
	// sh is found on the PATH of the program's file, not the daemon's file.
	h.waitState("envy", process.Exited, 10*time.Second)
	h.waitState("optional", process.Running, 10*time.Second)
	lines := func() []string {
		data, _ := os.ReadFile(out)
		return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	}
	want := "supervisord daemon-file daemon-env prog-file prog-env prog-env envy"
	if got := lines(); len(got) != 1 || got[0] != want {
		t.Fatalf("child saw %q, want %q", got, want)
	}

	// Changed files: the next spawn sees the new values.
	write(progEnv, "L3=rotated\nPATH=/usr/bin:/bin\n")
	write(daemonEnv, "L1=rotated-daemon\n")
	w, err := h.s.StartProcess("envy")
	if err != nil {
		t.Fatal(err)
	}
	// envy may exit before the waiter sees it RUNNING (startsecs=0), which
	// the original reports as ABNORMAL_TERMINATION too.
	if err := w(context.Background()); err != nil && !isFault(err, fault.AbnormalTermination, "envy") {
		t.Fatal(err)
	}
	h.waitFor("the second line", 10*time.Second, func() bool { return len(lines()) == 2 })
	if got, want := lines()[1], "supervisord rotated-daemon daemon-env rotated prog-env prog-env envy"; got != want {
		t.Errorf("after the change the child saw %q, want %q", got, want)
	}

	h.waitState("envy", process.Exited, 10*time.Second)

	// An unreadable file: a spawn error, then FATAL (startretries=0).
	if err := os.Remove(progEnv); err != nil {
		t.Fatal(err)
	}
	w, err = h.s.StartProcess("envy")
	if err == nil {
		err = w(context.Background())
	}
	if !isFault(err, fault.SpawnError, "envy") {
		t.Errorf("start with the file gone: %v", err)
	}
	in := h.waitState("envy", process.Fatal, 10*time.Second)
	msg := fmt.Sprintf("environment_file '%s' cannot be read: open %s: no such file or directory", progEnv, progEnv)
	if in.SpawnErr != msg {
		t.Errorf("spawnerr %q, want %q", in.SpawnErr, msg)
	}
	h.waitFor("the spawnerr line", 5*time.Second, func() bool { return strings.Contains(h.log.String(), "spawnerr: "+msg) })
}

// An exec health check runs with the variables of the program's spawn.
func TestEnvironmentFileHealthExec(t *testing.T) {
	files := t.TempDir()
	envPath := filepath.Join(files, "app.env")
	if err := os.WriteFile(envPath, []byte("TOKEN=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startWith(t, "", fmt.Sprintf(`[program:web]
command=/bin/sleep 1000
environment_file=%s
healthcheck=exec:/bin/sh -c 'test "$TOKEN" = from-file'
healthcheck_interval=1
autostart=true
startsecs=0
`, envPath))
	h.waitState("web", process.Running, 10*time.Second)
	h.waitFor("web to be healthy", 15*time.Second, func() bool {
		hs, err := h.s.ProcessHealth("web")
		return err == nil && hs.Status == "healthy"
	})
}
