package logfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// SPEC §10 item 34 against the real Python supervisord: a child writes 8 KB
// at once into a 2KB/2-backup log. Both implementations must leave the same
// files with the same sizes.
func TestRotationMatchesPythonSupervisord(t *testing.T) {
	if _, err := os.Stat("/usr/bin/supervisord"); err != nil {
		t.Skip("Python supervisord not installed")
	}
	const burst = `import os; os.write(1, b'x' * 8192)`
	pyDir := t.TempDir()
	conf := `[supervisord]
logfile=%(here)s/sd.log
pidfile=%(here)s/sd.pid
nodaemon=true
[program:x]
command=/usr/bin/python3 -c "` + burst + `; import time; time.sleep(60)"
stdout_logfile=%(here)s/x.out
stdout_logfile_maxbytes=2KB
stdout_logfile_backups=2
autorestart=false
startsecs=0
`
	confPath := filepath.Join(pyDir, "sd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	sd := exec.Command("/usr/bin/supervisord", "-n", "-c", confPath)
	if err := sd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sd.Process.Signal(syscall.SIGTERM)
		sd.Wait()
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st, err := os.Stat(filepath.Join(pyDir, "x.out.1")); err == nil && st.Size() >= 8192 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Python supervisord did not rotate x.out within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	goDir := t.TempDir()
	rot, err := OpenRotator(filepath.Join(goDir, "x.out"), 2048, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command("/usr/bin/python3", "-c", burst)
	out, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	NewChannel(ChannelOptions{Rotator: rot}).Pump(out)
	child.Wait()
	rot.Close()

	for _, name := range []string{"x.out", "x.out.1", "x.out.2"} {
		py, pyErr := os.Stat(filepath.Join(pyDir, name))
		gost, goErr := os.Stat(filepath.Join(goDir, name))
		if (pyErr == nil) != (goErr == nil) {
			t.Errorf("%s: python exists=%v, go exists=%v", name, pyErr == nil, goErr == nil)
			continue
		}
		if pyErr == nil && py.Size() != gost.Size() {
			t.Errorf("%s: python %d bytes, go %d bytes", name, py.Size(), gost.Size())
		}
		if name == "x.out.1" && pyErr == nil && py.Size() != 8192 {
			t.Errorf("python x.out.1 = %d bytes, want 8192", py.Size())
		}
	}
}
