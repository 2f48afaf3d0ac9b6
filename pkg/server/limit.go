package server

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Guard bounds what clients can hold of the daemon (README: "Securing the
// control API" → "Limits"). The zero value takes the defaults, which no
// normal client meets.
type Guard struct {
	// ReadHeaderTimeout closes a connection whose request headers are not
	// in after this long (default 30 s).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (5 min).
	IdleTimeout time.Duration
	// MaxConns caps the open connections of one server (default 2048). It
	// is lowered to fit RLIMIT_NOFILE (connCap): connections never take
	// the descriptors that spawning programs needs.
	MaxConns int
	// BodyTimeout and BodyMinRate bound how slowly a request body may
	// arrive: within BodyTimeout plus one second per BodyMinRate bytes
	// received (defaults 30 s, 64 KiB/s). A slower body is answered 408
	// and its connection closed. Streams have no body and are not
	// affected; nor is a request's handling once its body is in.
	BodyTimeout time.Duration
	BodyMinRate int64
	// MaxBodyBytes caps request bodies outside /RPC2 (the /api/v1 and the
	// original's form posts; default 1 MiB); /RPC2 has Options.Limits.
	MaxBodyBytes int64
	// StallTimeout drops a connection whose client has not taken any of
	// the answer for this long (default 60 s): a stream follower that
	// stops reading holds no connection for good.
	StallTimeout time.Duration
}

// Defaults of Guard.
const (
	DefaultReadHeaderTimeout = 30 * time.Second
	DefaultIdleTimeout       = 5 * time.Minute
	DefaultMaxConns          = 2048
	DefaultBodyTimeout       = 30 * time.Second
	DefaultBodyMinRate       = 64 << 10
	DefaultMaxBodyBytes      = 1 << 20
	DefaultStallTimeout      = 60 * time.Second
)

func (g Guard) withDefaults() Guard {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&g.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	set(&g.IdleTimeout, DefaultIdleTimeout)
	set(&g.BodyTimeout, DefaultBodyTimeout)
	set(&g.StallTimeout, DefaultStallTimeout)
	if g.MaxConns <= 0 {
		g.MaxConns = DefaultMaxConns
	}
	if g.BodyMinRate <= 0 {
		g.BodyMinRate = DefaultBodyMinRate
	}
	if g.MaxBodyBytes <= 0 {
		g.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return g
}

const (
	// fdsPerProcess is what one configured process may hold open in the
	// daemon: its stdin/stdout/stderr pipes, two log files, a pidfd and
	// the pipes of a spawn in progress.
	fdsPerProcess = 8
	// fdSpare is kept free on top of that: config reads, /proc reads,
	// reopened logs, new programs added by an update.
	fdSpare = 64
	// minConns is the floor of the cap, however few descriptors are left.
	minConns = 8
	// writeChunk is how much one write may carry before its stall
	// deadline is renewed: a slow but moving client is never dropped.
	writeChunk = 64 << 10
	// burstQuiet ends a burst of refused connections: the next one logs a
	// WARN again.
	burstQuiet = 10 * time.Second
	// maxRefusing bounds the refused connections being answered at once;
	// beyond it they are closed without an answer.
	maxRefusing = 16
	// minEvictAge is how long a connection keeps its place at the cap:
	// ample for a client's request to arrive.
	minEvictAge = 100 * time.Millisecond
)

// connCap is the connection cap of each of n servers: g.MaxConns, lowered
// so that the servers together use at most half the descriptors the
// process has left once those for its programs are set aside (a
// connection can hold a second one: the log file it follows).
func connCap(g Guard, n int, cfg *config.Config) int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY {
		return g.MaxConns
	}
	procs := 0
	for _, grp := range cfg.Groups {
		procs += len(grp.Processes)
	}
	free := int64(rl.Cur) - int64(openFDs()) - int64(procs*fdsPerProcess+fdSpare) //nolint:gosec // rlimits fit
	per := int(free / 2 / int64(max(n, 1)))
	return min(g.MaxConns, max(per, minConns))
}

// openFDs counts the descriptors open now.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

// connLimiter is the outermost listener of a server (below TLS): it counts
// raw connections and keeps them under its cap. At the cap a new
// connection closes the oldest one that is idle or has not sent a whole
// request yet (a slowloris holds only such connections, a real client
// leaves that state within a round trip) once that one has had
// minEvictAge; until then new connections wait in the kernel's backlog,
// so that closing connections cannot turn into a flood of reconnections
// that starves the daemon. When every connection is busy with a request,
// the new one is answered 503 and closed. Either is logged once per
// burst.
type connLimiter struct {
	net.Listener
	section string
	max     int
	plain   bool // answer refusals with HTTP (not on TLS: just close)
	stall   time.Duration
	log     Logger

	mu       sync.Mutex
	conns    map[*limitedConn]struct{}
	inBurst  bool
	evicted  int
	refused  int
	lastHit  time.Time
	quiet    *time.Timer
	refusing atomic.Int32
	freed    chan struct{} // a connection closed (buffered 1)
	done     chan struct{} // closed by Close
	doneOnce sync.Once
}

func limitConns(ln net.Listener, sc config.HTTPServer, max int, g Guard, log Logger) *connLimiter {
	return &connLimiter{Listener: ln, section: sc.Section, max: max, plain: !sc.TLS(), stall: g.StallTimeout,
		log: log, conns: make(map[*limitedConn]struct{}), freed: make(chan struct{}, 1), done: make(chan struct{})}
}

// limitedConn is one counted connection.
type limitedConn struct {
	net.Conn
	l *connLimiter
	// Under l.mu: the http.Server's view of it, and since when.
	state http.ConnState
	since time.Time
	gone  bool
	once  sync.Once
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		if err := l.waitRoom(); err != nil {
			return nil, err
		}
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		now := time.Now()
		lc := &limitedConn{Conn: c, l: l, state: http.StateNew, since: now}
		l.mu.Lock()
		var victim *limitedConn
		if len(l.conns) >= l.max {
			victim = l.oldestIdle()
			if victim == nil {
				msg := l.hit(now, false)
				l.mu.Unlock()
				l.warn(msg)
				l.refuse(c)
				continue
			}
			victim.gone = true
			delete(l.conns, victim)
		}
		l.conns[lc] = struct{}{}
		var msg string
		if victim != nil {
			msg = l.hit(now, true)
		}
		l.mu.Unlock()
		if victim != nil {
			_ = victim.Conn.Close()
			l.warn(msg)
		}
		return lc, nil
	}
}

