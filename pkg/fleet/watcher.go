package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// Watcher keeps every node's Node fresh while Run's context lives: one
// goroutine per node, never more than one watching request in flight per
// node, our nodes followed through their event stream, the original polled.
type Watcher struct {
	targets []Target
	opts    Options

	mu    sync.Mutex
	nodes []Node
	subs  map[int]chan struct{}
	next  int

	pokes   []chan struct{} // per node: a Call finished, poll now
	actions []chan struct{} // per node: one Call at a time (a semaphore)
	callers []*rpcclient.Client
	errs    []error // a target whose URL does not make a client
}

// NewWatcher prepares watching targets; nothing is asked before Run.
func NewWatcher(targets []Target, opts Options) *Watcher {
	w := &Watcher{targets: slices.Clone(targets), opts: opts.withDefaults(), subs: map[int]chan struct{}{}}
	for _, t := range targets {
		w.nodes = append(w.nodes, Node{Name: t.Name, URL: t.Serverurl, State: Connecting})
		w.pokes = append(w.pokes, make(chan struct{}, 1))
		w.actions = append(w.actions, make(chan struct{}, 1))
		c, err := t.client()
		w.callers = append(w.callers, c)
		w.errs = append(w.errs, err)
	}
	return w
}

// Run watches every node until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range w.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.watch(ctx, i)
		}()
	}
	wg.Wait()
	for _, c := range w.callers {
		if c != nil {
			c.Close()
		}
	}
}

// Snapshot is a deep copy of every node's view, in target order.
func (w *Watcher) Snapshot() []Node {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.nodes)
	for i := range out {
		out[i].Processes = slices.Clone(out[i].Processes)
	}
	return out
}

// Changed returns a channel that receives (non-blocking send, buffer 1)
// after any node's view changes, and a func to unsubscribe.
func (w *Watcher) Changed() (<-chan struct{}, func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.next
	w.next++
	ch := make(chan struct{}, 1)
	w.subs[id] = ch
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs, id)
	}
}

// update changes node i under the lock and tells the subscribers.
func (w *Watcher) update(i int, f func(n *Node)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.nodes[i])
	for _, ch := range w.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Call proxies one XML-RPC call to a node on its own connection (so that
// an action does not wait behind a slow poll), one at a time per node;
// afterwards a polled node is refreshed at once. It is bounded by ctx's
// deadline, or Options.Timeout when ctx has none. Faults come back as
// *Fault.
func (w *Watcher) Call(ctx context.Context, node, method string, args ...any) (any, error) {
	i := slices.IndexFunc(w.targets, func(t Target) bool { return t.Name == node })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoNode, node)
	}
	if w.errs[i] != nil {
		return nil, w.errs[i]
	}
	select {
	case w.actions[i] <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s on node %s: %w", method, node, ctx.Err())
	}
	defer func() { <-w.actions[i] }()
	if _, ok := ctx.Deadline(); !ok {
		// the caller's deadline wins: a start that waits for startsecs
		// may take longer than a poll
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.opts.Timeout)
		defer cancel()
	}
	res, err := w.callers[i].CallAny(ctx, method, args...)
	select {
	case w.pokes[i] <- struct{}{}:
	default:
	}
	return res, err
}

// watch is node i's goroutine: connect (one multicall), then follow or
// poll until a request fails, then wait a back-off that doubles from
// PollEvery to MaxBackoff while the node stays down.
func (w *Watcher) watch(ctx context.Context, i int) {
	if err := w.errs[i]; err != nil {
		w.update(i, func(n *Node) { failed(n, err) })
		return
	}
	c, err := w.targets[i].client()
	if err != nil {
		w.update(i, func(n *Node) { failed(n, err) })
		return
	}
	defer c.Close()
	backoff := w.opts.PollEvery
	for ctx.Err() == nil {
		wasUp, err := w.session(ctx, i, c)
		if ctx.Err() != nil {
			return
		}
		w.update(i, func(n *Node) { failed(n, err) })
		if wasUp {
			backoff = w.opts.PollEvery
		}
		if !sleep(ctx, backoff) {
			return
		}
		backoff = nextBackoff(backoff, w.opts)
	}
}

