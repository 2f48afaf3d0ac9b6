package sdexport

import (
	"path/filepath"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// logs is stdout_logfile= and stderr_logfile= (with redirect_stderr=):
// a file is appended to, AUTO and syslog become the journal, NONE null.
func (e *exporter) logs(u *unitFile, p *config.Process) error {
	v, err := e.output(u, "stdout", p.Stdout)
	if err != nil {
		return err
	}
	u.set(secService, "StandardOutput", v)
	if p.RedirectStderr {
		u.set(secService, "StandardError", "inherit")
		return nil
	}
	if v, err = e.output(u, "stderr", p.Stderr); err != nil {
		return err
	}
	u.set(secService, "StandardError", v)
	return nil
}

// output is one stream's StandardOutput=/StandardError= value.
func (e *exporter) output(u *unitFile, stream string, c config.LogConfig) (string, error) {
	switch {
	case c.File != "" && filepath.Clean(c.File) == "/dev/null":
		return "null", nil
	case c.File != "" && ownOutput(c.File):
		// supervisord's own stdout or stderr, which systemd gives the journal.
		u.comment("%s_logfile=%s is supervisord's own output: the journal here.", stream, c.File)
		return "journal", nil
	case c.File != "":
		if c.Syslog {
			u.note("%s_syslog=true beside a log file: systemd writes one destination, the file", stream)
		}
		if c.MaxBytes > 0 {
			u.note("%s_logfile_maxbytes=%d, %s_logfile_backups=%d: systemd appends without rotating; use logrotate (copytruncate)",
				stream, c.MaxBytes, stream, c.Backups)
		}
		v, err := plain(stream+"_logfile", e.abs(c.File))
		if err != nil {
			return "", err
		}
		return "append:" + v, nil
	case c.Auto || c.Syslog:
		return "journal", nil
	}
	return "null", nil
}
