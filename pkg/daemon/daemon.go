// Package daemon is supervisord's start-up and lifetime: command line,
// config, privileges and rlimits, the main log, daemonizing, the pidfile,
// signals, and the restart loop around the engine.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/events"
	"github.com/gosupervisor/gosupervisor/pkg/forward"
	"github.com/gosupervisor/gosupervisor/pkg/idlepoll"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/sdnotify"
	"github.com/gosupervisor/gosupervisor/pkg/spawn"
	"github.com/gosupervisor/gosupervisor/pkg/supervisor"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// HTTP is a running set of HTTP servers ([unix_http_server], [inet_http_server]).
type HTTP interface {
	// Close stops serving and removes the unix socket files.
	Close() error
}

// HTTPFactory binds and starts the configured HTTP servers. A bind error
// must carry the original's message text (it is printed after "Error: ").
type HTTPFactory func(cfg *config.Config, sup *supervisor.Supervisor, log *mainlog.Logger) (HTTP, error)

// Deps are the parts of the daemon that live in other packages.
type Deps struct {
	HTTP HTTPFactory // nil = no HTTP servers
}

// readyFDEnv names the inherited descriptor on which a daemonized child
// reports the outcome of its start-up to the parent waiting on the terminal.
const readyFDEnv = "GOSUPERVISOR_READY_FD"

// Main runs supervisord with the given arguments (argv[0] first) and
// returns the process exit status.
func Main(argv []string, stdout, stderr io.Writer, deps Deps) int {
	prog := argv[0]
	if len(argv) > 1 && argv[1] == exportCommand {
		return exportMain(prog, argv[2:], stdout, stderr)
	}
	opts, err := ParseArgs(argv[1:])
	if err != nil {
		return usage(stderr, prog, err.Error())
	}
	switch {
	case opts.Help:
		fmt.Fprint(stdout, usageText(prog))
		return 0
	case opts.Version:
		// The original's line, alone for -v; --version adds ours after it,
		// so what reads the first line still sees the original's answer.
		fmt.Fprintln(stdout, version.Compat)
		if opts.VersionLong {
			fmt.Fprintln(stdout, version.String())
		}
		return 0
	}
	ready := readyPipe()
	path := opts.ConfigPath
	if path == "" {
		if path, err = config.FindConfig(prog); err != nil {
			return ready.fail(usage(stderr, prog, err.Error()), err.Error())
		}
	}
	environ := os.Environ()
	loadOpts := config.Options{Env: environ, Overrides: &opts.Overrides}
	cfg, err := config.Load(path, loadOpts)
	if err != nil {
		return ready.fail(usage(stderr, prog, err.Error()), err.Error())
	}
	if opts.CheckConfig {
		return checkConfig(cfg, stdout, opts.Strict)
	}
	if !cfg.Supervisord.Nodaemon && ready == nil {
		return daemonize(argv, cfg, stderr)
	}
	d := &daemon{prog: prog, stdout: stdout, stderr: stderr, deps: deps, loadOpts: loadOpts, environ: environ, ready: ready}
	return d.run(cfg)
}

// checkConfig is --check-config on a config that loaded: the description
// with every warning, status 0; with strict, status 1 if there is a warning
// (the original's, or ours: unknown keys and sections, repeated sections).
func checkConfig(cfg *config.Config, stdout io.Writer, strict bool) int {
	if err := cfg.Describe(stdout); err != nil {
		return 1
	}
	if strict {
		for _, m := range cfg.Messages {
			if m.Level == loglevel.Warn {
				return 1
			}
		}
	}
	return 0
}

func usage(stderr io.Writer, prog, msg string) int {
	fmt.Fprintf(stderr, "Error: %s\nFor help, use %s -h\n", msg, prog)
	return 2
}

type daemon struct {
	prog           string
	stdout, stderr io.Writer
	deps           Deps
	loadOpts       config.Options
	environ        []string
	ready          *readyReporter
	sd             *sdNotifier // nil unless NOTIFY_SOCKET is set
}

// lifetime is what one supervisord process keeps across restarts.
type lifetime struct {
	criticals []string // logged again at every start, as the original does
	reaper    *spawn.Reaper
	idle      logfile.Parker
	serials   *events.Counter // like the original's, it keeps counting across restarts
	signals   *signalQueue
}

// instance is one start of the engine, from one config.
type instance struct {
	log  *mainlog.Logger
	sup  *supervisor.Supervisor
	http HTTP
}

func (in *instance) closeHTTP() {
	if in.http != nil {
		_ = in.http.Close()
		in.http = nil
	}
}

// fail is every start-up error's exit: the original's usage message and
// status 2, also handed to a daemonizing parent.
func (d *daemon) fail(err error) int {
	return d.ready.fail(usage(d.stderr, d.prog, err.Error()), err.Error())
}

