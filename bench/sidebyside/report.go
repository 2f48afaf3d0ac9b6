package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
)

// targetKind says how a figure is judged.
type targetKind int

const (
	noTarget targetKind = iota
	ratioAtMost
	ratioAtLeast
	oursAtMost
	floorAtMost // ours ≤ Value × the capture floor: judged in the capture table
)

type target struct {
	Kind  targetKind
	Value float64
}

func (t target) String() string {
	switch t.Kind {
	case ratioAtMost:
		return fmt.Sprintf("ratio ≤ %g", t.Value)
	case ratioAtLeast:
		return fmt.Sprintf("ratio ≥ %g", t.Value)
	case oursAtMost:
		return fmt.Sprintf("ours ≤ %g", t.Value)
	case floorAtMost:
		return fmt.Sprintf("ours ≤ %g× floor", t.Value)
	}
	return "–"
}

// figure is one row of the table.
type figure struct {
	Key, Label, Unit string
	Ref              string  // scale table: the implementation ours is compared with
	Scale            float64 // display value = sample * Scale
	Target           target
	samples          map[string][]float64
	censored         map[string]bool   // some sample hit a time limit (a lower bound)
	pending          map[string]string // implementation -> why there is no figure
	captureOnly      bool              // shown in the capture table only
}

// results is the ordered set of figures of a run.
type results struct {
	order []*figure
	byKey map[string]*figure
}

func newResults() *results {
	r := &results{byKey: map[string]*figure{}}
	def := func(key, label, unit string, scale float64, t target) {
		f := &figure{Key: key, Label: label, Unit: unit, Scale: scale, Target: t,
			samples: map[string][]float64{}, censored: map[string]bool{}, pending: map[string]string{}}
		r.order = append(r.order, f)
		r.byKey[key] = f
	}
	def("launch200", "200 × sleep, startsecs=0: launch → all RUNNING", "s", 1, target{ratioAtMost, 0.2})
	def("launch1000", "1,000 × sleep, startsecs=0: launch → all RUNNING", "s", 1, target{ratioAtMost, 0.2})
	def("launch200s1", "200 × sleep, startsecs=1: launch → all RUNNING", "s", 1, target{oursAtMost, 1.2})
	def("rss1", "RSS idle, 1 program", "MB", 1, target{})
	def("rss200", "RSS idle, 200 programs", "MB", 1, target{ratioAtMost, 0.6})
	def("rss1000", "RSS idle, 1,000 programs", "MB", 1, target{})
	def("perprog", "memory per added program (RSS 1 → largest)", "KB", 1, target{ratioAtMost, 1})
	def("idlecpu200", "idle daemon CPU, 200 programs, over the idle window", "s", 1, target{ratioAtMost, 1})
	def("rpcseq200", "getAllProcessInfo, 200 programs, 1 client", "calls/s", 1, target{ratioAtLeast, 10})
	def("rpc50_200", "getAllProcessInfo, 200 programs, 50 clients", "calls/s", 1, target{ratioAtLeast, 10})
	def("rpc50p99_200", "getAllProcessInfo, 200 programs, 50 clients, p99", "ms", 1, target{})
	def("rpcseq1000", "getAllProcessInfo, 1,000 programs, 1 client", "calls/s", 1, target{ratioAtLeast, 10})
	def("rpc50_1000", "getAllProcessInfo, 1,000 programs, 50 clients", "calls/s", 1, target{ratioAtLeast, 10})
	def("rpc50p99_1000", "getAllProcessInfo, 1,000 programs, 50 clients, p99", "ms", 1, target{})
	def("log1mbs", "log capture, 1 child, 64-byte lines, 10 MB × 3 rotation", "MB/s", 1, target{ratioAtLeast, 1})
	def("log1cpu", "log capture, 1 child: daemon CPU per MB", "ms/MB", 1, target{floorAtMost, 1.3})
	def("logfloor", "log capture floor: `dd bs=64k` copying the single child's output into a file (in the ours column), no rotation; CPU per MB", "ms/MB", 1, target{})
	def("log100mbs", "log capture, 100 children", "MB/s", 1, target{ratioAtLeast, 1})
	def("log100cpu", "log capture, 100 children: daemon CPU per MB", "ms/MB", 1, target{floorAtMost, 1.3})
	// json capture (ours only): in the capture table, not this one.
	def("log1jmbs", "log capture json, 1 child", "MB/s", 1, target{})
	def("log1jcpu", "log capture json, 1 child: daemon CPU per MB", "ms/MB", 1, target{})
	def("log100jmbs", "log capture json, 100 children", "MB/s", 1, target{})
	def("log100jcpu", "log capture json, 100 children: daemon CPU per MB", "ms/MB", 1, target{})
	def("logfloorj", "log capture floor for json's bytes: `dd bs=64k` copying lines as long as the json records, per MB of 64-byte lines", "ms/MB", 1, target{})
	for _, k := range []string{"log1jmbs", "log1jcpu", "log100jmbs", "log100jcpu", "logfloorj"} {
		r.byKey[k].captureOnly = true
	}
	def("kill9", "kill -9 of a child → replacement RUNNING (startsecs=0)", "ms", 1000, target{oursAtMost, 10})
	def("term200", "SIGTERM → daemon exit, 200 programs", "s", 1, target{oursAtMost, 0.5})
	def("ctl200", "supervisorctl status, 200 programs, whole process", "s", 1, target{ratioAtMost, 0.2})
	def("ctl200cross", "supervisorctl status against the Python daemon: our ctl vs Python's", "s", 1, target{})
	return r
}

