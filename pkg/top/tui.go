package top

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
)

// Run shows top on the terminal until the user quits (q, Ctrl-C) or ctx
// ends. The terminal is always given back as it was: on quitting, on
// SIGTERM/SIGHUP, and on a panic (which is then re-raised).
func Run(ctx context.Context, cfg Config) (err error) {
	scr, mono, err := newScreen()
	if err != nil {
		return err
	}
	if err := scr.Init(); err != nil {
		return fmt.Errorf("top: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			scr.Fini()
			panic(r)
		}
		scr.Fini()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	defer signal.Stop(sigs)

	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	w, h := scr.Size()
	m := NewModel(w, h, now)
	r := &runner{cfg: cfg, scr: scr, m: m, styles: styles(mono), msgs: make(chan any, 64)}
	src := &source{cfg: cfg, out: r.msgs, shown: &shown{}}
	r.shown = src.shown
	go src.run(ctx)

	events := make(chan tcell.Event, 16)
	quit := make(chan struct{})
	defer close(quit)
	go scr.ChannelEvents(events, quit)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	r.draw()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sigs:
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if r.event(ctx, ev) {
				return nil
			}
		case msg := <-r.msgs:
			r.apply(msg)
			// take what else is waiting before drawing once
			for more := true; more; {
				select {
				case msg := <-r.msgs:
					r.apply(msg)
				default:
					more = false
				}
			}
		case <-tick.C:
			m.Tick()
		}
		r.draw()
	}
}

// newScreen opens the terminal. A terminal tcell does not know, or a
// dumb one, gets plain VT100 control sequences without colour.
func newScreen() (tcell.Screen, bool, error) {
	term := os.Getenv("TERM")
	mono := os.Getenv("NO_COLOR") != "" || term == "" || term == "dumb"
	if term != "" && term != "dumb" {
		if s, err := tcell.NewScreen(); err == nil {
			return s, mono || s.Colors() < 8, nil
		}
	}
	ti, err := tcell.LookupTerminfo("vt100")
	if err != nil {
		return nil, true, fmt.Errorf("top: no terminal description: %w", err)
	}
	s, err := tcell.NewTerminfoScreenFromTtyTerminfo(nil, ti)
	return s, true, err
}

type runner struct {
	cfg    Config
	scr    tcell.Screen
	m      *Model
	styles map[Style]tcell.Style
	msgs   chan any
	shown  *shown

	logGen    int
	logCancel context.CancelFunc
}

func styles(mono bool) map[Style]tcell.Style {
	d := tcell.StyleDefault
	if mono {
		return map[Style]tcell.Style{
			StTitle: d.Bold(true), StHeader: d.Bold(true), StSelected: d.Reverse(true),
			StRunning: d, StStarting: d, StBackoff: d.Bold(true), StStopped: d, StFatal: d.Bold(true),
			StDim: d, StError: d.Bold(true), StFlap: d.Bold(true), StMatch: d.Reverse(true), StKey: d,
		}
	}
	return map[Style]tcell.Style{
		StTitle:    d.Bold(true),
		StHeader:   d.Bold(true).Underline(true),
		StSelected: d.Reverse(true),
		StRunning:  d.Foreground(tcell.ColorGreen),
		StStarting: d.Foreground(tcell.ColorAqua),
		StBackoff:  d.Foreground(tcell.ColorYellow).Bold(true),
		StStopped:  d.Foreground(tcell.ColorGray),
		StFatal:    d.Foreground(tcell.ColorRed).Bold(true),
		StDim:      d.Foreground(tcell.ColorSilver),
		StError:    d.Foreground(tcell.ColorWhite).Background(tcell.ColorMaroon).Bold(true),
		StFlap:     d.Foreground(tcell.ColorRed).Bold(true),
		StMatch:    d.Foreground(tcell.ColorBlack).Background(tcell.ColorYellow),
		StKey:      d.Foreground(tcell.ColorSilver),
	}
}

func (r *runner) draw() {
	r.scr.Clear()
	for y, line := range r.m.Render() {
		x := 0
		for _, sp := range line {
			st := r.styles[sp.Style]
			for _, c := range sp.Text {
				if x >= r.m.W {
					break
				}
				r.scr.SetContent(x, y, c, nil, st)
				x += max(runewidth.RuneWidth(c), 1)
			}
		}
	}
	r.scr.Show()
	r.shown.set(r.m.Visible())
}

func (r *runner) apply(msg any) {
	m := r.m
	switch v := msg.(type) {
	case msgProcs:
		m.SetProcs(v.procs, v.full)
		if v.state != "" {
			m.Conn.State = v.state
		}
	case msgUsage:
		m.SetUsage(v)
	case msgConn:
		m.SetConn(Conn(v))
	case msgAction:
		m.ActionDone(v.a, v.err)
	case msgLog:
		if m.Log == nil || v.gen != r.logGen {
			return
		}
		m.Log.Err = v.err
		if v.reset {
			m.Log.Reset()
		}
		m.Log.Gap = m.Log.Gap || v.gap
		m.Log.Append(v.text)
	}
}