// run is the original's start-up sequence and main loop, repeated for each
// restart (SIGHUP, restart()).
func (d *daemon) run(cfg *config.Config) int {
	criticals, err := prepareProcess(cfg)
	if err != nil {
		return d.fail(err)
	}
	reaper, err := spawn.NewReaper()
	if err != nil {
		return d.fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go reaper.Run(ctx)
	sd, sdErr := newSDNotifier(os.Getenv)
	d.sd = sd
	lt := &lifetime{criticals: criticals, reaper: reaper, serials: &events.Counter{}, signals: newSignalQueue()}
	defer lt.signals.stop()
	// Quiet programs' output pipes wait here instead of in a goroutine each;
	// should it fail to start, every pipe simply keeps its own reader.
	if poller, err := idlepoll.New(); err == nil {
		defer poller.Close()
		lt.idle = poller
	}
	for first := true; ; first = false {
		in, err := d.start(cfg, lt, first)
		if err != nil {
			return d.fail(err)
		}
		watch := sd.watch(in.sup, cfg, in.log)
		if first {
			if sdErr != nil {
				in.log.Warn(sdErr.Error())
			}
			sd.startWatchdog(ctx, os.Getenv, os.Getpid(), in.log)
		}
		runErr := lt.signals.drive(ctx, in.sup)
		watch.wait()
		in.closeHTTP()
		var restart *supervisor.RestartRequest
		isRestart := errors.As(runErr, &restart)
		sd.ended(isRestart)
		if !isRestart {
			os.Remove(cfg.Supervisord.Pidfile)
			in.log.Close()
			var critical *supervisor.CriticalError
			if errors.As(runErr, &critical) {
				return 1 // critical=true: let the orchestrator restart us
			}
			return 0
		}
		in.log.Close()
		cfg = restart.Config
	}
}

// prepareProcess drops privileges and raises rlimits, once per process; it
// returns the critical messages to log once the main log is open.
func prepareProcess(cfg *config.Config) ([]string, error) {
	var criticals []string
	if err := dropPrivileges(cfg); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 && cfg.Supervisord.User == "" {
		criticals = append(criticals, "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.")
	}
	if err := raiseLimits(cfg); err != nil {
		return nil, err
	}
	return criticals, nil
}

// start opens the main log, builds the engine and binds the HTTP servers;
// on error it closes whatever it opened.
func (d *daemon) start(cfg *config.Config, lt *lifetime, first bool) (*instance, error) {
	log, err := d.openLog(cfg)
	if err != nil {
		return nil, err
	}
	in := &instance{log: log}
	if err := d.startInstance(in, cfg, lt, first); err != nil {
		in.closeHTTP()
		log.Close()
		return nil, err
	}
	log.Info(fmt.Sprintf("supervisord started with pid %d", os.Getpid()))
	return in, nil
}

// startInstance does start's work after the log is open.
func (d *daemon) startInstance(in *instance, cfg *config.Config, lt *lifetime, first bool) error {
	logStartMessages(in.log, cfg, lt.criticals)
	if !cfg.Supervisord.Nocleanup {
		cleanupAutoLogs(cfg, in.log)
	}
	sup, err := d.newSupervisor(cfg, in.log, lt)
	if err != nil {
		return err
	}
	in.sup = sup
	if d.deps.HTTP != nil {
		http, err := d.deps.HTTP(cfg, sup, in.log)
		if err != nil {
			return err
		}
		in.http = http
	}
	if first {
		return d.firstStart(cfg, in.log)
	}
	return nil
}

// logStartMessages logs the criticals, then the config's warnings, then its
// infos, in the original's order.
func logStartMessages(log *mainlog.Logger, cfg *config.Config, criticals []string) {
	for _, msg := range criticals {
		log.Crit(msg)
	}
	for _, m := range cfg.Messages {
		if m.Level == loglevel.Warn {
			log.Warn(m.Text)
		}
	}
	for _, m := range cfg.Messages {
		if m.Level == loglevel.Info {
			log.Info(m.Text)
		}
	}
}

func (d *daemon) newSupervisor(cfg *config.Config, log *mainlog.Logger, lt *lifetime) (*supervisor.Supervisor, error) {
	return supervisor.New(supervisor.Options{
		Config: cfg, LoadOptions: d.loadOpts, Log: log, Reaper: lt.reaper, Idle: lt.idle, EventSerials: lt.serials,
		Environ: d.childEnviron(), MainLogPath: log.Path(), MainLogRing: log.Ring(), ReopenMainLog: log.Reopen,
		ClearMainLog: func() error {
			err := log.Clear()
			log.Info("reopening log file")
			return err
		},
	})
}

// childEnviron is the environment children inherit: supervisord's, less
// the service manager's notification variables when they are set (a child
// must not speak for supervisord; under Debian's Type=simple unit children
// never see them either).
func (d *daemon) childEnviron() []string {
	if d.sd == nil {
		return d.environ
	}
	return sdnotify.Environ(d.environ)
}

// firstStart is the once-per-process part of start-up: the pidfile check,
// finishing daemonizing, writing the pidfile and releasing the parent.
func (d *daemon) firstStart(cfg *config.Config, log *mainlog.Logger) error {
	// Checked where the original writes its pidfile, after binding,
	// so a socket or port conflict still reports the original's text.
	if err := pidfileFree(cfg.Supervisord.Pidfile); err != nil {
		return err
	}
	if d.ready != nil {
		finishDaemonizing(cfg, log)
	}
	if err := writePidfile(cfg.Supervisord.Pidfile); err != nil {
		log.Crit(err.Error())
	}
	d.ready.ok()
	return nil
}

func (d *daemon) openLog(cfg *config.Config) (*mainlog.Logger, error) {
	sd := cfg.Supervisord
	opt := mainlog.Options{
		Path: sd.Logfile, MaxBytes: sd.LogfileMaxbytes, Backups: sd.LogfileBackups,
		Level: sd.Loglevel, RingSize: 64 << 10, JSON: sd.LogFormat == config.MainLogJSON,
	}
	if sd.Nodaemon && !sd.Silent {
		// Never inside a forwarded line (stdout_forward): one lock for both.
		opt.Stdout = forward.Std().Stdout.Shared(d.stdout)
	}
	log, err := mainlog.New(opt)
	if err != nil {
		return nil, fmt.Errorf("opening log file %s: %w", sd.Logfile, err)
	}
	return log, nil
}

// dropPrivileges is the original's set_uid_or_exit for [supervisord] user.
func dropPrivileges(cfg *config.Config) error {
	sd := cfg.Supervisord
	if sd.User == "" || sd.UID < 0 {
		return nil
	}
	if os.Getuid() == sd.UID {
		return nil
	}
	if os.Getuid() != 0 {
		return errors.New("Can't drop privilege as nonroot user")
	}
	groups := []int{sd.GID}
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("Could not set groups of effective user: %w", err)
	}
	if err := unix.Setgid(sd.GID); err != nil {
		return fmt.Errorf("Could not set group id of effective user: %w", err)
	}
	if err := unix.Setuid(sd.UID); err != nil {
		return fmt.Errorf("Could not set user id of effective user: %w", err)
	}
	return nil
}

