package spawn

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// shimEnv marks a re-exec of the daemon's binary as a spawn shim. Its value
// is the JSON-encoded shimControl; it is always the last environment entry
// and is removed before the program is exec'd.
const shimEnv = "GOSUPERVISOR_SHIM"

// shimControl is what the shim must do before exec'ing Path with its own
// argv and the remaining environment.
type shimControl struct {
	Path     string      `json:"p"`
	Dir      string      `json:"d,omitempty"`
	EmptyDir bool        `json:"e,omitempty"` // chdir("") anyway, as the original does
	Umask    int         `json:"u"`
	Cred     *Credential `json:"c,omitempty"`
}

func shimEntry(c shimControl) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding spawn shim control for %q: %w", c.Path, err)
	}
	return shimEnv + "=" + string(b), nil
}

// ShimMain returns at once unless this process is a spawn shim; a shim never
// returns: it execs the program or exits 127. Call it first thing in main
// (and in TestMain of packages that spawn through a Reaper).
func ShimMain() {
	env := os.Environ()
	// Search from the end: the marker is appended last by the parent, and a
	// program's own environment could (however unlikely) carry the same key.
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], shimEnv+"="); ok {
			rest := append(env[:i:i], env[i+1:]...)
			runShim(v, os.Args, rest)
		}
	}
}

// runShim applies the control in the original's child order: privileges,
// directory, umask, fd hygiene, exec.
func runShim(encoded string, argv, env []string) {
	// Keep this goroutine on one thread from here to exec.
	runtime.LockOSThread()
	var c shimControl
	if err := json.Unmarshal([]byte(encoded), &c); err != nil {
		shimFail(fmt.Sprintf("couldn't exec %s: bad spawn shim control: %v\n", argvZero(argv), err))
	}
	if c.Cred != nil {
		msg, ok := dropPrivileges(c.Cred)
		if !ok {
			// The original lets setuid's OSError escape, so only the final
			// "not spawned" line is written.
			shimFail("")
		}
		if msg != "" {
			shimFail(fmt.Sprintf("couldn't setuid to %d: %s\n", c.Cred.UID, msg))
		}
	}
	if c.Dir != "" || c.EmptyDir {
		if err := unix.Chdir(c.Dir); err != nil {
			shimFail(fmt.Sprintf("couldn't chdir to %s: %s\n", c.Dir, ErrnoName(err)))
		}
	}
	if c.Umask >= 0 {
		unix.Umask(c.Umask)
	}
	signal.Ignore(IgnoredSignals()...) // SIG_IGN survives exec
	closeInheritedFds()
	err := unix.Exec(c.Path, argv, env)
	shimFail(fmt.Sprintf("couldn't exec %s: %s\n", argvZero(argv), ErrnoName(err)))
}

func argvZero(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	return argv[0]
}

// dropPrivileges mirrors the original's drop_privileges for a resolved
// credential: same uid is a no-op, a non-root caller gets the original's
// refusal, otherwise setgroups (primary gid first), setgid, setuid. The
// message is "" on success; ok is false when setuid itself failed.
func dropPrivileges(c *Credential) (msg string, ok bool) {
	if uint32(unix.Getuid()) == c.UID {
		return "", true
	}
	if unix.Getuid() != 0 {
		return "Can't drop privilege as nonroot user", true
	}
	ints := make([]int, 0, len(c.Groups)+1)
	ints = append(ints, int(c.GID))
	for _, g := range c.Groups {
		ints = append(ints, int(g))
	}
	if syscall.Setgroups(ints) != nil {
		return "Could not set groups of effective user", true
	}
	if syscall.Setgid(int(c.GID)) != nil {
		return "Could not set group id of effective user", true
	}
	if syscall.Setuid(int(c.UID)) != nil {
		return "", false
	}
	return "", true
}

// closeInheritedFds makes every descriptor above stderr close on exec, like
// the original's close of 3..minfds, without pulling descriptors from under
// the Go runtime before exec.
func closeInheritedFds() {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return
	}
	// Kernels before 5.11: walk the descriptor table.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func shimFail(msg string) {
	if msg != "" {
		writeAll(2, "supervisor: "+msg)
	}
	writeAll(2, "supervisor: child process was not spawned\n")
	os.Exit(127)
}

func writeAll(fd int, s string) {
	b := []byte(s)
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		b = b[n:]
	}
}
