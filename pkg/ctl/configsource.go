package ctl

import "github.com/gosupervisor/gosupervisor/pkg/config"

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
		return Settings{}, err
	}
	return Settings{ServerURL: s.Serverurl, Username: s.Username, Password: s.Password,
		Prompt: s.Prompt, HistoryFile: s.HistoryFile, TLS: s.CtlTLS}, nil
}
