package ctl

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/version"
)

// DefaultServerURL is used when neither -s nor [supervisorctl] serverurl is given.
const DefaultServerURL = "http://localhost:9001"

// Settings is supervisorctl's view of a config file: the [supervisorctl]
// section. Empty strings mean "not set".
type Settings struct {
	ServerURL   string
	Username    string
	Password    string
	Prompt      string
	HistoryFile string
	TLS         config.CtlTLS // ca_file, certfile, keyfile for https:// (ours)
}

// ConfigSource finds and reads the config file. cmd/supervisorctl backs it
// with pkg/config; tests may pass their own.
type ConfigSource interface {
	// Find returns the first existing file of the default search list, or "".
	Find(argv0 string) string
	// Load reads path; the error's text is printed after "Error: " (e.g.
	// ".ini file does not include supervisorctl section").
	Load(path string) (Settings, error)
}

// Options is the outcome of the command line plus config file.
type Options struct {
	ServerURL   string
	Username    string
	Password    string
	Prompt      string
	HistoryFile string
	TLS         config.CtlTLS
	Interactive bool
	Args        []string // the command and its arguments, if any
	ConfigPath  string   // the -c file or the one found, "" for none (fleet reads its [remote:NAME])
}

// exitRequest ends the program during option parsing: a usage error (exit 2,
// text on stderr), -h or --version (exit 0, text on stdout).
type exitRequest struct {
	code int
	text string
}

func (e *exitRequest) Error() string { return e.text }

// optSpec is one getopt option of the original.
type optSpec struct {
	short   byte
	long    string
	hasArg  bool
	flagKey string // pflag flag name
}

func optSpecs() []optSpec {
	return []optSpec{
		{'h', "help", false, "help"},
		{'?', "", false, "help"},
		{'c', "configuration", true, "configuration"},
		{'i', "interactive", false, "interactive"},
		{'s', "serverurl", true, "serverurl"},
		{'u', "username", true, "username"},
		{'p', "password", true, "password"},
		{'r', "history_file", true, "history_file"},
		// Ours: the original has no --version (getopt rejects it with exit
		// 2); no short form, so -v stays the original's error and no long
		// option of the original loses a unique prefix.
		{0, "version", false, "version"},
	}
}

// parsedOpt is one option occurrence as typed, in order.
type parsedOpt struct {
	spelled string // "-s" or "--serverurl", for error messages
	spec    optSpec
	value   string
}

// getopt reproduces Python's getopt.getopt (not gnu_getopt): options stop at
// the first non-option word, "--" ends them, long options may be abbreviated
// to a unique prefix. It only splits; pflag then assigns the values.
func getopt(args []string) ([]parsedOpt, []string, error) {
	specs := optSpecs()
	var out []parsedOpt
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		if strings.HasPrefix(args[0], "--") {
			name, value, hasValue := strings.Cut(args[0][2:], "=")
			var matches []optSpec
			var exact *optSpec
			for i, s := range specs {
				if s.long != "" && strings.HasPrefix(s.long, name) {
					matches = append(matches, s)
					if s.long == name {
						exact = &specs[i]
					}
				}
			}
			if len(matches) == 0 {
				return nil, nil, fmt.Errorf("option --%s not recognized", name)
			}
			if exact == nil && len(matches) > 1 {
				return nil, nil, fmt.Errorf("option --%s not a unique prefix", name)
			}
			s := matches[0]
			if exact != nil {
				s = *exact
			}
			args = args[1:]
			if s.hasArg && !hasValue {
				if len(args) == 0 {
					return nil, nil, fmt.Errorf("option --%s requires argument", s.long)
				}
				value, args = args[0], args[1:]
			} else if !s.hasArg && hasValue {
				return nil, nil, fmt.Errorf("option --%s must not have an argument", s.long)
			}
			out = append(out, parsedOpt{spelled: "--" + s.long, spec: s, value: value})
			continue
		}
		word := args[0][1:]
		args = args[1:]
		for word != "" {
			c := word[0]
			word = word[1:]
			var spec *optSpec
			for i := range specs {
				if specs[i].short == c {
					spec = &specs[i]
				}
			}
			if spec == nil {
				return nil, nil, fmt.Errorf("option -%c not recognized", c)
			}
			value := ""
			if spec.hasArg {
				if word == "" {
					if len(args) == 0 {
						return nil, nil, fmt.Errorf("option -%c requires argument", c)
					}
					word, args = args[0], args[1:]
				}
				value, word = word, ""
			}
			out = append(out, parsedOpt{spelled: "-" + string(c), spec: *spec, value: value})
		}
	}
	return out, args, nil
}

