package pidproxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSpawnedProgram: the command is made absolute against the working
// directory (a script sees that path as $0) and gets its arguments as
// given, the environment (PEP 538 adds LC_CTYPE=C.UTF-8 when the locale is
// C), and SIGPIPE and SIGXFSZ ignored, as Python leaves them.
func TestSpawnedProgram(t *testing.T) {
	t.Parallel()
	envs := map[string]func(dir string) []string{
		"test environment": func(dir string) []string { return baseEnv(dir) },
		"no locale":        func(dir string) []string { return []string{"PATH=/usr/bin:/bin", markerVar + "=" + dir} },
		"LANG=C":           func(dir string) []string { return []string{"LANG=C", "PATH=/usr/bin:/bin", markerVar + "=" + dir} },
		"LC_ALL=C":         func(dir string) []string { return []string{"LC_ALL=C", "PATH=/usr/bin:/bin", markerVar + "=" + dir} },
	}
	for name, env := range envs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forEachImpl(t, "the spawned program under "+name, func(t *testing.T, im impl) string {
				return spawnedProgram(t, im, env)
			})
		})
	}
}

func spawnedProgram(t *testing.T, im impl, env func(string) []string) string {
	dir := runDir(t)
	environ := env(dir)
	r := startProxy(t, im, dir, environ, "daemon.pid", "./daemon.sh", dir, "fg", "two words", "", "*")
	r.daemonPid(t)
	r.signal(t, syscall.SIGTERM)
	r.waitExit(t, 5*time.Second)
	argv, childEnv, disp := r.file("argv"), r.file("env"), r.file("dispositions")
	if wantArgv := "RUN/daemon.sh\nRUN\nfg\ntwo words\n\n*\n"; argv != wantArgv {
		t.Errorf("%s: the program's argv is %q, want %q", im.name, argv, wantArgv)
	}
	// Bits 13 (SIGPIPE) and 25 (SIGXFSZ); signals ignored by whoever ran
	// the test (make, CI) are inherited by both implementations alike.
	if mask := ignoredMask(disp); mask&0x1001000 != 0x1001000 {
		t.Errorf("%s: the program's dispositions are %q, want SIGPIPE and SIGXFSZ ignored", im.name, disp)
	}
	coerced := !strings.Contains(strings.Join(environ, "\n"), "LANG=C.UTF-8") && !strings.Contains(strings.Join(environ, "\n"), "LC_ALL=")
	if strings.Contains(childEnv, "LC_CTYPE=C.UTF-8\n") != coerced {
		t.Errorf("%s: LC_CTYPE coercion expected %v, environment:\n%s", im.name, coerced, childEnv)
	}
	return fmt.Sprintf("argv %q\nenv %q\n%s\nstatus %d\n%s", argv, childEnv, disp, r.status, r.output())
}

// TestCommandResolution: no PATH search. A bare name is taken relative to
// the working directory, so "sh" is not found even though it is on PATH;
// the forked child exits 127 unseen and pidproxy exits 0 at its first
// 5-second poll, printing nothing.
func TestCommandResolution(t *testing.T) {
	t.Parallel()
	t.Run("sh is not looked up on PATH", func(t *testing.T) {
		t.Parallel()
		forEachImpl(t, "a command on PATH only", func(t *testing.T, im impl) string {
			dir := runDir(t)
			r := startProxy(t, im, dir, baseEnv(dir), "daemon.pid", "sh", "-c", "exit 0")
			r.waitExit(t, 10*time.Second)
			took := r.end.Sub(r.start)
			if r.status != 0 || took < 4500*time.Millisecond || took > 8*time.Second || r.output() != `stdout ""`+"\n"+`stderr ""` {
				t.Errorf("%s: status %d after %s\n%s", im.name, r.status, took, r.output())
			}
			return fmt.Sprintf("status %d\n%s", r.status, r.output())
		})
	})
	t.Run("a bare name in the working directory runs", func(t *testing.T) {
		t.Parallel()
		forEachImpl(t, "a bare command name", func(t *testing.T, im impl) string {
			dir := runDir(t)
			r := startProxy(t, im, dir, baseEnv(dir), "daemon.pid", "daemon.sh", dir, "fg")
			r.daemonPid(t)
			r.signal(t, syscall.SIGTERM)
			r.waitExit(t, 5*time.Second)
			if argv0 := strings.SplitN(r.file("argv"), "\n", 2)[0]; argv0 != "RUN/daemon.sh" {
				t.Errorf("%s: $0 is %q", im.name, argv0)
			}
			return fmt.Sprintf("argv %q\nstatus %d\n%s", r.file("argv"), r.status, r.output())
		})
	})
}

