package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	tail := &logTail{path: path}
	chunks := []string{
		"2026-11-22 04:48:40,512 CRIT Supervisor is running as root.\n",
		"2026-11-22 04:48:40,516 INFO spawned: 'p0' with pid 4858\n2026-11-22 04:48:40,516 INFO spawned: 'p1' wi",
		"th pid 4864\n2026-11-22 04:48:40,518 INFO success: p0 entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)\n",
		"2026-11-22 04:48:41,000 INFO exited: p0 (terminated by SIGKILL; not expected)\n" +
			"2026-11-22 04:48:41,001 INFO spawned: 'p0' with pid 5000\n" +
			"2026-11-22 04:48:41,002 INFO success: p0 entered RUNNING state, process has stayed up for > than 0 seconds (startsecs)\n",
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type want struct {
		pids    map[string]int
		success map[string]int
		all     int
	}
	wants := []want{
		{map[string]int{}, map[string]int{}, 0},
		{map[string]int{"p0": 4858}, map[string]int{}, 1}, // p1's line is still partial
		{map[string]int{"p0": 4858, "p1": 4864}, map[string]int{"p0": 1}, 2},
		{map[string]int{"p0": 5000, "p1": 4864}, map[string]int{"p0": 2}, 3},
	}
	for i, c := range chunks {
		if _, err := f.WriteString(c); err != nil {
			t.Fatal(err)
		}
		if err := tail.poll(); err != nil {
			t.Fatal(err)
		}
		w := wants[i]
		if !mapsEqual(tail.pids, w.pids) || !mapsEqual(tail.success, w.success) || len(tail.allPids) != w.all {
			t.Errorf("after chunk %d: pids %v success %v all %v; want %+v", i, tail.pids, tail.success, tail.allPids, w)
		}
	}
	tail.close()
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestParseStatAndField(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	stat := "4835 (supervisord (x) y) S 4800 4835 4800 0 -1 4194560 1200 0 0 0 17 9 0 0 20 0 8 0 100 0 0\n"
	f, err := parseStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	if f[0] != "S" || f[1] != "4800" || f[11] != "17" || f[12] != "9" {
		t.Errorf("fields %q", f)
	}
	if _, err := parseStat("garbage"); err == nil {
		t.Error("parseStat accepted garbage")
	}
	status := "Name:\tsupervisord\nVmPeak:\t  12000 kB\nVmRSS:\t    5496 kB\n"
	if v, err := parseField(status, "VmRSS:"); err != nil || v != 5496 {
		t.Errorf("VmRSS = %v, %v", v, err)
	}
	if _, err := parseField(status, "VmSwap:"); err == nil {
		t.Error("missing field found")
	}
}

func TestReadCPUOfSelf(t *testing.T) {
	c0, err := readCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var c1 cpuClock
	for x := 0; ; x++ { // burn CPU until the clock moves
		if c1, err = readCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if c1.since(c0) > 0.001 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU clock did not advance: %+v -> %+v", c0, c1)
		}
	}
}

func TestMedianPercentile(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	if p := percentile(lat, 0.99); p != 99*time.Millisecond {
		t.Errorf("p99 = %v", p)
	}
	if p := percentile(lat[:1], 0.99); p != time.Millisecond {
		t.Errorf("p99 of one = %v", p)
	}
}

func TestRowVerdicts(t *testing.T) {
	r := newResults()
	r.add("launch200", "ours", 0.1)
	r.add("launch200", "python", 1.0)
	r.add("rpcseq200", "python", 35)
	r.pend("rpcseq200", "ours", "no /RPC2")
	r.add("kill9", "ours", 0.020)
	r.add("kill9", "python", 1.0)
	r.addCensored("term200", "python", 120)
	r.add("term200", "ours", 0.03)
	for _, c := range []struct{ key, verdict, ratio string }{
		{"launch200", "met", "0.1"},
		{"rpcseq200", "pending", "–"},
		{"kill9", "**missed**", "0.02"},
		{"term200", "met", "≤ 0.00025"},
	} {
		row := r.fig(c.key).row("ours", "python")
		if row[6] != c.verdict || row[4] != c.ratio {
			t.Errorf("%s: row %q, want verdict %s ratio %s", c.key, row, c.verdict, c.ratio)
		}
	}
	tab := r.table("ours", "python")
	if !strings.Contains(tab, "pending (no /RPC2)") || strings.Contains(tab, "RSS idle, 1 program") {
		t.Errorf("table:\n%s", tab)
	}
}

