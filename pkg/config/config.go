// Package config loads supervisord's INI configuration exactly as the
// original 4.2.5 does (dialect, %(name)s expansion, every section and key,
// error texts) and compares group configurations for reread/update.
package config

import (
	"syscall"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// Error is a configuration error; Error() is the original's message text
// without the "Error: " prefix.
type Error struct {
	Msg string
	Err error // underlying cause, when there is one
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Message is a line the daemon logs once its main log is open.
type Message struct {
	Level loglevel.Level // loglevel.Warn or loglevel.Info; the original logs warnings, then infos
	Text  string
	// Ours marks our own warnings, which the original does not give
	// (unknown keys and sections, duplicate sections). Unlike the
	// original's, they are logged again when a reread finds them.
	Ours bool
}

// Options are the inputs of Load besides the file.
type Options struct {
	Env      []string // supervisord's environment ("K=V"), for %(ENV_X)s; nil => os.Environ()
	Hostname string   // for %(host_node_name)s; "" => os.Hostname()
	// Command-line overrides of [supervisord] keys (nil = not given). As in
	// the original, the file's values are still validated; overrides then
	// replace them (command line > file > default).
	Overrides *SupervisordOverrides
}

// SupervisordOverrides are the [supervisord] values supervisord's command
// line can set, already converted (use ParseOctal, ParseByteSize, ... with
// the same texts). Nil fields are not given.
type SupervisordOverrides struct {
	Nodaemon, Silent, Nocleanup, StripAnsi *bool
	User                                   *string
	Umask                                  *int
	Directory                              *string
	Logfile                                *string
	LogfileMaxbytes                        *int64
	LogfileBackups                         *int
	Loglevel                               *loglevel.Level
	Pidfile                                *string
	Identifier                             *string
	Childlogdir                            *string
	Minfds, Minprocs                       *int
}

// Config is one loaded configuration.
type Config struct {
	Path          string // absolute path of the main file
	Supervisord   Supervisord
	UnixHTTP      *UnixHTTPServer // first [unix_http_server*] section, nil when absent
	InetHTTP      *InetHTTPServer // first [inet_http_server*] section, nil when absent
	HTTPServers   []HTTPServer    // every server section, inet ones first (the original's order)
	Ctl           *Supervisorctl  // nil when absent
	RPCInterfaces []RPCInterface
	Groups        []*Group  // sorted by (priority, name)
	Users         []User    // [user:NAME] sections, by name (security.go)
	Remotes       []Remote  // [remote:NAME] sections, by name (remotes.go)
	Messages      []Message // parse-time log lines in the original's order
}

// Supervisord is the [supervisord] section after command-line overrides.
type Supervisord struct {
	Logfile         string // absolute, or "syslog"
	LogfileMaxbytes int64
	LogfileBackups  int
	Loglevel        loglevel.Level
	Pidfile         string // absolute
	Umask           int
	Nodaemon        bool
	Silent          bool
	Minfds          int
	Minprocs        int
	Nocleanup       bool
	Childlogdir     string
	User            string // "" = none
	UID, GID        int    // -1 when User is ""
	Directory       string // "" = none
	StripAnsi       bool
	Environment     []shlex.KV
	Identifier      string
	// Ours (EXTENSIONS.md §4, §5): zero for a config without them.
	EnvironmentFile EnvFile       // read before Environment, at every spawn
	LogFormat       MainLogFormat // logformat=
	History         bool          // history= (§6): sample resources always
}

// HTTPServer is one [inet_http_server*] or [unix_http_server*] section.
type HTTPServer struct {
	Section  string // e.g. "unix_http_server" or "inet_http_server:x"
	Name     string // suffix after ':', "" for the plain section
	Unix     bool
	File     string // unix: absolute socket path
	Chmod    int    // unix: default 0700
	ChownUID int    // unix: -1 = unchanged
	ChownGID int    // unix: -1 = unchanged
	Host     string // inet: "" = all interfaces
	Port     int    // inet
	Username string // "" with HasAuth false = no authentication
	Password string
	HasAuth  bool
	// ProbesPublic (probes_public, ours): /healthz and /readyz answer
	// without this section's credentials.
	ProbesPublic bool
	// MetricsPublic (metrics_public, ours): /metrics answers without this
	// section's credentials.
	MetricsPublic  bool
	ServerSecurity // TLS, peer credentials (security.go)
}

// UnixHTTPServer and InetHTTPServer are the contract's names for HTTPServer.
type (
	UnixHTTPServer = HTTPServer
	InetHTTPServer = HTTPServer
)

// Supervisorctl is the [supervisorctl] section as supervisorctl reads it.
type Supervisorctl struct {
	Serverurl   string // default http://localhost:9001; unix:// paths normalised
	Username    string
	Password    string
	Prompt      string // default "supervisor"
	HistoryFile string // "" = none; absolute otherwise
	CtlTLS             // ca_file, certfile, keyfile (security.go)
}

// RPCInterface is one [rpcinterface:NAME] section.
type RPCInterface struct {
	Name    string // the XML-RPC namespace
	Factory string
	Extras  []shlex.KV // other keys, expanded, in order
}

// MainRPCInterfaceFactory is the factory that enables the supervisor.* namespace.
const MainRPCInterfaceFactory = "supervisor.rpcinterface:make_main_rpcinterface"

// GroupKind tells which section type made a group.
type GroupKind int

// Group kinds.
const (
	ProgramGroup GroupKind = iota
	EventListenerPool
	FCGIGroup
)

// Group is one process group.
type Group struct {
	Name      string
	Priority  int
	Kind      GroupKind
	Processes []*Process // the original's order: by (priority, name) per program section
	// Event listener pools.
	Events        []string // upper-cased event type names, first-seen order
	BufferSize    int
	ResultHandler string
	// FastCGI groups.
	Socket *FCGISocket
	// DependsOn is [group:x] depends_on (ours), as written; it is already
	// merged into each process's DependsOn, and kept for reread/update.
	DependsOn []string
}

// FCGISocket is an [fcgi-program:x] socket.
type FCGISocket struct {
	URL      string // "unix:///abs/path" or "tcp://host:port" (the identity compared on reread)
	Unix     bool
	Path     string
	Host     string
	Port     int
	Backlog  int // 0 = SOMAXCONN
	OwnerUID int // -1 = leave as created
	OwnerGID int
	Mode     int // unix only; default 0700
}

// Process is one process instance (numprocs expanded).
type Process struct {
	Name, Group, Program string // Program = section suffix
	Section              string // e.g. "program:x"
	File                 string // file the section came from
	Kind                 GroupKind
	Command              string // expanded, not split (split at spawn time)
	Directory            string // "" = none
	Umask                int    // -1 = inherit
	Priority             int
	Autostart            bool
	Autorestart          Autorestart
	Startsecs            int
	Startretries         int
	Stopwaitsecs         int
	Exitcodes            []int
	Stopsignal           syscall.Signal
	Stopasgroup          bool
	Killasgroup          bool
	RedirectStderr       bool
	User                 string // "" = none
	UID                  int    // -1 = none
	// Environment is what the child gets on top of supervisord's own
	// environment: [supervisord] environment updated with the program's
	// environment= (dict update: a key keeps its first position).
	Environment []shlex.KV
	Serverurl   string // "AUTO" (also when absent) = the daemon's own URL; "" = given empty
	Stdout      LogConfig
	Stderr      LogConfig

	// DirectoryEmpty: directory= was given with an empty value, which the
	// original keeps as '' rather than None: getAllConfigInfo shows '',
	// reread sees it differ from an absent key, and the original's child
	// fails its chdir('') and exits 127. Directory is "" either way.
	DirectoryEmpty bool

	Extensions // our own keys (extensions.go)
}

// LogConfig is one output channel's log settings.
type LogConfig struct {
	File            string // path; "" = none (NONE/OFF, or stderr with redirect_stderr)
	Auto            bool   // AUTO: <childlogdir>/<name>-<channel>---<identifier>-XXXXXXXX.log
	Syslog          bool
	MaxBytes        int64
	Backups         int
	CaptureMaxBytes int64
	EventsEnabled   bool

	// Empty: *_logfile= given with an empty value. Like NONE there is no
	// log, but the original keeps '' (not None): getAllConfigInfo shows '',
	// reread sees it differ from NONE, and redirect_stderr warns about it.
	Empty bool
}
