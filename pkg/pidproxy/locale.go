package pidproxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// glibc's compiled-in locale locations.
const (
	defaultLocalePath = "/usr/lib/locale"
	localeArchive     = "/usr/lib/locale/locale-archive"
	localeAliasFile   = "/usr/share/locale/locale.alias"
	archiveMagic      = 0xde020109
)

// localeAvailable reports whether glibc's setlocale(LC_CTYPE, name) would
// succeed, following _nl_find_locale: the locale archive (unless LOCPATH is
// set), locale.alias, then the LC_CTYPE file under each locale directory,
// falling back to less specific names (dropping territory or modifier) but
// never to one without the codeset asked for, since glibc then rejects the
// codeset mismatch.
func localeAvailable(name string, environ []string) bool {
	if name == "C" || name == "POSIX" {
		return true
	}
	if !validLocaleName(name) {
		return false
	}
	alias := expandAlias(name)
	dirs := []string{defaultLocalePath}
	if locpath := getenv(environ, "LOCPATH"); locpath != "" {
		dirs = append(nonEmpty(strings.Split(locpath, ":")), defaultLocalePath)
	} else if inArchive(name) || (alias != "" && inArchive(alias)) {
		return true
	}
	if alias != "" {
		name = alias
	}
	for _, cand := range localeCandidates(name) {
		for _, dir := range dirs {
			if localeFileExists(dir + "/" + cand + "/LC_CTYPE") {
				return true
			}
		}
	}
	return false
}

// validLocaleName is glibc's valid_locale_name.
func validLocaleName(name string) bool {
	switch {
	case len(name) > 255, strings.Contains(name, "/../"), name == "..":
		return false
	case strings.HasPrefix(name, "../"), strings.HasSuffix(name, "/.."):
		return false
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return false
	}
	return true
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// localeParts is language[_territory][.codeset][@modifier].
type localeParts struct {
	language, territory, codeset, modifier string
}

func explodeLocale(name string) localeParts {
	var p localeParts
	rest, modifier, _ := strings.Cut(name, "@")
	rest, p.codeset, _ = strings.Cut(rest, ".")
	p.modifier = modifier
	p.language, p.territory, _ = strings.Cut(rest, "_")
	return p
}

// localeCandidates lists the directory names _nl_make_l10nflist tries.
func localeCandidates(name string) []string {
	p := explodeLocale(name)
	codesets := []string{""}
	if p.codeset != "" {
		codesets = []string{p.codeset}
		if norm := normalizeCodeset(p.codeset); norm != p.codeset {
			codesets = append(codesets, norm)
		}
	}
	var out []string
	for _, terr := range optional(p.territory, "_") {
		for _, cs := range codesets {
			for _, mod := range optional(p.modifier, "@") {
				out = append(out, p.language+terr+dotted(cs)+mod)
			}
		}
	}
	return out
}

// optional is the part with its separator, then without it.
func optional(part, sep string) []string {
	if part == "" {
		return []string{""}
	}
	return []string{sep + part, ""}
}

func dotted(codeset string) string {
	if codeset == "" {
		return ""
	}
	return "." + codeset
}

// normalizeCodeset is _nl_normalize_codeset: letters lowered, digits kept,
// everything else dropped; an all-digit result gets an "iso" prefix.
func normalizeCodeset(codeset string) string {
	var b strings.Builder
	letters := false
	for i := 0; i < len(codeset); i++ {
		c := codeset[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
			letters = true
		case c >= 'a' && c <= 'z':
			b.WriteByte(c)
			letters = true
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		}
	}
	if !letters {
		return "iso" + b.String()
	}
	return b.String()
}

// localeFileExists is what _nl_load_locale needs: a file, or a directory
// holding SYS_LC_CTYPE.
func localeFileExists(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	if st.IsDir() {
		st, err = os.Stat(filepath.Join(path, "SYS_LC_CTYPE"))
		return err == nil && st.Mode().IsRegular()
	}
	return st.Mode().IsRegular()
}

// expandAlias is _nl_expand_alias over locale.alias (case-insensitive
// names); "" when name is no alias.
func expandAlias(name string) string {
	f, err := os.Open(localeAliasFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && !strings.HasPrefix(fields[0], "#") && strings.EqualFold(fields[0], name) {
			return fields[1]
		}
	}
	return ""
}

// inArchive looks name up in the locale archive's name table, with its
// codeset normalised as _nl_load_locale_from_archive does.
func inArchive(name string) bool {
	p := explodeLocale(name)
	if p.codeset != "" {
		name = strings.Replace(name, "."+p.codeset, "."+normalizeCodeset(p.codeset), 1)
	}
	names, err := archiveNames(localeArchive)
	if err != nil {
		return false
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// archiveNames reads the locale names of a glibc locale-archive: the header
// (struct locarhead) points at the name hash table, whose used slots point
// into the string table.
func archiveNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open locale archive: %w", err)
	}
	defer f.Close()
	head := make([]uint32, 8)
	if err := binary.Read(f, binary.NativeEndian, head); err != nil {
		return nil, fmt.Errorf("read locale archive header %s: %w", path, err)
	}
	if head[0] != archiveMagic {
		return nil, fmt.Errorf("locale archive %s: bad magic %#x", path, head[0])
	}
	table := make([]uint32, 3*int(head[4]))
	if err := binary.Read(io.NewSectionReader(f, int64(head[2]), int64(len(table))*4), binary.NativeEndian, table); err != nil {
		return nil, fmt.Errorf("read locale archive name table %s: %w", path, err)
	}
	strs := make([]byte, head[6])
	if _, err := f.ReadAt(strs, int64(head[5])); err != nil {
		return nil, fmt.Errorf("read locale archive strings %s: %w", path, err)
	}
	return hashedNames(table, strs, head[5]), nil
}

// hashedNames resolves the namehashent triples (hash, name offset, record
// offset) whose record offset is set.
func hashedNames(table []uint32, strs []byte, strOff uint32) []string {
	var out []string
	for i := 0; i+2 < len(table); i += 3 {
		off := table[i+1] - strOff
		if table[i+2] == 0 || table[i+1] < strOff || int(off) >= len(strs) {
			continue
		}
		s := strs[off:]
		if end := bytes.IndexByte(s, 0); end >= 0 {
			s = s[:end]
		}
		out = append(out, string(s))
	}
	return out
}
