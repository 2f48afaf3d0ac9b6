package top

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/procstat"
	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// Client is what top needs of supervisorctl's connection (an
// *rpcclient.Client): XML-RPC calls, telling our daemon from the original,
// and our event stream, on the same server and credentials.
type Client interface {
	Call(ctx context.Context, method string, result any, args ...any) error
	Detect(ctx context.Context) (rpcclient.Daemon, error)
	Events(ctx context.Context, fn func(event string, data []byte) error) error
}

// Config is how top reaches the daemon.
type Config struct {
	Client    Client
	ServerURL string
	// FaultCode returns an XML-RPC fault's code and text.
	FaultCode func(error) (code int, text string, ok bool)
	// Local: the daemon runs on this host, so that the original's
	// processes' CPU and RSS can be read from /proc.
	Local bool
	// PollEvery is the polling period for the original (1 s, the most
	// often the issue allows).
	PollEvery time.Duration
	// Now lets tests set the clock.
	Now func() time.Time
}

// Messages from the source and the runner's goroutines to the loop.
type (
	msgProcs struct {
		procs []Proc
		full  bool
		state string
	}
	msgUsage map[string]Usage
	msgConn  Conn
	msgLog   struct {
		gen   int
		text  string
		reset bool
		gap   bool
		err   string
	}
	msgAction struct {
		a   Action
		err error
	}
)

// xmlProc is getProcessInfo's struct.
type xmlProc struct {
	Name        string `xmlrpc:"name"`
	Group       string `xmlrpc:"group"`
	Start       int64  `xmlrpc:"start"`
	Stop        int64  `xmlrpc:"stop"`
	Now         int64  `xmlrpc:"now"`
	State       int64  `xmlrpc:"state"`
	Statename   string `xmlrpc:"statename"`
	Spawnerr    string `xmlrpc:"spawnerr"`
	Exitstatus  int64  `xmlrpc:"exitstatus"`
	Pid         int64  `xmlrpc:"pid"`
	Description string `xmlrpc:"description"`
	// a multicall answers a fault struct in place of a gone process
	FaultCode int64 `xmlrpc:"faultCode"`
}

// apiProc is a process of our event stream (docs/API.md).
type apiProc struct {
	Name           string   `json:"name"`
	Group          string   `json:"group"`
	State          int      `json:"state"`
	Statename      string   `json:"statename"`
	Description    string   `json:"description"`
	PID            int      `json:"pid"`
	Start          int64    `json:"start"`
	Stop           int64    `json:"stop"`
	Now            int64    `json:"now"`
	Exitstatus     int      `json:"exitstatus"`
	Spawnerr       string   `json:"spawnerr"`
	Spawns         int      `json:"spawns"`
	CPU            *float64 `json:"cpu"`
	RSS            *int64   `json:"rss"`
	RecentRestarts int      `json:"recent_restarts"`
}

type apiList struct {
	Supervisor struct {
		Statename string `json:"statename"`
	} `json:"supervisor"`
	Processes []apiProc `json:"processes"`
}

func (a *apiProc) proc(counts bool) Proc {
	p := Proc{Name: a.Name, Group: a.Group, State: a.State, Statename: a.Statename, PID: a.PID,
		Start: a.Start, Stop: a.Stop, Now: a.Now, Description: a.Description, Spawnerr: a.Spawnerr,
		Exitstatus: a.Exitstatus, Spawns: a.Spawns, Recent: -1}
	if counts {
		p.Recent = a.RecentRestarts
	}
	if a.CPU != nil {
		p.HasCPU, p.CPU = true, *a.CPU
	}
	if a.RSS != nil {
		p.HasRSS, p.RSS = true, *a.RSS
	}
	return p
}

func (x *xmlProc) proc() Proc {
	return Proc{Name: x.Name, Group: x.Group, State: int(x.State), Statename: x.Statename,
		PID: int(x.Pid), Start: x.Start, Stop: x.Stop, Now: x.Now, Description: x.Description,
		Spawnerr: x.Spawnerr, Exitstatus: int(x.Exitstatus), Spawns: -1, Recent: -1}
}

// source feeds the loop, reconnecting for as long as ctx lives.
type source struct {
	cfg   Config
	out   chan<- any
	shown *shown // the rows on screen, for polling the original
}

