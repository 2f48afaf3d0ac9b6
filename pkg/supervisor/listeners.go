package supervisor

// Event listener pools ([eventlistener:x], SPEC §9.2) hook in here: the
// engine calls these at the points where a pool must see what happens.
// (Filled in by the events work; until then listeners are plain programs.)

// listeners holds the pools' state; owned by the loop.
type listeners struct{}

// initListeners is called once by New, before Run.
func (s *Supervisor) initListeners() {}

// listenerOutput wraps the OnLog callback of an event listener's stdout
// pump: the returned function sees every chunk the listener writes (on the
// pump's goroutine) and must hand protocol work to the loop with s.post.
func (s *Supervisor) listenerOutput(p *proc, next func([]byte)) func([]byte) {
	return next
}
