package sdexport

import (
	"fmt"
	"strings"
)

// Values in a unit file go through systemd's parsers: specifiers (%x) are
// expanded in every value below, ExecStart= also expands $VAR and splits
// words with C-style quoting, Environment= unquotes its assignments. A
// value is written so that systemd reads back exactly the config's text.

// specifiers doubles '%', which systemd expands in every value we write.
func specifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// plain is a value systemd takes as the rest of the line (paths, names).
// A newline would end it and a trailing backslash continue it, so such a
// value cannot be written at all.
func plain(key, v string) (string, error) {
	if strings.ContainsAny(v, "\n\r\x00") || strings.HasSuffix(v, `\`) {
		return "", fmt.Errorf("%s value %q cannot be written in a unit file", key, v)
	}
	return specifiers(v), nil
}

// safeWord: characters that need no quoting in an ExecStart= word.
func safeWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("/._,:=+@-", r)
		if !ok {
			return false
		}
	}
	return true
}

// cQuote is s in double quotes with the C escapes systemd's unquoting
// undoes; control characters become \xNN.
func cQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// execWord is one ExecStart= word: quoted unless plain, with '%' and '$'
// doubled (systemd expands both in command lines).
func execWord(s string) string {
	if !safeWord(s) {
		s = cQuote(s)
	}
	return strings.ReplaceAll(specifiers(s), "$", "$$")
}

// execLine is ExecStart='s value for the resolved file and argv. When
// argv[0] is not the file (a name found on PATH), systemd's '@' prefix
// keeps argv[0] as the original passes it.
func execLine(file string, argv []string) string {
	words := make([]string, 0, len(argv)+1)
	if argv[0] != file {
		words = append(words, "@"+execWord(file), execWord(argv[0]))
	} else {
		words = append(words, execWord(file))
	}
	for _, a := range argv[1:] {
		words = append(words, execWord(a))
	}
	return strings.Join(words, " ")
}

// envAssignment is one Environment= value.
func envAssignment(key, value string) string { return specifiers(cQuote(key + "=" + value)) }

// validEnvName is systemd's env_name_is_valid: systemd ignores (with a
// warning) an assignment whose name has other characters.
func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