func (s *source) send(ctx context.Context, m any) bool {
	select {
	case s.out <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *source) run(ctx context.Context) {
	retries := 0
	for ctx.Err() == nil {
		conn, err := s.detect(ctx)
		if err == nil {
			if conn.Kind == "events" {
				err = s.events(ctx, conn)
				if errors.Is(err, errNoEvents) {
					conn.Kind = "polling"
				}
			}
			if conn.Kind == "polling" {
				err = s.poll(ctx, conn)
			}
			retries = 0
		}
		if ctx.Err() != nil {
			return
		}
		retries++
		s.send(ctx, msgConn{Up: false, Err: shortErr(err), Retries: retries, Daemon: conn.Daemon})
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// shortErr keeps the useful end of a transport error.
func shortErr(err error) string {
	if err == nil {
		return "closed"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": dial "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// detect tells our daemon from the original.
func (s *source) detect(ctx context.Context) (Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := s.cfg.Client.Detect(cctx)
	if err != nil {
		return Conn{}, err
	}
	if !d.Ours {
		return Conn{Kind: "polling", Daemon: "supervisor " + d.Version}, nil
	}
	c := Conn{Kind: "events", Daemon: "gosupervisor " + d.Version}
	var help string
	c.Counts = s.cfg.Client.Call(cctx, "system.methodHelp", &help, "gosupervisor.getProcessHistory") == nil
	return c, nil
}

var errNoEvents = rpcclient.ErrNoEvents

// events follows our event stream until it ends.
func (s *source) events(ctx context.Context, conn Conn) error {
	up := false
	err := s.cfg.Client.Events(ctx, func(event string, data []byte) error {
		msg, err := decodeEvent(event, data, conn.Counts)
		if err != nil || msg == nil {
			return err
		}
		if mp, ok := msg.(msgProcs); ok && !up {
			up = true
			c := conn
			c.Up, c.State = true, mp.state
			if !s.send(ctx, msgConn(c)) {
				return ctx.Err()
			}
		}
		if !s.send(ctx, msg) {
			return ctx.Err()
		}
		return nil
	})
	if ctx.Err() != nil && !up {
		return ctx.Err()
	}
	return err
}

func decodeEvent(event string, data []byte, counts bool) (any, error) {
	switch event {
	case "sync", "update":
		var l apiList
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("%s event: %w", event, err)
		}
		procs := make([]Proc, len(l.Processes))
		for i := range l.Processes {
			procs[i] = l.Processes[i].proc(counts)
		}
		return msgProcs{procs: procs, full: event == "sync", state: l.Supervisor.Statename}, nil
	case "stats":
		var st map[string]struct {
			CPU float64 `json:"cpu"`
			RSS int64   `json:"rss"`
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("stats event: %w", err)
		}
		u := make(msgUsage, len(st))
		for ns, v := range st {
			u[ns] = Usage{CPU: v.CPU, RSS: v.RSS}
		}
		return u, nil
	}
	return nil, nil
}

// usageReader computes CPU % (over the time since the previous reading of
// at least 2 s ago, as our daemon's stats) and RSS from /proc.
type usageReader struct {
	r    *procstat.Reader
	prev map[int]tickAt
	last time.Time
}

type tickAt struct {
	ticks uint64
	start uint64
	at    time.Time
}

func newUsageReader() *usageReader {
	return &usageReader{r: procstat.NewReader(""), prev: map[int]tickAt{}}
}

func (u *usageReader) read(procs []Proc, now time.Time) msgUsage {
	if now.Sub(u.last) < 2*time.Second {
		return nil
	}
	u.last = now
	out := msgUsage{}
	next := make(map[int]tickAt, len(u.prev))
	for i := range procs {
		p := &procs[i]
		if p.PID == 0 {
			continue
		}
		us, err := u.r.Read(p.PID)
		if err != nil {
			continue
		}
		cur := tickAt{ticks: us.Ticks, start: us.StartTime, at: now}
		next[p.PID] = cur
		v := Usage{RSS: us.RSS}
		if pr, ok := u.prev[p.PID]; ok && pr.start == cur.start && now.After(pr.at) {
			v.CPU = float64(cur.ticks-pr.ticks) / procstat.ClkTck / now.Sub(pr.at).Seconds() * 100
		}
		out[p.Namespec()] = v
	}
	u.prev = next
	return out
}

// tailer polls tailProcessStdoutLog/tailProcessStderrLog for one log.
type tailer struct {
	client Client
	name   string
	ch     string
	gen    int
	out    chan<- any
	every  time.Duration
}

// tailChunk is how much one call asks for.
const tailChunk = 64 << 10

func (t *tailer) run(ctx context.Context) {
	method := "supervisor.tailProcessStdoutLog"
	if t.ch == "stderr" {
		method = "supervisor.tailProcessStderrLog"
	}
	offset := int64(-1)
	send := func(m msgLog) bool {
		m.gen = t.gen
		select {
		case t.out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		var res []any
		var err error
		if offset < 0 {
			err = t.client.Call(ctx, method, &res, t.name, 0, tailChunk)
		} else {
			err = t.client.Call(ctx, method, &res, t.name, offset, tailChunk)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			var m msgLog
			var ok bool
			offset, m, ok = tailStep(offset, res)
			if !ok {
				err = fmt.Errorf("unexpected answer %v", res)
			} else if (m.text != "" || m.reset || m.gap) && !send(m) {
				return
			}
		}
		if err != nil && !send(msgLog{err: err.Error()}) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.every):
		}
	}
}

// tailStep turns one tail answer [data, size, overflow] into the new text
// since the previous size (prev, -1 the first time). The original's
// tailFile always returns the last bytes up to the size, so the new part
// is the answer's last size-prev bytes.
func tailStep(prev int64, res []any) (int64, msgLog, bool) {
	if len(res) != 3 {
		return prev, msgLog{}, false
	}
	data, ok1 := res[0].(string)
	size, ok2 := res[1].(int64)
	overflow, _ := res[2].(bool)
	if !ok1 || !ok2 {
		return prev, msgLog{}, false
	}
	switch {
	case prev < 0:
		return size, msgLog{text: data, reset: true}, true
	case size < prev: // cleared or rotated
		return size, msgLog{text: data, reset: true}, true
	case size == prev:
		return size, msgLog{}, true
	}
	n := size - prev
	if overflow || n > int64(len(data)) {
		return size, msgLog{text: data, gap: true}, true
	}
	return size, msgLog{text: data[int64(len(data))-n:]}, true
}
