// Package shlex reproduces the two tokenizers the original supervisord gets
// from Python's shlex module: posix shlex.split for command lines, and the
// non-posix lexer behind datatypes.dict_of_key_value_pairs for environment=.
package shlex

import (
	"errors"
	"fmt"
	"strings"
)

// Errors raised by Python's shlex, with its texts.
var (
	ErrNoClosingQuotation = errors.New("No closing quotation")
	ErrNoEscapedCharacter = errors.New("No escaped character")
)

const (
	whitespace = " \t\r\n"
	quotes     = `'"`
)

// Split is Python's shlex.split(s) (posix=True, comments=False): quotes and
// backslashes are honoured, nothing is expanded.
func Split(s string) ([]string, error) {
	var out []string
	var tok strings.Builder
	// states: ' ' between tokens, 'a' in a word, '\'' or '"' inside quotes,
	// '\\' after a backslash (escaped remembers where to return to).
	state, escaped := byte(' '), byte(' ')
	quoted := false
	emit := func() {
		out = append(out, tok.String())
		tok.Reset()
		quoted = false
	}
	for i := 0; i <= len(s); i++ {
		eof := i == len(s)
		var c byte
		if !eof {
			c = s[i]
		}
		switch state {
		case ' ', 'a':
			switch {
			case eof:
				if tok.Len() > 0 || quoted {
					emit()
				}
				return out, nil
			case strings.IndexByte(whitespace, c) >= 0:
				if tok.Len() > 0 || quoted {
					emit()
				}
				state = ' '
			case c == '\\':
				escaped, state = 'a', '\\'
			case strings.IndexByte(quotes, c) >= 0:
				state = c
			default:
				tok.WriteByte(c)
				state = 'a'
			}
		case '\'', '"':
			quoted = true
			switch {
			case eof:
				return nil, ErrNoClosingQuotation
			case c == state:
				state = 'a'
			case c == '\\' && state == '"':
				escaped, state = state, '\\'
			default:
				tok.WriteByte(c)
			}
		case '\\':
			if eof {
				return nil, ErrNoEscapedCharacter
			}
			// Inside double quotes only the quote and the backslash are escapable.
			if escaped == '"' && c != '\\' && c != escaped {
				tok.WriteByte('\\')
			}
			tok.WriteByte(c)
			state = escaped
		}
	}
	return out, nil
}

// KV is one KEY=value pair of an environment= setting.
type KV struct {
	Key, Value string
}

// ParseEnvironment parses a KEY=val,KEY2="v 2" list the way supervisor's
// dict_of_key_value_pairs does (SPEC §2.10): a non-posix shlex token stream
// consumed four tokens at a time (key, "=", value, any separator). Order of
// first appearance is kept; a repeated key keeps its first position and takes
// the last value, like a Python dict.
func ParseEnvironment(raw string) ([]KV, error) {
	toks, err := envTokens(raw)
	if err != nil {
		return nil, err
	}
	var out []KV
	index := map[string]int{}
	for i := 0; i < len(toks); i += 4 {
		if len(toks)-i < 3 || toks[i+1] != "=" {
			return nil, fmt.Errorf("Unexpected end of key/value pairs in value '%s'", raw)
		}
		k, v := toks[i], strings.Trim(toks[i+2], `'"`)
		if j, ok := index[k]; ok {
			out[j].Value = v
			continue
		}
		index[k] = len(out)
		out = append(out, KV{Key: k, Value: v})
	}
	return out, nil
}

// envWordchar is shlex's default non-posix wordchars plus supervisor's "/.+-():".
func envWordchar(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("_/.+-():", r))
}

// envTokens is Python's non-posix shlex.shlex(raw) iteration: quotes stay in
// tokens, '#' starts a comment (to end of line), any other character that is
// neither a word character nor whitespace is a token of its own.
func envTokens(raw string) ([]string, error) {
	rs := []rune(raw)
	var out []string
	var tok []rune
	state := rune(' ')
	for i := 0; i <= len(rs); i++ {
		eof := i == len(rs)
		var c rune
		if !eof {
			c = rs[i]
		}
		// skipLine consumes through the next newline (shlex's readline()).
		skipLine := func() {
			j := i + 1
			for j < len(rs) && rs[j] != '\n' {
				j++
			}
			i = min(j, len(rs)-1)
		}
		switch state {
		case ' ':
			switch {
			case eof:
				return out, nil
			case strings.ContainsRune(whitespace, c):
			case c == '#':
				skipLine()
			case envWordchar(c):
				tok, state = []rune{c}, 'a'
			case c == '\'' || c == '"':
				tok, state = []rune{c}, c
			default:
				out = append(out, string(c))
			}
		case 'a':
			switch {
			case eof:
				return append(out, string(tok)), nil
			case strings.ContainsRune(whitespace, c):
				out, tok, state = append(out, string(tok)), nil, ' '
			case c == '#':
				// Non-posix shlex skips the rest of the line but stays inside the word.
				skipLine()
			case envWordchar(c) || c == '\'' || c == '"':
				tok = append(tok, c)
			default:
				// The character is pushed back and comes out as the next token.
				out = append(out, string(tok), string(c))
				tok, state = nil, ' '
			}
		default: // inside quotes
			switch {
			case eof:
				return nil, ErrNoClosingQuotation
			case c == state:
				out, tok, state = append(out, string(append(tok, c))), nil, ' '
			default:
				tok = append(tok, c)
			}
		}
	}
	return out, nil
}
