package health

import (
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

var t0 = time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const sec = time.Second

func check(interval, timeout, retries, startPeriod int, on config.OnUnhealthy) *config.HealthCheck {
	return &config.HealthCheck{
		Kind: config.HealthTCP, Target: "127.0.0.1:1",
		Interval: interval, Timeout: timeout, Retries: retries, StartPeriod: startPeriod,
		OnUnhealthy: on,
	}
}

// defaults is the documented default check: every 10 s, 3 s timeout, 3 retries.
func defaults() *Tracker { return NewTracker(check(10, 3, 3, 0, config.UnhealthyRestart)) }

var (
	pass    = Result{OK: true, Output: "ok"}
	refused = Result{Err: "connection refused"}
)

// run starts the due check at begin and finishes it at end with r; it fails
// the test when the check was not due.
func run(t *testing.T, tr *Tracker, begin, end time.Time, r Result) Decision {
	t.Helper()
	c, ok := tr.Started(begin)
	if !ok {
		t.Fatalf("no check due at %v (next %v)", begin.Sub(t0), tr.Next().Sub(t0))
	}
	return tr.Finished(end, c, r)
}

// runNext runs a check that is due at exactly tr.Next() and takes no time.
func runNext(t *testing.T, tr *Tracker, r Result) Decision {
	t.Helper()
	n := tr.Next()
	return run(t, tr, n, n, r)
}

func TestStatusString(t *testing.T) {
	for st, want := range map[Status]string{Starting: "starting", Healthy: "healthy", Unhealthy: "unhealthy", Status(9): "starting"} {
		if got := st.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(st), got, want)
		}
	}
	if int(Starting) != 0 || int(Healthy) != 1 || int(Unhealthy) != 2 {
		t.Errorf("metric values changed: %d %d %d", Starting, Healthy, Unhealthy)
	}
}

func TestNotRunningChecksNothing(t *testing.T) {
	tr := defaults()
	if tr.Due(at(time.Hour)) || !tr.Next().IsZero() || !tr.Wake().IsZero() {
		t.Fatalf("a tracker that never saw RUNNING schedules checks: next %v wake %v", tr.Next(), tr.Wake())
	}
	if _, ok := tr.Started(at(time.Hour)); ok {
		t.Fatal("Started succeeded while not RUNNING")
	}
	if tr.Status() != Starting || tr.Describe() != "" {
		t.Fatalf("status %v describe %q", tr.Status(), tr.Describe())
	}
}

func TestFirstCheckOneIntervalAfterRunning(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	if got := tr.Next(); !got.Equal(at(10 * sec)) {
		t.Fatalf("Next = %v after RUNNING, want +10s", got.Sub(t0))
	}
	if tr.Due(t0) || tr.Due(at(10*sec-time.Nanosecond)) {
		t.Fatal("due before one interval")
	}
	if !tr.Due(at(10 * sec)) {
		t.Fatal("not due at one interval")
	}
	if got := tr.Wake(); !got.Equal(at(10 * sec)) {
		t.Fatalf("Wake = %v, want +10s", got.Sub(t0))
	}
}

func TestNextIsIntervalAfterTheCheckEnds(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	c, ok := tr.Started(at(11 * sec)) // the loop woke late: still fine
	if !ok {
		t.Fatal("not started")
	}
	if !tr.Next().IsZero() || tr.Due(at(time.Hour)) {
		t.Fatalf("a check is in flight but Next = %v", tr.Next())
	}
	if got := tr.Deadline(); !got.Equal(at(14 * sec)) {
		t.Fatalf("Deadline = %v, want start+3s", got.Sub(t0))
	}
	if got := tr.Wake(); !got.Equal(at(14 * sec)) {
		t.Fatalf("Wake in flight = %v, want the deadline", got.Sub(t0))
	}
	tr.Finished(at(13*sec), c, pass)
	if got := tr.Next(); !got.Equal(at(23 * sec)) {
		t.Fatalf("Next = %v, want end+10s", got.Sub(t0))
	}
	if !tr.Deadline().IsZero() {
		t.Fatalf("Deadline = %v with nothing in flight", tr.Deadline())
	}
	if tr.Due(at(23*sec - 1)) {
		t.Fatal("due before interval after the end")
	}
}

func TestAtMostOneInFlight(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	c1, ok := tr.Started(at(10 * sec))
	if !ok {
		t.Fatal("first not started")
	}
	if _, ok := tr.Started(at(time.Hour)); ok {
		t.Fatal("second check started while one is in flight")
	}
	if got, ok := tr.InFlight(); !ok || got != c1 {
		t.Fatalf("InFlight = %v %v, want %v", got, ok, c1)
	}
	tr.Finished(at(11*sec), c1, pass)
	if _, ok := tr.InFlight(); ok {
		t.Fatal("still in flight after Finished")
	}
	c2, ok := tr.Started(at(21 * sec))
	if !ok || c2 == c1 || c2.IsZero() {
		t.Fatalf("second check %v %v, first %v", c2, ok, c1)
	}
}

