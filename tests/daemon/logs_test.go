package daemon_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seqStream is what `seq n` prints.
func seqStream(w io.Writer, n int) int64 {
	var total int64
	buf := make([]byte, 0, 64<<10)
	for i := 1; i <= n; i++ {
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, '\n')
		if len(buf) > 60<<10 {
			w.Write(buf)
			total += int64(len(buf))
			buf = buf[:0]
		}
	}
	w.Write(buf)
	return total + int64(len(buf))
}

// rotatedFiles lists base.N … base.1, base (oldest first) that exist.
func rotatedFiles(t *testing.T, base string) []string {
	t.Helper()
	var files []string
	for i := 1; ; i++ {
		f := base + "." + strconv.Itoa(i)
		if _, err := os.Stat(f); err != nil {
			break
		}
		files = append([]string{f}, files...)
	}
	return append(files, base)
}

func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestLogBurstByteExact: a ~200 MB burst from one child is captured byte for
// byte across 10 MB rotations.
func TestLogBurstByteExact(t *testing.T) {
	t.Parallel()
	const n = 24_500_000 // `seq n` prints 209,388,897 bytes
	h := sha256.New()
	wantLen := seqStream(h, n)
	want := hex.EncodeToString(h.Sum(nil))

	dir := t.TempDir()
	out := filepath.Join(dir, "burst.out")
	conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:burst]
command=seq %d
startsecs=0
autorestart=false
stdout_logfile=%s
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=40
`, n, out))
	d := startForeground(t, dir, conf)
	d.waitLog(`INFO exited: burst \(exit status 0; expected\)`, 30*time.Second)
	if !waitUntil(20*time.Second, func() bool { return totalSize(rotatedFiles(t, out)) >= wantLen }) {
		t.Fatalf("captured %d bytes, want %d", totalSize(rotatedFiles(t, out)), wantLen)
	}
	files := rotatedFiles(t, out)
	if len(files) < 20 {
		t.Errorf("%d files, want ≥ 20 for 200 MB at 10 MB each", len(files))
	}
	got := sha256.New()
	for i, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		size, err := io.Copy(got, fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Every backup was rotated after the write that reached 10 MB; one
		// write is at most a 128 KiB read.
		if i < len(files)-1 && (size < 10<<20 || size > 10<<20+128<<10) {
			t.Errorf("%s has %d bytes, want 10 MB plus at most one read", f, size)
		}
	}
	if sum := hex.EncodeToString(got.Sum(nil)); sum != want {
		t.Errorf("sha256 of %d captured bytes %s, want %s (%d bytes)", totalSize(files), sum, want, wantLen)
	}
}

// TestChildLogContent: what a child writes reaches its log file exactly.
func TestChildLogContent(t *testing.T) {
	t.Parallel()
	var interleaved, outOnly, errOnly strings.Builder
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&interleaved, "out%d\nerr%d\n", i, i)
		fmt.Fprintf(&outOnly, "out%d\n", i)
		fmt.Fprintf(&errOnly, "err%d\n", i)
	}
	loop := `sh -c 'for i in $(seq 1 300); do echo out$i; echo err$i >&2; done'`
	ansi := `printf '\033[31mRED\033[0m plain \033[1;2Hx\033[Ky\n'`
	tests := []struct {
		name     string
		sdExtra  string
		program  string
		contents map[string]string // file (in dir) → exact content
	}{
		{"redirect_stderr interleaves", "", "command=" + loop + "\nredirect_stderr=true\nstdout_logfile=%(here)s/x.out\n",
			map[string]string{"x.out": interleaved.String()}},
		{"separate streams", "", "command=" + loop + "\nstdout_logfile=%(here)s/x.out\nstderr_logfile=%(here)s/x.err\n",
			map[string]string{"x.out": outOnly.String(), "x.err": errOnly.String()}},
		{"strip_ansi", "strip_ansi=true", "command=" + ansi + "\nstdout_logfile=%(here)s/x.out\n",
			map[string]string{"x.out": "RED plain xy\n"}},
		{"no strip_ansi", "", "command=" + ansi + "\nstdout_logfile=%(here)s/x.out\n",
			map[string]string{"x.out": "\x1b[31mRED\x1b[0m plain \x1b[1;2Hx\x1b[Ky\n"}},
	}
	// The Python original runs every case too, as the oracle.
	impls := map[string]string{"go": supervisordBin}
	if py, ok := python(t); ok {
		impls["python"] = py
	}
	for _, tc := range tests {
		for impl, bin := range impls {
			t.Run(tc.name+"/"+impl, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				conf := writeConf(t, dir, tc.sdExtra, "[program:x]\nstartsecs=0\nautorestart=false\n"+tc.program)
				d := startBinary(t, bin, dir, conf, nil)
				d.waitLog(`exited: x \(exit status 0; expected\)`, 10*time.Second)
				for file, want := range tc.contents {
					waitFile(t, filepath.Join(dir, file), 5*time.Second, func(s string) bool { return s == want })
				}
			})
		}
	}
}

// TestStripAnsiFlag: -t turns strip_ansi on from the command line.
func TestStripAnsiFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "", "[program:x]\nstartsecs=0\nautorestart=false\n"+
		`command=printf '\033[31mRED\033[0m plain\n'`+"\nstdout_logfile=%(here)s/x.out\n")
	d := startForeground(t, dir, conf, "-t")
	d.waitLog(`exited: x \(exit status 0; expected\)`, 10*time.Second)
	waitFile(t, filepath.Join(dir, "x.out"), 5*time.Second, func(s string) bool { return s == "RED plain\n" })
}

// TestStdoutLogfileDevStdout: the child's output appears on the daemon's
// stdout, never rotated, without the original's "Illegal seek".
func TestStdoutLogfileDevStdout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "", `
[program:x]
command=sh -c 'for i in $(seq 1000 1400); do echo line-$i-0123456789; done'
startsecs=0
autorestart=false
stdout_logfile=/dev/stdout
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=2
`)
	d := startForeground(t, dir, conf)
	d.waitLog(`exited: x \(exit status 0; expected\)`, 10*time.Second)
	if !waitUntil(5*time.Second, func() bool { return strings.Contains(d.stdout.String(), "line-1400-0123456789\n") }) {
		t.Fatalf("daemon stdout lacks the child's last line:\n%s", truncate(d.stdout.String(), 3000))
	}
	stdout := d.stdout.String()
	for i := 1000; i <= 1400; i++ {
		if !strings.Contains(stdout, fmt.Sprintf("line-%d-0123456789\n", i)) {
			t.Fatalf("daemon stdout lacks line-%d", i)
		}
	}
	for _, bad := range []string{"Illegal seek", "ERRO", "WARN"} {
		if strings.Contains(d.log(), bad) || strings.Contains(stdout, bad) {
			t.Errorf("%q in the daemon's output:\n%s", bad, d.log())
		}
	}
	if _, err := os.Lstat("/dev/stdout.1"); err == nil {
		t.Errorf("/dev/stdout was rotated into /dev/stdout.1")
	}
}

// TestFIFOTarget: a FIFO as stdout_logfile; a reader gets every byte.
func TestFIFOTarget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	seqStream(&want, 150000)
	type result struct {
		data []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the daemon opens its end
		if err != nil {
			got <- result{nil, err}
			return
		}
		defer f.Close()
		_ = f.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, want.Len())
		_, err = io.ReadFull(f, buf)
		got <- result{buf, err}
	}()
	conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:x]
command=seq 150000
startsecs=0
autorestart=false
stdout_logfile=%s
`, fifo))
	d := startForeground(t, dir, conf)
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("reading the FIFO: %v", r.err)
		}
		if !bytes.Equal(r.data, want.Bytes()) {
			t.Errorf("FIFO delivered %d bytes that differ from the child's %d", len(r.data), want.Len())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("FIFO reader never finished")
	}
	d.waitLog(`exited: x \(exit status 0; expected\)`, 10*time.Second)
}

