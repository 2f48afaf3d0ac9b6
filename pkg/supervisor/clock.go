package supervisor

import "time"

// Clock is where the engine reads the time and gets its timers: the loop's
// deadline timer, a waiting stop's reports, TICK boundaries. Engine tests
// run the real clock inside testing/synctest, whose bubble makes it
// virtual; a Clock of their own can also shift or freeze it.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }
