package spawn

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Credential is a resolved user= setting.
type Credential struct {
	UID    uint32   `json:"u"`
	GID    uint32   `json:"g"`
	Groups []uint32 `json:"s,omitempty"` // supplementary groups listing the user
}

// Spec describes one child to start.
type Spec struct {
	Name string   // process name, for error texts
	Argv []string // shlex-split command; Argv[0] as written
	Path string   // from Resolve
	Env  []string
	Dir  string // "" = inherit, unless EmptyDir
	// EmptyDir: directory= was given empty, and like the original the
	// child tries chdir("") and fails (ENOENT).
	EmptyDir       bool
	Umask          int         // -1 = inherit
	Cred           *Credential // nil = no change
	RedirectStderr bool
	// Stdin is the child's fd 0 when non-nil (fcgi passes its socket here);
	// nil = a new pipe. Spawn switches it to blocking mode (os.File.Fd).
	Stdin *os.File

	// ForceShim starts the child through the shim even when a direct
	// fork/exec would do (tests and benchmarks).
	ForceShim bool
}

// Child holds the parent's ends of a started child's standard streams.
// Stdin is nil when Spec.Stdin was given; Stderr is nil when redirected.
type Child struct {
	Pid    int
	Stdin  *os.File
	Stdout *os.File
	Stderr *os.File
}

// IgnoredSignals are the signals Python ignores at start-up (SIGPIPE,
// SIGXFSZ); the original's children inherit them ignored. Children get the
// same: the shim ignores them before exec, and the direct path is only
// taken when the daemon ignores them too (signal.Ignore(IgnoredSignals()...),
// which also gives the daemon Python's EPIPE-instead-of-death behaviour).
func IgnoredSignals() []os.Signal { return []os.Signal{syscall.SIGPIPE, syscall.SIGXFSZ} }

func inheritsIgnoredSignals() bool {
	for _, s := range IgnoredSignals() {
		if !signal.Ignored(s) {
			return false
		}
	}
	return true
}

// selfExe is the shim binary: the running executable, even if it has been
// replaced or deleted on disk since.
const selfExe = "/proc/self/exe"

// pipes are both ends of the child's standard streams.
type pipes struct {
	parent Child
	child  [3]*os.File
	owned  []*os.File // child ends created here (closed after fork)
}

func (p *pipes) closeParent() {
	for _, f := range []*os.File{p.parent.Stdin, p.parent.Stdout, p.parent.Stderr} {
		if f != nil {
			f.Close()
		}
	}
}

func (p *pipes) closeChild() {
	for _, f := range p.owned {
		f.Close()
	}
}

func makePipes(spec Spec) (*pipes, error) {
	p := &pipes{}
	fail := func(err error) (*pipes, error) {
		p.closeParent()
		p.closeChild()
		return nil, pipeError(spec.Name, err)
	}
	if spec.Stdin != nil {
		p.child[0] = spec.Stdin
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		p.child[0], p.parent.Stdin = r, w
		p.owned = append(p.owned, r)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	p.parent.Stdout, p.child[1] = r, w
	p.owned = append(p.owned, w)
	p.child[2] = w
	if !spec.RedirectStderr {
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		p.parent.Stderr, p.child[2] = r, w
		p.owned = append(p.owned, w)
	}
	return p, nil
}

func pipeError(name string, err error) error {
	if errors.Is(err, syscall.EMFILE) {
		return &textError{msg: fmt.Sprintf("too many open files to spawn '%s'", name), cause: err}
	}
	return &textError{msg: fmt.Sprintf("unknown error making dispatchers for '%s': %s", name, ErrnoName(err)), cause: err}
}

func forkError(name string, err error) error {
	if errors.Is(err, syscall.EAGAIN) {
		return &textError{msg: fmt.Sprintf("Too many processes in process table to spawn '%s'", name), cause: err}
	}
	return &textError{msg: fmt.Sprintf("unknown error during fork for '%s': %s", name, ErrnoName(err)), cause: err}
}

// fork starts the child and returns its pid; see doc.go for the two paths. It must run with the reaper's
// lock held: syscall.ForkExec reaps a child that failed before exec by pid,
// and the reaper must not steal that child meanwhile.
func fork(spec Spec, files []uintptr) (int, error) {
	if !spec.ForceShim && !spec.EmptyDir && spec.Umask < 0 && inheritsIgnoredSignals() {
		// Direct path: Go's child applies credentials, then the directory,
		// in the original's order. If any step fails, fall through to the
		// shim, which fails the same way but reports it in the original's
		// words on the child's stderr.
		attr := &syscall.ProcAttr{
			Dir:   spec.Dir,
			Env:   spec.Env,
			Files: files,
			Sys:   &syscall.SysProcAttr{Setpgid: true},
		}
		if c := spec.Cred; c != nil && c.UID != uint32(os.Getuid()) {
			attr.Sys.Credential = &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: append([]uint32{c.GID}, c.Groups...)}
		}
		if pid, err := syscall.ForkExec(spec.Path, spec.Argv, attr); err == nil {
			return pid, nil
		}
	}
	entry, err := shimEntry(shimControl{Path: spec.Path, Dir: spec.Dir, EmptyDir: spec.EmptyDir, Umask: spec.Umask, Cred: spec.Cred})
	if err != nil {
		return 0, err
	}
	env := make([]string, 0, len(spec.Env)+1)
	env = append(append(env, spec.Env...), entry)
	return syscall.ForkExec(selfExe, spec.Argv, &syscall.ProcAttr{
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
}

// Spawn starts spec in its own process group with fresh pipes (see Child).
// The error text is the original's spawnerr.
func (r *Reaper) Spawn(spec Spec) (*Child, error) {
	if len(spec.Argv) == 0 {
		return nil, &textError{msg: "command is empty", cause: ErrNotExecutable}
	}
	p, err := makePipes(spec)
	if err != nil {
		return nil, err
	}
	defer p.closeChild()
	// Fd() puts the child ends in blocking mode, which is what the child
	// must see; the parent ends stay in Go's poller.
	files := []uintptr{p.child[0].Fd(), p.child[1].Fd(), p.child[2].Fd()}

	r.mu.RLock()
	pid, err := fork(spec, files)
	r.mu.RUnlock()
	if err != nil {
		p.closeParent()
		return nil, forkError(spec.Name, err)
	}
	c := p.parent
	c.Pid = pid
	return &c, nil
}
