package daemon

import (
	"fmt"
	"strings"
)

// option is one parsed command-line option, named as the user wrote it
// ("-c" or "--configuration") the way Python's getopt reports it.
type option struct {
	Name  string
	Value string
}

// getopt reproduces Python's getopt.getopt: short options as in "c:hn"
// (a colon means an argument), long options as in "configuration=",
// unique-prefix matching of long options, parsing stops at the first
// non-option or after "--". Errors carry getopt's exact texts, which the
// original prints after "Error: ".
//
// ours are our own long options (same syntax). They are matched only by
// their full name and only where no option of long has that prefix, so
// that every abbreviation the original accepts or rejects stays as it was:
// --ch is still --childlogdir and --st still --strip_ansi, even though
// --check-config and --strict exist.
func getopt(args []string, short string, long, ours []string) ([]option, []string, error) {
	var opts []option
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			return opts, args[1:], nil
		}
		var err error
		if strings.HasPrefix(args[0], "--") {
			opts, args, err = getoptLong(opts, args[0][2:], args[1:], long, ours)
		} else {
			opts, args, err = getoptShort(opts, args[0][1:], args[1:], short)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if len(args) == 0 {
		args = nil
	}
	return opts, args, nil
}

func getoptLong(opts []option, opt string, rest []string, long, ours []string) ([]option, []string, error) {
	var value string
	hasValue := false
	if i := strings.IndexByte(opt, '='); i >= 0 {
		opt, value, hasValue = opt[:i], opt[i+1:], true
	}
	needsArg, name, err := longHasArgs(opt, long, ours)
	if err != nil {
		return nil, nil, err
	}
	if needsArg {
		if !hasValue {
			if len(rest) == 0 {
				return nil, nil, fmt.Errorf("option --%s requires argument", opt)
			}
			value, rest = rest[0], rest[1:]
		}
	} else if hasValue {
		return nil, nil, fmt.Errorf("option --%s must not have an argument", opt)
	}
	return append(opts, option{Name: "--" + name, Value: value}), rest, nil
}

func longHasArgs(opt string, long, ours []string) (bool, string, error) {
	var possible []string
	for _, o := range long {
		if strings.HasPrefix(o, opt) {
			possible = append(possible, o)
		}
	}
	if len(possible) == 0 {
		for _, o := range ours {
			if o == opt || o == opt+"=" {
				return o != opt, opt, nil
			}
		}
		return false, "", fmt.Errorf("option --%s not recognized", opt)
	}
	for _, o := range possible {
		if o == opt {
			return false, opt, nil
		}
		if o == opt+"=" {
			return true, opt, nil
		}
	}
	if len(possible) > 1 {
		return false, "", fmt.Errorf("option --%s not a unique prefix", opt)
	}
	match := possible[0]
	if strings.HasSuffix(match, "=") {
		return true, strings.TrimSuffix(match, "="), nil
	}
	return false, match, nil
}

func getoptShort(opts []option, chars string, rest []string, short string) ([]option, []string, error) {
	for chars != "" {
		c := chars[:1]
		chars = chars[1:]
		i := strings.Index(short, c)
		if c == ":" || i < 0 {
			return nil, nil, fmt.Errorf("option -%s not recognized", c)
		}
		if i+1 < len(short) && short[i+1] == ':' {
			if chars == "" {
				if len(rest) == 0 {
					return nil, nil, fmt.Errorf("option -%s requires argument", c)
				}
				chars, rest = rest[0], rest[1:]
			}
			opts = append(opts, option{Name: "-" + c, Value: chars})
			chars = ""
			continue
		}
		opts = append(opts, option{Name: "-" + c})
	}
	return opts, rest, nil
}
