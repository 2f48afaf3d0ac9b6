package top

import (
	"context"
	"sync"
	"time"
)

// The original answers getAllProcessInfo slowly when it has many
// processes (0.5–0.65 s for 1,000, during which it serves nothing else),
// but a multicall of getProcessInfo for the ~40 rows on screen in ~35 ms.
// So top polls the rows on screen every PollEvery and the whole list (to
// see added and removed processes and the rows off screen) only every
// fullEvery: the screen changes within a second of the daemon at about a
// tenth of the original's time spent answering us.

// cheapFull: a whole-list answer this fast is taken every tick.
const cheapFull = 50 * time.Millisecond

// shown is the latest list of on-screen namespecs, handed from the screen
// loop to the poller.
type shown struct {
	mu    sync.Mutex
	names []string
}

func (s *shown) set(names []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names = names
}

func (s *shown) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.names
}

// pollPlan decides, tick by tick, whether to ask for every process or only
// for those on screen.
type pollPlan struct {
	lastFull time.Time
	fullTook time.Duration
	needFull bool // a row on screen is gone, or nothing was asked yet
}

func (p *pollPlan) full(now time.Time, visible int) bool {
	if p.needFull || visible == 0 || p.lastFull.IsZero() || p.fullTook < cheapFull {
		return true
	}
	return now.Sub(p.lastFull) >= max(5*time.Second, 10*p.fullTook)
}

func (p *pollPlan) tookFull(start, end time.Time) {
	p.lastFull, p.fullTook, p.needFull = start, end.Sub(start), false
}

// askAll is getAllProcessInfo.
func (s *source) askAll(ctx context.Context) ([]Proc, error) {
	var infos []xmlProc
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.cfg.Client.Call(cctx, "supervisor.getAllProcessInfo", &infos); err != nil {
		return nil, err
	}
	procs := make([]Proc, len(infos))
	for i := range infos {
		procs[i] = infos[i].proc()
	}
	return procs, nil
}

// askSome is one system.multicall of getProcessInfo for names; gone is
// true when one of them no longer exists (a fault in its place).
func (s *source) askSome(ctx context.Context, names []string) (procs []Proc, gone bool, err error) {
	calls := make([]any, len(names))
	for i, ns := range names {
		calls[i] = map[string]any{"methodName": "supervisor.getProcessInfo", "params": []any{ns}}
	}
	var infos []xmlProc
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.cfg.Client.Call(cctx, "system.multicall", &infos, calls); err != nil {
		return nil, false, err
	}
	procs = make([]Proc, 0, len(infos))
	for i := range infos {
		if infos[i].FaultCode != 0 || infos[i].Name == "" {
			gone = true
			continue
		}
		procs = append(procs, infos[i].proc())
	}
	return procs, gone, nil
}

// pollOnce asks what the plan says and returns the report for the model.
func (s *source) pollOnce(ctx context.Context, plan *pollPlan) (msgProcs, error) {
	start := time.Now()
	names := s.shown.get()
	if plan.full(start, len(names)) {
		procs, err := s.askAll(ctx)
		if err != nil {
			return msgProcs{}, err
		}
		plan.tookFull(start, time.Now())
		return msgProcs{procs: procs, full: true}, nil
	}
	procs, gone, err := s.askSome(ctx, names)
	if err != nil {
		return msgProcs{}, err
	}
	plan.needFull = gone
	return msgProcs{procs: procs}, nil
}

// poll asks the original what the plan says every PollEvery, start to
// start (an action's outcome shows at the next tick: the acted-on row is on
// screen), and reads CPU/RSS from /proc when local.
func (s *source) poll(ctx context.Context, conn Conn) error {
	every := s.cfg.PollEvery
	if every <= 0 {
		every = time.Second
	}
	var usage *usageReader
	if s.cfg.Local {
		usage = newUsageReader()
	}
	known := map[string]Proc{}
	var plan pollPlan
	for up := false; ; up = true {
		started := time.Now()
		msg, err := s.pollOnce(ctx, &plan)
		if err != nil {
			return err
		}
		if !up && !s.connected(ctx, conn) {
			return ctx.Err()
		}
		if !s.send(ctx, msg) {
			return ctx.Err()
		}
		if usage != nil && !s.sendUsage(ctx, usage, known, msg) {
			return ctx.Err()
		}
		if !s.waitTick(ctx, started, every) {
			return ctx.Err()
		}
	}
}

// connected reports the connection up, with the daemon's state.
func (s *source) connected(ctx context.Context, conn Conn) bool {
	var state struct {
		Statename string `xmlrpc:"statename"`
	}
	c := conn
	c.Up = true
	if s.cfg.Client.Call(ctx, "supervisor.getState", &state) == nil {
		c.State = state.Statename
	}
	return s.send(ctx, msgConn(c))
}

// sendUsage keeps every known process (a partial answer updates some) and
// reads their /proc figures when due.
func (s *source) sendUsage(ctx context.Context, usage *usageReader, known map[string]Proc, msg msgProcs) bool {
	if msg.full {
		clear(known)
	}
	for _, p := range msg.procs {
		known[p.Namespec()] = p
	}
	now := time.Now()
	if now.Sub(usage.last) < 2*time.Second {
		return true // not due (read checks too): spare building the list
	}
	procs := make([]Proc, 0, len(known))
	for _, p := range known {
		procs = append(procs, p)
	}
	u := usage.read(procs, now)
	return len(u) == 0 || s.send(ctx, u)
}

// waitTick waits until every has passed since started.
func (s *source) waitTick(ctx context.Context, started time.Time, every time.Duration) bool {
	wait := time.NewTimer(max(every-time.Since(started), 0))
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wait.C:
		return true
	}
}
