package supervisor

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/process"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
)

// ringSize bounds each stream's in-memory tail (live views, and reads of
// targets that have no readable file such as /dev/stdout).
const ringSize = 256 << 10

// stdinQueue bounds the bytes waiting to be written to one child's stdin.
const stdinQueue = 1 << 20

type group struct {
	cfg   *config.Group
	procs []*proc
	fcgi  *fcgiSocket // fcgi-program groups only
	live  int         // processes not in a stopped state
}

// unstopped lists the group's processes not in a stopped state.
func (g *group) unstopped() []*proc {
	if g.live == 0 {
		return nil
	}
	var out []*proc
	for _, p := range g.procs {
		if !p.m.State().IsStopped() {
			out = append(out, p)
		}
	}
	return out
}

// stopAll is the original's stop_all: descending priority, RUNNING and
// STARTING are stopped, BACKOFF gives up.
func (g *group) stopAll(s *Supervisor, now time.Time) {
	for i := len(g.procs) - 1; i >= 0; i-- {
		p := g.procs[i]
		switch p.m.State() {
		case process.Running, process.Starting:
			effs, _ := p.m.Stop(now)
			_ = s.apply(p, effs)
		case process.Backoff:
			effs, _ := p.m.GiveUp(now)
			_ = s.apply(p, effs)
		}
	}
}

// proc is the loop's record of one process instance.
type proc struct {
	s   *Supervisor
	cfg *config.Process
	g   *group
	m   *process.Proc

	stdout, stderr *output
	stdin          *stdinWriter
	holdsSocket    bool        // holds a reference on the group's fcgi socket
	forked         *forked     // forked ahead of its pass, not yet attached (loop only)
	pipes          *spawnPipes // the current spawn's output pipes (drain.go)

	// watch is closed (and replaced) on every state change, waking waiters.
	watch chan struct{}

	// depends_on (deps.go).
	deps, dependents []*proc
	wantStart        bool // a start is held until the dependencies are up
	stopWanted       bool // a stop is held until the dependents are stopped

	health *procHealth // nil without healthcheck= (health.go)
	hist   *history    // state changes, nil until the first (history.go)
	// spawnEnv is the program's variables of its last spawn, which exec
	// health checks get too (loop only).
	spawnEnv []shlex.KV

	// The loop's schedule (pass.go).
	rank       int       // position in pass order
	dirty      bool      // in the dirty set
	gone       bool      // its group was removed
	heapAt     int       // index in the deadline heap, -1 if not in it
	due        time.Time // the deadline it is in the heap for
	machineDue time.Time // the machine's last Timer effect
}

// output is one stream's log file, ring and pipeline. The rotator is opened
// at the first spawn, as the original creates a configured file only then.
type output struct {
	name, stream string
	path         string // "" = no log file
	maxBytes     int64
	backups      int
	syslog       bool
	capture      int
	events       bool
	ring         *logfile.Ring

	mu  sync.Mutex
	rot *logfile.Rotator
}

func (s *Supervisor) newProc(g *group, pc *config.Process) *proc {
	p := &proc{s: s, cfg: pc, g: g, watch: make(chan struct{}), heapAt: -1}
	p.stdout = s.newOutput(pc, "stdout", pc.Stdout)
	if !pc.RedirectStderr {
		p.stderr = s.newOutput(pc, "stderr", pc.Stderr)
	} else {
		p.stderr = &output{name: pc.Name, stream: "stderr", ring: logfile.NewRing(1)}
	}
	p.m = process.New(pc.Name, pc.Group, policy(pc))
	p.health = newProcHealth(pc.Health)
	return p
}

// restartThrottle paces autorestarts of runs shorter than it at the
// original's poll interval (see process.Policy.RestartThrottle).
const restartThrottle = time.Second

