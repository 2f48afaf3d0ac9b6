// Package loglevel is the original's log levels (supervisor/loggers.py
// LevelsByName): the one level type shared by the config, the process
// machine, the engine and the main log.
package loglevel

import (
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Level is a level with the original's number; a higher number is more
// severe, and a logger at level L writes messages at L and above.
type Level int

// The original's levels, most severe first.
const (
	Critical Level = 50
	Error    Level = 40
	Warn     Level = 30
	Info     Level = 20
	Debug    Level = 10
	Trace    Level = 5
	Blather  Level = 3
)

// Levels returns the original's levels, most severe first.
func Levels() []Level { return []Level{Critical, Error, Warn, Info, Debug, Trace, Blather} }

// String is the word the original prints in log lines (CRIT, ERRO, ...).
func (l Level) String() string {
	switch l {
	case Critical:
		return "CRIT"
	case Error:
		return "ERRO"
	case Warn:
		return "WARN"
	case Info:
		return "INFO"
	case Debug:
		return "DEBG"
	case Trace:
		return "TRAC"
	case Blather:
		return "BLAT"
	}
	return fmt.Sprintf("LEVEL%d", int(l))
}

var byName = map[string]Level{
	"critical": Critical, "error": Error, "warn": Warn, "info": Info,
	"debug": Debug, "trace": Trace, "blather": Blather,
}

// Parse is the original's datatypes.logging_level: a case-insensitive
// level name ("warning" is not accepted).
func Parse(name string) (Level, error) {
	if l, ok := byName[strings.ToLower(name)]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("bad logging level name %s", pyfmt.Repr(name))
}
