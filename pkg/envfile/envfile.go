// Package envfile reads environment files (EXTENSIONS.md §4), the dotenv
// dialect systemd's EnvironmentFile= and docker compose's env_file share:
//
//	# a comment
//	KEY=value            # unquoted: trimmed, " #" starts a comment
//	export KEY=value     # "export " is ignored
//	KEY='literal $ \n'   # single quotes: nothing is special
//	KEY="a\nb \"q\" \\"  # double quotes: \n \r \t \" \\ \$ escapes
//	KEY="line one
//	line two"            # quoted values may span lines
//	KEY=                 # empty
//
// There is no variable interpolation: "$X" is two literal characters. A
// later line for the same name replaces the value (the name keeps its first
// position). Any other line is an error naming its line.
package envfile

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

// SyntaxError is a line that is not a dotenv line.
type SyntaxError struct {
	File   string // "" when parsed from bytes
	Line   int    // 1-based line where the entry starts
	Reason string
}

func (e *SyntaxError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// Read reads and parses the file at path. A failure to open or read it is
// the *fs.PathError of os.ReadFile (errors.Is(err, fs.ErrNotExist) for a
// missing file); a bad line is a *SyntaxError naming path and line.
func Read(path string) ([]shlex.KV, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	kvs, err := Parse(b)
	if se, ok := err.(*SyntaxError); ok {
		se.File = path
	}
	return kvs, err
}

// Parse parses the contents of an environment file.
func Parse(data []byte) ([]shlex.KV, error) {
	p := &parser{src: string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))), line: 1}
	var out []shlex.KV
	index := map[string]int{}
	for {
		key, value, ok, err := p.entry()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		if i, dup := index[key]; dup {
			out[i].Value = value
			continue
		}
		index[key] = len(out)
		out = append(out, shlex.KV{Key: key, Value: value})
	}
}

type parser struct {
	src  string
	pos  int
	line int // line of pos
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{Line: line, Reason: fmt.Sprintf(format, args...)}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

func (p *parser) skipBlanks() {
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

// restOfLine consumes up to and including the next newline.
func (p *parser) restOfLine() string {
	s := p.src[p.pos:]
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		p.pos = len(p.src)
		return s
	}
	p.pos += i + 1
	p.line++
	return s[:i]
}

// entry reads the next KEY=VALUE, skipping blank and comment lines;
// ok=false at the end of the input.
func (p *parser) entry() (key, value string, ok bool, err error) {
	for {
		if p.pos >= len(p.src) {
			return "", "", false, nil
		}
		p.skipBlanks()
		if p.pos >= len(p.src) {
			return "", "", false, nil
		}
		if c := p.src[p.pos]; c == '\n' || c == '#' {
			p.restOfLine()
			continue
		}
		break
	}
	start := p.line
	key = p.name()
	if key == "export" && p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.skipBlanks()
		if key = p.name(); key == "" {
			return "", "", false, p.errorf(start, "no variable name after 'export'")
		}
	}
	if key == "" {
		return "", "", false, p.errorf(start, "expected NAME=VALUE, not %q", p.peekLine())
	}
	p.skipBlanks()
	if p.pos >= len(p.src) || p.src[p.pos] != '=' {
		return "", "", false, p.errorf(start, "expected '=' after %s, not %q", key, p.peekLine())
	}
	p.pos++
	eq := p.pos
	p.skipBlanks()
	if p.pos > eq && p.pos < len(p.src) && p.src[p.pos] == '#' {
		p.restOfLine() // "KEY= # comment": empty
		return key, "", true, nil
	}
	if value, err = p.value(start); err != nil {
		return "", "", false, err
	}
	if strings.IndexByte(value, 0) >= 0 {
		return "", "", false, p.errorf(start, "the value of %s contains a NUL byte", key)
	}
	return key, value, true, nil
}

// peekLine is what is left of the current line, for messages.
func (p *parser) peekLine() string {
	s := p.src[p.pos:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, "\r")
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// name reads [A-Za-z_][A-Za-z0-9_.]* ("" if there is none).
func (p *parser) name() string {
	i := p.pos
	for i < len(p.src) {
		c := p.src[i]
		letter := c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if !letter && (i == p.pos || !(c >= '0' && c <= '9' || c == '.')) {
			break
		}
		i++
	}
	s := p.src[p.pos:i]
	p.pos = i
	return s
}

func (p *parser) value(start int) (string, error) {
	if p.pos >= len(p.src) {
		return "", nil
	}
	var v string
	switch q := p.src[p.pos]; q {
	case '\'', '"':
		p.pos++
		var b strings.Builder
		for {
			if p.pos >= len(p.src) {
				return "", p.errorf(start, "unterminated %c-quoted value", q)
			}
			c := p.src[p.pos]
			p.pos++
			switch {
			case c == q:
				goto closed
			case c == '\n':
				p.line++
			case c == '\\' && q == '"' && p.pos < len(p.src):
				e := p.src[p.pos]
				p.pos++
				switch e {
				case 'n':
					c = '\n'
				case 'r':
					c = '\r'
				case 't':
					c = '\t'
				case '"', '\\', '$':
					c = e
				case '\n':
					// A backslash at the end of a line continues the value
					// without the newline, as in a shell.
					p.line++
					continue
				default:
					b.WriteByte('\\')
					c = e
				}
			}
			b.WriteByte(c)
		}
	closed:
		v = b.String()
		p.skipBlanks()
		if p.pos < len(p.src) && p.src[p.pos] != '\n' && p.src[p.pos] != '#' {
			return "", p.errorf(p.line, "unexpected %q after the closing quote", p.peekLine())
		}
		p.restOfLine()
		return v, nil
	}
	line := strings.TrimRight(p.restOfLine(), "\r")
	// " #" (or a tab) starts a comment; a '#' inside a word does not.
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && i > 0 && isBlank(line[i-1]) {
			line = line[:i]
			break
		}
	}
	return strings.TrimRightFunc(line, func(r rune) bool { return r < 0x80 && isBlank(byte(r)) }), nil
}
