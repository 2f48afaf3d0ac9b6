package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/gosupervisor/gosupervisor/pkg/procstat"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// The engine's series are written straight into the text exposition
// format: for 10,000 programs client_golang's registry (a Metric, a dto
// conversion, hashing and sorting per sample, ~150,000 samples) takes over
// three times the 50 ms budget; this writer produces the identical bytes
// (the tests compare them with expfmt's encoding of the Collector) in a
// fraction. Families come in name order and samples in label order, as a
// registry orders them; empty families are left out, as there.

// contentType is the text format's, as promhttp announces it.
var contentType = string(expfmt.NewFormat(expfmt.TypeTextPlain))

// family is one metric family's text, to be merged by name with the
// registry's families.
type family struct {
	name string
	text []byte
}

// textWriter builds the engine's families.
type textWriter struct {
	sc     *scrape
	labels []string // per process: `group="g",name="n"`, escaped
	buf    []byte
	fams   []family
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// begin starts a family; end closes it, dropping it if it got no sample.
func (w *textWriter) begin(name, help, typ string) int {
	w.buf = append(w.buf, "# HELP "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, helpEscaper.Replace(help)...)
	w.buf = append(w.buf, "\n# TYPE "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, typ...)
	w.buf = append(w.buf, '\n')
	return len(w.buf)
}

func (w *textWriter) end(name string, headerEnd int) {
	if len(w.buf) > headerEnd {
		w.fams = append(w.fams, family{name: name, text: w.buf})
	}
	w.buf = w.buf[len(w.buf):] // the next family appends after this one
}

// sample writes `name{labels} value`; labels is "" for none.
func (w *textWriter) sample(name, labels, extra string, v float64) {
	w.buf = append(w.buf, name...)
	if labels != "" || extra != "" {
		w.buf = append(w.buf, '{')
		w.buf = append(w.buf, labels...)
		if labels != "" && extra != "" {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, extra...)
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, ' ')
	w.buf = appendFloat(w.buf, v)
	w.buf = append(w.buf, '\n')
}

// appendFloat formats v as expfmt's writeFloat does.
func appendFloat(b []byte, v float64) []byte {
	switch v {
	case 0:
		return append(b, '0')
	case 1:
		return append(b, '1')
	case -1:
		return append(b, "-1"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func label(name, value string) string {
	return name + `="` + labelEscaper.Replace(value) + `"`
}

// perProcess writes one family with a sample per process for which v
// returns ok.
func (w *textWriter) perProcess(name, help, typ string, v func(i int) (float64, bool)) {
	h := w.begin(name, help, typ)
	for i := range w.sc.Processes {
		if x, ok := v(i); ok {
			w.sample(name, w.labels[i], "", x)
		}
	}
	w.end(name, h)
}

// families writes the engine's families, in name order.
func (w *textWriter) families() []family {
	sc := w.sc
	procs := sc.Processes
	w.labels = make([]string, len(procs))
	for i := range procs {
		w.labels[i] = label("group", procs[i].Group) + "," + label("name", procs[i].Name)
	}
	w.buf = make([]byte, 0, 256+len(procs)*700)
	all := func(f func(i int) float64) func(int) (float64, bool) {
		return func(i int) (float64, bool) { return f(i), true }
	}
	w.perProcess("node_supervisord_exit_status", helpExit, "gauge",
		all(func(i int) float64 { return float64(procs[i].ExitStatus) }))
	w.perProcess("node_supervisord_start_time_seconds", helpStartTime, "counter",
		func(i int) (float64, bool) { return float64(procs[i].Start), isUp(procs[i].State) })
	w.perProcess("node_supervisord_state", helpState, "gauge",
		all(func(i int) float64 { return float64(procs[i].State) }))
	w.perProcess("node_supervisord_up", helpUp, "gauge", all(func(i int) float64 {
		if isUp(procs[i].State) {
			return 1
		}
		return 0
	}))

	const events = "supervisord_events_total"
	h := w.begin(events, helpEvents, "counter")
	types := make([]string, 0, len(sc.Events))
	for t := range sc.Events {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		w.sample(events, label("type", t), "", float64(sc.Events[t]))
	}
	w.end(events, h)

	const info = "supervisord_info"
	h = w.begin(info, helpInfo, "gauge")
	w.sample(info, label("supervisor_version", version.Compat)+","+label("version", version.Release()), "", 1)
	w.end(info, h)

	const buffer = "supervisord_listener_buffer_events"
	h = w.begin(buffer, helpBuffer, "gauge")
	pools := slices.Clone(sc.Pools)
	slices.SortFunc(pools, func(a, b supervisor.PoolMetrics) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range pools {
		w.sample(buffer, label("pool", p.Name), "", float64(p.Buffered))
	}
	w.end(buffer, h)

	const logs = "supervisord_log_bytes_total"
	h = w.begin(logs, helpLogBytes, "counter")
	for i := range procs {
		w.sample(logs, w.labels[i], `stream="stderr"`, float64(procs[i].StderrBytes))
		w.sample(logs, w.labels[i], `stream="stdout"`, float64(procs[i].StdoutBytes))
	}
	w.end(logs, h)

	u := sc.usage
	w.perProcess("supervisord_process_cpu_seconds_total", helpCPU, "counter",
		func(i int) (float64, bool) { return float64(u[i].Ticks) / procstat.ClkTck, u[i].ok })
	w.perProcess("supervisord_process_health", helpHealth, "gauge",
		func(i int) (float64, bool) { return float64(procs[i].Health), procs[i].Checked })
	w.perProcess("supervisord_process_open_fds", helpFDs, "gauge",
		func(i int) (float64, bool) { return float64(u[i].FDs), u[i].ok && u[i].FDs >= 0 })
	w.perProcess("supervisord_process_resident_memory_bytes", helpRSS, "gauge",
		func(i int) (float64, bool) { return float64(u[i].RSS), u[i].ok })
	w.perProcess("supervisord_process_restarts_total", helpRestarts, "counter",
		all(func(i int) float64 { return float64(max(procs[i].Spawns-1, 0)) }))

	for _, d := range []struct {
		name, help string
		v          float64
	}{
		{"supervisord_state", helpDaemonState, float64(sc.State)},
		{"supervisord_up", helpDaemonUp, 1},
	} {
		h = w.begin(d.name, d.help, "gauge")
		w.sample(d.name, "", "", d.v)
		w.end(d.name, h)
	}
	return w.fams
}

// gzipPool recycles compressors (a scrape of 10,000 programs is ~5 MB of
// text, ~10× less compressed).
var gzipPool = sync.Pool{New: func() any {
	z, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return z
}}

// ServeHTTP serves the metrics in the text format, gzipped when the client
// accepts it.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &textWriter{sc: m.c.scrape()}
	ours := tw.families()
	theirs, err := m.reg.Gather()
	if err != nil && len(theirs) == 0 {
		http.Error(w, "gathering metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	var out io.Writer = w
	if gzipAccepted(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		z := gzipPool.Get().(*gzip.Writer)
		z.Reset(w)
		defer func() {
			_ = z.Close()
			z.Reset(io.Discard)
			gzipPool.Put(z)
		}()
		out = z
	}
	_ = writeMerged(out, ours, theirs)
}

// writeMerged writes our families and the registry's in name order.
func writeMerged(out io.Writer, ours []family, theirs []*dto.MetricFamily) error {
	var enc bytes.Buffer
	for len(ours) > 0 || len(theirs) > 0 {
		if len(theirs) == 0 || (len(ours) > 0 && ours[0].name < theirs[0].GetName()) {
			if _, err := out.Write(ours[0].text); err != nil {
				return err
			}
			ours = ours[1:]
			continue
		}
		enc.Reset()
		if _, err := expfmt.MetricFamilyToText(&enc, theirs[0]); err != nil {
			return err
		}
		if _, err := out.Write(enc.Bytes()); err != nil {
			return err
		}
		theirs = theirs[1:]
	}
	return nil
}

// gzipAccepted reports whether the request's Accept-Encoding names gzip.
func gzipAccepted(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
				continue
			}
			_, q, hasQ := strings.Cut(strings.ReplaceAll(params, " ", ""), "q=")
			if f, err := strconv.ParseFloat(q, 64); !hasQ || err != nil || f > 0 {
				return true
			}
		}
	}
	return false
}
