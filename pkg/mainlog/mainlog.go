// Package mainlog is supervisord's own log: zap with an encoder that writes
// the original's lines ("2026-01-02 15:04:05,123 INFO spawned: 'x' with pid 42"),
// into a logfile.Rotator (or syslog), and to stdout when running in the
// foreground.
package mainlog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/gosupervisor/gosupervisor/pkg/logfile"
)

// Level is a zap level; the original's trace and blather sit below Debug.
type Level = zapcore.Level

// The original's levels (numbers 50, 40, 30, 20, 10, 5, 3 there).
const (
	Crit    Level = zapcore.DPanicLevel
	Error   Level = zapcore.ErrorLevel
	Warn    Level = zapcore.WarnLevel
	Info    Level = zapcore.InfoLevel
	Debug   Level = zapcore.DebugLevel
	Trace   Level = zapcore.DebugLevel - 1
	Blather Level = zapcore.DebugLevel - 2
)

// LevelWord returns the 4-letter word the original prints (CRIT … BLAT).
func LevelWord(l Level) string {
	switch {
	case l >= Crit:
		return "CRIT"
	case l == Error:
		return "ERRO"
	case l == Warn:
		return "WARN"
	case l == Info:
		return "INFO"
	case l == Debug:
		return "DEBG"
	case l == Trace:
		return "TRAC"
	default:
		return "BLAT"
	}
}

// ParseLevel maps a config name (critical, error, warn, info, debug, trace,
// blather) to its level.
func ParseLevel(name string) (Level, bool) {
	switch strings.ToLower(name) {
	case "critical":
		return Crit, true
	case "error":
		return Error, true
	case "warn":
		return Warn, true
	case "info":
		return Info, true
	case "debug":
		return Debug, true
	case "trace":
		return Trace, true
	case "blather":
		return Blather, true
	}
	return 0, false
}

// Options configures the main log.
type Options struct {
	Path     string // log file; "syslog" sends to syslog; "" = no file
	MaxBytes int64  // logfile_maxbytes (0 = never rotate)
	Backups  int    // logfile_backups
	Level    Level
	Stdout   io.Writer        // also write here (nodaemon && !silent); nil = no
	Clock    func() time.Time // nil = time.Now
	RingSize int              // > 0: keep the last RingSize bytes in memory (tails of non-file targets)
}

// Logger is the daemon's log. It is safe for concurrent use.
type Logger struct {
	path  string
	level Level
	clock func() time.Time
	core  zapcore.Core
	rot   *logfile.Rotator
	sys   *logfile.Syslog
	ring  *logfile.Ring
}

// New opens the main log. A missing directory is an error naming the path.
func New(opt Options) (*Logger, error) {
	l := &Logger{path: opt.Path, level: opt.Level, clock: opt.Clock}
	if l.clock == nil {
		l.clock = time.Now
	}
	var cores []zapcore.Core
	if opt.Stdout != nil {
		cores = append(cores, zapcore.NewCore(NewEncoder(), zapcore.Lock(zapcore.AddSync(opt.Stdout)), l.level))
	}
	var sinks []zapcore.WriteSyncer
	switch opt.Path {
	case "":
	case "syslog":
		l.sys = logfile.NewSyslog("")
		cores = append(cores, zapcore.NewCore(newEncoder(true), zapcore.AddSync(syslogWriter{l.sys}), l.level))
	default:
		// The rotator's own warnings (a recreated directory) go into this log.
		rot, err := logfile.OpenRotator(opt.Path, opt.MaxBytes, opt.Backups, l.Warn)
		if err != nil {
			return nil, fmt.Errorf("main log: %w", err)
		}
		l.rot = rot
		sinks = append(sinks, zapcore.AddSync(rot))
	}
	if opt.RingSize > 0 {
		l.ring = logfile.NewRing(opt.RingSize)
		sinks = append(sinks, zapcore.AddSync(l.ring))
	}
	if len(sinks) > 0 {
		cores = append(cores, zapcore.NewCore(NewEncoder(), zapcore.NewMultiWriteSyncer(sinks...), l.level))
	}
	l.core = zapcore.NewTee(cores...)
	return l, nil
}

