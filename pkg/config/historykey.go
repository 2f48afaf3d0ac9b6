package config

import "fmt"

// history (issue 17, EXTENSIONS.md §6): [supervisord] history=true makes
// the engine sample every process's CPU, memory and open descriptors all
// the time, not only while a console or API client watches. State changes
// are recorded either way.

// historyKey reads [supervisord] history.
func (l *loader) historyKey(s *Supervisord) error {
	const sec = "supervisord"
	v, ok, err := l.saneget(sec, "history", nil)
	if err != nil || !ok {
		return err
	}
	if s.History, err = ParseBool(v); err != nil {
		return l.sectionErr(sec, valueErr("history", v, "not a valid boolean value").Error())
	}
	return nil
}

// describeHistory is --check-config's line for history=true.
func (c *Config) describeHistory() string {
	if !c.Supervisord.History {
		return ""
	}
	return fmt.Sprintf("supervisord history: %v\n", c.Supervisord.History)
}