// TestRotationNaming: SPEC §10 item 34 — one 8 KB write with maxbytes=2KB,
// backups=2 leaves x.out empty and all 8 KB in x.out.1; the Python original
// runs the same config as the oracle.
func TestRotationNaming(t *testing.T) {
	t.Parallel()
	impls := map[string]string{"go": supervisordBin}
	if py, ok := python(t); ok {
		impls["python"] = py
	}
	for name, bin := range impls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			payload := filepath.Join(dir, "payload")
			if err := os.WriteFile(payload, bytes.Repeat([]byte("0123456789abcdef"), 512), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "x.out")
			conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:x]
command=cat %s
startsecs=0
autorestart=false
stdout_logfile=%s
stdout_logfile_maxbytes=2KB
stdout_logfile_backups=2
`, payload, out))
			d := startBinary(t, bin, dir, conf, nil)
			d.waitLog(`exited: x \(exit status 0; expected\)`, 10*time.Second)
			waitFile(t, out+".1", 5*time.Second, func(s string) bool { return len(s) == 8192 })
			if st, err := os.Stat(out); err != nil || st.Size() != 0 {
				t.Errorf("x.out after rotation: %v, %v; want an empty file", st, err)
			}
			if _, err := os.Stat(out + ".2"); !os.IsNotExist(err) {
				t.Errorf("x.out.2 exists after a single rotation: %v", err)
			}
		})
	}
}

// TestMainLogTruncatedWithoutBackups: SPEC §10 item 35.
func TestMainLogTruncatedWithoutBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeConf(t, dir, "logfile_maxbytes=1KB\nlogfile_backups=0", `
[program:churn]
command=sh -c "sleep 0.05"
startsecs=0
autorestart=true
`)
	d := startForeground(t, dir, conf)
	// The stdout copy keeps everything; wait until it has far more than 1 KB.
	if !waitUntil(20*time.Second, func() bool { return len(d.stdout.String()) > 4096 }) {
		t.Fatalf("the daemon logged only %d bytes", len(d.stdout.String()))
	}
	st, err := os.Stat(d.mainLog)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= 1024+200 {
		t.Errorf("main log is %d bytes, want it truncated below 1 KB (+ one line)", st.Size())
	}
	if _, err := os.Stat(d.mainLog + ".1"); !os.IsNotExist(err) {
		t.Errorf("main.log.1 exists with logfile_backups=0: %v", err)
	}
}

// TestLogDirectoryRemoved: a removed log directory is recreated at the next
// rotation (child log) or on SIGUSR2 (main log), with a warning.
func TestLogDirectoryRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	mlogs := filepath.Join(dir, "mlogs")
	for _, p := range []string{logs, mlogs} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mainLog := filepath.Join(mlogs, "main.log")
	conf := filepath.Join(dir, "supervisord.conf")
	text := fmt.Sprintf(`[supervisord]