// waitRoom returns once a new connection may be accepted: below the cap,
// when the oldest idle connection has had minEvictAge, or when every
// connection is busy (the newcomer is then refused).
func (l *connLimiter) waitRoom() error {
	for {
		l.mu.Lock()
		var wait time.Duration
		if len(l.conns) >= l.max {
			if old := l.oldestIdle(); old != nil {
				wait = minEvictAge - time.Since(old.since)
			}
		}
		l.mu.Unlock()
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-l.freed:
		case <-t.C:
		case <-l.done:
			t.Stop()
			return net.ErrClosed
		}
		t.Stop()
	}
}

// oldestIdle is the connection that has waited longest without a request
// in progress; nil if all are busy. Called with l.mu held.
func (l *connLimiter) oldestIdle() *limitedConn {
	var old *limitedConn
	for c := range l.conns {
		if c.state != http.StateNew && c.state != http.StateIdle {
			continue
		}
		if old == nil || c.since.Before(old.since) {
			old = c
		}
	}
	return old
}

// hit counts a closed or refused connection and returns the WARN to log
// when it starts a burst. Called with l.mu held.
func (l *connLimiter) hit(now time.Time, evicted bool) string {
	if evicted {
		l.evicted++
	} else {
		l.refused++
	}
	l.lastHit = now
	if l.inBurst {
		return ""
	}
	l.inBurst = true
	l.quiet = time.AfterFunc(burstQuiet, l.endBurst)
	return fmt.Sprintf("server %s has %d connections open, its limit: closing the oldest idle or incomplete ones for new ones, refusing new ones while none is",
		pyfmt.Repr(l.section), l.max)
}

// endBurst logs what a burst cost once it has been quiet for burstQuiet.
func (l *connLimiter) endBurst() {
	l.mu.Lock()
	if wait := burstQuiet - time.Since(l.lastHit); wait > 0 {
		l.quiet.Reset(wait)
		l.mu.Unlock()
		return
	}
	evicted, refused := l.evicted, l.refused
	l.inBurst, l.evicted, l.refused = false, 0, 0
	l.mu.Unlock()
	l.log.Log(loglevel.Warn, fmt.Sprintf("server %s is below its connection limit again: %d idle or incomplete connections were closed, %d refused",
		pyfmt.Repr(l.section), evicted, refused))
}

func (l *connLimiter) warn(msg string) {
	if msg != "" {
		l.log.Log(loglevel.Warn, msg)
	}
}

// refusal is the answer to a connection over the cap.
const refusal = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\ntoo many connections"

// refuse answers c 503 (plain servers) and closes it. The answer goes out
// before the close and what the client sent is read away for a moment, so
// that it gets the answer rather than a reset.
func (l *connLimiter) refuse(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	uc, uok := c.(*net.UnixConn)
	if !l.plain || (!ok && !uok) {
		_ = c.Close()
		return
	}
	if l.refusing.Add(1) > maxRefusing {
		l.refusing.Add(-1)
		_ = c.Close()
		return
	}
	go func() {
		defer l.refusing.Add(-1)
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Write([]byte(refusal)); err != nil {
			return
		}
		if ok {
			_ = tc.CloseWrite()
		} else {
			_ = uc.CloseWrite()
		}
		var buf [4096]byte
		for {
			if _, err := c.Read(buf[:]); err != nil {
				return
			}
		}
	}()
}

// connState is the http.Server's ConnState hook: it tells which
// connections may be closed for a new one.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		c = nc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	lc.state, lc.since = st, time.Now()
	l.mu.Unlock()
}

// open is how many connections are counted now.
func (l *connLimiter) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Close stops the burst timer along with the listener.
func (l *connLimiter) Close() error {
	l.doneOnce.Do(func() { close(l.done) })
	l.mu.Lock()
	if l.quiet != nil {
		l.quiet.Stop()
	}
	l.mu.Unlock()
	return l.Listener.Close()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		if !c.gone {
			c.gone = true
			delete(c.l.conns, c)
		}
		c.l.mu.Unlock()
		select {
		case c.l.freed <- struct{}{}:
		default:
		}
	})
	return err
}

// Write renews the stall deadline for every writeChunk bytes: a client
// that takes nothing for StallTimeout loses the connection.
func (c *limitedConn) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.l.stall))
		m, err := c.Conn.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}