// event handles a terminal event; true ends top.
func (r *runner) event(ctx context.Context, ev tcell.Event) bool {
	switch ev := ev.(type) {
	case *tcell.EventResize:
		w, h := ev.Size()
		r.m.Resize(w, h)
		r.scr.Sync()
	case *tcell.EventKey:
		k, ok := key(ev)
		if !ok {
			return false
		}
		if k.Code == KeyCtrlL {
			r.scr.Sync()
			return false
		}
		var effects []Effect
		if k.Code == KeyRune && ev.Modifiers()&tcell.ModAlt != 0 {
			// Esc then a key, typed fast, arrives as Alt-key
			effects = r.m.HandleKey(Key{Code: KeyEsc})
		}
		effects = append(effects, r.m.HandleKey(k)...)
		for _, e := range effects {
			switch e := e.(type) {
			case Quit:
				return true
			case Action:
				go func() {
					err := runAction(ctx, r.cfg, e)
					select {
					case r.msgs <- msgAction{a: e, err: err}:
					case <-ctx.Done():
					}
				}()
			case OpenLog:
				r.openLog(ctx, e)
			case CloseLog:
				r.closeLog()
			}
		}
	}
	return false
}

func key(ev *tcell.EventKey) (Key, bool) {
	switch ev.Key() {
	case tcell.KeyRune:
		return R(ev.Rune()), true
	case tcell.KeyUp:
		return Key{Code: KeyUp}, true
	case tcell.KeyDown, tcell.KeyCtrlN:
		return Key{Code: KeyDown}, true
	case tcell.KeyCtrlP:
		return Key{Code: KeyUp}, true
	case tcell.KeyLeft:
		return Key{Code: KeyLeft}, true
	case tcell.KeyRight:
		return Key{Code: KeyRight}, true
	case tcell.KeyPgUp:
		return Key{Code: KeyPgUp}, true
	case tcell.KeyPgDn:
		return Key{Code: KeyPgDn}, true
	case tcell.KeyHome:
		return Key{Code: KeyHome}, true
	case tcell.KeyEnd:
		return Key{Code: KeyEnd}, true
	case tcell.KeyEnter:
		return Key{Code: KeyEnter}, true
	case tcell.KeyEscape:
		return Key{Code: KeyEsc}, true
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		return Key{Code: KeyBackspace}, true
	case tcell.KeyTab:
		return Key{Code: KeyTab}, true
	case tcell.KeyCtrlC, tcell.KeyCtrlD:
		return Key{Code: KeyCtrlC}, true
	case tcell.KeyCtrlL:
		return Key{Code: KeyCtrlL}, true
	}
	return Key{}, false
}

func (r *runner) openLog(ctx context.Context, o OpenLog) {
	r.closeLog()
	r.logGen++
	lctx, cancel := context.WithCancel(ctx)
	r.logCancel = cancel
	t := &tailer{client: r.cfg.Client, name: o.Name, ch: o.Channel, gen: r.logGen, out: r.msgs, every: 500 * time.Millisecond}
	go t.run(lctx)
}

func (r *runner) closeLog() {
	if r.logCancel != nil {
		r.logCancel()
		r.logCancel = nil
	}
	r.logGen++
}

// runAction calls the original's methods for an action, waiting for the
// outcome as supervisorctl does.
func runAction(ctx context.Context, cfg Config, a Action) error {
	call := func(method string, args ...any) error {
		var res any
		return describeFault(cfg, cfg.Client.Call(ctx, method, &res, args...))
	}
	group := func(method string, args ...any) error {
		var res []map[string]any
		if err := describeFault(cfg, cfg.Client.Call(ctx, method, &res, args...)); err != nil {
			return err
		}
		var bad []string
		for _, r := range res {
			if st, _ := r["status"].(int64); st != 80 {
				bad = append(bad, fmt.Sprintf("%v: %v", r["name"], r["description"]))
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s", strings.Join(bad, "; "))
		}
		return nil
	}
	t := a.Target
	switch {
	case a.Verb == "start" && a.Group:
		return group("supervisor.startProcessGroup", t, true)
	case a.Verb == "start":
		return call("supervisor.startProcess", t, true)
	case a.Verb == "stop" && a.Group:
		return group("supervisor.stopProcessGroup", t, true)
	case a.Verb == "stop":
		return call("supervisor.stopProcess", t, true)
	case a.Verb == "restart" && a.Group:
		if err := group("supervisor.stopProcessGroup", t, true); err != nil {
			return err
		}
		return group("supervisor.startProcessGroup", t, true)
	case a.Verb == "restart":
		if err := call("supervisor.stopProcess", t, true); err != nil && !isFault(cfg, err, 70) {
			return err // NOT_RUNNING is fine: restart starts it
		}
		return call("supervisor.startProcess", t, true)
	case a.Verb == "signal" && a.Group:
		return group("supervisor.signalProcessGroup", t, a.Signal)
	case a.Verb == "signal":
		return call("supervisor.signalProcess", t, a.Signal)
	case a.Verb == "clear":
		for _, ns := range append([]string{}, members(a)...) {
			if err := call("supervisor.clearProcessLogs", ns); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown action %q", a.Verb)
}

func members(a Action) []string {
	if a.Group {
		return a.Members
	}
	return []string{a.Target}
}

// describeFault shows a fault as its text (NOT_RUNNING: web).
func describeFault(cfg Config, err error) error {
	if err == nil {
		return nil
	}
	if _, text, ok := cfg.FaultCode(err); ok {
		return &faultError{text: text, err: err}
	}
	return err
}

type faultError struct {
	text string
	err  error
}

func (f *faultError) Error() string { return f.text }
func (f *faultError) Unwrap() error { return f.err }

func isFault(cfg Config, err error, code int) bool {
	c, _, ok := cfg.FaultCode(err)
	return ok && c == code
}
