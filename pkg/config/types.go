package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/sig"
)

// The value converters below mirror supervisor.datatypes, error texts
// included. They are exported where the command line needs the same checks
// (supervisord -e/-m/-y/... report "invalid value for -e 'foo': <text>").

// pyIsSpace is Python's str.isspace() for one rune.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// pyInt is Python's int(s) for base 10 or 8 where the value fits in 64
// bits (see pyIntRange).
func pyInt(s string, base int) (int64, bool) {
	n, st := pyIntRange(s, base)
	return n, st == intOK
}

// Results of pyIntRange.
const (
	intOK       = iota
	intSyntax   // Python's int() refuses it
	intOverflow // a valid Python int that does not fit in 64 bits
)

// pyIntRange is Python's int(s) for base 10 or 8: surrounding whitespace,
// a sign, single underscores between digits; base 8 also takes a 0o prefix.
// Python's ints have no size limit, so a valid literal beyond int64 is
// intOverflow rather than a syntax error.
func pyIntRange(s string, base int) (int64, int) {
	t := pyStrip(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if base == 8 && len(t) > 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O') {
		t = strings.TrimPrefix(t[2:], "_")
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, intSyntax
	}
	digits := strings.ReplaceAll(t, "_", "")
	if neg {
		digits = "-" + digits
	}
	n, err := strconv.ParseInt(digits, base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, intOverflow
		}
		return 0, intSyntax
	}
	return n, intOK
}

// RangeError is a value the original accepts (Python's integers have no
// size limit) that does not fit in 64 bits.
type RangeError struct {
	Value string // as written, surrounding whitespace removed
	Neg   bool
}

func (e *RangeError) Error() string { return fmt.Sprintf("value %s is out of range", e.Value) }

func rangeErr(s string) *RangeError {
	v := pyStrip(s)
	return &RangeError{Value: v, Neg: strings.HasPrefix(v, "-")}
}

// overflow returns err's *RangeError, if it is one.
func overflow(err error) (*RangeError, bool) {
	var re *RangeError
	ok := errors.As(err, &re)
	return re, ok
}

// ParseInt is supervisor's integer(): Python int() with its error text,
// and a *RangeError for a number beyond 64 bits.
func ParseInt(s string) (int, error) {
	n, st := pyIntRange(s, 10)
	switch st {
	case intSyntax:
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", pyfmt.Repr(s))
	case intOverflow:
		return 0, rangeErr(s)
	}
	return int(n), nil
}

// ParseBool is supervisor's boolean().
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a valid boolean value: %s", pyfmt.Repr(s))
}

// ParseByteSize is supervisor's byte_size(): an int with an optional
// kb/mb/gb suffix (case-insensitive). A size beyond 64 bits, the suffix's
// multiple included, is a *RangeError.
func ParseByteSize(s string) (int64, error) {
	v := strings.ToLower(s)
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"kb", 1024}, {"mb", 1024 * 1024}, {"gb", 1024 * 1024 * 1024}} {
		if strings.HasSuffix(v, suf.s) {
			v, mult = v[:len(v)-2], suf.m
			break
		}
	}
	n, st := pyIntRange(v, 10)
	switch {
	case st == intSyntax:
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", pyfmt.Repr(v))
	case st == intOverflow, n > math.MaxInt64/mult, n < math.MinInt64/mult:
		return 0, rangeErr(s)
	}
	return n * mult, nil
}

// ParseOctal is supervisor's octal_type(), with a *RangeError for a number
// beyond 64 bits.
func ParseOctal(s string) (int, error) {
	n, st := pyIntRange(s, 8)
	switch st {
	case intSyntax:
		return 0, fmt.Errorf("%s can not be converted to an octal type", s)
	case intOverflow:
		return 0, rangeErr(s)
	}
	return int(n), nil
}

// MaxSocketMode is the largest socket permission (chmod, socket_mode) we
// accept: the original takes any integer, so "-1" or "777777777777" gave a
// socket mode with every bit set and 07777 set-id bits on the socket.
const MaxSocketMode = 0o777

