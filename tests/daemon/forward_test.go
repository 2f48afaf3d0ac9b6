package daemon_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EXTENSIONS.md §5: *_log_format and *_forward in a real daemon.

var tsLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (.*)$`)

func TestLogFormatsInDaemon(t *testing.T) {
	dir := t.TempDir()
	conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:ts]
command=sh -c 'printf "one\ntwo\n\npartial"; sleep 30'
stdout_log_format=timestamped
stdout_logfile=%[1]s/ts.log

[program:js]
command=sh -c 'printf "hi \377 \"q\"\n"; printf "to stderr\n" >&2; sleep 30'
stdout_log_format=json
stderr_log_format=json
stdout_logfile=%[1]s/js.log
stderr_logfile=%[1]s/js.err

[program:raw]
command=sh -c 'printf "a\nb\377"; sleep 30'
stdout_logfile=%[1]s/raw.log
`, dir))
	d := startForeground(t, dir, conf)
	d.waitRunning("ts", 10*time.Second)
	pid := d.waitRunning("js", 10*time.Second)
	d.waitRunning("raw", 10*time.Second)

	// The partial line comes out after a second of quiet.
	got := waitFile(t, filepath.Join(dir, "ts.log"), 10*time.Second, func(s string) bool { return strings.Contains(s, "partial") })
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	want := []string{"one", "two", "", "partial"}
	if len(lines) != len(want) || !strings.HasSuffix(got, "\n") {
		t.Fatalf("ts.log = %q", got)
	}
	for i, l := range lines {
		m := tsLine.FindStringSubmatch(l)
		if m == nil || m[1] != want[i] {
			t.Fatalf("ts.log line %d = %q, want a timestamp and %q", i, l, want[i])
		}
	}

	check := func(path, stream, line string) {
		t.Helper()
		text := waitFile(t, path, 10*time.Second, func(s string) bool { return strings.HasSuffix(s, "}\n") })
		var rec map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSuffix(text, "\n")), &rec); err != nil {
			t.Fatalf("%s: %v: %q", path, err, text)
		}
		exact := rec["line"].(string)
		if b, ok := rec["line_b64"].(string); ok {
			raw, _ := base64.StdEncoding.DecodeString(b)
			exact = string(raw)
		}
		if rec["program"] != "js" || rec["group"] != "js" || rec["stream"] != stream || rec["pid"] != float64(pid) || exact != line {
			t.Fatalf("%s: %v (exact line %q)", path, rec, exact)
		}
		if ts, _ := rec["time"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
			t.Fatalf("time %q", ts)
		}
	}
	check(filepath.Join(dir, "js.log"), "stdout", "hi \377 \"q\"")
	check(filepath.Join(dir, "js.err"), "stderr", "to stderr")

	// A config without the keys logs the child's bytes, partial line and
	// all, untouched.
	if got := waitFile(t, filepath.Join(dir, "raw.log"), 10*time.Second, func(s string) bool { return len(s) >= 4 }); got != "a\nb\377" {
		t.Fatalf("raw.log = %q", got)
	}
}

// forwardGen is a child writing `lines` stdout lines, one in ten of 5,000
// to 9,000 bytes (longer than a pipe's atomic write), and `errs` stderr
// lines. 50 of them write ~3.3 MB in all: less than the forwarder's queue,
// so that nothing may be dropped however slowly the test reads.
const forwardGen = `#!/bin/sh
awk -v name="$1" -v lines="$2" -v errs="$3" 'BEGIN {
	big = "x"
	while (length(big) < 9000) big = big big
	for (i = 0; i < lines; i++) {
		n = (i * 37 + length(name)) % 100
		if (i % 10 == 3) n = 5000 + (i * 997) % 4000
		print name " " i " " n " " substr(big, 1, n)
	}
	for (i = 0; i < errs; i++) print name " err " i > "/dev/stderr"
}'
`

var mainLogLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} `)

// checkForwarded checks that text holds, besides main log lines, exactly
// `per` whole prefixed lines of every name in names.
func checkForwarded(text string, names []string, per int, width int, stderr bool) error {
	counts := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if l == "" && text == "" {
			continue
		}
		i := strings.Index(l, " | ")
		if i != width || mainLogLine.MatchString(l) {
			if mainLogLine.MatchString(l) && !stderr {
				continue
			}
			return fmt.Errorf("not a whole forwarded line: %q", truncate(l, 200))
		}
		name := strings.TrimRight(l[:i], " ")
		body := l[i+3:]
		f := strings.SplitN(body, " ", 4)
		if f[0] != name {
			return fmt.Errorf("line of %s under the prefix of %s: %q", f[0], name, truncate(l, 200))
		}
		if stderr {
			if len(f) != 3 || f[1] != "err" {
				return fmt.Errorf("bad stderr line %q", l)
			}
		} else {
			n, err := strconv.Atoi(f[2])
			if len(f) != 4 || err != nil || len(f[3]) != n || strings.Trim(f[3], "x") != "" {
				return fmt.Errorf("broken line of %s: %q", name, truncate(l, 200))
			}
		}
		counts[name]++
	}
	for _, n := range names {
		if counts[n] != per {
			return fmt.Errorf("%s: %d lines, want %d", n, counts[n], per)
		}
	}
	return nil
}

// 50 children forwarding at once: every line on supervisord's stdout and
// stderr is whole and prefixed, none is lost, and the main log's own lines
// on stdout never fall inside one.
func TestForward50Children(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.sh")
	if err := os.WriteFile(gen, []byte(forwardGen), 0o755); err != nil {
		t.Fatal(err)
	}
	const n, lines, errs = 50, 100, 20
	conf := writeConf(t, dir, "", fmt.Sprintf(`
