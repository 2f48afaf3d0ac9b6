package ctl

import (
	"errors"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// ConfigFiles is the real ConfigSource: the original's search list and the
// [supervisorctl] section, read by pkg/config.
type ConfigFiles struct{}

// Find returns the first existing default config file, or "" (supervisorctl
// runs without one).
func (ConfigFiles) Find(argv0 string) string {
	path, err := config.FindConfig(argv0)
	if err != nil {
		return ""
	}
	return path
}

// Load reads [supervisorctl] from path.
func (ConfigFiles) Load(path string) (Settings, error) {
	s, err := config.LoadCtl(path, config.Options{})
	if err != nil {
		if fleetOnly(path, err) {
			return Settings{}, nil
		}
		return Settings{}, err
	}
	return Settings{ServerURL: s.Serverurl, Username: s.Username, Password: s.Password,
		Prompt: s.Prompt, HistoryFile: s.HistoryFile, TLS: s.CtlTLS}, nil
}

// noCtlSection is the original's error for a file without [supervisorctl].
const noCtlSection = ".ini file does not include supervisorctl section"

// fleetOnly: a file of [remote:NAME] sections for `supervisorctl fleet`
// (EXTENSIONS §8) needs no [supervisorctl]; any other file without one
// fails as in the original.
func fleetOnly(path string, err error) bool {
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Error() != noCtlSection {
		return false
	}
	rs, rerr := config.LoadRemotes(path, config.Options{})
	return rerr == nil && len(rs) > 0
}