func (r *results) fig(key string) *figure {
	f, ok := r.byKey[key]
	if !ok {
		panic("unknown figure " + key) // a typo in this program, not a runtime condition
	}
	return f
}

func (r *results) add(key, impl string, v float64) {
	f := r.fig(key)
	f.samples[impl] = append(f.samples[impl], v)
}

func (r *results) addCensored(key, impl string, v float64) {
	r.add(key, impl, v)
	r.fig(key).censored[impl] = true
}

func (r *results) pend(key, impl, why string) {
	f := r.fig(key)
	if _, ok := f.pending[impl]; !ok {
		f.pending[impl] = why
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// derive fills the per-program memory figure from the RSS medians.
func (r *results) derive(impls ...string) {
	big := "rss1000"
	n := 999.0
	if len(r.fig("rss1000").samples[impls[0]]) == 0 {
		big, n = "rss200", 199
	}
	r.fig("perprog").Label = fmt.Sprintf("memory per added program (RSS 1 → %s programs)", strings.TrimPrefix(big, "rss"))
	for _, im := range impls {
		a, b := median(r.fig("rss1").samples[im]), median(r.fig(big).samples[im])
		if !math.IsNaN(a) && !math.IsNaN(b) {
			r.add("perprog", im, (b-a)*1024/n)
		}
	}
}

func fmtVal(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// row renders one figure: value cells, ratio, target, verdict.
func (f *figure) row(ours, py string) []string {
	cell := func(im string) (string, float64) {
		if why, ok := f.pending[im]; ok && len(f.samples[im]) == 0 {
			return "pending (" + why + ")", math.NaN()
		}
		m := median(f.samples[im]) * f.Scale
		s := fmtVal(m)
		if f.censored[im] {
			s = "≥ " + s
		}
		return s, m
	}
	os, o := cell(ours)
	ps, p := cell(py)
	ratio := math.NaN()
	if !math.IsNaN(o) && !math.IsNaN(p) && p != 0 {
		ratio = o / p
	}
	rs := "–"
	if !math.IsNaN(ratio) {
		rs = fmt.Sprintf("%.3g", ratio)
		if f.censored[py] {
			rs = "≤ " + rs
		}
	}
	verdict := "–"
	switch f.Target.Kind {
	case ratioAtMost:
		verdict = judge(!math.IsNaN(ratio), ratio <= f.Target.Value)
	case ratioAtLeast:
		verdict = judge(!math.IsNaN(ratio), ratio >= f.Target.Value)
	case oursAtMost:
		verdict = judge(!math.IsNaN(o), o <= f.Target.Value)
	case floorAtMost:
		verdict = "capture table"
	}
	n := fmt.Sprintf("%d/%d", len(f.samples[ours]), len(f.samples[py]))
	return []string{f.Label, f.Unit, os, ps, rs, f.Target.String(), verdict, n}
}

func judge(known, ok bool) string {
	switch {
	case !known:
		return "pending"
	case ok:
		return "met"
	}
	return "**missed**"
}

// table renders the results as a Markdown table.
func (r *results) table(ours, py string) string {
	var b strings.Builder
	b.WriteString("| figure | unit | ours | Python | ours/Python | target | verdict | samples (ours/Python) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.order {
		if len(f.samples[ours])+len(f.samples[py])+len(f.pending) == 0 || f.captureOnly {
			continue // scenario not run in this mode
		}
		b.WriteString("| " + strings.Join(f.row(ours, py), " | ") + " |\n")
	}
	return b.String()
}

// machine describes where the figures were taken.
func machine(pyVersion string) string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, err := parseField(string(b), "MemTotal:"); err == nil {
			mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return fmt.Sprintf("- CPU: %s, %d logical CPUs (nproc)\n- memory: %s\n- kernel: Linux %s\n- Go: %s\n- Python supervisord: %s\n",
		model, runtime.NumCPU(), mem, kernel, runtime.Version(), pyVersion)
}
