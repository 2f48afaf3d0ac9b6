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
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// zapLevel is the one conversion from the original's levels to zap's: CRIT
// is zap's DPanic, trace and blather sit below zap's Debug. A level between
// two of the original's counts as the lower one.
func zapLevel(l loglevel.Level) zapcore.Level {
	switch {
	case l >= loglevel.Critical:
		return zapcore.DPanicLevel
	case l >= loglevel.Error:
		return zapcore.ErrorLevel
	case l >= loglevel.Warn:
		return zapcore.WarnLevel
	case l >= loglevel.Info:
		return zapcore.InfoLevel
	case l >= loglevel.Debug:
		return zapcore.DebugLevel
	case l >= loglevel.Trace:
		return zapcore.DebugLevel - 1
	}
	return zapcore.DebugLevel - 2
}

// levels is the original's levels, most severe first.
var levels = loglevel.Levels()

// levelWord is the word the original prints for an entry's zap level
// (CRIT … BLAT): that of the most severe level at or below it, so zap's
// Panic and Fatal print CRIT.
func levelWord(z zapcore.Level) string {
	for _, l := range levels {
		if z >= zapLevel(l) {
			return l.String()
		}
	}
	return loglevel.Blather.String()
}

// Options configures the main log.
type Options struct {
	Path     string           // log file; "syslog" sends to syslog; "" = no file
	MaxBytes int64            // logfile_maxbytes (0 = never rotate)
	Backups  int              // logfile_backups
	Level    loglevel.Level   // lines below it are dropped; zero = loglevel.Info (the original's default)
	Stdout   io.Writer        // also write here (nodaemon && !silent); nil = no
	Clock    func() time.Time // nil = time.Now
	RingSize int              // > 0: keep the last RingSize bytes in memory (tails of non-file targets)
	// JSON is [supervisord] logformat=json: every target (file, stdout,
	// syslog, the in-memory tail) gets one JSON object per message, from
	// zap's JSON encoder, instead of the original's text lines.
	JSON bool
}

// Logger is the daemon's log. It is safe for concurrent use.
type Logger struct {
	path  string
	level loglevel.Level
	clock func() time.Time
	core  zapcore.Core
	rot   *logfile.Rotator
	sys   *logfile.Syslog
	ring  *logfile.Ring
}

// New opens the main log. A missing directory is an error naming the path.
func New(opt Options) (*Logger, error) {
	l := &Logger{path: opt.Path, level: opt.Level, clock: opt.Clock}
	if l.level == 0 {
		l.level = loglevel.Info
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	threshold := zapLevel(l.level)
	enc, sysEnc := NewEncoder, func() zapcore.Encoder { return newEncoder(true) }
	if opt.JSON {
		enc, sysEnc = NewJSONEncoder, NewJSONEncoder
	}
	var cores []zapcore.Core
	if opt.Stdout != nil {
		cores = append(cores, zapcore.NewCore(enc(), zapcore.Lock(zapcore.AddSync(opt.Stdout)), threshold))
	}
	var sinks []zapcore.WriteSyncer
	switch opt.Path {
	case "":
	case "syslog":
		l.sys = logfile.NewSyslog("")
		cores = append(cores, zapcore.NewCore(sysEnc(), zapcore.AddSync(syslogWriter{l.sys}), threshold))
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
		cores = append(cores, zapcore.NewCore(enc(), zapcore.NewMultiWriteSyncer(sinks...), threshold))
	}
	l.core = zapcore.NewTee(cores...)
	return l, nil
}

// Core returns the zap core, for code that wants a *zap.Logger.
func (l *Logger) Core() zapcore.Core { return l.core }

// Enabled reports whether messages at level are written (e.g. whether child
// output is copied at DEBG).
func (l *Logger) Enabled(level loglevel.Level) bool { return level >= l.level }

// Log writes msg at level.
func (l *Logger) Log(level loglevel.Level, msg string) {
	if level < l.level {
		return
	}
	if ce := l.core.Check(zapcore.Entry{Level: zapLevel(level), Time: l.clock(), Message: msg}, nil); ce != nil {
		ce.Write()
	}
}

func (l *Logger) Crit(msg string)    { l.Log(loglevel.Critical, msg) }
func (l *Logger) Error(msg string)   { l.Log(loglevel.Error, msg) }
func (l *Logger) Warn(msg string)    { l.Log(loglevel.Warn, msg) }
func (l *Logger) Info(msg string)    { l.Log(loglevel.Info, msg) }
func (l *Logger) Debug(msg string)   { l.Log(loglevel.Debug, msg) }
func (l *Logger) Trace(msg string)   { l.Log(loglevel.Trace, msg) }
func (l *Logger) Blather(msg string) { l.Log(loglevel.Blather, msg) }

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
	prefix := ent.Time.Local().Format("2006-01-02 15:04:05,000") + " " + levelWord(ent.Level) + " "
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

// NewJSONEncoder returns zap's JSON encoder for logformat=json: one object
// per message, {"time":"2026-01-02T14:04:05.123Z","level":"info","msg":"..."}.
// The time is UTC with milliseconds, as in the children's timestamped and
// json formats; the level is the name loglevel= takes (critical, error,
// warn, info, debug, trace, blather); msg is the text line's message, byte
// for byte when it is valid UTF-8 (zap escapes what is not). Structured
// fields, which the text format drops, follow msg.
func NewJSONEncoder() zapcore.Encoder {
	return zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:        "time",
		LevelKey:       "level",
		MessageKey:     "msg",
		LineEnding:     "\n",
		EncodeTime:     encodeTimeUTC,
		EncodeLevel:    encodeLevelName,
		EncodeDuration: zapcore.StringDurationEncoder,
	})
}

func encodeTimeUTC(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// levelNames are the loglevel= words for the original's levels.
var levelNames = map[loglevel.Level]string{
	loglevel.Critical: "critical", loglevel.Error: "error", loglevel.Warn: "warn",
	loglevel.Info: "info", loglevel.Debug: "debug", loglevel.Trace: "trace", loglevel.Blather: "blather",
}

// LevelName is the JSON "level" of a zap level: the loglevel= name of the
// level whose text word levelWord prints for it.
func LevelName(z zapcore.Level) string {
	for _, l := range levels {
		if z >= zapLevel(l) {
			return levelNames[l]
		}
	}
	return levelNames[loglevel.Blather]
}

func encodeLevelName(z zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(LevelName(z))
}