logfile=%s
pidfile=%s/supervisord.pid

[program:talker]
command=sh -c 'while :; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; sleep 0.01; done'
stdout_logfile=%s/talker.out
stdout_logfile_maxbytes=1KB
stdout_logfile_backups=1
`, mainLog, dir, logs)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startForeground(t, dir, conf)
	d.mainLog = mainLog
	d.waitRunning("talker", 10*time.Second)
	waitFile(t, filepath.Join(logs, "talker.out.1"), 5*time.Second, func(string) bool { return true })

	if err := os.RemoveAll(logs); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(logs, "talker.out"), 5*time.Second, func(s string) bool { return len(s) > 0 })
	d.waitLog(`WARN .*`+regexp.QuoteMeta(logs)+`.*recreated`, 5*time.Second)

	if err := os.RemoveAll(mlogs); err != nil {
		t.Fatal(err)
	}
	d.signal(syscall.SIGUSR2)
	d.waitLog(`WARN .*`+regexp.QuoteMeta(mlogs)+`.*recreated`, 5*time.Second)
	d.signal(syscall.SIGTERM)
	if st := d.waitExit(10 * time.Second); st != 0 {
		t.Errorf("exit status %d", st)
	}
}

// TestAutoLogs: AUTO child logs get the original's names in childlogdir and
// old ones of this identifier are removed at start unless nocleanup.
func TestAutoLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	planted := []string{
		"old-stdout---supervisor-abcdefgh.log",
		"old-stdout---supervisor-abcdefgh.log.1",
		"old-stderr---supervisor-abcd_e12.log.12",
	}
	kept := []string{"other-stdout---otherid-abcdefgh.log", "keep.log"}
	for _, f := range append(append([]string{}, planted...), kept...) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := writeConf(t, dir, "", "[program:x]\ncommand=sh -c 'echo hello; echo oops >&2; exec sleep 1000'\n")
	autoRE := regexp.MustCompile(`^x-(stdout|stderr)---supervisor-[a-z0-9_]{8}\.log$`)
	autoFiles := func() []string {
		entries, _ := os.ReadDir(dir)
		var out []string
		for _, e := range entries {
			if autoRE.MatchString(e.Name()) {
				out = append(out, e.Name())
			}
		}
		return out
	}
	exists := func(f string) bool { _, err := os.Stat(filepath.Join(dir, f)); return err == nil }
	run := func(args ...string) []string {
		t.Helper()
		d := startForeground(t, dir, conf, args...)
		d.waitRunning("x", 10*time.Second)
		files := autoFiles()
		d.signal(syscall.SIGTERM)
		if st := d.waitExit(10 * time.Second); st != 0 {
			t.Fatalf("exit status %d (pid %d), stderr %q", st, d.pid, d.stderr.String())
		}
		return files
	}

	first := run()
	for _, f := range planted {
		if exists(f) {
			t.Errorf("old AUTO log %s survived the start", f)
		}
	}
	for _, f := range kept {
		if !exists(f) {
			t.Errorf("%s (not an AUTO log of this identifier) was removed", f)
		}
	}
	if len(first) != 2 {
		t.Fatalf("AUTO logs in childlogdir: %v, want one stdout and one stderr", first)
	}
	for _, f := range first {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, st.Mode().Perm())
		}
		b, _ := os.ReadFile(filepath.Join(dir, f))
		want := "hello\n"
		if strings.HasPrefix(f, "x-stderr") {
			want = "oops\n"
		}
		if string(b) != want {
			t.Errorf("%s holds %q, want %q", f, b, want)
		}
	}

	second := run("-k")
	for _, f := range first {
		if !exists(f) {
			t.Errorf("-k (nocleanup) removed %s", f)
		}
	}
	if len(second) != 4 {
		t.Errorf("with -k want the old and the new AUTO logs (4), have %v", second)
	}

	third := run()
	if len(third) != 2 {
		t.Errorf("after a normal start want only the new AUTO logs (2), have %v", third)
	}
	for _, f := range second {
		if exists(f) && !contains(third, f) {
			t.Errorf("old AUTO log %s survived the start", f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
