package config

import (
	"fmt"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"gopkg.in/ini.v1"
)

// rawConfig is Python's RawConfigParser(strict=False, inline_comment_prefixes
// (';', '#')) as supervisor's UnhosedConfigParser uses it, stored in an
// ini.v1 File. ini.v1's own reader differs from configparser on inline
// comments, indented comment lines, blank lines inside values, continuation
// indentation and error reporting, so lines are read here with
// configparser's algorithm and only the resulting sections and keys go into
// ini.v1 (always read back with Key.Value(), which does no interpolation).
type rawConfig struct {
	f *ini.File
	// sectionFile maps a section to the included file that created it
	// (UnhosedConfigParser.section_to_file); main-file sections are absent.
	sectionFile map[string]string
	// ownKeys are the keys each section was given in a file, in order, for
	// the unknown-key warnings ([DEFAULT] keys and expand_here copies excluded).
	ownKeys map[string][]string
	// headers are where each section's header lines are, in reading order,
	// and headerOrder the sections by first header: configparser(strict=
	// False) merges a repeated section silently, we warn about it.
	headers     map[string][]sourceLine
	headerOrder []string
}

// sourceLine is a line of a config file, the file named as read() was told.
type sourceLine struct {
	file string
	line int
}

const defaultSection = "DEFAULT" // configparser's default_section, and ini.v1's

func newRawConfig() *rawConfig {
	f := ini.Empty(ini.LoadOptions{
		AllowPythonMultilineValues: true,
		PreserveSurroundedQuote:    true,
		IgnoreContinuation:         true,
		SpaceBeforeInlineComment:   true,
		InsensitiveKeys:            true,
		KeyValueDelimiters:         "=:",
		// "[program:app.v2]" must not inherit keys from "[program:app]".
		ChildSectionDelimiter: "\x00",
	})
	return &rawConfig{f: f, sectionFile: map[string]string{}, ownKeys: map[string][]string{},
		headers: map[string][]sourceLine{}}
}

// parseError is configparser's ParsingError / MissingSectionHeaderError text.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

// read parses one file's text into the config; fpname is the name used in
// error texts. Later sections and keys of the same name merge, last wins.
func (c *rawConfig) read(text, fpname string) error {
	// Python reads text files with universal newlines.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	type pending struct {
		section, key string
		parts        []string
	}
	var (
		cur     *ini.Section
		curName string
		opt     *pending
		all     []*pending
		indent  int
		errs    []string
	)
	for i, line := range lines {
		lineno := i + 1
		rs := []rune(line)
		commentStart := commentStart(rs)
		trimmed := pyStrip(line)
		if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			commentStart = 0
		}
		value := line
		if commentStart >= 0 {
			value = string(rs[:commentStart])
		}
		value = pyStrip(value)
		if value == "" {
			// empty_lines_in_values: a blank line (without comment) joins the value.
			if commentStart < 0 && cur != nil && opt != nil {
				opt.parts = append(opt.parts, "")
			}
			continue
		}
		curIndent := 0
		for curIndent < len(rs) && pyIsSpace(rs[curIndent]) {
			curIndent++
		}
		if cur != nil && opt != nil && curIndent > indent {
			opt.parts = append(opt.parts, value)
			continue
		}
		indent = curIndent
		if header, ok := sectionHeader(value); ok {
			if _, seen := c.headers[header]; !seen {
				c.headerOrder = append(c.headerOrder, header)
			}
			c.headers[header] = append(c.headers[header], sourceLine{fpname, lineno})
			curName = header
			cur, _ = c.f.NewSection(header) // existing sections are merged into
			opt = nil
			continue
		}
		if cur == nil {
			return &parseError{fmt.Sprintf("File contains no section headers.\nfile: %s, line: %d\n%s",
				pyfmt.Repr(fpname), lineno, pyfmt.Repr(line))}
		}
		name, val, ok := splitOption(value)
		if !ok || name == "" {
			errs = append(errs, fmt.Sprintf("\n\t[line %2d]: %s", lineno, pyfmt.Repr(line)))
			if !ok {
				continue
			}
		}
		key := strings.ToLower(strings.TrimRightFunc(name, pyIsSpace))
		if key == "" {
			opt = nil // configparser stores it under '' but raises at the end anyway
			continue
		}
		opt = &pending{section: curName, key: key, parts: []string{val}}
		all = append(all, opt)
		if _, err := cur.NewKey(key, val); err != nil {
			return fmt.Errorf("storing %s.%s: %w", curName, key, err)
		}
		if curName != defaultSection {
			c.ownKeys[curName] = appendUnique(c.ownKeys[curName], key)
		}
	}
	for _, p := range all {
		v := strings.TrimRightFunc(strings.Join(p.parts, "\n"), pyIsSpace)
		c.f.Section(p.section).Key(p.key).SetValue(v)
	}
	if len(errs) > 0 {
		return &parseError{"Source contains parsing errors: " + pyfmt.Repr(fpname) + strings.Join(errs, "")}
	}
	return nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// commentStart replicates configparser's inline comment search: ';' or '#'
