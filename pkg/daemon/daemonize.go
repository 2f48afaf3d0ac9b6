package daemon

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Go cannot fork, so daemonizing re-executes supervisord detached (new
// session, stdio on /dev/null, umask and directory from the config). The
// parent waits on a pipe until the child has opened its log and bound its
// servers, so start-up errors (a port in use, say) still reach the terminal
// and the exit status, exactly as the original reports them before forking.
func daemonize(argv []string, cfg *config.Config, stderr io.Writer) int {
	r, w, err := os.Pipe()
	if err != nil {
		return usage(stderr, argv[0], fmt.Sprintf("could not daemonize: %v", err))
	}
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	cmd := exec.Command(exe, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = append(os.Environ(), readyFDEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// The child reads the config from this same cwd, then changes directory
	// and umask itself (finishDaemonizing), as the original does after fork.
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return usage(stderr, argv[0], fmt.Sprintf("could not daemonize: %v", err))
	}
	msg, _ := io.ReadAll(r)
	r.Close()
	// The daemon lives on; this process exits without waiting for it.
	_ = cmd.Process.Release()
	switch text := string(msg); {
	case text == "OK":
		return 0
	case strings.HasPrefix(text, "ERR "):
		fmt.Fprint(stderr, strings.TrimPrefix(text, "ERR "))
		return 2
	default:
		return usage(stderr, argv[0], "supervisord exited during start-up")
	}
}

// readyReporter is the daemonized child's end of the readiness pipe; nil
// when running in the foreground.
type readyReporter struct{ f *os.File }

// readyPipe picks up the pipe inherited from a daemonizing parent and
// removes the marker so children never see it.
func readyPipe() *readyReporter {
	v, ok := os.LookupEnv(readyFDEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(readyFDEnv)
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	syscall.CloseOnExec(fd)
	return &readyReporter{f: os.NewFile(uintptr(fd), "ready")}
}

// ok tells the parent that start-up succeeded.
func (r *readyReporter) ok() {
	if r == nil || r.f == nil {
		return
	}
	_, _ = r.f.WriteString("OK")
	r.f.Close()
	r.f = nil
}

// fail hands the usage-error text to the parent (which prints it) and
// passes the exit status through.
func (r *readyReporter) fail(status int, msg string) int {
	if r == nil || r.f == nil {
		return status
	}
	_, _ = fmt.Fprintf(r.f, "ERR Error: %s\nFor help, use %s -h\n", msg, os.Args[0])
	r.f.Close()
	r.f = nil
	return status
}

// finishDaemonizing is the daemonized child's part of the original's
// daemonize(), done once the main log is open: chdir and umask.
func finishDaemonizing(cfg *config.Config, log interface {
	Info(string)
	Crit(string)
}) {
	log.Info("daemonizing the supervisord process")
	if dir := cfg.Supervisord.Directory; dir != "" {
		if err := os.Chdir(dir); err != nil {
			log.Crit(fmt.Sprintf("can't chdir into %s: %v", pyfmt.Repr(dir), err))
		} else {
			log.Info("set current directory: " + pyfmt.Repr(dir))
		}
	}
	syscall.Umask(cfg.Supervisord.Umask)
}
