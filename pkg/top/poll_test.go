package top

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/rpcclient"
)

// fakeOriginal answers getAllProcessInfo and system.multicall of
// getProcessInfo like the original, for n processes p0000…, recording the
// calls.
type fakeOriginal struct {
	mu    sync.Mutex
	n     int
	gone  map[string]bool
	calls []string
}

func (f *fakeOriginal) info(name string) xmlProc {
	return xmlProc{Name: name, Group: name, State: 20, Statename: "RUNNING", Pid: 100}
}

func (f *fakeOriginal) Call(_ context.Context, method string, result any, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method)
	out := result.(*[]xmlProc)
	switch method {
	case "supervisor.getAllProcessInfo":
		for i := range f.n {
			if name := fmt.Sprintf("p%04d", i); !f.gone[name] {
				*out = append(*out, f.info(name))
			}
		}
	case "system.multicall":
		for _, c := range args[0].([]any) {
			name := c.(map[string]any)["params"].([]any)[0].(string)
			if f.gone[name] {
				*out = append(*out, xmlProc{FaultCode: 10})
				continue
			}
			*out = append(*out, f.info(name))
		}
	default:
		return fmt.Errorf("unexpected %s", method)
	}
	return nil
}

func (f *fakeOriginal) Detect(context.Context) (rpcclient.Daemon, error) {
	return rpcclient.Daemon{Version: "4.2.5"}, nil
}

func (f *fakeOriginal) Events(context.Context, func(string, []byte) error) error { return nil }

func TestPollPlan(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var p pollPlan
	if !p.full(t0, 10) {
		t.Fatal("the first poll is not full")
	}
	p.tookFull(t0, t0.Add(10*time.Millisecond))
	if !p.full(t0.Add(time.Second), 10) {
		t.Error("a cheap full answer is not taken every tick")
	}
	p.tookFull(t0, t0.Add(600*time.Millisecond)) // 1,000 processes on the original
	for _, c := range []struct {
		at      time.Duration
		visible int
		want    bool
	}{{time.Second, 10, false}, {5 * time.Second, 10, false}, {6 * time.Second, 10, true}, {time.Second, 0, true}} {
		if got := p.full(t0.Add(c.at), c.visible); got != c.want {
			t.Errorf("after %v with %d rows shown: full=%v, want %v", c.at, c.visible, got, c.want)
		}
	}
	p.needFull = true
	if !p.full(t0.Add(time.Second), 10) {
		t.Error("a gone row does not force a full poll")
	}
}

// TestPollOnceAsksShownRows: after a slow full answer, polls ask only the
// rows on screen, and a row that is gone brings a full poll next.
func TestPollOnceAsksShownRows(t *testing.T) {
	f := &fakeOriginal{n: 50, gone: map[string]bool{}}
	s := &source{cfg: Config{Client: f}, shown: &shown{}}
	s.shown.set([]string{"p0003", "p0004"})
	plan := pollPlan{lastFull: time.Now(), fullTook: time.Second}
	msg, err := s.pollOnce(context.Background(), &plan)
	if err != nil {
		t.Fatal(err)
	}
	if msg.full || len(msg.procs) != 2 || msg.procs[0].Name != "p0003" || msg.procs[1].Name != "p0004" {
		t.Fatalf("partial poll = %+v", msg)
	}
	f.gone["p0004"] = true
	msg, err = s.pollOnce(context.Background(), &plan)
	if err != nil || msg.full || len(msg.procs) != 1 || !plan.needFull {
		t.Fatalf("with p0004 gone: %+v, %v, needFull %v", msg, err, plan.needFull)
	}
	msg, err = s.pollOnce(context.Background(), &plan)
	if err != nil || !msg.full || len(msg.procs) != 49 {
		t.Fatalf("after a gone row: full=%v, %d procs, %v", msg.full, len(msg.procs), err)
	}
	want := []string{"system.multicall", "system.multicall", "supervisor.getAllProcessInfo"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("calls = %v, want %v", f.calls, want)
	}
}

func TestModelVisible(t *testing.T) {
	m := NewModel(80, 8, time.Now) // 4 table rows
	var procs []Proc
	for i := range 10 {
		name := fmt.Sprintf("p%02d", i)
		procs = append(procs, Proc{Name: name, Group: name, State: 20, Statename: "RUNNING"})
	}
	m.SetProcs(procs, true)
	m.Render()
	if got, want := m.Visible(), []string{"p00", "p01", "p02", "p03"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Visible = %v, want %v", got, want)
	}
	for range 6 {
		m.HandleKey(Key{Code: KeyDown})
	}
	m.Render()
	if got, want := m.Visible(), []string{"p03", "p04", "p05", "p06"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after moving down 6: Visible = %v, want %v", got, want)
	}
}
