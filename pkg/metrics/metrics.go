// Package metrics is GET /metrics (EXTENSIONS.md §6): a Prometheus
// collector that snapshots the engine when it is scraped, and nothing in
// between (no goroutine, no sampler, no per-process state).
//
// It exports node_exporter's supervisord collector series under the same
// names, labels, types, help texts and values, so that dashboards and alerts
// written for `node_exporter --collector.supervisord` keep working when they
// scrape the daemon directly:
//
//	node_supervisord_up{group,name}                 gauge   1 while STARTING, RUNNING or STOPPING, else 0
//	node_supervisord_state{group,name}              gauge   the state code (0 STOPPED … 200 FATAL)
//	node_supervisord_exit_status{group,name}        gauge   exitstatus of getProcessInfo
//	node_supervisord_start_time_seconds{group,name} counter laststart, only while up
//
// and ours:
//
//	supervisord_up                                  gauge   1 (the daemon answers)
//	supervisord_state                               gauge   getState's code (1 RUNNING, 0 RESTARTING, -1 SHUTDOWN)
//	supervisord_info{version,supervisor_version}    gauge   1
//	supervisord_process_restarts_total{group,name}  counter spawns after the first
//	supervisord_process_cpu_seconds_total{…}        counter utime+stime of the running pid (/proc)
//	supervisord_process_resident_memory_bytes{…}    gauge   RSS of the running pid (/proc)
//	supervisord_process_open_fds{…}                 gauge   descriptors of the running pid (/proc)
//	supervisord_process_health{…}                   gauge   0 starting, 1 healthy, 2 unhealthy (checked programs only)
//	supervisord_log_bytes_total{group,name,stream}  counter bytes logged
//	supervisord_events_total{type}                  counter events emitted
//	supervisord_listener_buffer_events{pool}        gauge   events buffered for an event listener pool
//	supervisord_rpc_requests_total{method,code}     counter XML-RPC calls by method and fault code (0 = success)
//
// plus client_golang's Go runtime (go_*) and process (process_*) collectors
// for the daemon itself.
package metrics

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/procstat"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// Source is what the collector reads of the engine at each scrape
// (*supervisor.Supervisor).
type Source interface {
	MetricsSnapshot() supervisor.MetricsSnapshot
}

// Options tune a Collector. The zero value reads the real /proc.
type Options struct {
	// ProcRoot is where procfs is mounted (default /proc).
	ProcRoot string
}

// Help texts: node_exporter 1.5.0's collector/supervisord.go, verbatim,
// then ours.
const (
	helpUp        = "Process Up"
	helpState     = "Process State"
	helpExit      = "Process Exit Status"
	helpStartTime = "Process start time"

	helpDaemonUp    = "Whether supervisord answered the scrape (always 1 when it does)."
	helpDaemonState = "supervisord's state as getState gives it: 2 FATAL, 1 RUNNING, 0 RESTARTING, -1 SHUTDOWN."
	helpInfo        = "gosupervisor's version and the supervisord version it implements."
	helpRestarts    = "Times the process was spawned again after its first spawn in this daemon generation (crashes, autorestarts, manual restarts)."
	helpCPU         = "User and system CPU time of the running process, from /proc/<pid>/stat."
	helpRSS         = "Resident memory of the running process, from /proc/<pid>/stat."
	helpFDs         = "Open file descriptors of the running process, from /proc/<pid>/fd."
	helpHealth      = "Health check status of a program with healthcheck=: 0 starting, 1 healthy, 2 unhealthy."
	helpLogBytes    = "Bytes the process wrote to its log, by stream."
	helpEvents      = "Events emitted by supervisord's event system since it started, by type."
	helpBuffer      = "Events waiting in an event listener pool's buffer."
	helpRPC         = "XML-RPC calls answered, by method and code: 0 a result, else the fault code (calls of unknown methods count as method \"unknown\"), 500 an unexpected exception."
)

