package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// Keys of EXTENSIONS.md §7: TLS on inet servers and for supervisorctl,
// [user:NAME] roles, and peer credentials on unix sockets. All zero for a
// config that does not use them.

// Role is what a user may do over the control API.
type Role int

const (
	RoleNone     Role = iota // no credentials matched
	RoleReadonly             // get*, read*, tail*, list*, logs, events, metrics
	RoleOperator             // also start, stop, restart, signal, stdin, clear logs
	RoleAdmin                // everything; the original's username/password
)

func (r Role) String() string {
	switch r {
	case RoleReadonly:
		return "readonly"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole reads a role= value, any case.
func ParseRole(s string) (Role, bool) {
	return keyword(s, RoleReadonly, RoleOperator, RoleAdmin)
}

// User is one [user:NAME] section, valid on every server.
type User struct {
	Name     string
	Password string // plain, or {SHA} and the hex SHA-1 as the original's
	Role     Role   // readonly unless role= says otherwise
}

// ServerSecurity are a server section's §7 keys.
type ServerSecurity struct {
	// CertFile and KeyFile (inet): serve TLS 1.2+; ClientCA requires
	// client certificates signed by it (mutual TLS). Absolute paths.
	CertFile, KeyFile, ClientCA string
	// AllowUIDs and AllowGIDs (unix): peers whose SO_PEERCRED uid, or
	// primary gid, is listed may connect; both nil means anyone the
	// socket's permissions let in.
	AllowUIDs, AllowGIDs []int
}

// TLS reports whether the server speaks TLS.
func (s *ServerSecurity) TLS() bool { return s.CertFile != "" }

// CtlTLS are supervisorctl's keys for https:// server URLs.
type CtlTLS struct {
	CAFile            string // verify the server against this CA ("" = system roots)
	CertFile, KeyFile string // client certificate for mutual TLS
}

var (
	inetSecurityKeys = []string{"certfile", "keyfile", "client_ca"}
	unixSecurityKeys = []string{"allow_uids", "allow_groups"}
	userKeys         = []string{"password", "role"}
	ctlTLSKeys       = []string{"ca_file", "certfile", "keyfile"}
)

// security reads the §7 keys of one server section.
func (l *loader) security(sec string, s *HTTPServer) error {
	if s.Unix {
		return l.peerCredentials(sec, s)
	}
	path := func(key string) (string, error) {
		v, ok, err := l.saneget(sec, key, l.base())
		if err != nil || !ok || pyStrip(v) == "" {
			return "", err
		}
		return normalizePath(pyStrip(v), l.home), nil
	}
	var err error
	if s.CertFile, err = path("certfile"); err != nil {
		return err
	}
	if s.KeyFile, err = path("keyfile"); err != nil {
		return err
	}
	if s.ClientCA, err = path("client_ca"); err != nil {
		return err
	}
	return checkServerTLS(sec, &s.ServerSecurity)
}

// checkServerTLS loads the certificate once at load, so that a bad file
// is a config error rather than a failed handshake later.
func checkServerTLS(sec string, s *ServerSecurity) error {
	switch {
	case s.CertFile == "" && s.KeyFile == "" && s.ClientCA == "":
		return nil
	case s.CertFile == "" || s.KeyFile == "":
		return cfgErr("section [%s] needs both certfile and keyfile for TLS", sec)
	}
	if _, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile); err != nil {
		return &Error{Msg: fmt.Sprintf("section [%s]: cannot load certfile %s and keyfile %s: %v", sec, s.CertFile, s.KeyFile, err), Err: err}
	}
	if s.ClientCA != "" {
		if _, err := LoadCertPool(s.ClientCA); err != nil {
			return &Error{Msg: fmt.Sprintf("section [%s]: client_ca: %v", sec, err), Err: err}
		}
	}
	return nil
}

// LoadCertPool reads PEM certificates from path.
func LoadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// peerCredentials reads allow_uids and allow_groups: numbers or names,
// separated by commas and/or spaces.
func (l *loader) peerCredentials(sec string, s *HTTPServer) error {
	read := func(key string, lookup func(string) (int, error)) ([]int, error) {
		v, ok, err := l.saneget(sec, key, nil)
		if err != nil || !ok {
			return nil, err
		}
		out := []int{}
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || pyIsSpace(r) }) {
			id, err := lookup(f)
			if err != nil {
				return nil, cfgErr("invalid %s value %s: %v in section %s", pyfmt.Repr(key), pyfmt.Repr(v), err, pyfmt.Repr(sec))
			}
			out = append(out, id)
		}
		return out, nil
	}
	var err error
	if s.AllowUIDs, err = read("allow_uids", peerID(LookupUID)); err != nil {
		return err
	}
	s.AllowGIDs, err = read("allow_groups", peerID(lookupGID))
	return err
}

// peerID is a numeric id (listed or not in /etc/passwd: containers run
// with bare uids) or a name that lookup resolves.
func peerID(lookup func(string) (int, error)) func(string) (int, error) {
	return func(v string) (int, error) {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n, nil
		}
		return lookup(v)
	}
}

// users reads the [user:NAME] sections, sorted by name.
func (l *loader) users() ([]User, error) {
	var out []User
	for _, sec := range l.p.sections() {
		name, ok := strings.CutPrefix(sec, "user:")
		if !ok {
			continue
		}
		if name == "" {
			return nil, cfgErr("section [%s] has no user name", sec)
		}
		pass, ok, err := l.saneget(sec, "password", nil)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, cfgErr("section [%s] has no password value", sec)
		}
		u := User{Name: name, Password: pass, Role: RoleReadonly}
		if v, ok, err := l.saneget(sec, "role", nil); err != nil {
			return nil, err
		} else if ok {
			if u.Role, ok = ParseRole(v); !ok {
				return nil, cfgErr("%v in section %s", valueErr("role", v, "not admin, operator or readonly"), pyfmt.Repr(sec))
			}
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ctlTLS reads [supervisorctl] ca_file, certfile and keyfile.
func (l *loader) ctlTLS(sec string, c *CtlTLS) error {
	for _, k := range []struct {
		key string
		dst *string
	}{{"ca_file", &c.CAFile}, {"certfile", &c.CertFile}, {"keyfile", &c.KeyFile}} {
		v, ok, err := l.saneget(sec, k.key, l.base())
		if err != nil {
			return err
		}
		if ok && pyStrip(v) != "" {
			*k.dst = normalizePath(pyStrip(v), l.home)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return cfgErr("section [%s] needs both certfile and keyfile for a client certificate", sec)
	}
	return nil
}

// usesSecurity reports whether any §7 key is set.
func (c *Config) usesSecurity() bool {
	if len(c.Users) > 0 {
		return true
	}
	for _, s := range c.HTTPServers {
		if s.TLS() || s.ClientCA != "" || s.AllowUIDs != nil || s.AllowGIDs != nil {
			return true
		}
	}
	return false
}