func TestRetriesConsecutiveFailuresMakeUnhealthyOnce(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	for i := 1; i <= 2; i++ {
		d := runNext(t, tr, refused)
		if d.Transition != NoChange || d.Failures != i || d.Act || d.Status != Starting {
			t.Fatalf("failure %d: %+v", i, d)
		}
	}
	d := runNext(t, tr, refused)
	want := Decision{Transition: BecameUnhealthy, Status: Unhealthy, Failures: 3, Action: config.UnhealthyRestart, Act: true}
	if d != want {
		t.Fatalf("third failure: %+v, want %+v", d, want)
	}
	d = runNext(t, tr, refused)
	if d.Transition != NoChange || d.Act || d.Failures != 4 || d.Status != Unhealthy {
		t.Fatalf("fourth failure acted again or lost count: %+v", d)
	}
	if got := tr.Describe(); got != "unhealthy (4 failures: connection refused)" {
		t.Fatalf("Describe = %q", got)
	}
}

func TestSuccessResetsFailuresAndHeals(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	runNext(t, tr, refused)
	runNext(t, tr, refused)
	d := runNext(t, tr, pass)
	if d.Transition != BecameHealthy || d.Failures != 0 || tr.Failures() != 0 || d.Status != Healthy {
		t.Fatalf("success after 2 failures: %+v", d)
	}
	if tr.Describe() != "healthy" {
		t.Fatalf("Describe = %q", tr.Describe())
	}
	if d := runNext(t, tr, pass); d.Transition != NoChange {
		t.Fatalf("second success transitions: %+v", d)
	}
	runNext(t, tr, refused)
	runNext(t, tr, refused)
	if tr.Status() != Healthy {
		t.Fatal("two failures after a reset made it unhealthy")
	}
	if d := runNext(t, tr, refused); d.Transition != BecameUnhealthy || !d.Act {
		t.Fatalf("third failure: %+v", d)
	}
	// Back to healthy and unhealthy again: the action fires once per transition.
	if d := runNext(t, tr, pass); d.Transition != BecameHealthy || d.Act {
		t.Fatalf("recovery: %+v", d)
	}
	acts := 0
	for range 6 {
		if runNext(t, tr, refused).Act {
			acts++
		}
	}
	if acts != 1 {
		t.Fatalf("action fired %d times for one transition", acts)
	}
}

func TestStartPeriodIgnoresFailuresUntilItEnds(t *testing.T) {
	tr := NewTracker(check(10, 3, 2, 30, config.UnhealthyRestart))
	tr.Running(t0)
	// Checks beginning at 10 s and 20 s fall inside the 30 s start period;
	// one that begins at 29.9 s still does even though it ends after 30 s.
	for _, begin := range []time.Duration{10 * sec, 20 * sec} {
		if d := run(t, tr, at(begin), at(begin), refused); d.Failures != 0 || d.Transition != NoChange {
			t.Fatalf("failure at %v counted: %+v", begin, d)
		}
	}
	tr.next = at(29*sec + 900*time.Millisecond) // white box: a check beginning just inside
	if d := run(t, tr, tr.next, at(32*sec), refused); d.Failures != 0 {
		t.Fatalf("failure begun inside the start period counted: %+v", d)
	}
	if tr.Info().LastError != "connection refused" {
		t.Fatalf("ignored failure not recorded: %+v", tr.Info())
	}
	// From 30 s on, failures count.
	if d := runNext(t, tr, refused); d.Failures != 1 {
		t.Fatalf("first counted failure: %+v", d)
	}
	if d := runNext(t, tr, refused); d.Transition != BecameUnhealthy || d.Failures != 2 {
		t.Fatalf("second counted failure: %+v", d)
	}
}

func TestStartPeriodBoundaryCounts(t *testing.T) {
	tr := NewTracker(check(30, 3, 1, 30, config.UnhealthyRestart))
	tr.Running(t0)
	if d := run(t, tr, at(30*sec), at(30*sec), refused); d.Transition != BecameUnhealthy {
		t.Fatalf("a check begun exactly at the end of the start period was ignored: %+v", d)
	}
}

func TestSuccessEndsTheStartPeriod(t *testing.T) {
	tr := NewTracker(check(10, 3, 2, 60, config.UnhealthyRestart))
	tr.Running(t0)
	if d := runNext(t, tr, pass); d.Transition != BecameHealthy {
		t.Fatalf("success inside the start period: %+v", d)
	}
	// Still within 60 s of RUNNING, but healthy: failures count now.
	if d := runNext(t, tr, refused); d.Failures != 1 {
		t.Fatalf("failure after healthy, inside the start period: %+v", d)
	}
	if d := runNext(t, tr, refused); d.Transition != BecameUnhealthy {
		t.Fatalf("second failure: %+v", d)
	}
}

func TestActionPerOnUnhealthy(t *testing.T) {
	for _, tc := range []struct {
		on  config.OnUnhealthy
		act bool
	}{
		{config.UnhealthyRestart, true},
		{config.UnhealthyShutdown, true},
		{config.UnhealthyIgnore, false},
	} {
		tr := NewTracker(check(10, 3, 1, 0, tc.on))
		tr.Running(t0)
		d := runNext(t, tr, refused)
		if d.Transition != BecameUnhealthy || d.Action != tc.on || d.Act != tc.act {
			t.Errorf("on_unhealthy=%v: %+v", tc.on, d)
		}
	}
}

func TestIgnoreKeepsCheckingAndCanRecover(t *testing.T) {
	tr := NewTracker(check(10, 3, 1, 0, config.UnhealthyIgnore))
	tr.Running(t0)
	runNext(t, tr, refused)
	if !tr.Due(tr.Next()) {
		t.Fatal("checks stopped after unhealthy with ignore")
	}
	if d := runNext(t, tr, pass); d.Transition != BecameHealthy {
		t.Fatalf("recovery: %+v", d)
	}
}

func TestStoppedAndRunningReset(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	for range 3 {
		runNext(t, tr, refused)
	}
	c, ok := tr.Started(tr.Next())
	if !ok {
		t.Fatal("not started")
	}
	got, ok := tr.Stopped()
	if !ok || got != c {
		t.Fatalf("Stopped returned %v %v, want the check in flight %v", got, ok, c)
	}
	if tr.Status() != Starting || tr.Failures() != 0 || tr.Describe() != "" {
		t.Fatalf("after Stopped: %v %d %q", tr.Status(), tr.Failures(), tr.Describe())
	}
	if tr.Due(at(time.Hour)) || !tr.Wake().IsZero() || !tr.Deadline().IsZero() {
		t.Fatal("checks scheduled after Stopped")
	}
	if in := tr.Info(); in.LastError != "connection refused" || in.Running || in.InFlight {
		t.Fatalf("Info after Stopped: %+v", in)
	}
	if _, ok := tr.Stopped(); ok {
		t.Fatal("second Stopped reports a check in flight")
	}

	t1 := at(time.Hour)
	tr.Running(t1)
	if got := tr.Next(); !got.Equal(t1.Add(10 * sec)) {
		t.Fatalf("Next after the second RUNNING = %v", got.Sub(t1))
	}
	if d := tr.Finished(t1.Add(time.Second), c, pass); d != (Decision{}) || tr.Status() != Starting {
		t.Fatalf("a result of the previous run counted: %+v", d)
	}
	if d := runNext(t, tr, refused); d.Failures != 1 {
		t.Fatalf("failures did not restart from 0: %+v", d)
	}
}

func TestRunningAgainWhileRunningResets(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	c, _ := tr.Started(at(10 * sec))
	tr.Running(at(11 * sec))
	if _, ok := tr.InFlight(); ok {
		t.Fatal("in flight survived Running")
	}
	if d := tr.Finished(at(12*sec), c, pass); d != (Decision{}) {
		t.Fatalf("stale result counted: %+v", d)
	}
	if !tr.Next().Equal(at(21 * sec)) {
		t.Fatalf("Next = %v", tr.Next().Sub(t0))
	}
}

func TestStaleAndBogusResultsChangeNothing(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	if d := tr.Finished(at(1*sec), Check{}, refused); d != (Decision{}) {
		t.Fatalf("zero Check counted: %+v", d)
	}
	c, _ := tr.Started(at(10 * sec))
	tr.Finished(at(11*sec), c, refused)
	if d := tr.Finished(at(12*sec), c, refused); d != (Decision{}) || tr.Failures() != 1 {
		t.Fatalf("a result reported twice counted twice: %+v, failures %d", d, tr.Failures())
	}
	if !tr.Next().Equal(at(21 * sec)) {
		t.Fatalf("a stale result moved Next to %v", tr.Next().Sub(t0))
	}
}

