// Package sig names and parses signals the way the original supervisord
// does (it relies on Python's signal module): the names it prints in log
// lines and result texts, and the values it accepts in config and RPC.
package sig

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// names is Python 3.11's signal-number -> name map on Linux, as supervisor's
// signame() builds it (the last alias in signal.__dict__ wins).
var names = map[syscall.Signal]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
	18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
	23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
	28: "SIGWINCH", 29: "SIGPOLL", 30: "SIGPWR", 31: "SIGSYS", 34: "SIGRTMIN", 64: "SIGRTMAX",
}

// aliases are the other SIG* attributes of Python's signal module. SIG_DFL and
// friends are there too because the original looks names up with getattr.
var aliases = map[string]syscall.Signal{
	"SIGIOT": 6, "SIGCLD": 17, "SIGIO": 29,
	"SIG_DFL": 0, "SIG_IGN": 1, "SIG_BLOCK": 0, "SIG_UNBLOCK": 1, "SIG_SETMASK": 2,
}

// Name returns the name the original prints for a signal, e.g. "SIGTERM",
// or "signal N" for a number Python has no name for.
func Name(s syscall.Signal) string {
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}

// valid reports whether n is one of the numbers Python's signal module
// exposes as a SIG* constant (supervisor's SIGNUMS), 0 included.
func valid(n syscall.Signal) bool {
	if _, ok := names[n]; ok {
		return true
	}
	for _, v := range aliases {
		if v == n {
			return true
		}
	}
	return false
}

// Parse accepts a signal number ("9") or a case-insensitive name with or
// without the SIG prefix (" term ", "sigusr1"), with the original's error
// texts: "value 'FOO' is not a valid signal name" / "value '99' is not a
// valid signal number".
func Parse(value string) (syscall.Signal, error) {
	var num syscall.Signal
	if n, err := pyInt(value); err == nil {
		num = syscall.Signal(n)
	} else {
		name := strings.ToUpper(strings.TrimSpace(value))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		var ok bool
		if num, ok = lookup(name); !ok {
			return 0, fmt.Errorf("value %s is not a valid signal name", pyfmt.Repr(value))
		}
	}
	if !valid(num) {
		return 0, fmt.Errorf("value %s is not a valid signal number", pyfmt.Repr(value))
	}
	return num, nil
}

func lookup(name string) (syscall.Signal, bool) {
	if n, ok := aliases[name]; ok {
		return n, true
	}
	for n, v := range names {
		if v == name {
			return n, true
		}
	}
	return 0, false
}

// pyInt parses like Python's int(str): surrounding whitespace, a sign and
// single underscores between digits are allowed.
func pyInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "__") || strings.HasSuffix(s, "_") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
}
