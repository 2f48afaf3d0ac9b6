// Package events is the original's event system as listeners see it: the
// event type hierarchy (SPEC §9.1), the envelope a listener receives, the
// serial counters, and the pure state of an [eventlistener:x] pool (buffer,
// overflow, the READY / RESULT protocol of each listener, dispatch). It does
// no I/O of its own: the engine feeds it listener output and gives it a way
// to write to a listener's stdin.
package events

import "strconv"

// parents maps every event type name to its parent type ("" for EVENT, the
// root). Subscribing to a type receives it and all its subtypes, as the
// original's isinstance() check does.
var parents = map[string]string{
	"EVENT": "",

	"PROCESS_STATE":          "EVENT",
	"PROCESS_STATE_STOPPED":  "PROCESS_STATE",
	"PROCESS_STATE_EXITED":   "PROCESS_STATE",
	"PROCESS_STATE_STARTING": "PROCESS_STATE",
	"PROCESS_STATE_STOPPING": "PROCESS_STATE",
	"PROCESS_STATE_BACKOFF":  "PROCESS_STATE",
	"PROCESS_STATE_FATAL":    "PROCESS_STATE",
	"PROCESS_STATE_RUNNING":  "PROCESS_STATE",
	"PROCESS_STATE_UNKNOWN":  "PROCESS_STATE",

	"PROCESS_COMMUNICATION":        "EVENT",
	"PROCESS_COMMUNICATION_STDOUT": "PROCESS_COMMUNICATION",
	"PROCESS_COMMUNICATION_STDERR": "PROCESS_COMMUNICATION",

	"PROCESS_LOG":        "EVENT",
	"PROCESS_LOG_STDOUT": "PROCESS_LOG",
	"PROCESS_LOG_STDERR": "PROCESS_LOG",

	"REMOTE_COMMUNICATION": "EVENT",

	"SUPERVISOR_STATE_CHANGE":          "EVENT",
	"SUPERVISOR_STATE_CHANGE_RUNNING":  "SUPERVISOR_STATE_CHANGE",
	"SUPERVISOR_STATE_CHANGE_STOPPING": "SUPERVISOR_STATE_CHANGE",

	"TICK":      "EVENT",
	"TICK_5":    "TICK",
	"TICK_60":   "TICK",
	"TICK_3600": "TICK",

	"PROCESS_GROUP":         "EVENT",
	"PROCESS_GROUP_ADDED":   "PROCESS_GROUP",
	"PROCESS_GROUP_REMOVED": "PROCESS_GROUP",
}

// abstract types are never emitted themselves (REMOTE_COMMUNICATION is a
// concrete type with no subtypes).
var abstract = map[string]bool{
	"EVENT": true, "PROCESS_STATE": true, "PROCESS_COMMUNICATION": true,
	"PROCESS_LOG": true, "SUPERVISOR_STATE_CHANGE": true, "TICK": true,
	"PROCESS_GROUP": true,
}

// TickNames are the concrete TICK_N types.
var TickNames = []string{"TICK_5", "TICK_60", "TICK_3600"}

// Our event types (EXTENSIONS.md §2): a checked process became healthy or
// unhealthy.
const (
	ProcessHealthHealthy   = "PROCESS_HEALTH_HEALTHY"
	ProcessHealthUnhealthy = "PROCESS_HEALTH_UNHEALTHY"
)

// ExtensionNames are our event types. They stand outside the original's
// hierarchy, each a root of its own: only a pool whose events= names one
// receives it. EVENT does not include them, so the original's listeners
// (events=EVENT, or PROCESS_STATE) never see a type they do not know.
var ExtensionNames = []string{ProcessHealthHealthy, ProcessHealthUnhealthy}

// Known reports whether name is an event type: the original's or ours.
func Known(name string) bool {
	return Original(name) || Extension(name)
}

// Original reports whether name is an event type of the original.
func Original(name string) bool {
	_, ok := parents[name]
	return ok
}

// Extension reports whether name is one of our event types.
func Extension(name string) bool {
	for _, n := range ExtensionNames {
		if n == name {
			return true
		}
	}
	return false
}

// HealthPayload is the payload of PROCESS_HEALTH_HEALTHY and
// PROCESS_HEALTH_UNHEALTHY, shaped like PROCESS_STATE_RUNNING's so that
// the original's payload parsers (childutils.get_headers) read it:
// from_state is the health before the change (STARTING, HEALTHY or
// UNHEALTHY), then the process's pid and its consecutive failed checks.
//
//	processname:web groupname:web from_state:HEALTHY pid:4242 failures:3
func HealthPayload(process, group, fromHealth string, pid, failures int) string {
	return "processname:" + process + " groupname:" + group + " from_state:" + fromHealth +
		" pid:" + strconv.Itoa(pid) + " failures:" + strconv.Itoa(failures)
}

// Abstract reports whether name is an abstract type (only subscribed to).
func Abstract(name string) bool { return abstract[name] }

// IsA reports whether an event of type name is an instance of typ. Our
// types are instances of themselves only.
func IsA(name, typ string) bool {
	if Extension(name) {
		return name == typ
	}
	if !Original(name) {
		return false
	}
	for n := name; ; n = parents[n] {
		if n == typ {
			return true
		}
		if n == "" || n == "EVENT" {
			return false
		}
	}
}

// Matches reports whether a pool subscribed to the given types receives an
// event of type name.
func Matches(subscribed []string, name string) bool {
	return Count(subscribed, name) > 0
}

// Count is how many of the subscribed types an event of type name is an
// instance of. The original registers one callback per subscribed type, so
// a pool subscribed to both PROCESS_STATE and PROCESS_STATE_RUNNING buffers
// a RUNNING event twice (same serials); Pool.Notify reproduces that.
func Count(subscribed []string, name string) int {
	n := 0
	for _, typ := range subscribed {
		if IsA(name, typ) {
			n++
		}
	}
	return n
}