// TestStartupFailures: an empty command name and a deleted working
// directory are uncaught Python exceptions: a traceback, status 1.
func TestStartupFailures(t *testing.T) {
	t.Parallel()
	t.Run("empty command", func(t *testing.T) {
		t.Parallel()
		forEachImpl(t, "an empty command", func(t *testing.T, im impl) string {
			dir := t.TempDir()
			stdout, stderr, status := runOnce(t, dir, baseEnv(dir), im.bin, "p.pid", "")
			stderr = strings.ReplaceAll(stderr, im.bin, "PIDPROXY")
			if status != 1 || !strings.HasSuffix(stderr, "ValueError: argv first element cannot be empty\n") {
				t.Errorf("%s: status %d, stderr %q", im.name, status, stderr)
			}
			return fmt.Sprintf("status %d\nstdout %q\nstderr %q", status, stdout, stderr)
		})
	})
	t.Run("deleted working directory", func(t *testing.T) {
		t.Parallel()
		forEachImpl(t, "a deleted working directory", func(t *testing.T, im impl) string {
			gone := filepath.Join(t.TempDir(), "gone")
			if err := os.Mkdir(gone, 0o755); err != nil {
				t.Fatal(err)
			}
			stdout, stderr, status := runOnce(t, "", baseEnv(gone), "/bin/sh", "-c",
				`cd "$1" && rmdir "$1" && exec "$2" p.pid ./prog`, "sh", gone, im.bin)
			stderr = strings.ReplaceAll(stderr, im.bin, "PIDPROXY")
			if status != 1 || !strings.HasSuffix(stderr, "FileNotFoundError: [Errno 2] No such file or directory\n") {
				t.Errorf("%s: status %d, stderr %q", im.name, status, stderr)
			}
			return fmt.Sprintf("status %d\nstdout %q\nstderr %q", status, stdout, stderr)
		})
	})
}

// TestInterpreterStartup: what Python's own start-up prints before
// pidproxy runs, under the variables that change it.
func TestInterpreterStartup(t *testing.T) {
	t.Parallel()
	envs := [][]string{
		{"PYTHONCOERCECLOCALE=warn"},
		{"PYTHONCOERCECLOCALE=warn", "LC_ALL=C"},
		{"PYTHONINTMAXSTRDIGITS=5", "LANG=C.UTF-8"},
		{"PYTHONINTMAXSTRDIGITS=800", "LANG=C.UTF-8"},
	}
	for _, env := range envs {
		t.Run(strings.Join(env, " "), func(t *testing.T) {
			t.Parallel()
			forEachImpl(t, "start-up under "+strings.Join(env, " "), func(t *testing.T, im impl) string {
				stdout, stderr, status := runOnce(t, "", append([]string{"PATH=/usr/bin:/bin"}, env...), im.bin)
				return fmt.Sprintf("status %d\nstdout %q\nstderr %q", status, strings.ReplaceAll(stdout, im.bin, "PIDPROXY"), stderr)
			})
		})
	}
}

// ignoredMask is the SigIgn bit mask of a /proc status excerpt.
func ignoredMask(disp string) uint64 {
	_, rest, _ := strings.Cut(disp, "SigIgn:")
	hex, _, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	mask, _ := strconv.ParseUint(hex, 16, 64)
	return mask
}
