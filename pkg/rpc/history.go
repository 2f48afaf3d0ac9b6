package rpc

import (
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// Transition is one recorded state change of a process (issue 17).
type Transition struct {
	Time     time.Time
	From, To string // the original's state names
	Pid      int    // the payload's pid: 0 where the event has none
	// Expected is the EXITED payload's expected (true for other changes).
	Expected bool
	// Exited: the change follows the reaped exit of the child, whose exit
	// status is ExitStatus (-1 when a signal ended it: Signal, "SIGKILL").
	Exited     bool
	ExitStatus int
	Signal     string
	// Spawnerr is the reason given for BACKOFF, FATAL and an unexpected
	// EXITED ("Exited too quickly …", "Bad exit code 3", a spawn error).
	Spawnerr string
}

// Sample is one resource reading of a process.
type Sample struct {
	Time time.Time
	CPU  float64 // percent of one CPU since the previous sample
	RSS  int64   // resident memory, bytes
	FDs  int     // open descriptors, -1 if unreadable
}

// History is gosupervisor.getProcessHistory's answer.
type History struct {
	Name, Group string
	Transitions []Transition // oldest first, at most the last 100
	Samples     []Sample     // oldest first, the last hour
	// Sampling says whether samples are being taken now (someone watches,
	// or [supervisord] history=true); SampleEvery is their interval.
	Sampling    bool
	SampleEvery time.Duration
}

// HistoryBackend is the engine's history, when it keeps one. It is apart
// from ExtBackend so that backends without it (test fakes) still serve
// the other methods.
type HistoryBackend interface {
	// ProcessHistory is BAD_NAME: namespec for an unknown process.
	ProcessHistory(namespec string) (History, error)
}

// addHistoryMethods registers gosupervisor.getProcessHistory.
func (s *Server) addHistoryMethods(hb HistoryBackend) {
	s.addExtension(1, 1, `Give the recent history of a process: its last state changes (at most
100, oldest first) with the exit status or signal of the exit that caused
them and the spawn error, and its resource samples of the last hour (CPU
percent, resident memory in bytes, open descriptors; -1 when unreadable),
taken every sample_every seconds while a console or API client watches or
with [supervisord] history=true. Asking counts as watching for 2 minutes.
Times are seconds since the epoch (a double, to the millisecond, for
transitions).

@param string name     Process name (or "group:name").
@return struct result  {name, group, sampling, sample_every,
                       transitions: [{time, from, to, pid, expected,
                       exited, exitstatus, signal, spawnerr}],
                       samples: [{time, cpu, rss, fds}]}`,
		fn(func(a []any) (any, error) {
			t, err := s.resolveProcess(a[0])
			if err != nil {
				return nil, err
			}
			h, err := hb.ProcessHistory(t.name)
			if err != nil {
				return nil, err
			}
			return historyStruct(h), nil
		}), "gosupervisor.getProcessHistory")
}

func historyStruct(h History) xmlrpc.Struct {
	trs := make([]any, len(h.Transitions))
	for i, t := range h.Transitions {
		trs[i] = xmlrpc.Struct{
			{Name: "time", Value: unixMillis(t.Time)},
			{Name: "from", Value: t.From},
			{Name: "to", Value: t.To},
			{Name: "pid", Value: t.Pid},
			{Name: "expected", Value: t.Expected},
			{Name: "exited", Value: t.Exited},
			{Name: "exitstatus", Value: t.ExitStatus},
			{Name: "signal", Value: t.Signal},
			{Name: "spawnerr", Value: t.Spawnerr},
		}
	}
	smp := make([]any, len(h.Samples))
	for i, s := range h.Samples {
		// XML-RPC ints are 32-bit: memory goes as a double, exact to 2^53.
		smp[i] = xmlrpc.Struct{
			{Name: "time", Value: cappedTime(s.Time)},
			{Name: "cpu", Value: s.CPU},
			{Name: "rss", Value: float64(s.RSS)},
			{Name: "fds", Value: s.FDs},
		}
	}
	return xmlrpc.Struct{
		{Name: "name", Value: h.Name},
		{Name: "group", Value: h.Group},
		{Name: "sampling", Value: h.Sampling},
		{Name: "sample_every", Value: int(h.SampleEvery / time.Second)},
		{Name: "transitions", Value: trs},
		{Name: "samples", Value: smp},
	}
}

// unixMillis is t in seconds since the epoch, to the millisecond.
func unixMillis(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
