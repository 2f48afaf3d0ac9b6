package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/envfile"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// Parsing of the keys of EXTENSIONS.md §4–§5 (types in extensions.go):
// environment_file, stdout_forward/stderr_forward,
// stdout_log_format/stderr_log_format and [supervisord] logformat. Every
// process kind takes all of them; [supervisord] takes environment_file and
// logformat.
var (
	processLogKeys     = []string{"environment_file", "stdout_forward", "stderr_forward", "stdout_log_format", "stderr_log_format"}
	supervisordExtKeys = []string{"environment_file", "logformat"}
)

// outputKeys reads environment_file and the per-stream log keys of one
// process, expanded like command=.
func (r *programReader) outputKeys(p *Process) error {
	l, sec := r.l, r.sec
	if v, ok, err := l.saneget(sec, "environment_file", r.common); err != nil {
		return err
	} else if ok {
		if p.EnvironmentFile, err = loadEnvFile(v, l.home); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		name    string
		forward *bool
		format  *LogFormat
	}{{"stdout", &p.StdoutForward, &p.StdoutLogFormat}, {"stderr", &p.StderrForward, &p.StderrLogFormat}} {
		key := s.name + "_forward"
		if v, ok, err := l.saneget(sec, key, r.common); err != nil {
			return err
		} else if ok {
			if *s.forward, err = ParseBool(v); err != nil {
				return valueErr(key, v, "not a valid boolean value")
			}
		}
		key = s.name + "_log_format"
		if v, ok, err := l.saneget(sec, key, r.common); err != nil {
			return err
		} else if ok {
			if *s.format, err = parseLogFormat(key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseLogFormat(key, v string) (LogFormat, error) {
	if f, ok := keyword(v, LogRaw, LogTimestamped, LogJSON); ok {
		return f, nil
	}
	return 0, valueErr(key, v, "not raw, timestamped or json")
}

// supervisordExtensions reads [supervisord] environment_file and logformat,
// after the original's keys (and environment, whose names they may use).
func (l *loader) supervisordExtensions(s *Supervisord) error {
	const sec = "supervisord"
	err := func() error {
		if v, ok, err := l.saneget(sec, "environment_file", l.base()); err != nil {
			return err
		} else if ok {
			if s.EnvironmentFile, err = loadEnvFile(v, l.home); err != nil {
				return err
			}
		}
		if v, ok, err := l.saneget(sec, "logformat", l.base()); err != nil {
			return err
		} else if ok {
			if s.LogFormat, ok = keyword(v, MainLogText, MainLogJSON); !ok {
				return valueErr("logformat", v, "not text or json")
			}
		}
		return nil
	}()
	if err != nil {
		return l.sectionErr(sec, err.Error())
	}
	return nil
}

// loadEnvFile parses an environment_file= value (a leading "-" makes a
// missing file no error) and reads the file once, so that a config naming
// a file that is missing, unreadable or malformed fails at load, and so
// that the variables' digest lets reread see a changed file.
func loadEnvFile(v, home string) (EnvFile, error) {
	s := pyStrip(v)
	if s == "" {
		return EnvFile{}, nil // given empty: no file
	}
	var f EnvFile
	if strings.HasPrefix(s, "-") {
		f.Optional = true
		if s = pyStrip(s[1:]); s == "" {
			return EnvFile{}, valueErr("environment_file", v, "no path after '-'")
		}
	}
	f.Path = normalizePath(s, home)
	kvs, err := f.Read()
	if err != nil {
		return EnvFile{}, err
	}
	f.Digest = envDigest(kvs)
	return f, nil
}

// Read reads the file's variables now: none when Path is "" or when an
// optional file does not exist. Its errors are whole sentences naming the
// file (and the line of a malformed entry).
func (f EnvFile) Read() ([]shlex.KV, error) {
	if f.Path == "" {
		return nil, nil
	}
	kvs, err := readEnvFile(f.Path)
	var se *envfile.SyntaxError
	switch {
	case err == nil:
		return kvs, nil
	case errors.As(err, &se):
		return nil, fmt.Errorf("environment_file %s is not valid: %v", pyfmt.Repr(f.Path), err)
	case f.Optional && errors.Is(err, fs.ErrNotExist):
		return nil, nil
	}
	return nil, fmt.Errorf("environment_file %s cannot be read: %v", pyfmt.Repr(f.Path), err)
}

// readEnvFile is envfile.Read for a regular file of at most MaxFileSize
// bytes only: it is read at each spawn too, where a FIFO would hang the
// daemon.
func readEnvFile(path string) ([]shlex.KV, error) {
	b, err := readRegularFile(path)
	if err != nil {
		return nil, err
	}
	kvs, err := envfile.Parse(b)
	if se, ok := err.(*envfile.SyntaxError); ok {
		se.File = path
	}
	return kvs, err
}

// envDigest identifies the variables a file holds: "" for none (a missing
// optional file and an empty one are the same), so that only a change of
// names or values, not of comments or quoting, changes a program.
func envDigest(kvs []shlex.KV) string {
	if len(kvs) == 0 {
		return ""
	}
	h := sha256.New()
	for _, kv := range kvs {
		h.Write([]byte(kv.Key))
		h.Write([]byte{0})
		h.Write([]byte(kv.Value))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SpawnEnvironment is what the child gets on top of supervisord's own
// environment (and SUPERVISOR_*), its environment files read now; later
// layers win: [supervisord] environment_file, [supervisord] environment,
// the program's environment_file, the program's environment. Without an
// environment file it is Environment, and no file is read.
func (p *Process) SpawnEnvironment() ([]shlex.KV, error) {
	if p.EnvironmentFile.Path == "" && p.DaemonEnvironmentFile.Path == "" {
		return p.Environment, nil
	}
	daemonFile, err := p.DaemonEnvironmentFile.Read()
	if err != nil {
		return nil, err
	}
	ownFile, err := p.EnvironmentFile.Read()
	if err != nil {
		return nil, err
	}
	return mergeEnv(mergeEnv(mergeEnv(daemonFile, p.DaemonEnvironment), ownFile), p.ProgramEnvironment), nil
}

// splitEnvironments keeps the two parts of Environment apart for a process
// that reads an environment file, which goes between them.
func splitEnvironments(s *Supervisord, p *Process, own []shlex.KV) {
	if s.EnvironmentFile.Path == "" && p.EnvironmentFile.Path == "" {
		return
	}
	p.DaemonEnvironmentFile = s.EnvironmentFile
	p.DaemonEnvironment, p.ProgramEnvironment = s.Environment, own
}

// describeSupervisord writes the [supervisord] lines of our keys that are set.
func (c *Config) describeSupervisord(b *strings.Builder) {
	if f := c.Supervisord.EnvironmentFile; f.Path != "" {
		fmt.Fprintf(b, "supervisord environment file: %s\n", f.describe())
	}
	if c.Supervisord.LogFormat != MainLogText {
		fmt.Fprintf(b, "supervisord logformat: %s\n", c.Supervisord.LogFormat)
	}
}

func (f EnvFile) describe() string {
	if f.Optional {
		return f.Path + " (optional)"
	}
	return f.Path
}

// describeOutput writes the lines of §4–§5 keys that p sets.
func describeOutput(b *strings.Builder, p *Process) {
	if p.EnvironmentFile.Path != "" {
		fmt.Fprintf(b, "    environment file: %s\n", p.EnvironmentFile.describe())
	}
	for _, s := range []struct {
		name    string
		forward bool
		format  LogFormat
	}{{"stdout", p.StdoutForward, p.StdoutLogFormat}, {"stderr", p.StderrForward, p.StderrLogFormat}} {
		if s.forward {
			fmt.Fprintf(b, "    %s forward: true\n", s.name)
		}
		if s.format != LogRaw {
			fmt.Fprintf(b, "    %s log format: %s\n", s.name, s.format)
		}
	}
}