// isPyURL is the original's url() check: a scheme plus a netloc or a path,
// as Python's urlparse splits them.
func isPyURL(v string) bool {
	colon := strings.IndexByte(v, ':')
	if colon <= 0 {
		return false
	}
	for i := 0; i < colon; i++ {
		c := v[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !(letter || (i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'))) {
			return false
		}
	}
	rest := v[colon+1:]
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:] // netloc followed by path: either being non-empty is enough
	}
	return rest != ""
}

// parseOptions turns argv (without the program name) into Options, reading
// the config file like the original's ClientOptions.realize.
func parseOptions(progname string, args []string, cfg ConfigSource) (*Options, error) {
	usage := func(msg string) error {
		return &exitRequest{code: 2, text: fmt.Sprintf("Error: %s\nFor help, use %s -h\n", msg, progname)}
	}
	parsed, rest, err := getopt(args)
	if err != nil {
		return nil, usage(err.Error())
	}

	fs := pflag.NewFlagSet(progname, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(false)
	fs.BoolP("help", "h", false, "print usage message and exit")
	fs.Bool("version", false, "print our release and the supervisor version we reproduce, and exit")
	configFile := fs.StringP("configuration", "c", "", "configuration file path")
	interactive := fs.BoolP("interactive", "i", false, "start an interactive shell after executing commands")
	serverURL := fs.StringP("serverurl", "s", "", "URL on which supervisord server is listening")
	username := fs.StringP("username", "u", "", "username to use for authentication with server")
	password := fs.StringP("password", "p", "", "password to use for authentication with server")
	history := fs.StringP("history_file", "r", "", "keep a readline history")

	// Feed pflag the options in canonical form; the callback applies the
	// original's per-option handling in command-line order.
	canon := make([]string, 0, len(parsed))
	for _, p := range parsed {
		if p.spec.hasArg {
			canon = append(canon, "--"+p.spec.flagKey+"="+p.value)
		} else {
			canon = append(canon, "--"+p.spec.flagKey)
		}
	}
	seen := map[string]bool{}
	i := 0
	errHelp, errVersion := errors.New("help"), errors.New("version")
	err = fs.ParseAll(canon, func(f *pflag.Flag, value string) error {
		p := parsed[i]
		i++
		// Like -h, --version acts when the original's option loop reaches
		// it: an earlier bad option value is reported first.
		switch f.Name {
		case "help":
			return errHelp
		case "version":
			return errVersion
		}
		if f.Name == "serverurl" && !isPyURL(value) {
			return usage(fmt.Sprintf("invalid value for %s %s: value %s is not a URL",
				p.spelled, pyfmt.Repr(value), pyfmt.Repr(value)))
		}
		if seen[f.Name] {
			return usage(fmt.Sprintf("conflicting command line option %s", pyfmt.Repr(p.spelled)))
		}
		seen[f.Name] = true
		return fs.Set(f.Name, value)
	})
	if errors.Is(err, errHelp) {
		return nil, &exitRequest{code: 0, text: strings.ReplaceAll(usageText, "%s", progname)}
	}
	if errors.Is(err, errVersion) {
		return nil, &exitRequest{code: 0, text: version.String() + "\n"}
	}
	var ex *exitRequest
	if errors.As(err, &ex) {
		return nil, ex
	}
	if err != nil {
		return nil, usage(err.Error())
	}

	var settings Settings
	path := *configFile
	if path == "" && cfg != nil {
		path = cfg.Find(progname)
	}
	if path != "" {
		if cfg == nil {
			return nil, usage("could not find config file " + path)
		}
		settings, err = cfg.Load(path)
		if err != nil {
			return nil, usage(err.Error())
		}
	}

	o := &Options{
		ServerURL:   firstNonEmpty(*serverURL, settings.ServerURL, DefaultServerURL),
		Username:    firstNonEmpty(*username, settings.Username),
		Password:    firstNonEmpty(*password, settings.Password),
		Prompt:      firstNonEmpty(settings.Prompt, "supervisor"),
		HistoryFile: firstNonEmpty(*history, settings.HistoryFile),
		TLS:         settings.TLS,
		Interactive: *interactive || len(rest) == 0,
		Args:        rest,
		ConfigPath:  path,
	}
	return o, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// usageText is printed by -h: the original's module docstring plus the
// newline its Options.help adds, byte for byte (scripts and the upstream
// tests match it); %s becomes the program name.
const usageText = `supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.

`
