package daemon_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// environment_file (EXTENSIONS.md §4) with the real daemon: the child sees
// the files' variables under the config's, a respawn reads the file again,
// reloadConfig sees a changed file as a changed program and update (stop,
// remove, add) restarts it with the new values, and a "-" file may be
// missing.
func TestEnvironmentFileDaemon(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "seen")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("daemon.env", "# shared\nD=daemon-file\nSHARED=daemon-file\n")
	conf := writeConf(t, dir, "environment_file=%(here)s/daemon.env", fmt.Sprintf(`[unix_http_server]
file=%[1]s/sv.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:envy]
command=/bin/sh -c 'echo "A=$A B=$B SHARED=$SHARED D=$D C=$C" >> %[2]s; exec sleep 1000'
environment_file=%%(here)s/%%(program_name)s.env
environment=C=config
startretries=0
startsecs=0
autorestart=true

[program:opt]
command=/bin/sh -c 'echo "opt D=$D" >> %[2]s.opt; exec sleep 1000'
environment_file=-%%(here)s/missing.env
startsecs=0
`, dir, out))
	write("envy.env", "export A=1\nSHARED='app-file'\nB=\"two words\" # comment\nC=file\n")
	d := startForeground(t, dir, conf)
	rpc := harness.NewUnixClient(filepath.Join(dir, "sv.sock"))
	lines := func(n int) []string {
		t.Helper()
		var got []string
		if !waitUntil(10*time.Second, func() bool {
			data, _ := os.ReadFile(out)
			got = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			return len(got) >= n && got[0] != ""
		}) {
			t.Fatalf("wanted %d lines, have %q; log:\n%s", n, got, d.log())
		}
		return got
	}
	if got, want := lines(1)[0], "A=1 B=two words SHARED=app-file D=daemon-file C=config"; got != want {
		t.Errorf("first spawn saw %q, want %q", got, want)
	}
	waitFile(t, out+".opt", 10*time.Second, func(s string) bool { return s == "opt D=daemon-file\n" })

	// The file changes; the next spawn (an autorestart) sees it.
	write("envy.env", "A=2\n")
	info, err := rpc.WaitState("envy", "RUNNING", 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(int(info["pid"].(int64)), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got, want := lines(2)[1], "A=2 B= SHARED=daemon-file D=daemon-file C=config"; got != want {
		t.Errorf("respawn saw %q, want %q", got, want)
	}

	// reloadConfig: envy's file is not what it was at load, so envy changed.
	v, err := rpc.Value("supervisor.reloadConfig")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != "[[[] [envy] []]]" {
		t.Errorf("reloadConfig = %s, want [[[] [envy] []]]", got)
	}
	for _, call := range []string{"supervisor.stopProcessGroup", "supervisor.removeProcessGroup", "supervisor.addProcessGroup"} {
		if _, err := rpc.Value(call, "envy"); err != nil {
			t.Fatalf("%s: %v", call, err)
		}
	}
	if got, want := lines(3)[2], "A=2 B= SHARED=daemon-file D=daemon-file C=config"; got != want {
		t.Errorf("after update %q, want %q", got, want)
	}
	// Loaded again with the same content: nothing changed. Comments and
	// quoting are not content.
	write("envy.env", "# rotated by hand\nA='2'\n")
	if v, err = rpc.Value("supervisor.reloadConfig"); err != nil || fmt.Sprint(v) != "[[[] [] []]]" {
		t.Errorf("second reloadConfig = %v, %v", v, err)
	}

	// A file gone at a respawn: a spawn error in the log, and BACKOFF.
	if err := os.Remove(filepath.Join(dir, "envy.env")); err != nil {
		t.Fatal(err)
	}
	info, _ = rpc.ProcessInfo("envy")
	if err := syscall.Kill(int(info["pid"].(int64)), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.waitLog(regexp.QuoteMeta("INFO spawnerr: environment_file '"+dir+"/envy.env' cannot be read: open "+dir+"/envy.env: no such file or directory"), 10*time.Second)
	if _, err := rpc.WaitState("envy", "FATAL", 20*time.Second, nil); err != nil {
		t.Error(err)
	}
	if n := len(lines(3)); n != 3 {
		t.Errorf("%d lines after the file went", n)
	}
}

// A missing or malformed file is a config error: exit 2 and the message.
func TestEnvironmentFileConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ file, content, want string }{
		{"-missing.env", "", ""},
		{"missing.env", "", "Error: environment_file '<DIR>/missing.env' cannot be read: open <DIR>/missing.env: no such file or directory in section 'program:a' (file: '<DIR>/supervisord.conf')"},
		{"bad.env", "A=1\nexport\n", "Error: environment_file '<DIR>/bad.env' is not valid: <DIR>/bad.env:2: expected '=' after export, not \"\" in section 'program:a' (file: '<DIR>/supervisord.conf')"},
	} {
		dir := t.TempDir()
		if tt.content != "" {
			if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(tt.file, "-")), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		conf := writeConf(t, dir, "", "[program:a]\ncommand=/bin/true\nenvironment_file=%(here)s/"+strings.TrimPrefix(tt.file, "-")+"\n")
		if strings.HasPrefix(tt.file, "-") {
			conf = writeConf(t, dir, "", "[program:a]\ncommand=/bin/true\nenvironment_file=-%(here)s/"+tt.file[1:]+"\n")
		}
		cmd := exec.Command(supervisordBin, "-c", conf, "--check-config")
		outb, _ := cmd.CombinedOutput()
		status := cmd.ProcessState.ExitCode()
		text := strings.ReplaceAll(string(outb), dir, "<DIR>")
		if tt.want == "" {
			if status != 0 || !strings.Contains(text, "environment file: <DIR>/missing.env (optional)") {
				t.Errorf("%s: status %d\n%s", tt.file, status, text)
			}
			continue
		}
		if status != 2 || !slices.Contains(strings.Split(text, "\n"), tt.want) {
			t.Errorf("%s: status %d, output\n%s\nwant the line\n%s", tt.file, status, text, tt.want)
		}
	}
}
