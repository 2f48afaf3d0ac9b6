package envfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/shlex"
)

func kvs(pairs ...string) []shlex.KV {
	var out []shlex.KV
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, shlex.KV{Key: pairs[i], Value: pairs[i+1]})
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []shlex.KV
	}{
		{"", nil},
		{"\n\n  \n\t\n", nil},
		{"# only a comment\n   # indented comment\n", nil},
		{"A=1", kvs("A", "1")},
		{"A=1\nB=2\n", kvs("A", "1", "B", "2")},
		{"A=1\r\nB=2\r\n", kvs("A", "1", "B", "2")},
		{"\xef\xbb\xbfA=1\n", kvs("A", "1")},
		{"  A = 1  \n", kvs("A", "1")},
		{"A=\n", kvs("A", "")},
		{"A=   \n", kvs("A", "")},
		{"A= # comment\n", kvs("A", "")},
		{"A=value # comment\n", kvs("A", "value")},
		{"A=value\t# comment\n", kvs("A", "value")},
		{"A=val#ue\n", kvs("A", "val#ue")},
		{"A=#value\n", kvs("A", "#value")},
		{"A=a b  c\n", kvs("A", "a b  c")},
		{"A=$HOME/x ${Y}\n", kvs("A", "$HOME/x ${Y}")},
		{`A=a\nb` + "\n", kvs("A", `a\nb`)},
		{"A=x=y=z\n", kvs("A", "x=y=z")},
		{"A='x=y'\n", kvs("A", "x=y")},
		{"export A=1\n", kvs("A", "1")},
		{"export   A=1\n", kvs("A", "1")},
		{"\texport\tA=1\n", kvs("A", "1")},
		{"export=1\n", kvs("export", "1")},
		{"exported=1\n", kvs("exported", "1")},
		{"A='single $X \\n \"q\" # not a comment'\n", kvs("A", `single $X \n "q" # not a comment`)},
		{"A=''\n", kvs("A", "")},
		{`A=""` + "\n", kvs("A", "")},
		{`A="a\nb\tc\rd \"q\" \\ \$X \x"` + "\n", kvs("A", "a\nb\tc\rd \"q\" \\ $X \\x")},
		{`A="# not a comment" # a comment` + "\n", kvs("A", "# not a comment")},
		{`A='v'   ` + "\n", kvs("A", "v")},
		{"A=\"line one\nline two\"\nB=2\n", kvs("A", "line one\nline two", "B", "2")},
		{"A='line one\nline two'\n", kvs("A", "line one\nline two")},
		{"A=\"joined \\\nhere\"\n", kvs("A", "joined here")},
		{"A=1\nB=2\nA=3\n", kvs("A", "3", "B", "2")},
		{"_x.y_1=ok\n", kvs("_x.y_1", "ok")},
		{"A=caf\xc3\xa9 \xff\n", kvs("A", "caf\xc3\xa9 \xff")},
		{"A=1\n# trailing comment without newline", kvs("A", "1")},
		{"A=last", kvs("A", "last")},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.in))
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NOEQUALS\n", `line 1: expected '=' after NOEQUALS, not ""`},
		{"A=1\n\n# c\nB 2\n", `line 4: expected '=' after B, not "2"`},
		{"=1\n", `line 1: expected NAME=VALUE, not "=1"`},
		{"1A=1\n", `line 1: expected NAME=VALUE, not "1A=1"`},
		{"A-B=1\n", `line 1: expected '=' after A, not "-B=1"`},
		{"export\n", `line 1: expected '=' after export, not ""`},
		{"export \n", `line 1: no variable name after 'export'`},
		{"export 1=2\n", `line 1: no variable name after 'export'`},
		{"A='open\n", `line 1: unterminated '-quoted value`},
		{"X=1\nA=\"open\nmore\n", `line 2: unterminated "-quoted value`},
		{`A="x\"` + "\n", `line 1: unterminated "-quoted value`},
		{"A='v' tail\n", `line 1: unexpected "tail" after the closing quote`},
		{"A=\"a\nb\"c\n", `line 2: unexpected "c" after the closing quote`},
		{"A=a\x00b\n", `line 1: the value of A contains a NUL byte`},
		{"[section]\n", `line 1: expected NAME=VALUE, not "[section]"`},
		{"A=1\r\nB\r\n", `line 2: expected '=' after B, not ""`},
		{"A=1\n" + strings.Repeat("x", 60) + "\n", `line 2: expected '=' after ` + strings.Repeat("x", 60) + `, not ""`},
		{"A=1\n-" + strings.Repeat("x", 60) + "\n", `line 2: expected NAME=VALUE, not "-` + strings.Repeat("x", 39) + `..."`},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want error %s", tt.in, got, err, tt.want)
		}
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.env")
	if _, err := Read(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if err := os.WriteFile(p, []byte("A=1\nbad line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p); err == nil || err.Error() != p+`:2: expected '=' after bad, not "line"` {
		t.Errorf("bad: %v", err)
	}
	if err := os.WriteFile(p, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(p); err != nil || !slices.Equal(got, kvs("A", "1")) {
		t.Errorf("good: %v %v", got, err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts holds no
// NUL, valid names, and survives a round trip through single quotes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"A=1\n", "export A='x'\n", `A="a\nb\"c"`, "A=b # c\n#x\n\nB=\"m\nl\"\n", "A='", "A=\"\\", "export", "A=\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error %v (%T) for %q", err, err, data)
			}
			return
		}
		var b strings.Builder
		for _, kv := range got {
			if kv.Key == "" || strings.ContainsAny(kv.Key, "= \t\n#'\"") || strings.IndexByte(kv.Value, 0) >= 0 {
				t.Fatalf("bad entry %q from %q", kv, data)
			}
			if strings.Contains(kv.Value, "'") {
				continue
			}
			b.WriteString(kv.Key + "='" + kv.Value + "'\n")
		}
		again, err := Parse([]byte(b.String()))
		if err != nil {
			t.Fatalf("round trip of %q: %v", b.String(), err)
		}
		var want []shlex.KV
		for _, kv := range got {
			if !strings.Contains(kv.Value, "'") {
				want = append(want, kv)
			}
		}
		if !slices.Equal(again, want) {
			t.Fatalf("round trip: %q, want %q", again, want)
		}
	})
}
