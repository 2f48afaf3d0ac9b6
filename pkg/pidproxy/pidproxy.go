// Package pidproxy is supervisor 4.2.5's pidproxy, as Debian ships it in
// /usr/bin/pidproxy (a Python 3.11 script), reproduced down to its output
// bytes, exit statuses and timing.
//
// pidproxy runs a command that daemonizes (or whose real worker writes a
// pidfile) and relays signals to the pid in the pidfile:
//
//   - Fewer than two arguments: the module docstring, with "%s" replaced by
//     the program name, on stdout; exit status 1.
//   - The command is made absolute against the working directory, with no
//     PATH search, and run with the arguments as given (argv[0] unchanged),
//     the environment as Python leaves it and SIGPIPE and SIGXFSZ ignored.
//     If it cannot be executed, the forked child exits 127.
//   - SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGUSR2 and SIGQUIT are relayed: the
//     pidfile is read anew for each signal and the same signal is sent to
//     the pid in it. After SIGTERM, SIGINT or SIGQUIT pidproxy exits 0.
//     If the pidfile cannot be read or parsed it prints "Can't read child
//     pidfile NAME!" on stdout and carries on, even after SIGTERM. If kill
//     fails (the pid is gone) it dies with a Python traceback, status 1.
//   - SIGCHLD does nothing. Every 5 seconds pidproxy polls
//     waitpid(-1, WNOHANG) and exits 0 once its direct child has exited,
//     whatever the daemon it started is doing.
//   - stdout is block-buffered unless it is a terminal or PYTHONUNBUFFERED
//     is set, so the messages appear when pidproxy exits.
package pidproxy

import (
	"fmt"
	"io"
	"math/big"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollInterval is go()'s time.sleep(5) between waitpid polls.
const pollInterval = 5 * time.Second

// usageText is pidproxy.py's docstring, printed as `__doc__ % sys.argv[0]`.
const usageText = `pidproxy -- run command and proxy signals to it via its pidfile.

This executable runs a command and then monitors a pidfile.  When this
executable receives a signal, it sends the same signal to the pid
in the pidfile.

Usage: %s <pidfile name> <command> [<cmdarg1> ...]
`

// forwarded are the signals passtochild relays; the first three also end
// pidproxy once relayed.
func forwarded() []os.Signal {
	return []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGQUIT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2}
}

func endsProxy(sig unix.Signal) bool {
	return sig == unix.SIGTERM || sig == unix.SIGINT || sig == unix.SIGQUIT
}

// proxy is one run of pidproxy.
type proxy struct {
	script    string // the entry script's file name for tracebacks
	pidfile   string
	command   string   // absolute path executed
	argv      []string // the command and its arguments as given
	env       []string
	maxDigits int
	out       *pyStdout
	stderr    io.Writer
}

// Main runs pidproxy on args (os.Args) and environ and returns its exit
// status, with stdout flushed.
func Main(args, environ []string) int {
	// Python ignores both from start-up on, and the command inherits that.
	signal.Ignore(unix.SIGPIPE, unix.SIGXFSZ)
	pe := startPython(environ)
	_, _ = io.WriteString(os.Stderr, pe.early)
	if pe.fatal {
		return 1
	}
	_, _ = io.WriteString(os.Stderr, pe.late)
	out := newPyStdout(os.Stdout, 1, pe.unbuffered)
	defer out.Flush()
	name := invokedAs(args)
	p := &proxy{script: scriptFile(name), env: pe.env, maxDigits: pe.maxDigits, out: out, stderr: os.Stderr}
	if len(args) < 3 {
		out.print(fmt.Sprintf(usageText, programName(name)))
		return 1
	}
	return p.run(args[1], args[2:])
}

// run is PidProxy(argv).go() once the arguments are known to be there.
func (p *proxy) run(pidfile string, argv []string) int {
	command, err := abspath(argv[0])
	if err != nil {
		return p.die(initFrames, osError(err))
	}
	p.pidfile, p.command, p.argv = pidfile, command, argv
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded()...)
	defer signal.Stop(sigs)
	if argv[0] == "" {
		return p.die(spawnFrames, emptyCommand)
	}
	return p.loop(sigs, p.spawn())
}

// die prints an uncaught exception's traceback; Python then exits 1.
func (p *proxy) die(frames, exc string) int {
	_, _ = io.WriteString(p.stderr, traceback(p.script, frames, exc))
	return 1
}

// spawn is os.spawnv(os.P_NOWAIT, ...): it reports whether a child runs.
// Python forks first and the child exits 127 if execv fails; Go reports the
// failure instead, so the caller treats the child as already exited.
func (p *proxy) spawn() bool {
	attr := &syscall.ProcAttr{Env: p.env, Files: stdio()}
	_, err := syscall.ForkExec(p.command, p.argv, attr)
	return err == nil
}

// stdio passes fds 0-2 through, closed in the child where closed here.
func stdio() []uintptr {
	files := make([]uintptr, 3)
	for fd := range files {
		files[fd] = uintptr(fd)
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			files[fd] = ^uintptr(0)
		}
	}
	return files
}

// loop is go()'s `while 1: time.sleep(5); waitpid(-1, WNOHANG)` with the
// signal handlers running in between, one at a time.
func (p *proxy) loop(sigs <-chan os.Signal, childRunning bool) int {
	tick := time.NewTimer(pollInterval)
	defer tick.Stop()
	for {
		select {
		case s := <-sigs:
			if status, done := p.passToChild(s.(unix.Signal)); done {
				return status
			}
		case <-tick.C:
			if !childRunning || childExited() {
				return 0
			}
			tick.Reset(pollInterval)
		}
	}
}

// childExited is one waitpid(-1, WNOHANG) poll; errors count as nothing.
func childExited() bool {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != unix.EINTR {
			return err == nil && pid > 0
		}
	}
}

// passToChild relays sig to the pid in the pidfile and says whether
// pidproxy is done, and with which status.
func (p *proxy) passToChild(sig unix.Signal) (int, bool) {
	pid, ok := p.readPid()
	if !ok {
		p.out.print(fmt.Sprintf("Can't read child pidfile %s!", p.pidfile))
		return 0, false
	}
	if exc := pidError(pid); exc != "" {
		return p.die(killFrames, exc), true
	}
	if err := unix.Kill(int(pid.Int64()), sig); err != nil {
		return p.die(killFrames, osError(fmt.Errorf("kill %d: %w", pid, err))), true
	}
	return 0, endsProxy(sig)
}

// readPid is `int(open(pidfile).read().strip())`; any failure is !ok.
func (p *proxy) readPid() (*big.Int, bool) {
	text, err := os.ReadFile(p.pidfile)
	if err != nil {
		return nil, false
	}
	return parsePid(text, p.maxDigits)
}
