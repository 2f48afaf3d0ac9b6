package shlex

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// python returns the interpreter that has Debian's supervisor (our oracle).
// Missing Python fails the test unless GOSUPERVISOR_NO_PYTHON=1.
func python(t *testing.T) string {
	t.Helper()
	if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
		t.Skip("GOSUPERVISOR_NO_PYTHON=1")
	}
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("python3 not found (set GOSUPERVISOR_NO_PYTHON=1 to skip oracle tests)")
	return ""
}

type pyResult struct {
	Tokens []string    `json:"tokens"`
	Pairs  [][2]string `json:"pairs"`
	Err    string      `json:"err"`
}

// oracle runs one Python function over every input and returns its results.
func oracle(t *testing.T, fn string, inputs []string) []pyResult {
	t.Helper()
	script := `
import json, sys, shlex
from supervisor.datatypes import dict_of_key_value_pairs
out = []
for s in json.load(sys.stdin):
    try:
        if sys.argv[1] == "split":
            out.append({"tokens": shlex.split(s)})
        else:
            out.append({"pairs": list(dict_of_key_value_pairs(s).items())})
    except ValueError as e:
        out.append({"err": str(e)})
json.dump(out, sys.stdout)
`
	in, _ := json.Marshal(inputs)
	cmd := exec.Command(python(t), "-c", script, fn)
	cmd.Dir = t.TempDir() // not a dir that shadows stdlib modules
	cmd.Stdin = strings.NewReader(string(in))
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python oracle: %v", err)
	}
	var res []pyResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("python oracle output: %v", err)
	}
	return res
}

var splitInputs = []string{
	"", " ", "a", "a b", "  a   b  ", "a\tb\nc\rd", `'a b'`, `"a b"`, `a"b c"d`, `a'b c'd`,
	`''`, `""`, `a ''`, `'' a`, `"" ""`, `\a`, `\ a`, `a\ b`, `a\\b`, `"a\"b"`, `"a\\b"`, `"a\b"`,
	`'a\'`, `'a\b'`, `"a'b"`, `'a"b'`, `a#b`, `#a`, `a;b`, `a|b>c`, `$HOME`, "`x`", `"$x"`,
	`'unterminated`, `"unterminated`, `trailing\`, `"esc\`, `a"`, `é ü`, `"é"`, `x=1 y="2 3"`,
	`sh -c "echo 'hi there'; exit 3"`, `python -c 'print("a b")'`, `/bin/cat`, `a\"b`, `"\$"`,
	"\"a\nb\"", `\'`, `\"`, `"\\"`, `'\\'`, `a b\`, `""a""`, `''""`,
}

// randomInputs builds strings over the characters the tokenizers treat
// specially, from a fixed seed so failures reproduce.
func randomInputs(alphabet []string, n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		out[i] = b.String()
	}
	return out
}

func TestSplitMatchesPython(t *testing.T) {
	inputs := append(splitInputs, randomInputs([]string{"a", "b", " ", "\t", "'", `"`, `\\`, "#", "$", "é", "\n"}, 400)...)
	want := oracle(t, "split", inputs)
	for i, in := range inputs {
		got, err := Split(in)
		if want[i].Err != "" {
			if err == nil || err.Error() != want[i].Err {
				t.Errorf("Split(%q) err = %v, want %q", in, err, want[i].Err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Split(%q) unexpected error %v", in, err)
			continue
		}
		if len(got) == 0 && len(want[i].Tokens) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want[i].Tokens) {
			t.Errorf("Split(%q) = %q, want %q", in, got, want[i].Tokens)
		}
	}
}

var envInputs = []string{
	"", "A=1", "A=1,B=2", "A=1;B=2", `A="x,y",B='z'`, "A=/usr/bin:/bin", "A=a b", "A=$HOME",
	"A=b=c", "A=", "K=val with space", "A=1,", "A=1,B", "A = 1 , B = 2", `A="unterminated`,
	"A=x#comment\nB=2", "#c\nA=1", `A=x"y"`, `A=é`, "A=1 B=2", "A=1,A=2", "A=-1.5+(x):y",
	`A="it's",B='say "hi"'`, "A=1\nB=2", `A="a b" C`, "=1", "A==1", "PATH=/usr/local/bin:/usr/bin,HOME=/root",
	`A=''`, `A=""`, "A=1#x", "A=1 #x", `A="x#y"`,
}

func TestParseEnvironmentMatchesPython(t *testing.T) {
	inputs := append(envInputs, randomInputs([]string{"A", "b", "=", "=", ",", " ", "'", `"`, "#", "\n", ";", "/:", "é", "$"}, 600)...)
	want := oracle(t, "env", inputs)
	for i, in := range inputs {
		got, err := ParseEnvironment(in)
		if want[i].Err != "" {
			if err == nil || err.Error() != want[i].Err {
				t.Errorf("ParseEnvironment(%q) err = %v, want %q", in, err, want[i].Err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseEnvironment(%q) unexpected error %v", in, err)
			continue
		}
		var pairs [][2]string
		for _, kv := range got {
			pairs = append(pairs, [2]string{kv.Key, kv.Value})
		}
		if len(pairs) == 0 && len(want[i].Pairs) == 0 {
			continue
		}
		if !reflect.DeepEqual(pairs, want[i].Pairs) {
			t.Errorf("ParseEnvironment(%q) = %q, want %q", in, pairs, want[i].Pairs)
		}
	}
}

func TestSplitKnown(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  error
	}{
		{`sleep 10`, []string{"sleep", "10"}, nil},
		{`sh -c "a b"`, []string{"sh", "-c", "a b"}, nil},
		{`'x`, nil, ErrNoClosingQuotation},
		{`x\`, nil, ErrNoEscapedCharacter},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if err != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range splitInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := Split(s)
		if err != nil {
			return
		}
		// Re-quoting every token and splitting again must give the same tokens.
		var b strings.Builder
		for _, tok := range toks {
			b.WriteString(`'` + strings.ReplaceAll(tok, `'`, `'"'"'`) + `' `)
		}
		again, err := Split(b.String())
		if err != nil || !reflect.DeepEqual(again, toks) && len(toks) > 0 {
			t.Fatalf("round trip of %q: %q vs %q (%v)", s, toks, again, err)
		}
	})
}

func FuzzParseEnvironment(f *testing.F) {
	for _, s := range envInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseEnvironment(s)
	})
}
