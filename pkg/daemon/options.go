package daemon

import (
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// usageError is a command-line error: printed as the original does,
// "Error: <msg>\nFor help, use <argv0> -h", exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// Options is supervisord's parsed command line.
type Options struct {
	ConfigPath  string // -c; "" = search the default paths
	Overrides   config.SupervisordOverrides
	Help        bool // -h/-?: print the usage text
	Version     bool // -v or --version: print the original's version line
	VersionLong bool // --version: and then ours on a second line
	CheckConfig bool // --check-config: validate, describe, exit
	Strict      bool // --strict (with --check-config): any warning is exit status 1
}

// The original's option table (supervisor/options.py ServerOptions), in its
// order.
const shortOpts = "h?c:vnu:m:d:l:y:z:e:j:i:q:a:kts"

var longOpts = []string{
	"help", "configuration=", "version", "nodaemon", "user=", "umask=", "directory=",
	"logfile=", "logfile_maxbytes=", "logfile_backups=", "loglevel=", "pidfile=",
	"identifier=", "childlogdir=", "minfds=", "minprocs=", "nocleanup", "strip_ansi",
	"profile_options=", "silent",
}

// ourLongOpts are our own options, matched by full name only (see getopt).
var ourLongOpts = []string{"check-config", "strict"}

// optionNames maps every spelling to the setting it fills, so that giving
// one twice is "conflicting command line option".
var optionNames = map[string]string{
	"-c": "configuration", "--configuration": "configuration",
	"-n": "nodaemon", "--nodaemon": "nodaemon",
	"-u": "user", "--user": "user",
	"-m": "umask", "--umask": "umask",
	"-d": "directory", "--directory": "directory",
	"-l": "logfile", "--logfile": "logfile",
	"-y": "logfile_maxbytes", "--logfile_maxbytes": "logfile_maxbytes",
	"-z": "logfile_backups", "--logfile_backups": "logfile_backups",
	"-e": "loglevel", "--loglevel": "loglevel",
	"-j": "pidfile", "--pidfile": "pidfile",
	"-i": "identifier", "--identifier": "identifier",
	"-q": "childlogdir", "--childlogdir": "childlogdir",
	"-a": "minfds", "--minfds": "minfds",
	"--minprocs": "minprocs",
	"-k":         "nocleanup", "--nocleanup": "nocleanup",
	"-t": "strip_ansi", "--strip_ansi": "strip_ansi",
	"--profile_options": "profile_options",
	"-s":                "silent", "--silent": "silent",
	"--check-config": "check-config",
	"--strict":       "strict",
}

// ParseArgs parses supervisord's arguments (without argv[0]) as the
// original does: options are handled in order, -h and -v act at once, a
// bad value is "invalid value for -e 'foo': bad logging level name 'foo'".
func ParseArgs(args []string) (*Options, error) {
	opts, rest, err := getopt(args, shortOpts, longOpts, ourLongOpts)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	if len(rest) > 0 {
		return nil, &usageError{"positional arguments are not supported: " + pyfmt.ReprList(rest)}
	}
	o := &Options{}
	seen := map[string]bool{}
	t := true
	for _, opt := range opts {
		switch opt.Name {
		case "-h", "-?", "--help":
			o.Help = true
			return o, nil
		case "-v", "--version":
			o.Version, o.VersionLong = true, opt.Name == "--version"
			return o, nil
		}
		name := optionNames[opt.Name]
		if seen[name] {
			return nil, &usageError{"conflicting command line option " + pyfmt.Repr(opt.Name)}
		}
		seen[name] = true
		if err := o.set(name, opt.Value, &t); err != nil {
			return nil, &usageError{fmt.Sprintf("invalid value for %s %s: %v", opt.Name, pyfmt.Repr(opt.Value), err)}
		}
	}
	if o.Strict && !o.CheckConfig {
		return nil, &usageError{"--strict is only meaningful with --check-config"}
	}
	return o, nil
}

// set converts one option value with the original's datatype.
func (o *Options) set(name, v string, t *bool) error {
	ov := &o.Overrides
	switch name {
	case "configuration":
		o.ConfigPath = v
	case "check-config":
		o.CheckConfig = true
	case "strict":
		o.Strict = true
	case "nodaemon":
		ov.Nodaemon = t
	case "silent":
		ov.Silent = t
	case "nocleanup":
		ov.Nocleanup = t
	case "strip_ansi":
		ov.StripAnsi = t
	case "user":
		ov.User = &v
	case "identifier":
		ov.Identifier = &v
	case "profile_options":
		// The Python profiler has no equivalent here; accepted and ignored.
	case "umask":
		n, err := config.ParseOctal(v)
		if err != nil {
			return err
		}
		ov.Umask = &n
	case "directory", "childlogdir":
		dir, err := config.ExistingDirectory(v)
		if err != nil {
			return err
		}
		if name == "directory" {
			ov.Directory = &dir
		} else {
			ov.Childlogdir = &dir
		}
	case "logfile", "pidfile":
		path, err := config.ExistingDirpath(v)
		if err != nil {
			return err
		}
		if name == "logfile" {
			ov.Logfile = &path
		} else {
			ov.Pidfile = &path
		}
	case "logfile_maxbytes":
		n, err := config.ParseByteSize(v)
		if err != nil {
			return err
		}
		ov.LogfileMaxbytes = &n
	case "logfile_backups", "minfds", "minprocs":
		n, err := config.ParseInt(v)
		if err != nil {
			return err
		}
		switch name {
		case "logfile_backups":
			ov.LogfileBackups = &n
		case "minfds":
			ov.Minfds = &n
		default:
			ov.Minprocs = &n
		}
	case "loglevel":
		l, err := loglevel.Parse(v)
		if err != nil {
			return err
		}
		ov.Loglevel = &l
	default:
		return fmt.Errorf("unhandled option %s", name)
	}
	return nil
}

// usageText is printed by -h (the original prints its module docstring).
func usageText(argv0 string) string {
	return strings.ReplaceAll(`supervisord -- run a set of applications as daemons.

Usage: %s [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- accepted for compatibility and ignored
--check-config -- parse and validate the configuration, print every resolved
                  program and exit (0 if valid, 2 if not): for CI pipelines
--strict -- with --check-config: exit 1 if there is any warning
`, "%s", argv0)
}