var (
	procLabels = []string{"group", "name"}

	nodeUp        = prometheus.NewDesc("node_supervisord_up", helpUp, procLabels, nil)
	nodeState     = prometheus.NewDesc("node_supervisord_state", helpState, procLabels, nil)
	nodeExit      = prometheus.NewDesc("node_supervisord_exit_status", helpExit, procLabels, nil)
	nodeStartTime = prometheus.NewDesc("node_supervisord_start_time_seconds", helpStartTime, procLabels, nil)

	daemonUp    = prometheus.NewDesc("supervisord_up", helpDaemonUp, nil, nil)
	daemonState = prometheus.NewDesc("supervisord_state", helpDaemonState, nil, nil)
	daemonInfo  = prometheus.NewDesc("supervisord_info", helpInfo, []string{"version", "supervisor_version"}, nil)

	restarts       = prometheus.NewDesc("supervisord_process_restarts_total", helpRestarts, procLabels, nil)
	cpuSeconds     = prometheus.NewDesc("supervisord_process_cpu_seconds_total", helpCPU, procLabels, nil)
	rss            = prometheus.NewDesc("supervisord_process_resident_memory_bytes", helpRSS, procLabels, nil)
	openFDs        = prometheus.NewDesc("supervisord_process_open_fds", helpFDs, procLabels, nil)
	healthDesc     = prometheus.NewDesc("supervisord_process_health", helpHealth, procLabels, nil)
	logBytes       = prometheus.NewDesc("supervisord_log_bytes_total", helpLogBytes, []string{"group", "name", "stream"}, nil)
	eventsTotal    = prometheus.NewDesc("supervisord_events_total", helpEvents, []string{"type"}, nil)
	listenerBuffer = prometheus.NewDesc("supervisord_listener_buffer_events", helpBuffer, []string{"pool"}, nil)
)

// Collector is the prometheus.Collector of the engine's series. Metrics
// serves the same series through a direct text writer (text.go), which is
// what keeps a scrape of 10,000 programs fast; the Collector is for
// embedding in another registry, and the tests check both agree.
type Collector struct {
	src    Source
	reader *procstat.Reader
}

// NewCollector returns the collector of src's series.
func NewCollector(src Source, opts Options) *Collector {
	return &Collector{src: src, reader: procstat.NewReader(opts.ProcRoot)}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		nodeUp, nodeState, nodeExit, nodeStartTime,
		daemonUp, daemonState, daemonInfo,
		restarts, cpuSeconds, rss, openFDs, healthDesc, logBytes, eventsTotal, listenerBuffer,
	} {
		ch <- d
	}
}

// isUp is node_exporter's isRunning: STARTING, RUNNING and STOPPING count
// as up.
func isUp(s process.State) bool {
	return s == process.Starting || s == process.Running || s == process.Stopping
}

// scrape is one reading of everything: the engine's snapshot, its
// processes sorted by (group, name) as the exposition orders them, and
// their /proc figures.
type scrape struct {
	supervisor.MetricsSnapshot
	usage []usage // by index of Processes
}

type usage struct {
	procstat.Usage
	ok bool
}

// parallelFrom is the number of pids from which /proc is read by several
// goroutines (for the scrape only).
const parallelFrom = 64