func policy(pc *config.Process) process.Policy {
	pol := process.Policy{
		Autostart:    pc.Autostart,
		Startsecs:    pc.Startsecs,
		Startretries: pc.Startretries,
		Autorestart:  autorestart(pc.Autorestart),
		Exitcodes:    pc.Exitcodes,
		Stopsignal:   pc.Stopsignal,
		Stopwaitsecs: pc.Stopwaitsecs,
		Stopasgroup:  pc.Stopasgroup,
		Killasgroup:  pc.Killasgroup,

		RestartThrottle: restartThrottle,
	}
	policyExtensions(&pol, pc.Extensions)
	return pol
}

func autorestart(a config.Autorestart) process.Autorestart {
	switch a {
	case config.AutorestartAlways:
		return process.AutorestartAlways
	case config.AutorestartUnexpected:
		return process.AutorestartUnexpected
	}
	return process.AutorestartNever
}

func (s *Supervisor) newOutput(pc *config.Process, stream string, lc config.LogConfig) *output {
	o := &output{
		name: pc.Name, stream: stream, path: lc.File,
		maxBytes: lc.MaxBytes, backups: lc.Backups, syslog: lc.Syslog,
		capture: int(lc.CaptureMaxBytes), events: lc.EventsEnabled,
		ring: logfile.NewRing(ringSize),
	}
	if lc.Auto {
		path, err := s.autoLogPath(pc.Name, stream)
		if err != nil {
			s.log.Log(loglevel.Error, fmt.Sprintf("could not create AUTO %s log for '%s': %v", stream, pc.Name, err))
		} else {
			o.path = path
		}
	}
	return o
}

// autoLogPath creates the original's AUTO file,
// <childlogdir>/<name>-<stream>---<identifier>-XXXXXXXX.log, mode 0600.
func (s *Supervisor) autoLogPath(name, stream string) (string, error) {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789_"
	dir := s.cfg.Supervisord.Childlogdir
	for range 100 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = letters[int(b[i])%len(letters)]
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%s---%s-%s.log", name, stream, s.cfg.Supervisord.Identifier, b[:]))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("creating %s: %w", path, err)
		}
		f.Close()
		return path, nil
	}
	return "", fmt.Errorf("no free AUTO log name in %s", dir)
}

// rotator opens the log file on first use. At later spawns it reopens it
// if its path no longer names the open file (removed with its directory,
// moved away): the original opens its logs at each spawn (issue 18).
func (o *output) rotator(warn func(string)) (*logfile.Rotator, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.rot != nil {
		if err := o.rot.ReopenIfReplaced(); err != nil {
			warn(err.Error()) // the next write retries
		}
		return o.rot, nil
	}
	if o.path == "" {
		return nil, nil
	}
	rot, err := logfile.OpenRotatorAtSpawn(o.path, o.maxBytes, o.backups, warn)
	if err != nil {
		return nil, err
	}
	o.rot = rot
	return rot, nil
}

func (o *output) current() *logfile.Rotator {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rot
}

func (o *output) close() {
	if rot := o.current(); rot != nil {
		_ = rot.Close()
	}
}

// spawn is the parent side of the original's spawn(): resolve the command,
// open the logs, start the child through the reaper and its pumps.
func (p *proc) spawn() (int, error) {
	if f := p.forked; f != nil {
		// Forked ahead of this pass (forkahead.go).
		p.forked = nil
		return p.attach(f)
	}
	var sock *os.File
	if p.g.cfg.Kind == config.FCGIGroup && p.g.cfg.Socket != nil {
		var err error
		if sock, err = p.s.fcgiAcquire(p.g); err != nil {
			return 0, err
		}
		p.holdsSocket = true
	}
	f := p.fork(sock)
	if f.err != nil {
		p.releaseSocket()
	}
	return p.attach(f)
}

// forked is a child started (or not) by fork, waiting to be attached.
type forked struct {
	child                *spawn.Child
	stdoutRot, stderrRot *logfile.Rotator
	env                  []shlex.KV // the program's variables (config.Process.SpawnEnvironment)
	err                  error
}

