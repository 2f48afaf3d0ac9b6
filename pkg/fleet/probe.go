package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// probeCalls are asked in one system.multicall (one round trip per node):
// which daemon, its version, its state and its processes. The original
// answers the first with an UNKNOWN_METHOD fault inside the list.
var probeCalls = []any{
	map[string]any{"methodName": "gosupervisor.getVersion", "params": []any{}},
	map[string]any{"methodName": "supervisor.getSupervisorVersion", "params": []any{}},
	map[string]any{"methodName": "supervisor.getState", "params": []any{}},
	map[string]any{"methodName": "supervisor.getAllProcessInfo", "params": []any{}},
}

// probe asks a node everything a Node holds, in one request.
func probe(ctx context.Context, c *rpcclient.Client, n *Node) error {
	v, err := c.CallAny(ctx, "system.multicall", probeCalls)
	if err != nil {
		return err
	}
	res, _ := v.([]any)
	if len(res) != len(probeCalls) {
		return fmt.Errorf("multicall on %s: %d answers for %d calls", c.URL(), len(res), len(probeCalls))
	}
	ours, err := multiResult(res[0])
	var f *Fault
	switch {
	case err == nil:
		n.Kind = KindGosupervisor
		n.Version, _ = ours.(string)
	case errors.As(err, &f) && f.Code == int(fault.UnknownMethod):
		n.Kind = KindSupervisor
	default:
		return err
	}
	if n.Kind == KindSupervisor {
		v, err := multiResult(res[1])
		if err != nil {
			return err
		}
		n.Version, _ = v.(string)
	}
	st, err := multiResult(res[2])
	if err != nil {
		return err
	}
	if m, ok := st.(map[string]any); ok {
		n.Supervisor, _ = m["statename"].(string)
	}
	all, err := multiResult(res[3])
	if err != nil {
		return err
	}
	n.Processes, err = processes(all)
	return err
}

// multiResult unpacks one multicall answer: supervisor's multicall gives
// each call's value as is (not wrapped in a list as the XML-RPC multicall
// convention would), or a fault struct.
func multiResult(v any) (any, error) {
	if r, ok := v.(map[string]any); ok {
		if code, ok := r["faultCode"].(int64); ok {
			text, _ := r["faultString"].(string)
			return nil, &Fault{Code: int(code), String: text}
		}
	}
	return v, nil
}

// processes converts getAllProcessInfo's answer, sorted by group, name.
func processes(v any) ([]Process, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("getAllProcessInfo answer is %T, not a list", v)
	}
	out := make([]Process, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("getAllProcessInfo entry is %T, not a struct", e)
		}
		out = append(out, processOf(m))
	}
	SortProcesses(out)
	return out, nil
}

func processOf(m map[string]any) Process {
	s := func(k string) string { v, _ := m[k].(string); return v }
	i := func(k string) int64 { v, _ := m[k].(int64); return v }
	return Process{Name: s("name"), Group: s("group"), Description: s("description"),
		Start: i("start"), Stop: i("stop"), Now: i("now"), State: int(i("state")),
		Statename: s("statename"), Spawnerr: s("spawnerr"), Exitstatus: int(i("exitstatus")),
		Logfile: s("logfile"), StdoutLog: s("stdout_logfile"), StderrLog: s("stderr_logfile"),
		PID: int(i("pid"))}
}

// SortProcesses orders processes as getAllProcessInfo does: by group, then name.
func SortProcesses(ps []Process) {
	slices.SortFunc(ps, func(a, b Process) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// pollOnce refreshes a known original's processes (getAllProcessInfo).
func pollOnce(ctx context.Context, c *rpcclient.Client, n *Node) error {
	all, err := c.CallAny(ctx, "supervisor.getAllProcessInfo")
	if err != nil {
		return err
	}
	ps, err := processes(all)
	if err != nil {
		return err
	}
	n.Processes = ps
	return nil
}

// failed records why a node is not up.
func failed(n *Node, err error) {
	n.State, n.Error = Failure(err)
}

// Failure classifies an error of a request to a node: AuthFailed for a
// 401 (or our role's UNAUTHORIZED fault), Unreachable otherwise, with the
// short reason shown to users.
func Failure(err error) (State, string) {
	var pe *rpcclient.ProtocolError
	var f *Fault
	switch {
	case errors.As(err, &pe) && pe.Status == 401:
		return AuthFailed, reason(err)
	case errors.As(err, &f) && f.Code == int(fault.Unauthorized):
		return AuthFailed, reason(err)
	}
	return Unreachable, reason(err)
}

// reason keeps the useful end of a transport error ("dial unix /x:
// connect: no such file or directory", "HTTP 401 Unauthorized").
func reason(err error) string {
	var pe *rpcclient.ProtocolError
	if errors.As(err, &pe) {
		return fmt.Sprintf("HTTP %d %s", pe.Status, pe.Reason)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": dial "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// up marks a successful answer.
func up(n *Node, now time.Time) {
	n.State, n.Error, n.Updated = Up, "", now
}

// Query asks every target once, in parallel (supervisorctl fleet status),
// each bounded by timeout; the nodes come back in target order.
func Query(ctx context.Context, targets []Target, timeout time.Duration) []Node {
	out := make([]Node, len(targets))
	done := make(chan struct{}, len(targets))
	for i, t := range targets {
		go func() {
			defer func() { done <- struct{}{} }()
			out[i] = queryOne(ctx, t, timeout)
		}()
	}
	for range targets {
		<-done
	}
	return out
}

func queryOne(ctx context.Context, t Target, timeout time.Duration) Node {
	n := Node{Name: t.Name, URL: t.Serverurl, State: Connecting}
	c, err := t.client()
	if err != nil {
		failed(&n, err)
		return n
	}
	defer c.Close()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := probe(ctx, c, &n); err != nil {
		failed(&n, err)
		return n
	}
	up(&n, time.Now())
	return n
}
