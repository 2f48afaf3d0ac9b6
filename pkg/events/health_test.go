package events

import "testing"

// Our PROCESS_HEALTH_* types reach only the pools that name them: never
// EVENT (the original's listeners), nor PROCESS_STATE, nor each other.
func TestHealthEventTypes(t *testing.T) {
	tests := []struct {
		subscribed []string
		name       string
		count      int
	}{
		{[]string{"EVENT"}, ProcessHealthHealthy, 0},
		{[]string{"EVENT"}, ProcessHealthUnhealthy, 0},
		{[]string{"PROCESS_STATE"}, ProcessHealthUnhealthy, 0},
		{[]string{"PROCESS_STATE_RUNNING"}, ProcessHealthHealthy, 0},
		{[]string{ProcessHealthHealthy}, ProcessHealthHealthy, 1},
		{[]string{ProcessHealthHealthy}, ProcessHealthUnhealthy, 0},
		{[]string{ProcessHealthUnhealthy}, ProcessHealthUnhealthy, 1},
		{[]string{"EVENT", ProcessHealthHealthy, ProcessHealthUnhealthy}, ProcessHealthUnhealthy, 1},
		// And naming them changes nothing for the original's types.
		{[]string{ProcessHealthHealthy, ProcessHealthUnhealthy}, "PROCESS_STATE_RUNNING", 0},
		{[]string{ProcessHealthHealthy, "PROCESS_STATE"}, "PROCESS_STATE_RUNNING", 1},
		{[]string{"EVENT"}, "PROCESS_HEALTH", 0},
	}
	for _, tt := range tests {
		if got := Count(tt.subscribed, tt.name); got != tt.count {
			t.Errorf("Count(%v, %s) = %d, want %d", tt.subscribed, tt.name, got, tt.count)
		}
	}
	for _, n := range ExtensionNames {
		if !Known(n) || Original(n) || !Extension(n) || Abstract(n) || IsA(n, "EVENT") {
			t.Errorf("%s: Known %v Original %v Extension %v Abstract %v IsA EVENT %v", n,
				Known(n), Original(n), Extension(n), Abstract(n), IsA(n, "EVENT"))
		}
	}
	if Extension("PROCESS_STATE_RUNNING") || !Original("PROCESS_STATE_RUNNING") || Known("PROCESS_HEALTH") {
		t.Error("Extension/Original/Known wrong for the original's types")
	}
}

// A pool with events=EVENT buffers nothing of ours; one that names
// PROCESS_HEALTH_UNHEALTHY gets it in the original's envelope.
func TestHealthEventDelivery(t *testing.T) {
	payload := HealthPayload("web", "web", "HEALTHY", 4242, 3)
	if payload != "processname:web groupname:web from_state:HEALTHY pid:4242 failures:3" {
		t.Errorf("payload %q", payload)
	}
	all, _, _ := newTestPool(10, "EVENT")
	named, _, _ := newTestPool(10, ProcessHealthUnhealthy)
	for _, p := range []*Pool{all, named} {
		if p.Wants(ProcessHealthUnhealthy) != (p == named) {
			t.Errorf("pool %v Wants = %v", p.subscribed, p.Wants(ProcessHealthUnhealthy))
		}
		p.Notify(NewEvent(ProcessHealthHealthy, HealthPayload("web", "web", "STARTING", 4242, 0)))
		p.Notify(NewEvent(ProcessHealthUnhealthy, payload))
	}
	if n := len(all.Buffered()); n != 0 {
		t.Errorf("events=EVENT buffered %d health events", n)
	}
	buf := named.Buffered()
	if len(buf) != 1 || buf[0].Name != ProcessHealthUnhealthy {
		t.Fatalf("named pool buffered %v", buf)
	}
	conn := &fakeConn{running: true}
	l := named.AddListener("l0", -1, conn)
	named.Feed(l, []byte("READY\n"))
	named.Dispatch("sid")
	want := "ver:3.0 server:sid serial:0 pool:pool poolserial:0 eventname:PROCESS_HEALTH_UNHEALTHY len:68\n" + payload
	if len(conn.sent) != 1 || conn.sent[0] != want {
		t.Errorf("sent %q, want %q", conn.sent, want)
	}
}
