package supervisor

import (
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/logfile"
)

// forwardSync bounds how long the end of Run waits for forwarded lines to
// reach supervisord's stdout and stderr.
const forwardSync = 2 * time.Second

// forwardWidth pads forwarded names to the longest name among the
// configured processes that forward a stream (docker compose's padding);
// called at start and at each reread.
func (s *Supervisor) forwardWidth() {
	width := 0
	for _, g := range s.pending.Groups {
		for _, pc := range g.Processes {
			if pc.StdoutForward || (pc.StderrForward && !pc.RedirectStderr) {
				width = max(width, len(pc.Name))
			}
		}
	}
	s.fwd.SetWidth(width)
}

// streamFormat is a stream's *_log_format and *_forward.
func streamFormat(pc *config.Process, stream string) (logfile.Format, bool) {
	if stream == "stderr" {
		return logFormat(pc.StderrLogFormat), pc.StderrForward
	}
	return logFormat(pc.StdoutLogFormat), pc.StdoutForward
}

func logFormat(f config.LogFormat) logfile.Format {
	switch f {
	case config.LogTimestamped:
		return logfile.FormatTimestamped
	case config.LogJSON:
		return logfile.FormatJSON
	}
	return logfile.FormatRaw
}