// fork resolves the command, opens the logs and starts the child. It only
// reads the process's immutable config and locked state, so forkAhead may run
// it for several processes at once, off the loop.
func (p *proc) fork(stdin *os.File) *forked {
	s := p.s
	f := &forked{}
	// Environment files are read again at every spawn (EXTENSIONS.md §4);
	// one that has become unreadable fails the spawn like a missing command.
	env, err := p.cfg.SpawnEnvironment()
	if err != nil {
		f.err = err
		return f
	}
	f.env = env
	argv, path, err := p.resolve(env)
	if err != nil {
		f.err = err
		return f
	}
	warn := func(msg string) { s.log.Log(loglevel.Warn, msg) }
	if f.stdoutRot, err = p.stdout.rotator(warn); err == nil && !p.cfg.RedirectStderr {
		f.stderrRot, err = p.stderr.rotator(warn)
	}
	if err != nil {
		f.err = fmt.Errorf("unknown error making dispatchers for '%s': %s", p.cfg.Name, spawn.ErrnoName(err))
		return f
	}
	spec := spawn.Spec{
		Name:           p.cfg.Name,
		Argv:           argv,
		Path:           path,
		Env:            p.environ(env),
		Dir:            p.cfg.Directory,
		EmptyDir:       p.cfg.DirectoryEmpty,
		Umask:          p.cfg.Umask,
		RedirectStderr: p.cfg.RedirectStderr,
		Stdin:          stdin,
	}
	if p.cfg.User != "" {
		if spec.Cred, f.err = credential(p.cfg.User); f.err != nil {
			return f
		}
	}
	f.child, f.err = s.opts.Reaper.Spawn(spec)
	return f
}

// attach records a started child on the loop: its pid, stdin and pumps.
func (p *proc) attach(f *forked) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	child := f.child
	p.s.byPid[child.Pid] = p
	p.spawnEnv = f.env
	p.stdin = newStdinWriter(child.Stdin)
	p.pipes = &spawnPipes{}
	if child.Stdout != nil {
		p.pump(p.stdout, f.stdoutRot, child.Stdout, child.Pid)
	}
	if child.Stderr != nil {
		p.pump(p.stderr, f.stderrRot, child.Stderr, child.Pid)
	}
	return child.Pid, nil
}

func (p *proc) releaseSocket() {
	if p.holdsSocket {
		p.holdsSocket = false
		p.s.fcgiRelease(p.g)
	}
}

// resolve splits and resolves the command as the original's get_execv_args,
// with the PATH of env (the program's variables) if it has one.
func (p *proc) resolve(env []shlex.KV) ([]string, string, error) {
	argv, err := shlex.Split(p.cfg.Command)
	if err != nil {
		return nil, "", fmt.Errorf("can't parse command %s: %v", pyfmt.Repr(p.cfg.Command), err)
	}
	if len(argv) == 0 {
		return nil, "", errors.New("command is empty")
	}
	path, err := spawn.Resolve(argv[0], p.s.searchPath(env))
	if err != nil {
		return nil, "", err
	}
	return argv, path, nil
}

// searchPath is where a command is looked for: the PATH of env (the
// program's variables) if it has one, else supervisord's.
func (s *Supervisor) searchPath(env []shlex.KV) string {
	programPath, hasPath := "", false
	for _, kv := range env {
		if kv.Key == "PATH" {
			programPath, hasPath = kv.Value, true
		}
	}
	daemonPath, _ := s.env.get("PATH")
	return spawn.SearchPath(programPath, hasPath, daemonPath)
}

// startEnv is the program's variables for the checks before a start: its
// environment files read now when it has some (an unreadable one is left
// to the spawn to report).
func (p *proc) startEnv() []shlex.KV {
	if p.cfg.EnvironmentFile.Path == "" && p.cfg.DaemonEnvironmentFile.Path == "" {
		return p.cfg.Environment
	}
	if env, err := p.cfg.SpawnEnvironment(); err == nil {
		return env
	}
	return p.cfg.Environment
}

