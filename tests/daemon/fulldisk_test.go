package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// counterEvery is how many lines the full-disk child writes between two
// updates of its counter file.
const counterEvery = 20

// fullDiskChild writes numbered 100-byte lines to stdout for ever, at most
// about 1 MB/s, and every counterEvery lines the number of the last line
// written to $GOSUPERVISOR_COUNTER (replaced atomically). A write to stdout
// that blocks stops the counter.
func fullDiskChild() {
	counter := os.Getenv("GOSUPERVISOR_COUNTER")
	pad := strings.Repeat("x", 100-len("n=00000000 \n"))
	for n := 1; ; n++ {
		if _, err := fmt.Fprintf(os.Stdout, "n=%08d %s\n", n, pad); err != nil {
			os.Exit(3)
		}
		if n%counterEvery == 0 {
			if err := os.WriteFile(counter+".tmp", []byte(strconv.Itoa(n)), 0o644); err != nil {
				os.Exit(4)
			}
			if err := os.Rename(counter+".tmp", counter); err != nil {
				os.Exit(5)
			}
		}
		if n%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// mountTiny mounts a filesystem of about 2 MB on dir (tmpfs, or failing that
// a loop-mounted ext4 image) and unmounts it at cleanup; it skips the test
// when neither can be mounted here.
func mountTiny(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput()
	if err != nil {
		img := filepath.Join(t.TempDir(), "tiny.img")
		steps := [][]string{
			{"dd", "if=/dev/zero", "of=" + img, "bs=1M", "count=4"},
			{"mkfs.ext4", "-q", "-F", "-m", "0", img},
			{"mount", "-o", "loop", img, dir},
		}
		for _, s := range steps {
			if out2, err2 := exec.Command(s[0], s[1:]...).CombinedOutput(); err2 != nil {
				t.Skipf("cannot mount a small filesystem here (needs root): mount -t tmpfs: %v: %s; %s: %v: %s",
					err, strings.TrimSpace(string(out)), strings.Join(s, " "), err2, strings.TrimSpace(string(out2)))
			}
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
}

// fillDisk writes a file of zeros into dir until the filesystem has only
// about leave bytes free.
func fillDisk(t *testing.T, dir, name string, leave int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if free <= leave {
		t.Fatalf("%s has only %d bytes free", dir, free)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, make([]byte, free-leave), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// xmlrpcUnix posts one XML-RPC call to the daemon's unix socket and returns
// the response body.
func xmlrpcUnix(t *testing.T, sock, method string, params ...string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	var ps strings.Builder
	for _, p := range params {
		fmt.Fprintf(&ps, "<param><value><string>%s</string></value></param>", p)
	}
	body := fmt.Sprintf(`<?xml version="1.0"?><methodCall><methodName>%s</methodName><params>%s</params></methodCall>`, method, ps.String())
	resp, err := c.Post("http://localhost/RPC2", "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d, %v: %s", method, resp.StatusCode, err, b)
	}
	return string(b)
}

// TestFullDiskSurvived: issue 18 "what held" — a child's log directory on a
// 2 MB filesystem fills up. The daemon stays up and answers XML-RPC and
// supervisorctl status, logs one WARN for the failing writes (one per
// failure streak, not one per write), keeps draining the child (its counter
// keeps advancing, so it never blocks on a full pipe) without restarting
// it, and once space is freed the new output reaches the log again; the
// next time the disk fills is a new streak and a second WARN.
func TestFullDiskSurvived(t *testing.T) {
	t.Parallel()
	bin := testBinary(t)
	ctl := supervisorctl(t)
	dir := t.TempDir()
	logdir := filepath.Join(dir, "logs")
	if err := os.Mkdir(logdir, 0o755); err != nil {
		t.Fatal(err)
	}
	mountTiny(t, logdir)
	// About 700 KB free for the child's log, then 300 KB of it taken by a
	// spare file that is removed later to free space.
	fillDisk(t, logdir, "filler", 700<<10)
	spare := fillDisk(t, logdir, "spare", 400<<10)
	logfile := filepath.Join(logdir, "writer.log")
	counter := filepath.Join(dir, "counter")
	conf := writeConf(t, dir, "", ctlSection(dir)+fmt.Sprintf(`
[program:writer]
command=%s
environment=%s="fulldisk",GOSUPERVISOR_COUNTER="%s"
startsecs=1
stdout_logfile=%s
stdout_logfile_maxbytes=0
`, bin, childModeVar, counter, logfile))
	d := startForeground(t, dir, conf)
	pid := d.waitRunning("writer", 15*time.Second)

	readCounter := func() int {
		b, err := os.ReadFile(counter)
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(string(b))
		return n
	}
	// advances waits until the child has written more lines than after.
	advances := func(what string, after, by int) int {
		t.Helper()
		var n int
		if !waitUntil(10*time.Second, func() bool { n = readCounter(); return n >= after+by }) {
			t.Fatalf("%s: the child's counter is at %d, want ≥ %d: it is blocked writing its output", what, n, after+by)
		}
		return n
	}
	warnRE := `WARN write log file ` + regexp.QuoteMeta(logfile) + `: .*no space left on device`
	up := func(what string) {
		t.Helper()
		if !alive(d.pid) {
			t.Fatalf("%s: supervisord %d is gone", what, d.pid)
		}
		resp := xmlrpcUnix(t, filepath.Join(dir, "sv.sock"), "supervisor.getProcessInfo", "writer")
		if !regexp.MustCompile(`<name>statename</name>\s*<value>\s*<string>RUNNING</string>`).MatchString(resp) ||
			!regexp.MustCompile(`<name>pid</name>\s*<value>\s*<int>`+strconv.Itoa(pid)+`</int>`).MatchString(resp) {
			t.Fatalf("%s: getProcessInfo(writer) = %s, want RUNNING with pid %d", what, truncate(resp, 2000), pid)
		}
		out, status := runWithin(t, 20*time.Second, ctl, "-c", d.conf, "status", "writer")
		if status != 0 || !regexp.MustCompile(`^writer\s+RUNNING\s+pid `+strconv.Itoa(pid)+`, uptime `).MatchString(out) {
			t.Fatalf("%s: supervisorctl status writer: status %d, %q", what, status, out)
		}
		if pids := d.pidsOf("writer"); len(pids) != 1 {
			t.Fatalf("%s: writer spawned %d times (%v), want once", what, len(pids), pids)
		}
	}
	up("before the disk is full")

	// The disk fills.
	d.waitLog(warnRE, 20*time.Second)
	full := readCounter()
	var st syscall.Statfs_t
	if err := syscall.Statfs(logdir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail*uint64(st.Bsize) > 64<<10 {
		t.Errorf("WARN about a full disk with %d bytes still free", st.Bavail*uint64(st.Bsize))
	}
	// 2,000 lines (200 KB) later, all refused by the disk: the child was
	// drained, the daemon answers, and the streak is still one WARN.
	full = advances("disk full", full, 2000)
	up("disk full")
	if n := d.count(warnRE); n != 1 {
		t.Errorf("%d WARNs for one streak of failing writes, want 1", n)
	}
	sizeFull := func() int64 {
		st, err := os.Stat(logfile)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}()

	// Space is freed: lines written from now on reach the log again.
	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	freed := readCounter()
	// Lines beyond freed+counterEvery were written after the removal.
	lineRE := regexp.MustCompile(`(?m)^n=(\d{8}) x+$`)
	var last int
	var cur int
	if !waitUntil(10*time.Second, func() bool {
		b, err := os.ReadFile(logfile)
		cur = len(b)
		if err != nil || int64(len(b)) <= sizeFull {
			return false
		}
		for _, m := range lineRE.FindAllSubmatch(b[sizeFull:], -1) {
			if n, _ := strconv.Atoi(string(m[1])); n > freed+counterEvery {
				last = n
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no line written after the spare file was removed (counter %d) reached %s within 10 s; it has %d bytes (%d when full)",
			freed, logfile, cur, sizeFull)
	}
	t.Logf("disk full at line %d, freed at line %d, logging again by line %d", full, freed, last)
	up("space freed")

	// The child keeps writing and fills the disk again: a new streak, a
	// second WARN, and still one only.
	d.waitCount(warnRE, 2, 20*time.Second)
	advances("disk full again", readCounter(), 2000)
	up("disk full again")
	if n := d.count(warnRE); n != 2 {
		t.Errorf("%d WARNs for two streaks of failing writes, want 2", n)
	}

	// And the daemon still shuts down cleanly, stopping the child.
	d.signal(syscall.SIGTERM)
	if status := d.waitExit(20 * time.Second); status != 0 {
		t.Errorf("supervisord exited %d after SIGTERM, want 0", status)
	}
	if !waitUntil(5*time.Second, func() bool { return !alive(pid) }) {
		t.Errorf("writer %d still running after supervisord exited", pid)
	}
}
