package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// fakeNode answers the XML-RPC calls the fleet makes like the original
// (ours=false) or our daemon (ours=true, with /api/v1/events), and counts
// requests in flight.
type fakeNode struct {
	ours    bool
	status  int           // non-zero: answer every request with this HTTP status
	hang    chan struct{} // non-nil: requests block until it is closed
	updates chan []proc   // our stream's update events

	mu       sync.Mutex
	procs    []proc
	requests []time.Time
	methods  []string

	inFlight, maxInFlight atomic.Int32
}

type proc struct {
	name  string
	state int
}

var stateNames = map[int]string{0: "STOPPED", 20: "RUNNING", 100: "EXITED"}

func (p proc) xml() xmlrpc.Struct {
	return xmlrpc.Struct{{Name: "name", Value: p.name}, {Name: "group", Value: p.name},
		{Name: "start", Value: 0}, {Name: "stop", Value: 0}, {Name: "now", Value: 1700000000},
		{Name: "state", Value: p.state}, {Name: "statename", Value: stateNames[p.state]},
		{Name: "spawnerr", Value: ""}, {Name: "exitstatus", Value: 0}, {Name: "logfile", Value: ""},
		{Name: "stdout_logfile", Value: ""}, {Name: "stderr_logfile", Value: ""},
		{Name: "pid", Value: 0}, {Name: "description", Value: "desc " + p.name}}
}

func (p proc) json() map[string]any {
	return map[string]any{"name": p.name, "group": p.name, "state": p.state,
		"statename": stateNames[p.state], "description": "desc " + p.name}
}

func newFake(t *testing.T, f *fakeNode) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		if f.hang != nil {
			close(f.hang)
		}
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func (f *fakeNode) setProcs(ps ...proc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.procs = ps
}

func (f *fakeNode) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeNode) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.requests...)
}

func (f *fakeNode) called(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.methods {
		if m == method {
			n++
		}
	}
	return n
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, time.Now())
	f.mu.Unlock()
	if f.hang != nil {
		select {
		case <-f.hang:
		case <-r.Context().Done():
		}
		return
	}
	if f.status != 0 {
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/api/v1/events" && f.ours {
		f.stream(w, r)
		return
	}
	method, params, err := xmlrpc.DecodeCall(r.Body, xmlrpc.Limits{})
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var b bytes.Buffer
	if v, fault := f.dispatch(method, params); fault != nil {
		_ = xmlrpc.EncodeFault(&b, fault.Code, fault.String)
	} else if err := xmlrpc.EncodeResponse(&b, v); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b.Bytes())
}

func (f *fakeNode) dispatch(method string, params []any) (any, *xmlrpc.Fault) {
	f.mu.Lock()
	f.methods = append(f.methods, method)
	f.mu.Unlock()
	switch method {
	case "system.multicall":
		calls, _ := params[0].([]any)
		out := make([]any, len(calls))
		for i, c := range calls {
			m, _ := c.(map[string]any)
			name, _ := m["methodName"].(string)
			args, _ := m["params"].([]any)
			if v, fault := f.dispatch(name, args); fault != nil {
				out[i] = xmlrpc.Struct{{Name: "faultCode", Value: fault.Code}, {Name: "faultString", Value: fault.String}}
			} else {
				out[i] = v // supervisor's multicall does not wrap values
			}
		}
		return out, nil
	case "gosupervisor.getVersion":
		if f.ours {
			return "0.9.0", nil
		}
	case "supervisor.getSupervisorVersion":
		return "4.2.5", nil
	case "supervisor.getState":
		return xmlrpc.Struct{{Name: "statecode", Value: 1}, {Name: "statename", Value: "RUNNING"}}, nil
	case "supervisor.getAllProcessInfo":
		f.mu.Lock()
		defer f.mu.Unlock()
		out := make([]any, len(f.procs))
		for i, p := range f.procs {
			out[i] = p.xml()
		}
		return out, nil
	case "supervisor.startProcess":
		name, _ := params[0].(string)
		f.mu.Lock()
		defer f.mu.Unlock()
		for i := range f.procs {
			if f.procs[i].name == name {
				f.procs[i].state = 20
				return true, nil
			}
		}
		return nil, &xmlrpc.Fault{Code: 10, String: "BAD_NAME: " + name}
	}
	return nil, &xmlrpc.Fault{Code: 1, String: "UNKNOWN_METHOD"}
}

// stream sends a sync of the current list, then each update, like our
// /api/v1/events.
func (f *fakeNode) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(event string, ps []proc) {
		list := make([]any, len(ps))
		for i, p := range ps {
			list[i] = p.json()
		}
		data, _ := json.Marshal(map[string]any{"supervisor": map[string]any{"statename": "RUNNING"}, "processes": list})
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		w.(http.Flusher).Flush()
	}
	f.mu.Lock()
	ps := append([]proc(nil), f.procs...)
	f.mu.Unlock()
	send("sync", ps)
	for {
		select {
		case <-r.Context().Done():
			return
		case u := <-f.updates:
			send("update", u)
		}
	}
}
