package daemon_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/internal/testutil"
)

// freePort returns a TCP port on 127.0.0.1 nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestContainerPID1 assembles the image of examples/container/Dockerfile
// without docker (static binaries, the shipped config and environment
// file, a minimal /etc/passwd, nothing else: no shell, no libc) and runs
// its entrypoint the way a container does: as PID 1 of a new pid
// namespace, chrooted into that tree. Its stdout, the container's log,
// carries the main log as JSON objects and every line of the programs
// prefixed with their padded names; the settings come from the environment
// file; and the critical worker's FATAL ends PID 1, hence the namespace,
// with status 1.
func TestContainerPID1(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid and a chroot")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("util-linux unshare is needed: %v", err)
	}
	root := t.TempDir()
	for _, d := range []string{"usr/local/bin", "etc/supervisor", "run", "tmp", "proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// What docker provides in every container: /dev/null, /etc/hostname.
	if err := unix.Mknod(filepath.Join(root, "dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod /dev/null in the image tree: %v", err)
	}
	files := map[string]string{
		"etc/passwd":   "root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n",
		"etc/group":    "root:x:0:\nnogroup:x:65534:\n",
		"etc/hostname": "demo\n",
	}
	// The Dockerfile's build stage: static binaries (scratch has no libc).
	for _, b := range []struct{ out, pkg string }{
		{"usr/local/bin/supervisord", "./cmd/supervisord"},
		{"usr/local/bin/demo", "./examples/services/demo"},
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(root, b.out), b.pkg)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples/container/supervisord.conf"))
	if err != nil {
		t.Fatal(err)
	}
	// Tests run side by side on the host's network: other ports, in the
	// config's health checks and in the environment file.
	dbPort, appPort := freePort(t), freePort(t)
	ports := strings.NewReplacer("15432", strconv.Itoa(dbPort), "18080", strconv.Itoa(appPort))
	files["etc/supervisor/supervisord.conf"] = ports.Replace(string(src))
	files["etc/supervisor/demo.env"] = fmt.Sprintf("DB_ADDR=127.0.0.1:%d\nAPP_ADDR=127.0.0.1:%d\nWARMUP=1\n", dbPort, appPort)
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The worker exits at once while CRASH_FILE exists, as the README's
	// docker run -e CRASH_FILE=/etc/hostname: it never gets past
	// startsecs and goes FATAL after its retries.
	const crash = "/etc/hostname"

	var stdout, stderr testutil.SyncBuffer
	// The Dockerfile's ENTRYPOINT, in the image's root.
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount", "--root="+root, "--mount-proc",
		"/usr/local/bin/supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf")
	cmd.Env = append(os.Environ(), "CRASH_FILE="+crash, markerVar+"="+root)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	status := -1
	go func() { status = exitStatus(cmd.Wait()); close(done) }()
	t.Cleanup(func() {
		// Killing the namespace's init kills everything in it.
		for _, pid := range childrenOf(cmd.Process.Pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	})

	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the critical worker's FATAL did not end the namespace within 60 s")
	}
	if status != 1 {
		t.Errorf("the namespace ended with status %d, want 1 (critical program FATAL)", status)
	}
	out := stdout.String()

	// Every line is whole: a main-log object or a forwarded program line.
	forwarded := regexp.MustCompile(`^(db|app|worker) *\| (.*)$`)
	var msgs []string
	lines := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if m := forwarded.FindStringSubmatch(line); m != nil {
			if want := len("worker") - len(m[1]); !strings.HasPrefix(line, m[1]+strings.Repeat(" ", want)+" | ") {
				t.Errorf("forwarded line not padded to the longest name: %q", line)
			}
			lines[m[1]] = append(lines[m[1]], m[2])
			continue
		}
		var l jsonLine
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.Msg == "" {
			t.Errorf("stdout line neither JSON nor forwarded: %q", line)
			continue
		}
		msgs = append(msgs, l.Level+" "+l.Msg)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"info supervisord started with pid 1\n",
		"info gave up: worker entered FATAL state, too many start retries too quickly\n",
		"critical critical program 'worker'",
	} {
		if !strings.Contains(all+"\n", want) {
			t.Errorf("main log on stdout lacks %q:\n%s", strings.TrimSpace(want), all)
		}
	}
	// The environment file's settings reached the programs.
	for prog, want := range map[string]string{
		"db":     fmt.Sprintf("db: accepting connections on 127.0.0.1:%d", dbPort),
		"app":    fmt.Sprintf("app: serving on 127.0.0.1:%d", appPort),
		"worker": "worker: " + crash + " exists",
	} {
		if !strings.Contains(strings.Join(lines[prog], "\n"), want) {
			t.Errorf("no forwarded %s line %q; its lines: %q", prog, want, lines[prog])
		}
	}
	if !strings.Contains(strings.Join(lines["db"], "\n"), "db: warming up for 1 s") {
		t.Errorf("WARMUP from the environment file not seen: %q", lines["db"])
	}
}
