package top_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/tests/compat/harness"
)

// BenchmarkTop1000 runs top in tmux against 1,000 programs and reports
// the CPU top itself uses while nothing happens (% of one core over 10 s)
// and how long a state change takes to reach the screen (median of 5 stops
// made over XML-RPC, from the call to STOPPING/STOPPED on the screen, at
// five phases of a polling period).
//
//	go test -run '^$' -bench Top1000 -benchtime 1x ./tests/top
func BenchmarkTop1000(b *testing.B) {
	b.Run("ours", func(b *testing.B) { benchTop(b, bins.Supervisord, "events") })
	b.Run("python", func(b *testing.B) {
		if harness.NoPython() {
			b.Skip(harness.ErrNoPython)
		}
		benchTop(b, harness.PySupervisord, "polling")
	})
}

func benchTop(b *testing.B, daemon, kind string) {
	for range b.N {
		dir := b.TempDir()
		var cfg strings.Builder
		// the common head of the test config, without its programs
		fmt.Fprintf(&cfg, strings.SplitN(conf, "[program:crash]", 2)[0], dir)
		cfg.WriteString("[supervisord]\n")
		for i := range 1000 {
			fmt.Fprintf(&cfg, "[program:p%04d]\ncommand=sleep 100000\nstartsecs=0\n", i)
		}
		// [supervisord] twice: merge the second (minfds) into the first
		text := strings.Replace(cfg.String(), "[supervisord]\n[program:p0000]", "[program:p0000]", 1)
		text = strings.Replace(text, "childlogdir="+dir+"\n", "childlogdir="+dir+"\nminfds=4096\n", 1)
		path := filepath.Join(dir, "supervisord.conf")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		d := harness.StartDaemon(b, kind, daemon, path, filepath.Join(dir, "sv.sock"), nil)
		if err := d.RPC.WaitSettled(120 * time.Second); err != nil {
			b.Fatal(err)
		}
		x := newBenchTmux(b, dir)
		x.text(bins.Supervisorctl + " -c " + path + " top")
		x.keys("Enter")
		x.waitFor(b, "the table", 30*time.Second, func(s string) bool { return strings.Contains(s, "p0000 ") && strings.Contains(s, kind) })
		pid := x.topPid(b)

		// idle: 10 s of nothing happening
		t0, c0 := time.Now(), cpuTicks(b, pid)
		time.Sleep(10 * time.Second)
		idle := float64(cpuTicks(b, pid)-c0) / 100 / time.Since(t0).Seconds() * 100
		b.ReportMetric(idle, "%cpu-idle")

		var lat []time.Duration
		for i := range 5 {
			name := fmt.Sprintf("p%04d", i)
			// Each stop comes right after the previous one reached the
			// screen, i.e. just after a poll; offset it by i/5 of a second
			// so that the five samples spread over the polling period
			// instead of all waiting a whole one.
			time.Sleep(time.Duration(i) * 200 * time.Millisecond)
			start := time.Now()
			if _, err := d.RPC.Value("supervisor.stopProcess", name, false); err != nil {
				b.Fatal(err)
			}
			x.waitFor(b, name+" stopping", 10*time.Second, func(s string) bool {
				for _, l := range strings.Split(s, "\n") {
					if strings.HasPrefix(l, name+" ") && (strings.Contains(l, "STOPP")) {
						return true
					}
				}
				return false
			})
			lat = append(lat, time.Since(start))
		}
		sortDurations(lat)
		b.ReportMetric(float64(lat[2].Milliseconds()), "ms-to-screen-p50")
		b.ReportMetric(float64(lat[4].Milliseconds()), "ms-to-screen-max")
		x.keys("q")
	}
}

func sortDurations(d []time.Duration) {
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[j] < d[i] {
				d[i], d[j] = d[j], d[i]
			}
		}
	}
}

// cpuTicks is pid's utime+stime in USER_HZ (100) ticks.
func cpuTicks(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

type benchTmux struct{ sock string }

func execTmux(sock string, args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
	return string(out), err
}

func newBenchTmux(b *testing.B, dir string) *benchTmux {
	x := &benchTmux{sock: filepath.Join(dir, "tmux.sock")}
	x.run(b, "new-session", "-d", "-s", "top", "-x", "120", "-y", "40", "-e", "TERM=xterm-256color", "env", "PS1=$ ", "sh")
	b.Cleanup(func() { x.run(nil, "kill-server") })
	return x
}

func (x *benchTmux) run(b *testing.B, args ...string) string {
	out, err := execTmux(x.sock, args...)
	if err != nil && b != nil {
		b.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return out
}

func (x *benchTmux) text(s string) { _, _ = execTmux(x.sock, "send-keys", "-t", "top", "-l", s) }
func (x *benchTmux) keys(k ...string) {
	_, _ = execTmux(x.sock, append([]string{"send-keys", "-t", "top"}, k...)...)
}
func (x *benchTmux) screen() string {
	s, _ := execTmux(x.sock, "capture-pane", "-p", "-t", "top")
	return s
}
func (x *benchTmux) topPid(b *testing.B) int {
	sh, err := strconv.Atoi(strings.TrimSpace(x.run(b, "display-message", "-p", "-t", "top", "#{pane_pid}")))
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sh, sh))
	if err != nil || len(strings.Fields(string(data))) == 0 {
		b.Fatalf("top's pid under the pane's shell %d: %v %q", sh, err, data)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(data))[0])
	return pid
}

func (x *benchTmux) waitFor(b *testing.B, what string, d time.Duration, cond func(string) bool) {
	deadline := time.Now().Add(d)
	for {
		s := x.screen()
		if cond(s) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %v, still not %s; screen:\n%s", d, what, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