// at the line start or after whitespace, scanning both prefixes in rounds
// (so the first round that finds any valid prefix decides). -1 = none.
func commentStart(rs []rune) int {
	idx := map[rune]int{';': -1, '#': -1}
	order := []rune{';', '#'}
	best := -1
	for best < 0 && len(order) > 0 {
		var next []rune
		for _, p := range order {
			j := -1
			for k := idx[p] + 1; k < len(rs); k++ {
				if rs[k] == p {
					j = k
					break
				}
			}
			if j < 0 {
				continue
			}
			idx[p] = j
			next = append(next, p)
			if j == 0 || pyIsSpace(rs[j-1]) {
				if best < 0 || j < best {
					best = j
				}
			}
		}
		order = next
	}
	return best
}

// sectionHeader matches configparser's SECTCRE `\[(?P<header>.+)\]` at the
// start of the (stripped) line: the header runs to the last ']'.
func sectionHeader(v string) (string, bool) {
	if !strings.HasPrefix(v, "[") || strings.ContainsRune(v, '\n') {
		return "", false
	}
	j := strings.LastIndexByte(v, ']')
	if j < 2 {
		return "", false
	}
	return v[1:j], true
}

// splitOption matches OPTCRE: the option is everything before the first '='
// or ':', the value everything after it, both trimmed.
func splitOption(v string) (name, value string, ok bool) {
	i := strings.IndexAny(v, "=:")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimRightFunc(v[:i], pyIsSpace), pyStrip(v[i+1:]), true
}

// sections lists section names in first-seen order, without DEFAULT.
func (c *rawConfig) sections() []string {
	var out []string
	for _, s := range c.f.SectionStrings() {
		if s != defaultSection {
			out = append(out, s)
		}
	}
	return out
}

func (c *rawConfig) hasSection(name string) bool {
	if name == defaultSection {
		return false
	}
	_, err := c.f.GetSection(name)
	return err == nil
}

// get is configparser's get(): the section's own key, else DEFAULT's.
func (c *rawConfig) get(section, key string) (string, bool) {
	if s, err := c.f.GetSection(section); err == nil && s.HasKey(key) {
		return s.Key(key).Value(), true
	}
	if s, err := c.f.GetSection(defaultSection); err == nil && s.HasKey(key) {
		return s.Key(key).Value(), true
	}
	return "", false
}

// options is configparser's options(): own keys, then DEFAULT's others.
func (c *rawConfig) options(section string) []string {
	var out []string
	if s, err := c.f.GetSection(section); err == nil {
		out = append(out, s.KeyStrings()...)
	}
	if d, err := c.f.GetSection(defaultSection); err == nil {
		for _, k := range d.KeyStrings() {
			out = appendUnique(out, k)
		}
	}
	return out
}

// expandHere is UnhosedConfigParser.expand_here: a textual replacement of
// "%(here)s" in every value visible in every section (DEFAULT values are
// copied into the sections that see them).
func (c *rawConfig) expandHere(here string) {
	const hereFormat = "%(here)s"
	for _, sec := range c.sections() {
		for _, k := range c.options(sec) {
			v, _ := c.get(sec, k)
			if strings.Contains(v, hereFormat) {
				s := c.f.Section(sec)
				if _, err := s.NewKey(k, strings.ReplaceAll(v, hereFormat, here)); err != nil {
					continue
				}
			}
		}
	}
}
