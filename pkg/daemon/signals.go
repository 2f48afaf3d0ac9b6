package daemon

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// engine is the part of *supervisor.Supervisor the signal queue drives.
type engine interface {
	Run(ctx context.Context) error
	HUP()
	ReopenLogs()
	Terminate(signame string)
}

// signalQueue hands the daemon's signals to the engine one at a time, in
// the order they arrived, as the original's main loop handles them. It
// outlives restarts, like the original's signal receiver: signals still
// queued when an engine returns go to the next one (one handed over just
// as the engine ends is lost, as its handler gives up).
type signalQueue struct {
	c       chan os.Signal
	pending []os.Signal
}

func newSignalQueue() *signalQueue {
	q := &signalQueue{c: make(chan os.Signal, 16)}
	signal.Notify(q.c, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR2)
	return q
}

func (q *signalQueue) stop() { signal.Stop(q.c) }

// drive runs e until it returns. The signal reader never waits on the
// engine (its handlers block until the engine's loop runs them): signals
// queue here and a single deliverer takes them in order.
func (q *signalQueue) drive(ctx context.Context, e engine) error {
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	work := make(chan os.Signal)
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		for sg := range work {
			deliver(e, sg)
		}
	}()
	// A handler in flight when Run returns gives up at once (the engine's
	// calls end with its loop), so this wait is short.
	defer func() { close(work); <-delivered }()
	for {
		var out chan<- os.Signal
		var next os.Signal
		if len(q.pending) > 0 {
			out, next = work, q.pending[0]
		}
		select {
		case err := <-errc:
			return err
		case sg := <-q.c:
			q.pending = append(q.pending, sg)
		case out <- next:
			q.pending = q.pending[1:]
		}
	}
}

// deliver calls the engine's handler for sg. Termination stays a call to
// Terminate rather than a cancellation of Run's context: only Terminate
// logs "received SIG... indicating exit request" and turns a restart under
// way into a shutdown, as the original does.
func deliver(e engine, sg os.Signal) {
	switch sg {
	case syscall.SIGHUP:
		e.HUP()
	case syscall.SIGUSR2:
		e.ReopenLogs()
	default:
		e.Terminate(signalName(sg))
	}
}

func signalName(sg os.Signal) string {
	switch sg {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return "SIGTERM"
}