func TestExpireRecordsTimeoutOnce(t *testing.T) {
	tr := NewTracker(check(10, 3, 1, 0, config.UnhealthyRestart))
	tr.Running(t0)
	c, _ := tr.Started(at(10 * sec))
	if _, _, ok := tr.Expire(at(13*sec - 1)); ok {
		t.Fatal("expired before the deadline")
	}
	got, d, ok := tr.Expire(at(13 * sec))
	if !ok || got != c {
		t.Fatalf("Expire = %v %v, want %v", got, ok, c)
	}
	if d.Transition != BecameUnhealthy || !d.Act || d.Failures != 1 {
		t.Fatalf("expire decision: %+v", d)
	}
	if in := tr.Info(); in.LastError != "timeout after 3s" || !in.LastCheck.Equal(at(13*sec)) || in.LastOK {
		t.Fatalf("Info after expire: %+v", in)
	}
	if got := tr.Describe(); got != "unhealthy (1 failure: timeout after 3s)" {
		t.Fatalf("Describe = %q", got)
	}
	if _, _, ok := tr.Expire(at(14 * sec)); ok {
		t.Fatal("expired twice")
	}
	if got := tr.Wake(); !got.Equal(at(23 * sec)) {
		t.Fatalf("Wake after expire = %v, want end+10s", got.Sub(t0))
	}
	if d := tr.Finished(at(14*sec), c, pass); d != (Decision{}) || tr.Status() != Unhealthy {
		t.Fatalf("the expired check's late result counted: %+v", d)
	}
}

func TestExpireWithNothingInFlight(t *testing.T) {
	tr := defaults()
	if _, _, ok := tr.Expire(at(time.Hour)); ok {
		t.Fatal("expired while not running")
	}
	tr.Running(t0)
	if _, _, ok := tr.Expire(at(time.Hour)); ok {
		t.Fatal("expired with nothing in flight")
	}
}

func TestInfo(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	run(t, tr, at(10*sec), at(11*sec), Result{Output: "db down\nmore", Err: "exit status 2"})
	want := Info{
		Kind: config.HealthTCP, Status: Starting, Failures: 1,
		LastCheck: at(11 * sec), LastOK: false, LastOutput: "db down\nmore", LastError: "exit status 2",
		Running: true, Next: at(21 * sec),
	}
	if got := tr.Info(); got != want {
		t.Fatalf("Info = %+v\nwant   %+v", got, want)
	}
	tr.Started(at(21 * sec))
	if in := tr.Info(); !in.InFlight || !in.Next.IsZero() {
		t.Fatalf("Info in flight: %+v", in)
	}
}

func TestLongOutputIsClipped(t *testing.T) {
	tr := defaults()
	tr.Running(t0)
	runNext(t, tr, Result{OK: true, Output: strings.Repeat("x", 5000)})
	out := tr.Info().LastOutput
	if len(out) > MaxOutput || !strings.HasSuffix(out, TruncatedMarker) {
		t.Fatalf("kept %d bytes, ends %q", len(out), out[len(out)-20:])
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct {
		name string
		r    Result
		want string
	}{
		{"error", Result{Err: "HTTP 503", Output: "<html>"}, "unhealthy (1 failure: HTTP 503)"},
		{"output's first line", Result{Output: "\n  db is down  \nsecond line"}, "unhealthy (1 failure: db is down)"},
		{"nothing said", Result{}, "unhealthy (1 failure)"},
		{"long reason", Result{Err: strings.Repeat("é", 100)}, "unhealthy (1 failure: " + strings.Repeat("é", 58) + "…)"},
	}
	for _, tc := range cases {
		tr := NewTracker(check(10, 3, 1, 0, config.UnhealthyIgnore))
		tr.Running(t0)
		runNext(t, tr, tc.r)
		if got := tr.Describe(); got != tc.want {
			t.Errorf("%s: Describe = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFloorsOfAZeroCheck(t *testing.T) {
	tr := NewTracker(&config.HealthCheck{Kind: config.HealthExec})
	tr.Running(t0)
	if !tr.Next().Equal(at(sec)) || tr.Timeout() != sec || tr.Kind() != config.HealthExec {
		t.Fatalf("next %v timeout %v", tr.Next().Sub(t0), tr.Timeout())
	}
	if d := runNext(t, tr, refused); d.Transition != BecameUnhealthy {
		t.Fatalf("retries 0 should act as 1: %+v", d)
	}
}

func TestNewTrackerCopiesTheConfig(t *testing.T) {
	hc := check(10, 3, 3, 0, config.UnhealthyRestart)
	tr := NewTracker(hc)
	hc.Interval, hc.Retries = 1, 1
	tr.Running(t0)
	if !tr.Next().Equal(at(10 * sec)) {
		t.Fatal("the tracker follows later edits of the config")
	}
}
