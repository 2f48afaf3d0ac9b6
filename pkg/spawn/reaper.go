package spawn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Exit is one reaped child: a Spawn'd one or an orphaned grandchild (the
// consumer tells them apart by pid).
type Exit struct {
	Pid    int
	Status syscall.WaitStatus
}

// safetyPoll bounds how long a child can stay a zombie if a SIGCHLD is ever
// lost; the original reaps on every 1 s loop pass regardless of signals.
const safetyPoll = time.Second

// Reaper is the only caller of wait4(-1) in the process. Spawns hold mu for
// reading across the fork and each wait4 holds it for writing, so the
// reaper never steals a child that syscall.ForkExec reaps itself after a
// failed exec, while several spawns may fork at the same time.
type Reaper struct {
	mu sync.RWMutex

	qmu   sync.Mutex
	queue []Exit
	taken bool          // a consumer holds the exits (TakeExits)
	wake  chan struct{} // cap 1: queue became non-empty
	exits chan Exit
}

// NewReaper makes the process a child subreaper (unless it is PID 1, which
// already is one), so double-forked grandchildren come back to it, and
// marks every inherited descriptor above stderr close-on-exec so children
// started directly never inherit them.
func NewReaper() (*Reaper, error) {
	if os.Getpid() != 1 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return nil, fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
		}
	}
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil && !errors.Is(err, unix.ENOSYS) {
		return nil, fmt.Errorf("marking inherited descriptors close-on-exec: %w", err)
	}
	return &Reaper{
		wake:  make(chan struct{}, 1),
		exits: make(chan Exit),
	}, nil
}

// Exits is the reaper's stream of reaped children as its one consumer
// holds it: C delivers every reaped child in reaping order, and Release
// hands the stream back so that the next consumer (the engine built after a
// restart) can take it. Two readers at once would each miss the other's
// exits; TakeExits makes that impossible. The reaper queues without bound,
// so a slow consumer never delays reaping. C is closed when Run returns;
// exits still queued then are dropped.
type Exits struct {
	C       <-chan Exit
	Release func()
}

// ErrExitsTaken is TakeExits' answer while another consumer holds the exits.
var ErrExitsTaken = errors.New("the reaper's exits are held by another consumer")

// TakeExits hands out the exits to one consumer at a time.
func (r *Reaper) TakeExits() (Exits, error) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	if r.taken {
		return Exits{}, ErrExitsTaken
	}
	r.taken = true
	var once sync.Once
	release := func() {
		once.Do(func() {
			r.qmu.Lock()
			r.taken = false
			r.qmu.Unlock()
		})
	}
	return Exits{C: r.exits, Release: release}, nil
}

// Run reaps until ctx is done; call it once. Children that exited before Run started
// (their SIGCHLD predates signal.Notify) are reaped by the first pass.
func (r *Reaper) Run(ctx context.Context) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.forward(ctx)
	}()
	defer func() {
		wg.Wait()
		close(r.exits)
	}()

	tick := time.NewTicker(safetyPoll)
	defer tick.Stop()
	for {
		r.reapAll()
		select {
		case <-ctx.Done():
			return
		case <-sigs:
		case <-tick.C:
		}
	}
}

// reapAll collects every exited child; one SIGCHLD may stand for many.
func (r *Reaper) reapAll() {
	for {
		var e Exit
		r.mu.Lock()
		pid, err := syscall.Wait4(-1, &e.Status, syscall.WNOHANG, nil)
		r.mu.Unlock()
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if pid <= 0 || err != nil { // 0: none exited yet; ECHILD: no children
			return
		}
		e.Pid = pid
		r.qmu.Lock()
		r.queue = append(r.queue, e)
		r.qmu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// forward moves queued exits to the consumer.
func (r *Reaper) forward(ctx context.Context) {
	for {
		r.qmu.Lock()
		batch := r.queue
		r.queue = nil
		r.qmu.Unlock()
		for _, e := range batch {
			select {
			case r.exits <- e:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-r.wake:
		case <-ctx.Done():
			return
		}
	}
}

// Kill is the package's Kill, for owners that take the reaper as their way
// to the children.
func (r *Reaper) Kill(pid int, sig syscall.Signal, group bool) error { return Kill(pid, sig, group) }

// Kill sends sig to pid, or to its process group when group is set (every
// child leads its own group). ESRCH is returned wrapped (errors.Is works);
// whether it matters is the caller's call.
func Kill(pid int, sig syscall.Signal, group bool) error {
	if pid <= 0 {
		// kill(0) or kill(-1) would hit supervisord's group or everything.
		return fmt.Errorf("refusing to signal pid %d: %w", pid, syscall.EINVAL)
	}
	target := pid
	if group {
		target = -pid
	}
	if err := unix.Kill(target, sig); err != nil {
		return fmt.Errorf("kill(%d, %d): %w", target, int(sig), err)
	}
	return nil
}