// environ is supervisord's environment, then SUPERVISOR_*, then vars: the
// [supervisord] environment and the program's, with their environment
// files between them (config.Process.SpawnEnvironment); later keys win.
func (p *proc) environ(vars []shlex.KV) []string {
	base := p.s.env
	env := make([]string, len(base.vars), len(base.vars)+8+len(vars))
	copy(env, base.vars)
	var added map[string]int // names not in supervisord's environment
	set := func(k, v string) {
		i, ok := base.index[k]
		if !ok {
			i, ok = added[k]
		}
		if ok {
			env[i] = k + "=" + v
			return
		}
		if added == nil {
			added = map[string]int{}
		}
		added[k] = len(env)
		env = append(env, k+"="+v)
	}
	set("SUPERVISOR_ENABLED", "1")
	// serverurl=AUTO (or absent) is the daemon's own URL; given empty, the
	// original sets no SUPERVISOR_SERVER_URL at all.
	url := p.cfg.Serverurl
	if strings.EqualFold(url, "AUTO") {
		url = p.s.serverURL
	}
	if url != "" {
		set("SUPERVISOR_SERVER_URL", url)
	}
	set("SUPERVISOR_PROCESS_NAME", p.cfg.Name)
	set("SUPERVISOR_GROUP_NAME", p.cfg.Group)
	for _, kv := range vars {
		set(kv.Key, kv.Value)
	}
	return env
}

// environment is supervisord's own environment as every child inherits it
// (a later duplicate name wins), indexed once rather than at each spawn.
type environment struct {
	vars  []string
	index map[string]int
}

// get returns the value of name in supervisord's environment.
func (e environment) get(name string) (string, bool) {
	i, ok := e.index[name]
	if !ok {
		return "", false
	}
	return e.vars[i][len(name)+1:], true
}

func newEnvironment(environ []string) environment {
	e := environment{index: map[string]int{}}
	for _, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if i, dup := e.index[k]; dup {
			e.vars[i] = kv
			continue
		}
		e.index[k] = len(e.vars)
		e.vars = append(e.vars, kv)
	}
	return e
}