// parseSocketMode is octal_type() limited to 0–0777; any failure is the
// caller's "Invalid <key> value %s".
func parseSocketMode(s string) (int, error) {
	n, err := ParseOctal(s)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > MaxSocketMode {
		return 0, fmt.Errorf("%s is outside 0-0777", s)
	}
	return n, nil
}

// Autorestart is a program's autorestart policy.
type Autorestart int

// Autorestart policies.
const (
	AutorestartNever Autorestart = iota
	AutorestartUnexpected
	AutorestartAlways
)

func (a Autorestart) String() string {
	return [...]string{"false", "unexpected", "true"}[a]
}

func parseAutorestart(s string) (Autorestart, error) {
	v := strings.ToLower(s)
	if b, err := ParseBool(v); err == nil {
		if b {
			return AutorestartAlways, nil
		}
		return AutorestartNever, nil
	}
	if v == "unexpected" {
		return AutorestartUnexpected, nil
	}
	return 0, fmt.Errorf("invalid 'autorestart' value %s", pyfmt.Repr(v))
}

func parseExitcodes(s string) ([]int, error) {
	if s == "" {
		return []int{}, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, ok := pyInt(part, 10)
		if !ok || n < 0 || n > 255 {
			return nil, fmt.Errorf("not a valid list of exit codes: %s", pyfmt.Repr(s))
		}
		out = append(out, int(n))
	}
	return out, nil
}

// parseSignal is signal_number(); a number beyond 64 bits is, as in the
// original, not a valid signal number (sig.Parse would try it as a name).
func parseSignal(s string) (syscall.Signal, error) {
	if _, st := pyIntRange(s, 10); st == intOverflow {
		return 0, fmt.Errorf("value %s is not a valid signal number", pyfmt.Repr(s))
	}
	return sig.Parse(s)
}

// pyIntString is str(int(s)) for a valid base-10 literal: no whitespace,
// underscores, plus sign or leading zeros.
func pyIntString(s string) string {
	t := strings.ReplaceAll(pyStrip(s), "_", "")
	sign := ""
	if t != "" && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = "-"
		}
		t = t[1:]
	}
	t = strings.TrimLeft(t, "0")
	if t == "" {
		return "0"
	}
	return sign + t
}

// ValidName is supervisor's process_or_group_name(): trimmed, and no space,
// colon or slash.
func ValidName(name string) (string, error) {
	s := pyStrip(name)
	for _, c := range []string{" ", ":", "/"} {
		if strings.Contains(s, c) {
			return "", fmt.Errorf("Invalid name: %s because of character: %s", pyfmt.Repr(name), pyfmt.Repr(c))
		}
	}
	return s, nil
}

// expandUser is os.path.expanduser for "~" and "~user" prefixes, with
// supervisord's own $HOME.
func expandUser(p string) string { return expandUserHome(p, os.Getenv("HOME")) }

// expandUserHome is expandUser with $HOME given ("" = look the user up).
func expandUserHome(p, envHome string) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	i := strings.IndexByte(p, '/')
	if i < 0 {
		i = len(p)
	}
	var home string
	if i == 1 {
		home = envHome
		if home == "" {
			if u, err := user.Current(); err == nil {
				home = u.HomeDir
			}
		}
	} else if u, err := user.Lookup(p[1:i]); err == nil {
		home = u.HomeDir
	}
	if home == "" {
		return p
	}
	return strings.TrimSuffix(home, "/") + p[i:]
}

// ExistingDirectory is supervisor's existing_directory().
func ExistingDirectory(v string) (string, error) { return existingDirectory(v, os.Getenv("HOME")) }

func existingDirectory(v, home string) (string, error) {
	nv := expandUserHome(v, home)
	if st, err := os.Stat(nv); err == nil && st.IsDir() {
		return nv, nil
	}
	return "", fmt.Errorf("%s is not an existing directory", v)
}

// ExistingDirpath is supervisor's existing_dirpath(): the file's directory
// must exist (a bare file name is accepted as is).
func ExistingDirpath(v string) (string, error) { return existingDirpath(v, os.Getenv("HOME")) }

