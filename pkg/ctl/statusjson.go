package ctl

import (
	"encoding/json"
)

// statusJSON is one process of `status --json`: getProcessInfo's members,
// then what our daemon adds (EXTENSIONS.md §1, §2). Against a daemon
// without the gosupervisor.* methods (the Python original, or ours on an
// engine without them) the added members are left out, not null.
type statusJSON struct {
	ProcessInfo
	// Health is the health check as an object, null for a process without
	// one (healthJSON).
	Health json.RawMessage `json:"health,omitempty"`
	// DependsOn and WaitingFor are depends_on as configured and the
	// dependencies the process waits for; [] when none.
	DependsOn  *[]string `json:"depends_on,omitempty"`
	WaitingFor *[]string `json:"waiting_for,omitempty"`
}

// healthJSON is gosupervisor.getProcessHealth's answer for a checked
// process, without the name and group its object already has.
type healthJSON struct {
	Kind      string `json:"kind"`
	Target    string `json:"target"`
	Status    string `json:"status"`
	Failures  int64  `json:"failures"`
	Output    string `json:"output"`
	LastError string `json:"last_error"`
	LastCheck int64  `json:"last_check"` // seconds since the epoch, 0: never
}

// statusExtensions asks the daemon, in one system.multicall, for the
// health and dependencies of each process. An answer that is not there
// (UNKNOWN_METHOD from a daemon without them, any other fault, a failed
// multicall) leaves the process's members out: --json never fails for
// what only our daemon knows.
func statusExtensions(c *Controller, infos []ProcessInfo) []statusJSON {
	out := make([]statusJSON, len(infos))
	calls := make([]any, 0, 2*len(infos))
	for i, info := range infos {
		out[i].ProcessInfo = info
		ns := namespec(info.Group, info.Name)
		calls = append(calls,
			map[string]any{"methodName": "gosupervisor.getProcessHealth", "params": []any{ns}},
			map[string]any{"methodName": "gosupervisor.getProcessDependencies", "params": []any{ns}})
	}
	if len(infos) == 0 {
		return out
	}
	var results []any
	if err := c.call("system.multicall", &results, calls); err != nil || len(results) != len(calls) {
		return out
	}
	for i := range out {
		if h, ok := results[2*i].(map[string]any); ok && !isFaultStruct(h) {
			out[i].Health = healthValue(h)
		}
		if d, ok := results[2*i+1].(map[string]any); ok && !isFaultStruct(d) {
			dep, wait := stringList(d["depends_on"]), stringList(d["waiting_for"])
			out[i].DependsOn, out[i].WaitingFor = &dep, &wait
		}
	}
	return out
}

func isFaultStruct(m map[string]any) bool {
	_, ok := m["faultCode"]
	return ok
}

// healthValue renders a getProcessHealth struct: null unless checked.
func healthValue(m map[string]any) json.RawMessage {
	if checked, _ := m["checked"].(bool); !checked {
		return json.RawMessage("null")
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	num := func(k string) int64 {
		switch n := m[k].(type) {
		case int64:
			return n
		case int:
			return int64(n)
		}
		return 0
	}
	data, err := json.Marshal(healthJSON{Kind: str("kind"), Target: str("target"), Status: str("status"),
		Failures: num("failures"), Output: str("output"), LastError: str("last_error"), LastCheck: num("last_check")})
	if err != nil {
		return json.RawMessage("null")
	}
	return data
}

// stringList is an XML-RPC array of strings; never nil, so that it encodes as [].
func stringList(v any) []string {
	out := []string{}
	arr, _ := v.([]any)
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
