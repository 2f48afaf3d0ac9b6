package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// expansions is the mapping a value is %-formatted with. Values are strings,
// except process_num and numprocs which are Python ints (so %(process_num)02d
// works). Insertion order is kept because a bare "%s" formats the whole
// mapping, as Python's dict repr.
type expansions struct {
	keys []string
	vals map[string]any
}

func newExpansions() *expansions { return &expansions{vals: map[string]any{}} }

func (e *expansions) set(k string, v any) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

// with returns a copy of e updated with o (Python's dict(a + b)).
func (e *expansions) with(o *expansions) *expansions {
	n := newExpansions()
	for _, src := range []*expansions{e, o} {
		if src == nil {
			continue
		}
		for _, k := range src.keys {
			n.set(k, src.vals[k])
		}
	}
	return n
}

func (e *expansions) clone() *expansions { return e.with(nil) }

func (e *expansions) sortedNames() []string {
	names := append([]string(nil), e.keys...)
	sort.Strings(names)
	return names
}

// repr is Python's repr() of the mapping.
func (e *expansions) repr() string {
	parts := make([]string, len(e.keys))
	for i, k := range e.keys {
		parts[i] = pyfmt.Repr(k) + ": " + reprValue(e.vals[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func reprValue(v any) string {
	if n, ok := v.(int); ok {
		return strconv.Itoa(n)
	}
	return pyfmt.Repr(v.(string))
}

// expand is supervisor's expand(): Python's `s % expansions` with its two
// error texts. name is the "section.key" (or bare key) the original names.
func expand(s string, exp *expansions, name string) (string, error) {
	out, err := percentFormat(s, exp)
	if err == nil {
		return out, nil
	}
	if ke, ok := err.(keyError); ok {
		return "", fmt.Errorf("Format string %s for %s contains names (%s) which cannot be expanded. Available names: %s",
			pyfmt.Repr(s), pyfmt.Repr(name), pyfmt.Repr(string(ke)), strings.Join(exp.sortedNames(), ", "))
	}
	return "", fmt.Errorf("Format string %s for %s is badly formatted: %s", pyfmt.Repr(s), pyfmt.Repr(name), err.Error())
}

const maxWidth = 1 << 20

type keyError string

func (k keyError) Error() string { return "KeyError: " + string(k) }

type formatError string

func (f formatError) Error() string { return string(f) }

// percentFormat implements CPython's str % mapping (PyUnicode_Format) for the
// value types we have (str, int, and the mapping itself for unnamed specs).
func percentFormat(format string, exp *expansions) (string, error) {
	rs := []rune(format)
	var b strings.Builder
	usedMapping := false // an unnamed spec consumes the mapping once
	for i := 0; i < len(rs); {
		if rs[i] != '%' {
			b.WriteRune(rs[i])
			i++
			continue
		}
		i++
		if i >= len(rs) {
			return "", formatError("incomplete format")
		}
		var arg any
		haveArg := false
		if rs[i] == '(' {
			depth := 1
			j := i + 1
			for ; j < len(rs) && depth > 0; j++ {
				switch rs[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			if depth > 0 {
				return "", formatError("incomplete format key")
			}
			key := string(rs[i+1 : j-1])
			v, ok := exp.vals[key]
			if !ok {
				return "", keyError(key)
			}
			arg, haveArg = v, true
			i = j
		}
		nextArg := func() (any, error) {
			if haveArg {
				return arg, nil
			}
			if usedMapping {
				return nil, formatError("not enough arguments for format string")
			}
			usedMapping = true
			return exp, nil
		}
		var flags string
		for i < len(rs) && strings.ContainsRune("-+ #0", rs[i]) {
			flags += string(rs[i])
			i++
		}
		width, prec := -1, -1
		if i < len(rs) && rs[i] == '*' {
			v, err := nextArg()
			if err != nil {
				return "", err
			}
			n, ok := v.(int)
			if !ok {
				return "", formatError("* wants int")
			}
			width = min(n, maxWidth)
			if n < 0 {
				flags += "-"
				width = -n
			}
			i++
		} else {
			for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
				width = max(width, 0)*10 + int(rs[i]-'0')
				// Python allows widths up to sys.maxsize; we refuse past 1 MiB
				// rather than build gigantic strings (its text for the overflow).
				if width > maxWidth {
					return "", formatError("width too big")
				}
				i++
			}
		}
		if i < len(rs) && rs[i] == '.' {
			i++
			prec = 0
			if i < len(rs) && rs[i] == '*' {
				v, err := nextArg()
				if err != nil {
					return "", err
				}
				n, ok := v.(int)
				if !ok {
					return "", formatError("* wants int")
				}
				prec = min(max(n, 0), maxWidth)
				i++
			} else {
				for i < len(rs) && rs[i] >= '0' && rs[i] <= '9' {
					prec = prec*10 + int(rs[i]-'0')
					if prec > maxWidth {
						return "", formatError("precision too big")
					}
					i++
				}
			}
		}
		if i < len(rs) && strings.ContainsRune("hlL", rs[i]) {
			i++
		}
		if i >= len(rs) {
			return "", formatError("incomplete format")
		}
		c := rs[i]
		i++
		if c == '%' {
			b.WriteByte('%')
			continue
		}
		v, err := nextArg()
		if err != nil {
			return "", err
		}
		s, err := formatOne(c, v, flags, prec, i-1)
		if err != nil {
			return "", err
		}
		b.WriteString(pad(s, flags, width, c))
	}
	return b.String(), nil
}

func typeName(v any) string {
	switch v.(type) {
	case int:
		return "int"
	case string:
		return "str"
	}
	return "dict"
}

func formatOne(c rune, v any, flags string, prec, index int) (string, error) {
	switch c {
	case 's', 'r', 'a':
		var s string
		switch x := v.(type) {
		case int:
			s = strconv.Itoa(x)
		case string:
			s = x
			if c != 's' {
				s = pyfmt.Repr(x)
			}
		case *expansions:
			s = x.repr()
		}
		if prec >= 0 && utf8.RuneCountInString(s) > prec {
			s = string([]rune(s)[:prec])
		}
		return s, nil
	case 'd', 'i', 'u', 'o', 'x', 'X':
		n, ok := v.(int)
		if !ok {
			if c == 'o' || c == 'x' || c == 'X' {
				return "", formatError(fmt.Sprintf("%%%c format: an integer is required, not %s", c, typeName(v)))
			}
			return "", formatError(fmt.Sprintf("%%%c format: a real number is required, not %s", c, typeName(v)))
		}
		neg := n < 0
		if neg {
			n = -n
		}
		var digits, prefix string
		switch c {
		case 'o':
			digits, prefix = strconv.FormatInt(int64(n), 8), "0o"
		case 'x':
			digits, prefix = strconv.FormatInt(int64(n), 16), "0x"
		case 'X':
			digits, prefix = strings.ToUpper(strconv.FormatInt(int64(n), 16)), "0X"
		default:
			digits = strconv.Itoa(n)
		}
		for prec > len(digits) {
			digits = "0" + digits
		}
		if strings.Contains(flags, "#") && prefix != "" {
			digits = prefix + digits
		}
		switch {
		case neg:
			digits = "-" + digits
		case strings.Contains(flags, "+"):
			digits = "+" + digits
		case strings.Contains(flags, " "):
			digits = " " + digits
		}
		return digits, nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		n, ok := v.(int)
		if !ok {
			return "", formatError(fmt.Sprintf("must be real number, not %s", typeName(v)))
		}
		if prec < 0 {
			prec = 6
		}
		s := strconv.FormatFloat(float64(n), byte(c|0x20), prec, 64)
		if c >= 'A' && c <= 'Z' {
			s = strings.ToUpper(s)
		}
		if n >= 0 && strings.Contains(flags, "+") {
			s = "+" + s
		} else if n >= 0 && strings.Contains(flags, " ") {
			s = " " + s
		}
		return s, nil
	case 'c':
		switch x := v.(type) {
		case int:
			if x < 0 || x > 0x10ffff {
				return "", formatError("%c arg not in range(0x110000)")
			}
			return string(rune(x)), nil
		case string:
			if utf8.RuneCountInString(x) == 1 {
				return x, nil
			}
		}
		return "", formatError("%c requires int or char")
	}
	return "", formatError(fmt.Sprintf("unsupported format character %s (0x%x) at index %d", pyfmt.Repr(string(c)), c, index))
}

// pad applies width with Python's rules: '-' left-justifies, '0' zero-fills
// numbers after their sign/prefix.
func pad(s, flags string, width int, c rune) string {
	n := utf8.RuneCountInString(s)
	if width <= n {
		return s
	}
	fill := width - n
	if strings.Contains(flags, "-") {
		return s + strings.Repeat(" ", fill)
	}
	numeric := strings.ContainsRune("diuoxXeEfFgG", c)
	if strings.Contains(flags, "0") && numeric {
		lead := 0
		if len(s) > 0 && strings.ContainsRune("+- ", rune(s[0])) {
			lead = 1
		}
		if strings.HasPrefix(s[lead:], "0x") || strings.HasPrefix(s[lead:], "0X") || strings.HasPrefix(s[lead:], "0o") {
			lead += 2
		}
		return s[:lead] + strings.Repeat("0", fill) + s[lead:]
	}
	return strings.Repeat(" ", fill) + s
}