// raiseLimits is the original's set_rlimits_or_exit: raise the soft (and if
// needed the hard) RLIMIT_NOFILE/NPROC to minfds/minprocs.
func raiseLimits(cfg *config.Config) error {
	limits := []struct {
		res  int
		min  int
		name string
	}{
		{unix.RLIMIT_NOFILE, cfg.Supervisord.Minfds, "minfds"},
		{unix.RLIMIT_NPROC, cfg.Supervisord.Minprocs, "minprocs"},
	}
	for _, l := range limits {
		var rl unix.Rlimit
		if err := unix.Getrlimit(l.res, &rl); err != nil {
			continue
		}
		want := uint64(l.min)
		if rl.Cur == unix.RLIM_INFINITY || rl.Cur >= want {
			continue
		}
		nl := unix.Rlimit{Cur: want, Max: rl.Max}
		if rl.Max != unix.RLIM_INFINITY && rl.Max < want {
			nl.Max = want
		}
		if err := unix.Setrlimit(l.res, &nl); err != nil {
			return fmt.Errorf("The %s limit could not be raised to %d (soft %d, hard %d): %v. To fix this, either run supervisord as root, or lower the %s value in the config file", l.name, l.min, rl.Cur, rl.Max, err, l.name)
		}
	}
	return nil
}

// cleanupAutoLogs deletes old AUTO child logs of this identifier, as the
// original does at every start (unless nocleanup).
func cleanupAutoLogs(cfg *config.Config, log *mainlog.Logger) {
	dir := cfg.Supervisord.Childlogdir
	pattern, err := regexp.Compile(`^.+?---` + regexp.QuoteMeta(cfg.Supervisord.Identifier) + `-\S+\.log\.?\d{0,4}$`)
	if err != nil {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if pattern.MatchString(e.Name()) {
			path := filepath.Join(dir, e.Name())
			if err := os.Remove(path); err != nil {
				log.Warn(fmt.Sprintf("Failed to clean up %s", pyfmt.Repr(path)))
			}
		}
	}
}

// pidfileFree refuses to start a second supervisord on the same pidfile
// (the original would overwrite it and run every program twice). A pidfile
// left by a dead daemon, or naming a process that is not a supervisord, is
// stale and simply replaced.
func pidfileFree(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "supervisord") {
		return nil
	}
	return fmt.Errorf("Another supervisord is already running with pid %d (pidfile %s).  Shut it down first before starting supervisord.", pid, path)
}

// writePidfile writes "<pid>\n" (the original logs, not fails, on error).
func writePidfile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("could not write pidfile %s", path)
	}
	return nil
}
