package config

import (
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// Parsing of our own keys (extensions.go, ../shared/EXTENSIONS.md §1–§3).
// Their errors name the key and the value in the original's autorestart
// style ("invalid 'backoff' value 'fast': …"); processes() adds the
// original's " in section '…' (file: '…')" suffix.

// Section kinds that take each group of keys: every process kind takes
// depends_on, backoff, backoff_max, critical and startretries=unlimited;
// only programs and fcgi programs take health checks (an event listener's
// stdout is the listener protocol and it has no service to probe).
var (
	processExtKeys = []string{"depends_on", "backoff", "backoff_max", "critical"}
	healthKeys     = []string{"healthcheck", "healthcheck_interval", "healthcheck_timeout",
		"healthcheck_retries", "healthcheck_start_period", "on_unhealthy"}
	groupExtKeys = []string{"depends_on"}
)

// Defaults of the healthcheck_* keys, in seconds (retries: failures).
const (
	DefaultHealthInterval    = 10
	DefaultHealthTimeout     = 3
	DefaultHealthRetries     = 3
	DefaultHealthStartPeriod = 0
)

// maxSeconds bounds our integer keys: more would overflow a time.Duration
// once multiplied (2^31 s is 68 years).
const maxSeconds = math.MaxInt32

// Unlimited is the startretries value that never gives up.
const Unlimited = "unlimited"

func valueErr(key, value, reason string) error {
	return fmt.Errorf("invalid %s value %s: %s", pyfmt.Repr(key), pyfmt.Repr(value), reason)
}

// startretries is startretries=: the original's integer, or unlimited.
type startretries struct {
	n         int
	unlimited bool
}

// parseStartretries keeps the original's error text for anything that is
// neither a number nor unlimited (a config without our keys is the
// original's). Unlimited leaves the number 0; it is not read then.
func parseStartretries(s string) (startretries, error) {
	if strings.ToLower(pyStrip(s)) == Unlimited {
		return startretries{unlimited: true}, nil
	}
	n, err := ParseInt(s)
	return startretries{n: n}, err
}

// extInt reads an integer key of ours with a lower bound.
func (r *programReader) extInt(key string, def, lo int) (int, error) {
	v, err := r.l.getOr(r.sec, key, strconv.Itoa(def), r.common)
	if err != nil {
		return 0, err
	}
	return parseBoundedInt(key, v, lo)
}

func parseBoundedInt(key, v string, lo int) (int, error) {
	n, st := pyIntRange(v, 10)
	switch {
	case st == intSyntax:
		return 0, valueErr(key, v, "not an integer")
	case st == intOverflow && strings.HasPrefix(pyStrip(v), "-"):
		return 0, valueErr(key, v, fmt.Sprintf("%s is below lower bound (%d)", pyIntString(v), lo))
	case st == intOverflow:
		return 0, valueErr(key, v, fmt.Sprintf("%s is above upper bound (%d)", pyIntString(v), maxSeconds))
	case n < int64(lo):
		return 0, valueErr(key, v, fmt.Sprintf("%d is below lower bound (%d)", n, lo))
	case n > maxSeconds:
		return 0, valueErr(key, v, fmt.Sprintf("%d is above upper bound (%d)", n, maxSeconds))
	}
	return int(n), nil
}

// extensions reads our keys for one process, after the original's keys so
// that a config the original rejects is rejected with the original's
// error. They expand like command=: here, ENV_* (the program's environment
// included), program_name, group_name, host_node_name, process_num and
// numprocs. first is set for the section's first process, which gives the
// section's warnings.
func (r *programReader) extensions(p *Process, kind GroupKind, first bool) error {
	l, sec := r.l, r.sec
	deps, _, err := l.saneget(sec, "depends_on", r.common)
	if err != nil {
		return err
	}
	if p.DependsOn, err = parseDependsOn(deps); err != nil {
		return err
	}
	if v, ok, err := l.saneget(sec, "backoff", r.common); err != nil {
		return err
	} else if ok {
		if p.Backoff, ok = keyword(v, BackoffLinear, BackoffExponential); !ok {
			return valueErr("backoff", v, "not linear or exponential")
		}
	}
	if p.BackoffMax, err = r.extInt("backoff_max", 0, 0); err != nil {
		return err
	}
	if v, ok, err := l.saneget(sec, "critical", r.common); err != nil {
		return err
	} else if ok {
		if p.Critical, err = ParseBool(v); err != nil {
			return valueErr("critical", v, "not a valid boolean value")
		}
	}
	if err := r.outputKeys(p); err != nil {
		return err
	}
	if kind == EventListenerPool {
		for _, k := range healthKeys {
			if _, ok := l.p.get(sec, k); ok {
				return fmt.Errorf("key %s is not allowed in an eventlistener section", pyfmt.Repr(k))
			}
		}
		return nil
	}
	return r.health(p, first)
}

// health reads healthcheck= and its settings. The settings are validated
// even without a check; set without one (healthcheck absent, not given
// empty), they are named in a warning of ours.
func (r *programReader) health(p *Process, first bool) error {
	l, sec := r.l, r.sec
	hc := &HealthCheck{}
	var err error
	if hc.Interval, err = r.extInt("healthcheck_interval", DefaultHealthInterval, 1); err != nil {
		return err
	}
	if hc.Timeout, err = r.extInt("healthcheck_timeout", DefaultHealthTimeout, 1); err != nil {
		return err
	}
	if hc.Retries, err = r.extInt("healthcheck_retries", DefaultHealthRetries, 1); err != nil {
		return err
	}
	if hc.StartPeriod, err = r.extInt("healthcheck_start_period", DefaultHealthStartPeriod, 0); err != nil {
		return err
	}
	if v, ok, err := l.saneget(sec, "on_unhealthy", r.common); err != nil {
		return err
	} else if ok {
		if hc.OnUnhealthy, ok = keyword(v, UnhealthyRestart, UnhealthyIgnore, UnhealthyShutdown); !ok {
			return valueErr("on_unhealthy", v, "not restart, ignore or shutdown")
		}
	}
	v, ok, err := l.saneget(sec, "healthcheck", r.common)
	if err != nil {
		return err
	}
	if !ok && first {
		for _, k := range healthKeys[1:] {
			if _, set := l.p.get(sec, k); set {
				l.extra = append(l.extra, fmt.Sprintf("For [%s], %s is set but healthcheck is not; it has no effect", sec, k))
			}
		}
	}
	if pyStrip(v) == "" {
		return nil // absent, or given empty: no check
	}
	if hc.Kind, hc.Target, hc.Argv, err = parseHealthcheck(v); err != nil {
		return err
	}
	p.Health = hc
	return nil
}

// parseHealthcheck is healthcheck=: an http(s) URL, tcp://host:port, or
// exec: and a command split like command= (shlex, no shell).
func parseHealthcheck(v string) (HealthKind, string, []string, error) {
	s := pyStrip(v)
	bad := func(reason string) (HealthKind, string, []string, error) {
		return 0, "", nil, valueErr("healthcheck", v, reason)
	}
	prefix := func(p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }
	switch {
	case prefix("http://"), prefix("https://"):
		u, err := url.Parse(s)
		if err != nil {
			var reason string
			if ue, ok := err.(*url.Error); ok {
				reason = ue.Err.Error()
			} else {
				reason = err.Error()
			}
			return bad("not a valid URL: " + reason)
		}
		if u.Hostname() == "" {
			return bad("no host in the URL")
		}
		if p := u.Port(); p != "" {
			if _, err := portNumber(p); err != nil {
				return bad(err.Error())
			}
		}
		return HealthHTTP, s, nil, nil
	case prefix("tcp://"):
		host, port, err := net.SplitHostPort(s[len("tcp://"):])
		if err != nil || host == "" {
			return bad("not tcp://HOST:PORT")
		}
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return bad("not tcp://HOST:PORT")
		}
		n, err := portNumber(port)
		if err != nil {
			return bad(err.Error())
		}
		return HealthTCP, net.JoinHostPort(host, strconv.Itoa(n)), nil, nil
	case prefix("exec:"):
		argv, err := shlex.Split(s[len("exec:"):])
		if err != nil {
			return bad(err.Error())
		}
		if len(argv) == 0 {
			return bad("no command after exec:")
		}
		return HealthExec, "", argv, nil
	}
	return bad("not http://URL, https://URL, tcp://HOST:PORT or exec:COMMAND")
}

