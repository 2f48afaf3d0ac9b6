// Package idlepoll lets readers of idle descriptors give up their goroutine.
//
// A supervisor with a thousand quiet programs would otherwise keep two
// reader goroutines (and their stacks) per program blocked forever. A reader
// that has seen nothing for a while parks its descriptor here instead and
// returns; one epoll instance watches every parked descriptor, and the first
// byte (or hang-up) starts a fresh reader goroutine. Busy descriptors never
// come here, so they keep the runtime poller's single hand-off per wake-up,
// and each program's output is still written by its own goroutine: a slow
// disk under one program does not stall the others.
package idlepoll

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned by Park after Close: the caller keeps reading itself.
var ErrClosed = errors.New("idlepoll: closed")

// Poller watches parked descriptors. The zero value is not usable; see New.
type Poller struct {
	epfd int
	evfd int // eventfd that wakes the waiter for Close

	mu     sync.Mutex
	parked map[int32]func()
	closed bool
	done   chan struct{}
}

// New starts a Poller with its waiting goroutine.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("idlepoll: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("idlepoll: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("idlepoll: epoll_ctl eventfd: %w", err)
	}
	p := &Poller{epfd: epfd, evfd: evfd, parked: map[int32]func(){}, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

// Park arms fd once: when it becomes readable or its last writer closes,
// ready runs on a new goroutine (and fd is no longer parked). The caller
// keeps fd open until ready has run. After Close, Park returns ErrClosed.
func (p *Poller) Park(fd int, ready func()) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	key := int32(fd)
	if _, dup := p.parked[key]; dup {
		return fmt.Errorf("idlepoll: descriptor %d is already parked", fd)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: key}
	// A descriptor parked before is still registered (disarmed by
	// EPOLLONESHOT) unless it was closed since: re-arm it, else add it.
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
	if errors.Is(err, unix.ENOENT) {
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	}
	if err != nil {
		return fmt.Errorf("idlepoll: park descriptor %d: %w", fd, err)
	}
	p.parked[key] = ready
	return nil
}

// Parked reports how many descriptors are parked.
func (p *Poller) Parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

// Close stops the poller. Every descriptor still parked is handed back at
// once (its ready runs) so that no reader is left without a goroutine.
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	var one [8]byte
	one[0] = 1 // eventfd counters are host-endian; 1 in any byte order is non-zero
	if _, err := unix.Write(p.evfd, one[:]); err != nil {
		return fmt.Errorf("idlepoll: wake waiter: %w", err)
	}
	<-p.done
	return errors.Join(unix.Close(p.epfd), unix.Close(p.evfd))
}

// wait runs on its own goroutine, blocked in epoll_wait, until Close. When it
// ends, for whatever reason, every parked descriptor goes back to its reader.
func (p *Poller) wait() {
	defer close(p.done)
	defer func() {
		p.mu.Lock()
		p.closed = true
		rest := p.parked
		p.parked = map[int32]func(){}
		p.mu.Unlock()
		for _, ready := range rest {
			go ready()
		}
	}()
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return // cannot wait any more: readers go back to waiting themselves
		}
		for _, ev := range events[:n] {
			if ev.Fd == int32(p.evfd) {
				return
			}
			p.mu.Lock()
			ready := p.parked[ev.Fd]
			delete(p.parked, ev.Fd)
			p.mu.Unlock()
			if ready != nil {
				go ready()
			}
		}
	}
}
