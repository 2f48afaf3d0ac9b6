package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Remote is one [remote:NAME] section (EXTENSIONS §8): another supervisord
// daemon, ours or the Python original, that the fleet console and
// `supervisorctl fleet` reach through the original's XML-RPC API.
type Remote struct {
	Name      string
	Serverurl string // http://, https:// or unix:// (normalised like [supervisorctl]'s)
	Username  string
	Password  string
	CtlTLS    // ca_file, certfile, keyfile for https:// (as in [supervisorctl])
}

var remoteKeys = slices.Concat([]string{"serverurl", "username", "password"}, ctlTLSKeys)

// remotes reads every [remote:NAME] section, sorted by name. The original
// ignores these sections, so a config without them loads as before.
func (l *loader) remotes() ([]Remote, error) {
	var out []Remote
	for _, sec := range l.p.sections() {
		name, ok := strings.CutPrefix(sec, "remote:")
		if !ok {
			continue
		}
		r, err := l.remote(sec, name)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Remote) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (l *loader) remote(sec, name string) (Remote, error) {
	r := Remote{Name: name}
	if name == "" || strings.ContainsAny(name, ": \t") {
		return r, cfgErr("section [%s]: a remote's name must be non-empty and contain no ':' or blanks", sec)
	}
	var err error
	if r.Serverurl, _, err = l.saneget(sec, "serverurl", l.base()); err != nil {
		return r, err
	}
	r.Serverurl = pyStrip(r.Serverurl)
	switch {
	case r.Serverurl == "":
		return r, cfgErr("section [%s] has no serverurl", sec)
	case strings.HasPrefix(r.Serverurl, "unix://"):
		r.Serverurl = "unix://" + normalizePath(r.Serverurl[len("unix://"):], l.home)
	case strings.HasPrefix(r.Serverurl, "http://"), strings.HasPrefix(r.Serverurl, "https://"):
	default:
		return r, cfgErr("section [%s]: serverurl %q is not http://, https:// or unix://", sec, r.Serverurl)
	}
	if r.Username, _, err = l.saneget(sec, "username", nil); err != nil {
		return r, err
	}
	if r.Password, _, err = l.saneget(sec, "password", nil); err != nil {
		return r, err
	}
	if err := l.ctlTLS(sec, &r.CtlTLS); err != nil {
		return r, err
	}
	return r, nil
}

// LoadRemotes reads the [remote:NAME] sections of a config file and of the
// files it includes, without requiring a [supervisord] section, so that a
// file used only by `supervisorctl fleet` may hold nothing else.
func LoadRemotes(path string, opts Options) ([]Remote, error) {
	l, err := parse(path, opts)
	if err != nil {
		return nil, err
	}
	rs, err := l.remotes()
	if err != nil {
		abs, _ := filepath.Abs(path)
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	return rs, nil
}
