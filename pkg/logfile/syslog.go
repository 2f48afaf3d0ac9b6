package logfile

import (
	"bytes"
	"log/syslog"
	"os"
	"path/filepath"
	"sync"
)

// Syslog sends lines to the local syslog daemon at LOG_USER|LOG_INFO, as the
// original's syslog.syslog() does. It connects lazily and reconnects after a
// failure; a missing or broken syslog never makes logging fail.
type Syslog struct {
	tag  string
	mu   sync.Mutex
	w    *syslog.Writer
	send func(line string) error // replaced in tests
}

// NewSyslog returns a sink tagged tag ("" = the program's base name, as
// Python's syslog module does).
func NewSyslog(tag string) *Syslog {
	if tag == "" {
		tag = filepath.Base(os.Args[0])
	}
	s := &Syslog{tag: tag}
	s.send = s.sendSyslog
	return s
}

func (s *Syslog) sendSyslog(line string) error {
	if s.w == nil {
		w, err := syslog.New(syslog.LOG_USER|syslog.LOG_INFO, s.tag)
		if err != nil {
			return err
		}
		s.w = w
	}
	if err := s.w.Info(line); err != nil {
		s.w.Close()
		s.w = nil
		return err
	}
	return nil
}

// Lines sends each line of data (trailing newlines removed, then split on
// '\n', like the original's SyslogHandler) with prefix in front.
func (s *Syslog) Lines(prefix string, data []byte) {
	data = bytes.TrimRight(data, "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range bytes.Split(data, []byte("\n")) {
		_ = s.send(prefix + string(line)) // failures are dropped, logging goes on
	}
}

// Close disconnects from syslog.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	s.w = nil
	return err
}