// credential resolves user= (a name or a numeric uid) with the groups that
// list the user, primary group first.
func credential(name string) (*spawn.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, numErr := strconv.Atoi(name); numErr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("could not find user %s: %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cred := &spawn.Credential{UID: uint32(uid), GID: uint32(gid), Groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && uint32(g) != cred.GID {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	return cred, nil
}

// pump starts copying one pipe of one spawn into the stream's pipeline, on
// goroutines of its own that exist only while the pipe is not idle. A
// grandchild holding the pipe may keep it going after the next spawn, which
// is why the pipeline is per spawn and only the rotator and ring (both
// locked) are shared.
func (p *proc) pump(o *output, rot *logfile.Rotator, r *os.File, pid int) {
	s := p.s
	sp, fd := p.pipes, fdOf(r)
	sp.open++
	sp.stdout = sp.stdout || o.stream == "stdout"
	opt := logfile.ChannelOptions{
		Name:            p.cfg.Name,
		Stream:          o.stream,
		Rotator:         rot,
		Ring:            o.ring,
		StripANSI:       s.cfg.Supervisord.StripAnsi,
		CaptureMaxBytes: o.capture,
		Warn:            func(msg string) { s.log.Log(loglevel.Warn, msg) },
		Buffers:         s.bufs,
		Idle:            s.opts.Idle,
	}
	// EXTENSIONS.md §5: the log format and forwarding. With redirect_stderr
	// stderr arrives on the stdout pipe and follows stdout's keys.
	var forward bool
	opt.Format, forward = streamFormat(p.cfg, o.stream)
	if opt.Format != logfile.FormatRaw {
		opt.Group, opt.Pid = p.cfg.Group, pid
	}
	if forward {
		opt.Forward = s.fwd.Source(o.stream, p.cfg.Name)
	}
	if o.syslog {
		opt.Syslog = logfile.NewSyslog(p.cfg.Name)
	}
	if s.log.Enabled(loglevel.Debug) {
		opt.Debug = func(msg string) { s.log.Log(loglevel.Debug, msg) }
	}
	if o.events {
		opt.OnLog = func(data []byte) { s.emitLog(p, o.stream, data) }
	}
	if o.capture > 0 {
		opt.OnCapture = func(data []byte) { s.emitCapture(p, o.stream, data) }
	}
	if o.stream == "stdout" && p.g.cfg.Kind == config.EventListenerPool {
		// A listener's stdout is its protocol channel (also logged); as in
		// the original, no capture mode or ANSI stripping gets in its way.
		opt.CaptureMaxBytes, opt.OnCapture, opt.StripANSI = 0, nil, false
		opt.OnLog = s.listenerOutput(p, opt.OnLog)
	}
	logfile.NewChannel(opt).Start(r, func(err error) {
		r.Close()
		if opt.Syslog != nil {
			opt.Syslog.Close()
		}
		if err != nil {
			s.log.Log(loglevel.Warn, err.Error())
		}
		// After the stream's last output, in the feed's order (drain.go).
		s.feed.push(logKey{p, o.stream}, joinNever, nil, func([]byte) { s.pipeClosed(p, sp, fd, o.stream) })
	})
}

// fdOf is f's descriptor number, for log lines; unlike f.Fd it leaves the
// descriptor non-blocking.
func fdOf(f *os.File) uintptr {
	var fd uintptr
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(x uintptr) { fd = x })
	}
	return fd
}

// stdinWriter feeds a child's stdin from its own goroutine, so a child that
// does not read never blocks the loop (the original buffers too). The
// goroutine only exists while there is something to write: most children
// never get input, and an idle goroutine per process is memory for nothing.
type stdinWriter struct {
	f *os.File

	mu      sync.Mutex
	queue   [][]byte
	queued  int
	running bool // a drain goroutine is active
	closed  bool // EPIPE or closed: later writes get NO_FILE
	done    bool // the pipe has been closed
}

func newStdinWriter(f *os.File) *stdinWriter {
	return &stdinWriter{f: f, closed: f == nil, done: f == nil}
}

var errStdinClosed = errors.New("stdin closed")
var errStdinFull = errors.New("stdin buffer full")

// write queues data; errStdinClosed once the pipe is gone.
func (w *stdinWriter) write(data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errStdinClosed
	}
	if w.queued+len(data) > stdinQueue {
		return errStdinFull
	}
	w.queue = append(w.queue, append([]byte(nil), data...))
	w.queued += len(data)
	if !w.running {
		w.running = true
		go w.drain()
	}
	return nil
}

// drain writes the queue out, then exits; it closes the pipe if the writer
// was closed meanwhile or the child stopped reading.
func (w *stdinWriter) drain() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.running = false
			finish := w.closed && !w.done
			w.done = w.done || finish
			w.mu.Unlock()
			if finish {
				w.f.Close()
			}
			return
		}
		chunk := w.queue[0]
		w.queue = w.queue[1:]
		w.queued -= len(chunk)
		w.mu.Unlock()
		if _, err := w.f.Write(chunk); err != nil {
			w.mu.Lock()
			w.closed = true
			w.queue, w.queued = nil, 0
			w.mu.Unlock()
		}
	}
}

// close stops accepting input (the child is gone); the pipe is closed now,
// or by the drain goroutine once it has written what was queued.
func (w *stdinWriter) close() {
	w.mu.Lock()
	w.closed = true
	finish := !w.running && !w.done
	w.done = w.done || finish
	w.mu.Unlock()
	if finish {
		w.f.Close()
	}
}