func (c *Collector) scrape() *scrape {
	sc := &scrape{MetricsSnapshot: c.src.MetricsSnapshot()}
	procs := sc.Processes
	slices.SortFunc(procs, func(a, b supervisor.ProcessMetrics) int {
		if d := strings.Compare(a.Group, b.Group); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	sc.usage = make([]usage, len(procs))
	var live []int
	for i := range procs {
		if procs[i].Pid > 0 {
			live = append(live, i)
		}
	}
	read := func(r *procstat.Reader, idx []int) {
		for _, i := range idx {
			u, err := r.Read(procs[i].Pid)
			sc.usage[i] = usage{u, err == nil}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(live)+parallelFrom-1)/parallelFrom)
	if workers <= 1 {
		read(c.reader.Clone(), live)
		return sc
	}
	var wg sync.WaitGroup
	chunk := (len(live) + workers - 1) / workers
	for part := range slices.Chunk(live, chunk) {
		r := c.reader.Clone()
		wg.Go(func() { read(r, part) })
	}
	wg.Wait()
	return sc
}

// Collect implements prometheus.Collector: one engine snapshot, then /proc
// for every process with a pid.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	sc := c.scrape()
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	ch <- prometheus.MustNewConstMetric(daemonUp, gauge, 1)
	ch <- prometheus.MustNewConstMetric(daemonState, gauge, float64(sc.State))
	ch <- prometheus.MustNewConstMetric(daemonInfo, gauge, 1, version.Release(), version.Compat)
	for i := range sc.Processes {
		p := &sc.Processes[i]
		g, n := p.Group, p.Name
		ch <- prometheus.MustNewConstMetric(nodeState, gauge, float64(p.State), g, n)
		ch <- prometheus.MustNewConstMetric(nodeExit, gauge, float64(p.ExitStatus), g, n)
		if isUp(p.State) {
			ch <- prometheus.MustNewConstMetric(nodeUp, gauge, 1, g, n)
			ch <- prometheus.MustNewConstMetric(nodeStartTime, counter, float64(p.Start), g, n)
		} else {
			ch <- prometheus.MustNewConstMetric(nodeUp, gauge, 0, g, n)
		}
		ch <- prometheus.MustNewConstMetric(restarts, counter, float64(max(p.Spawns-1, 0)), g, n)
		ch <- prometheus.MustNewConstMetric(logBytes, counter, float64(p.StdoutBytes), g, n, "stdout")
		ch <- prometheus.MustNewConstMetric(logBytes, counter, float64(p.StderrBytes), g, n, "stderr")
		if p.Checked {
			ch <- prometheus.MustNewConstMetric(healthDesc, gauge, float64(p.Health), g, n)
		}
		if u := sc.usage[i]; u.ok {
			ch <- prometheus.MustNewConstMetric(cpuSeconds, counter, float64(u.Ticks)/procstat.ClkTck, g, n)
			ch <- prometheus.MustNewConstMetric(rss, gauge, float64(u.RSS), g, n)
			if u.FDs >= 0 {
				ch <- prometheus.MustNewConstMetric(openFDs, gauge, float64(u.FDs), g, n)
			}
		}
	}
	for name, count := range sc.Events {
		ch <- prometheus.MustNewConstMetric(eventsTotal, counter, float64(count), name)
	}
	for _, pl := range sc.Pools {
		ch <- prometheus.MustNewConstMetric(listenerBuffer, gauge, float64(pl.Buffered), pl.Name)
	}
}

// Metrics is the /metrics of one daemon generation: the engine's series,
// the RPC counter, and the Go and process collectors of the daemon.
type Metrics struct {
	c *Collector
	// reg holds everything but the engine's series (the RPC counter, Go
	// and process collectors), encoded by expfmt after ours.
	reg *prometheus.Registry
	rpc *prometheus.CounterVec
}

// New returns the /metrics of src.
func New(src Source, opts Options) *Metrics {
	m := &Metrics{c: NewCollector(src, opts), reg: prometheus.NewRegistry()}
	m.rpc = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "supervisord_rpc_requests_total",
		Help: helpRPC,
	}, []string{"method", "code"})
	m.reg.MustRegister(
		m.rpc,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Collector is the engine's collector behind m.
func (m *Metrics) Collector() *Collector { return m.c }

// ObserveRPC counts one answered XML-RPC call; code is its fault code, 0
// for a successful answer.
func (m *Metrics) ObserveRPC(method string, code int) {
	// Calls of methods that do not exist count under one label value, so
	// that a client cannot grow the series without bound.
	if code == int(fault.UnknownMethod) {
		method = "unknown"
	}
	m.rpc.WithLabelValues(method, strconv.Itoa(code)).Inc()
}