[program:w]
command=sh %s %%(program_name)s_%%(process_num)02d %d %d
process_name=%%(program_name)s_%%(process_num)02d
numprocs=%d
startsecs=0
autorestart=false
stdout_forward=true
stderr_forward=true
stdout_logfile=NONE
stderr_logfile=NONE

[program:quiet_with_a_long_name]
command=sleep 60
`, gen, lines, errs, n))
	d := startForeground(t, dir, conf)
	d.waitCount(`exited: w_\d\d \(exit status 0; expected\)`, n, 60*time.Second)
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("w_%02d", i))
	}
	// The padding is the longest forwarding name: w_NN (4), not the
	// program that does not forward.
	var outErr, errErr error
	if !waitUntil(30*time.Second, func() bool {
		outErr = checkForwarded(d.stdout.String(), names, lines, 4, false)
		errErr = checkForwarded(d.stderr.String(), names, errs, 4, true)
		return outErr == nil && errErr == nil
	}) {
		t.Fatalf("stdout: %v; stderr: %v", outErr, errErr)
	}
}

// supervisord's stdout is a pipe nobody reads for a while: the child is
// never blocked, its log file gets everything, and the lines that did not
// fit in the forwarder's queue are dropped, counted and logged once.
func TestForwardSlowStdout(t *testing.T) {
	dir := t.TempDir()
	const total = 100000
	line := strings.Repeat("0123456789", 7) // 70 bytes: 7.5 MB forwarded in all
	conf := writeConf(t, dir, "silent=true", fmt.Sprintf(`
[program:x]
command=sh -c 'yes %s | head -n %d; touch %s/done'
startsecs=0
autorestart=false
stdout_forward=true
stdout_logfile=%s/x.log
stdout_logfile_maxbytes=0
`, line, total, dir, dir))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, dir, conf)
	d.cmd = exec.Command(supervisordBin, "-n", "-c", conf)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = w, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	d.pid = d.cmd.Process.Pid
	go func() {
		err := d.cmd.Wait()
		d.status = exitStatus(err)
		close(d.exited)
	}()
	t.Cleanup(d.cleanup)

	// The child finishes while nobody reads supervisord's stdout.
	if !waitUntil(60*time.Second, func() bool { _, err := os.Stat(filepath.Join(dir, "done")); return err == nil }) {
		t.Fatal("the child was blocked by its forwarded output")
	}
	d.waitLog(`exited: x \(exit status 0; expected\)`, 10*time.Second)
	if got := d.count(`dropped \d+ lines forwarded`); got != 0 {
		t.Fatalf("warned before the drop streak ended")
	}

	// Now read: what was queued arrives whole, the streak ends, and the
	// main log says how many lines were dropped.
	var mu sync.Mutex
	got, bad := 0, ""
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			if sc.Text() == "x | "+line {
				got++
			} else if bad == "" {
				bad = sc.Text()
			}
			mu.Unlock()
		}
	}()
	m := d.waitLog(`WARN dropped (\d+) lines forwarded from 'x': supervisord's stdout is not keeping up`, 30*time.Second)
	dropped, _ := strconv.Atoi(m[1])
	if dropped <= 0 || dropped >= total {
		t.Fatalf("dropped %d of %d", dropped, total)
	}
	if !waitUntil(30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return got+dropped == total }) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("forwarded %d + dropped %d != %d", got, dropped, total)
	}
	mu.Lock()
	if bad != "" {
		t.Fatalf("not a whole forwarded line: %q", truncate(bad, 200))
	}
	mu.Unlock()
	if c := d.count(`dropped \d+ lines forwarded`); c != 1 {
		t.Fatalf("%d drop warnings, want 1", c)
	}
	// The log file is not affected by the forwarder.
	text, err := os.ReadFile(filepath.Join(dir, "x.log"))
	if err != nil || len(text) != total*(len(line)+1) {
		t.Fatalf("x.log: %d bytes (%v), want %d", len(text), err, total*(len(line)+1))
	}
}