func existingDirpath(v, home string) (string, error) {
	nv := expandUserHome(v, home)
	dir := pyDirname(nv)
	if dir == "" {
		return nv, nil
	}
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nv, nil
	}
	return "", fmt.Errorf("The directory named as part of the path %s does not exist", v)
}

// pyDirname is os.path.dirname: everything before the last slash, with
// trailing slashes removed unless it is all slashes.
func pyDirname(p string) string {
	i := strings.LastIndexByte(p, '/') + 1
	head := p[:i]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

// NormalizePath is supervisor's normalize_path(): expanduser, abspath, normpath.
func NormalizePath(v string) string { return normalizePath(v, os.Getenv("HOME")) }

func normalizePath(v, home string) string {
	p := expandUserHome(v, home)
	if !filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			p = filepath.Join(wd, p)
		}
	}
	p = filepath.Clean(p)
	// normpath keeps a leading double slash (POSIX allows it to mean something else).
	if strings.HasPrefix(v, "//") && !strings.HasPrefix(v, "///") {
		p = "/" + p
	}
	return p
}

// LookupUID is supervisor's name_to_uid(): a user name or a numeric id that exists.
func LookupUID(name string) (int, error) {
	n, st := pyIntRange(name, 10)
	if st == intOverflow {
		return 0, fmt.Errorf("Invalid user id %s", name)
	}
	if st == intOK {
		if _, err := user.LookupId(strconv.FormatInt(n, 10)); err != nil {
			return 0, fmt.Errorf("Invalid user id %s", name)
		}
		return int(n), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("Invalid user name %s", name)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid, nil
}

// lookupGID is supervisor's name_to_gid().
func lookupGID(name string) (int, error) {
	n, st := pyIntRange(name, 10)
	if st == intOverflow {
		return 0, fmt.Errorf("Invalid group id %s", name)
	}
	if st == intOK {
		if _, err := user.LookupGroupId(strconv.FormatInt(n, 10)); err != nil {
			return 0, fmt.Errorf("Invalid group id %s", name)
		}
		return int(n), nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("Invalid group name %s", name)
	}
	gid, _ := strconv.Atoi(g.Gid)
	return gid, nil
}

// GIDForUID is supervisor's gid_for_uid(): the user's primary group.
func GIDForUID(uid int) (int, error) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return 0, fmt.Errorf("Invalid user id %d", uid)
	}
	gid, _ := strconv.Atoi(u.Gid)
	return gid, nil
}

// parseUserGroup is colon_separated_user_group(): "user[:group]" → uid, gid (-1 if absent).
func parseUserGroup(arg string) (uid, gid int, err error) {
	name, group, hasGroup := strings.Cut(arg, ":")
	uid, err = LookupUID(name)
	gid = -1
	if err == nil && hasGroup {
		gid, err = lookupGID(group)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("Invalid user:group definition %s", arg)
	}
	return uid, gid, nil
}

func portNumber(s string) (int, error) {
	n, err := ParseInt(s)
	if re, ok := overflow(err); ok {
		if re.Neg {
			return 0, fmt.Errorf("%s is below lower bound (1)", pyIntString(re.Value))
		}
		return 0, fmt.Errorf("%s is above upper bound (65535)", pyIntString(re.Value))
	}
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("%d is below lower bound (1)", n)
	}
	if n > 0xffff {
		return 0, fmt.Errorf("%d is above upper bound (65535)", n)
	}
	return n, nil
}

// parseInetAddress is inet_address(): "port", "host:port", "*:port", ":port".
func parseInetAddress(s string) (host string, port int, err error) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, p := s[:i], s[i+1:]
		if p == "" {
			return "", 0, fmt.Errorf("no port number specified in %s", pyfmt.Repr(p))
		}
		if port, err = portNumber(p); err != nil {
			return "", 0, err
		}
		host = strings.ToLower(host)
		if host == "*" {
			host = ""
		}
		return host, port, nil
	}
	if port, err = portNumber(s); err != nil {
		return "", 0, fmt.Errorf("not a valid port number: %s ", pyfmt.Repr(s))
	}
	return "", port, nil
}