func TestUpdateDocKeepsHandWrittenText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	if err := updateDoc(path, "table one\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	doc := strings.Replace(string(b), "# Benchmarks\n", "# Benchmarks\n\nintro\n", 1) + "\nanalysis\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := updateDoc(path, "table two\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	got := string(b)
	want := "# Benchmarks\n\nintro\n\n" + beginMark + "\ntable two\n" + endMark + "\n\nanalysis\n"
	if got != want {
		t.Errorf("doc\n%q\nwant\n%q", got, want)
	}
}

func TestWriteConfigAndEndLine(t *testing.T) {
	dir := t.TempDir()
	path, err := writeConfig(dir, 9999, sleepers(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	for _, want := range []string{"port=127.0.0.1:9999", "[program:p2]\ncommand=sleep 100000\nstartsecs=1\n", "serverurl=http://127.0.0.1:9999"} {
		if !strings.Contains(s, want) {
			t.Errorf("config lacks %q:\n%s", want, s)
		}
	}
	if l := endLine(64); len(l) != 64 || l[63] != '\n' || !strings.HasPrefix(string(l), "END-") {
		t.Errorf("endLine %q", l)
	}
}

func TestScaleTable(t *testing.T) {
	for n, want := range map[int]string{7: "7", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
	s := &scaleSet{n: 1000, big: 10000, res: newScaleResults(1000, 10000),
		refNames: map[string]string{"python": "Python", "floor": "floor", "small": "ours at 1,000"}}
	s.res.add("floor_n", "ours", 3)
	s.res.add("floor_n", "floor", 1)
	s.res.add("ctl_n", "ours", 0.5)
	s.res.add("ctl_n", "python", 10)
	s.res.add("ctl_big", "ours", 5)
	s.res.add("ctl_big", "small", 0.5)
	s.res.add("rss1", "ours", 8)
	s.res.add("rss_big", "ours", 8+250.0/1024*9999/1000) // 250 B per program
	s.res.add("rpcp50_big", "ours", 0.012)
	s.derive("ours", "python")
	tab := s.table("ours")
	for _, want := range []string{
		"| 1,000 × sleep: launch, ours vs the floor | s | 3.00 | floor | 1.00 | 3 | ratio ≤ 2 | **missed** | 1/1 |",
		"| stop all + start all, 1,000 programs | s | 0.5 | Python | 10.0 | 0.05 | ratio ≤ 0.1 | met | 1/1 |",
		"ours at 1,000 | 0.5 | 10 | – |",
		"| RSS per added program, 1 → 10,000 | KB | 0.25 | – | – | – | ours ≤ 25 | met | 1/0 |",
		"| getAllProcessInfo, 10,000 programs, sequential calls, p50 | ms | 12.0 | – | – | – |",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("scale table lacks %q:\n%s", want, tab)
		}
	}
	if strings.Contains(tab, "idle daemon CPU") {
		t.Errorf("rows without samples shown:\n%s", tab)
	}
}

func TestUpdateBlockAppendsSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	if err := updateDoc(path, "main\n"); err != nil {
		t.Fatal(err)
	}
	for _, blk := range []string{"scale one\n", "scale two\n"} {
		if err := updateBlock(path, scaleBeginMark, scaleEndMark, scaleHeading, blk); err != nil {
			t.Fatal(err)
		}
	}
	if err := updateDoc(path, "main two\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := "# Benchmarks\n\n" + beginMark + "\nmain two\n" + endMark + "\n\n" + scaleHeading + "\n\n" +
		scaleBeginMark + "\nscale two\n" + scaleEndMark + "\n"
	if string(b) != want {
		t.Errorf("doc\n%q\nwant\n%q", b, want)
	}
}