// parseDependsOn splits depends_on= at commas and whitespace and checks
// that each item is a namespec: name, group:* or group:name.
func parseDependsOn(v string) ([]string, error) {
	var out []string
	for _, spec := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || pyIsSpace(r) }) {
		if !validNamespec(spec) {
			return nil, valueErr("depends_on", v, fmt.Sprintf("%s is not a namespec (name, group:* or group:name)", pyfmt.Repr(spec)))
		}
		if !slices.Contains(out, spec) {
			out = append(out, spec)
		}
	}
	return out, nil
}

func validNamespec(s string) bool {
	g, n, hasColon := strings.Cut(s, ":")
	okName := func(x string) bool { return x != "" && !strings.ContainsAny(x, ":/*") }
	if !hasColon {
		return okName(g)
	}
	return okName(g) && (n == "*" || okName(n))
}

// mergeDeps puts a group's depends_on before a process's own, each once.
func mergeDeps(group, own []string) []string {
	if len(group) == 0 {
		return own
	}
	out := slices.Clone(group)
	for _, s := range own {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// equal compares every extension key, for reread/update.
func (e *Extensions) equal(o *Extensions) bool {
	return slices.Equal(e.DependsOn, o.DependsOn) && e.Health.equal(o.Health) &&
		e.Backoff == o.Backoff && e.BackoffMax == o.BackoffMax &&
		e.StartretriesUnlimited == o.StartretriesUnlimited && e.Critical == o.Critical &&
		e.EnvironmentFile == o.EnvironmentFile && e.OutputExtensions == o.OutputExtensions &&
		e.DaemonEnvironmentFile == o.DaemonEnvironmentFile &&
		maps.Equal(envMap(e.DaemonEnvironment), envMap(o.DaemonEnvironment)) &&
		maps.Equal(envMap(e.ProgramEnvironment), envMap(o.ProgramEnvironment))
}

func (h *HealthCheck) equal(o *HealthCheck) bool {
	if h == nil || o == nil {
		return h == o
	}
	return h.Kind == o.Kind && h.Target == o.Target && slices.Equal(h.Argv, o.Argv) &&
		h.Interval == o.Interval && h.Timeout == o.Timeout && h.Retries == o.Retries &&
		h.StartPeriod == o.StartPeriod && h.OnUnhealthy == o.OnUnhealthy
}

// UsesExtensions reports whether the config sets any of our keys handled
// here (probes_public, metrics_public, depends_on, healthcheck, backoff, backoff_max, critical,
// startretries=unlimited, environment_file, *_forward, *_log_format,
// logformat) to something other than its default, e.g. to decide whether
// system.listMethods names the gosupervisor.* methods.
func (c *Config) UsesExtensions() bool {
	if c.usesSecurity() {
		return true
	}
	if c.Supervisord.EnvironmentFile.Path != "" || c.Supervisord.LogFormat != MainLogText || c.Supervisord.History {
		return true
	}
	for _, s := range c.HTTPServers {
		if s.ProbesPublic || s.MetricsPublic {
			return true
		}
	}
	for _, g := range c.Groups {
		if len(g.DependsOn) > 0 {
			return true
		}
		for _, p := range g.Processes {
			if !p.Extensions.equal(&Extensions{}) {
				return true
			}
		}
	}
	return false
}

// probesPublic reads probes_public (EXTENSIONS §6) of a server section.
func (l *loader) probesPublic(sec string, s *HTTPServer) error {
	v, ok, err := l.saneget(sec, "probes_public", nil)
	if err != nil || !ok {
		return err
	}
	if s.ProbesPublic, err = ParseBool(v); err != nil {
		return cfgErr("%v in section %s", valueErr("probes_public", v, "not a valid boolean value"), pyfmt.Repr(sec))
	}
	return nil
}

// metricsPublic reads metrics_public (EXTENSIONS §6) of a server section.
func (l *loader) metricsPublic(sec string, s *HTTPServer) error {
	v, ok, err := l.saneget(sec, "metrics_public", nil)
	if err != nil || !ok {
		return err
	}
	if s.MetricsPublic, err = ParseBool(v); err != nil {
		return cfgErr("%v in section %s", valueErr("metrics_public", v, "not a valid boolean value"), pyfmt.Repr(sec))
	}
	return nil
}

// keyword is the one of choices whose String() is v, in any case: the
// values of backoff=, on_unhealthy=, *_log_format=, logformat= and role=
// are spelled once, by their types' String methods.
func keyword[T fmt.Stringer](v string, choices ...T) (T, bool) {
	v = strings.ToLower(pyStrip(v))
	for _, c := range choices {
		if c.String() == v {
			return c, true
		}
	}
	var zero T
	return zero, false
}
