package config

import (
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
	"maps"
	"slices"
)

// Equal is the original's "changed" comparison (SPEC §8), g being the newly
// read group and o the active one: name, priority and the ordered process
// configs (our keys included, and [group:x] depends_on); pools also compare
// buffer_size, events and result_handler, fcgi groups their socket URL.
// Like Python's isinstance-based __eq__, a new plain program group equals an
// old fcgi group with the same processes.
func (g *Group) Equal(o *Group) bool {
	if g == nil || o == nil {
		return g == o
	}
	if (g.Kind == EventListenerPool) != (o.Kind == EventListenerPool) {
		return false
	}
	if g.Kind == FCGIGroup && (o.Kind != FCGIGroup || g.Socket.URL != o.Socket.URL) {
		return false
	}
	if g.Name != o.Name || g.Priority != o.Priority || len(g.Processes) != len(o.Processes) ||
		!slices.Equal(g.DependsOn, o.DependsOn) {
		return false
	}
	for i := range g.Processes {
		if !g.Processes[i].Equal(o.Processes[i]) {
			return false
		}
	}
	if g.Kind == EventListenerPool {
		// The original compares lists built from a set; order carries no meaning.
		a, b := slices.Sorted(slices.Values(g.Events)), slices.Sorted(slices.Values(o.Events))
		if g.BufferSize != o.BufferSize || g.ResultHandler != o.ResultHandler || !slices.Equal(a, b) {
			return false
		}
	}
	return true
}

// Equal compares every program key the original compares, and ours; a log
// file that is AUTO on either side counts as equal (the active one has been
// resolved to a real path by then).
func (p *Process) Equal(o *Process) bool {
	if p.Name != o.Name || p.Command != o.Command || p.Directory != o.Directory ||
		p.DirectoryEmpty != o.DirectoryEmpty || p.Umask != o.Umask ||
		p.Priority != o.Priority || p.Autostart != o.Autostart || p.Autorestart != o.Autorestart ||
		p.Startsecs != o.Startsecs || p.Startretries != o.Startretries || p.UID != o.UID ||
		p.Stopsignal != o.Stopsignal || p.Stopwaitsecs != o.Stopwaitsecs ||
		p.Stopasgroup != o.Stopasgroup || p.Killasgroup != o.Killasgroup ||
		!slices.Equal(p.Exitcodes, o.Exitcodes) || p.RedirectStderr != o.RedirectStderr ||
		p.Serverurl != o.Serverurl || !p.Stdout.equal(o.Stdout) || !p.Stderr.equal(o.Stderr) ||
		!p.Extensions.equal(&o.Extensions) {
		return false
	}
	return maps.Equal(envMap(p.Environment), envMap(o.Environment))
}

func (l LogConfig) equal(o LogConfig) bool {
	if !l.Auto && !o.Auto && (l.File != o.File || l.Empty != o.Empty) {
		return false
	}
	return l.Syslog == o.Syslog && l.MaxBytes == o.MaxBytes && l.Backups == o.Backups &&
		l.CaptureMaxBytes == o.CaptureMaxBytes && l.EventsEnabled == o.EventsEnabled
}

func envMap(kvs []shlex.KV) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// Diff is the original's diff_to_active: added and changed groups in pending
// order, removed ones in active order.
func Diff(active, pending []*Group) (added, changed, removed []string) {
	byName := func(gs []*Group) map[string]*Group {
		m := map[string]*Group{}
		for _, g := range gs {
			m[g.Name] = g // a later duplicate wins, as in the original's dict
		}
		return m
	}
	cur, next := byName(active), byName(pending)
	for _, g := range pending {
		if old, ok := cur[g.Name]; !ok {
			added = append(added, g.Name)
		} else if !g.Equal(old) {
			changed = append(changed, g.Name)
		}
	}
	for _, g := range active {
		if _, ok := next[g.Name]; !ok {
			removed = append(removed, g.Name)
		}
	}
	return added, changed, removed
}