// Core returns the zap core, for code that wants a *zap.Logger.
func (l *Logger) Core() zapcore.Core { return l.core }

// Enabled reports whether messages at level are written (e.g. whether child
// output is copied at DEBG).
func (l *Logger) Enabled(level Level) bool { return level >= l.level }

// Log writes msg at level.
func (l *Logger) Log(level Level, msg string) {
	if level < l.level {
		return
	}
	if ce := l.core.Check(zapcore.Entry{Level: level, Time: l.clock(), Message: msg}, nil); ce != nil {
		ce.Write()
	}
}

func (l *Logger) Crit(msg string)    { l.Log(Crit, msg) }
func (l *Logger) Error(msg string)   { l.Log(Error, msg) }
func (l *Logger) Warn(msg string)    { l.Log(Warn, msg) }
func (l *Logger) Info(msg string)    { l.Log(Info, msg) }
func (l *Logger) Debug(msg string)   { l.Log(Debug, msg) }
func (l *Logger) Trace(msg string)   { l.Log(Trace, msg) }
func (l *Logger) Blather(msg string) { l.Log(Blather, msg) }

// Path returns the configured log file ("syslog" or "" included).
func (l *Logger) Path() string { return l.path }

// Rotator returns the file writer, nil when logging to syslog or nowhere.
func (l *Logger) Rotator() *logfile.Rotator { return l.rot }

// Ring returns the in-memory tail, nil unless Options.RingSize > 0.
func (l *Logger) Ring() *logfile.Ring { return l.ring }

// Reopen reopens the log file in append mode (SIGUSR2).
func (l *Logger) Reopen() error {
	if l.rot == nil {
		return nil
	}
	return l.rot.Reopen()
}

// Clear removes the log file and reopens it empty (clearLog).
func (l *Logger) Clear() error {
	if l.ring != nil {
		l.ring.Reset()
	}
	if l.rot == nil {
		return nil
	}
	return l.rot.Clear()
}

// Close closes the file or the syslog connection.
func (l *Logger) Close() error {
	var errs []error
	if l.rot != nil {
		errs = append(errs, l.rot.Close())
	}
	if l.sys != nil {
		errs = append(errs, l.sys.Close())
	}
	return errors.Join(errs...)
}

// syslogWriter sends each encoded line as one syslog message.
type syslogWriter struct{ s *logfile.Syslog }

func (w syslogWriter) Write(p []byte) (int, error) {
	w.s.Lines("", p)
	return len(p), nil
}

// NewEncoder returns a zapcore.Encoder producing
// "YYYY-MM-DD HH:MM:SS,mmm LEVEL message\n" in local time. Structured fields
// are ignored: the original's format has no place for them.
func NewEncoder() zapcore.Encoder { return newEncoder(false) }

func newEncoder(perLine bool) *encoder {
	return &encoder{MapObjectEncoder: zapcore.NewMapObjectEncoder(), pool: buffer.NewPool(), perLine: perLine}
}

type encoder struct {
	*zapcore.MapObjectEncoder // accepts (and never prints) fields
	pool                      buffer.Pool
	perLine                   bool // syslog: one prefixed line per message line
}

func (e *encoder) Clone() zapcore.Encoder {
	return &encoder{MapObjectEncoder: zapcore.NewMapObjectEncoder(), pool: e.pool, perLine: e.perLine}
}

func (e *encoder) EncodeEntry(ent zapcore.Entry, _ []zapcore.Field) (*buffer.Buffer, error) {
	buf := e.pool.Get()
	// The original truncates the milliseconds ('%03d' of a float), as Go's
	// ",000" layout does.
	prefix := ent.Time.Local().Format("2006-01-02 15:04:05,000") + " " + LevelWord(ent.Level) + " "
	if !e.perLine {
		buf.AppendString(prefix)
		buf.AppendString(ent.Message)
		buf.AppendByte('\n')
		return buf, nil
	}
	msg := strings.TrimRight(ent.Message, "\n")
	for _, line := range strings.Split(msg, "\n") {
		buf.AppendString(prefix)
		buf.AppendString(line)
		buf.AppendByte('\n')
	}
	return buf, nil
}