// session connects once and keeps the node fresh until a request fails;
// wasUp tells whether the node answered at all.
func (w *Watcher) session(ctx context.Context, i int, c *rpcclient.Client) (wasUp bool, err error) {
	var n Node
	if err := w.timed(ctx, func(ctx context.Context) error { return probe(ctx, c, &n) }); err != nil {
		return false, err
	}
	w.update(i, func(cur *Node) {
		cur.Kind, cur.Version, cur.Supervisor, cur.Processes = n.Kind, n.Version, n.Supervisor, n.Processes
		up(cur, time.Now())
	})
	if n.Kind == KindGosupervisor {
		err := w.follow(ctx, i, c)
		if !errors.Is(err, rpcclient.ErrNoEvents) {
			return true, err
		}
	}
	return true, w.poll(ctx, i, c)
}

func (w *Watcher) timed(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	return f(ctx)
}

// poll asks getAllProcessInfo every PollEvery, start to start, or at once
// after a Call.
func (w *Watcher) poll(ctx context.Context, i int, c *rpcclient.Client) error {
	last := time.Now()
	var took time.Duration // the last answer's time
	for {
		wait := time.NewTimer(time.Until(last.Add(w.opts.PollEvery)))
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-wait.C:
		case <-w.pokes[i]:
			wait.Stop()
		}
		last = time.Now()
		var n Node
		pctx, cancel := context.WithTimeout(ctx, pollTimeout(took, w.opts))
		err := pollOnce(pctx, c, &n)
		cancel()
		if err != nil {
			return err
		}
		took = time.Since(last)
		w.update(i, func(cur *Node) {
			cur.Processes = n.Processes
			up(cur, time.Now())
		})
	}
}

// pollTimeout bounds one poll of a node that answered the last one in
// took: a hung node is unreachable after 1 s, one that is merely slow (the
// original takes 0.7 s for 1,000 processes) gets three times its usual time,
// up to Options.Timeout.
func pollTimeout(took time.Duration, o Options) time.Duration {
	return min(max(time.Second, 3*took), o.Timeout)
}

// streamList is a sync or update event of our stream (docs/API.md).
type streamList struct {
	Supervisor struct {
		Statename string `json:"statename"`
	} `json:"supervisor"`
	Processes []Process `json:"processes"`
}

// follow applies our node's event stream: sync replaces the list, update
// replaces the processes it carries.
func (w *Watcher) follow(ctx context.Context, i int, c *rpcclient.Client) error {
	// Pings twice a poll period: a node that hangs (SIGSTOP, a stuck
	// machine) shows as unreachable within 3 of them, not after 45 s.
	return c.EventsWithHeartbeat(ctx, max(w.opts.PollEvery/2, 250*time.Millisecond), func(event string, data []byte) error {
		if event != "sync" && event != "update" {
			return nil
		}
		var l streamList
		if err := json.Unmarshal(data, &l); err != nil {
			return fmt.Errorf("node %s: %s event: %w", w.targets[i].Name, event, err)
		}
		w.update(i, func(n *Node) {
			if event == "sync" {
				n.Processes = l.Processes
			} else {
				n.Processes = merge(n.Processes, l.Processes)
			}
			SortProcesses(n.Processes)
			if l.Supervisor.Statename != "" {
				n.Supervisor = l.Supervisor.Statename
			}
			up(n, time.Now())
		})
		return nil
	})
}

// merge replaces (or adds) the changed processes in a copy of cur, so
// that snapshots already handed out stay as they were.
func merge(cur, changed []Process) []Process {
	out := slices.Clone(cur)
	for _, p := range changed {
		j := slices.IndexFunc(out, func(q Process) bool { return q.Group == p.Group && q.Name == p.Name })
		if j < 0 {
			out = append(out, p)
		} else {
			out[j] = p
		}
	}
	return out
}

// sleep waits d or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
