package pidproxy

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

// pidfileTexts are pidfile contents around what int(f.read().strip())
// accepts, given to Python and to parsePid as bytes.
func pidfileTexts() []string {
	long := strings.Repeat("1", 4300)
	return []string{
		"", " ", "\n", "123", "123\n", "  123  \n", "+123", "-123", "- 123", "+-1", "0", "-0",
		"0042", "00", "1_000", "1__000", "_1", "1_", "+_1", "0x10", "1e3", "12 34", "12\n34",
		"\t\v\f\r 7 \r\n", "\x1c7\x1f", "\x007", "7\x00", "\xff7", "\xef\xbb\xbf7", "\xed\xa0\x80",
		"\u00a07\u3000", "\u20287\u2029", "\u0085 7", "\u180e7", "\u200b7", "\ufeff7",
		"\u0661\u0662\u0663", "\uff11\uff12", "\U0001d7ce\U0001d7d8\U0001d7e2", "1\u0662",
		"\u00b2", "\u2160", "\U00011f51", "\U0001e4f1", "\u0967_\u0968", "\u0661 \u0662",
		"9999999999999999999999", "2147483648", "-2147483649", "9223372036854775808",
		long, long + "1", "-" + long, strings.Repeat("0", 4301), "1" + strings.Repeat("_0", 4299),
	}
}

// TestParsePidMatchesPython compares parsePid and the os.kill conversion
// error with Python's int() and os.kill argument parsing on the same bytes.
func TestParsePidMatchesPython(t *testing.T) {
	texts := pidfileTexts()
	var raw [][]byte
	for _, s := range texts {
		raw = append(raw, []byte(s))
	}
	const code = `
import json, os, sys, base64
out = []
for b in json.load(sys.stdin):
    b = base64.b64decode(b)
    try:
        n = int(b.decode("utf-8").strip())
    except Exception:
        out.append(None); continue
    try:
        os.kill(n, 0)  # signal 0 delivers nothing: only the pid_t conversion matters
        err = ""
    except OverflowError as e:
        err = "OverflowError: %s" % e
    except OSError:
        err = ""
    out.append([str(n), err])
print(json.dumps(out))
`
	var want []*[2]string
	pyEval(t, []string{"LANG=C.UTF-8"}, code, raw, &want)
	for i, s := range texts {
		n, ok := parsePid([]byte(s), defaultMaxDigits)
		got := "invalid"
		if ok {
			got = fmt.Sprintf("%s %q", n, pidError(n))
		}
		exp := "invalid"
		if want[i] != nil {
			exp = fmt.Sprintf("%s %q", want[i][0], want[i][1])
		}
		if got != exp {
			t.Errorf("pidfile %q: got %.80s, Python %.80s", s, got, exp)
		}
	}
}

// TestUnicodeTablesMatchPython checks every code point: str.isspace and
// unicodedata.decimal in Python 3.11 against pySpace, pyDecimal and
// decimalValue.
func TestUnicodeTablesMatchPython(t *testing.T) {
	const code = `
import json, sys, unicodedata
spaces = [c for c in range(0x110000) if chr(c).isspace()]
decimals = {c: unicodedata.decimal(chr(c)) for c in range(0x110000) if unicodedata.decimal(chr(c), None) is not None}
print(json.dumps({"spaces": spaces, "decimals": decimals}))
`
	var want struct {
		Spaces   []rune
		Decimals map[rune]int
	}
	pyEval(t, []string{"LANG=C.UTF-8"}, code, nil, &want)
	if len(want.Spaces) < 25 || len(want.Decimals) < 600 {
		t.Fatalf("oracle tables look empty: %d spaces, %d decimals", len(want.Spaces), len(want.Decimals))
	}
	spaces := map[rune]bool{}
	for _, r := range want.Spaces {
		spaces[r] = true
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if pySpace(r) != spaces[r] {
			t.Errorf("U+%04X: pySpace %v, Python isspace %v", r, pySpace(r), spaces[r])
		}
		v, isDec := want.Decimals[r]
		if pyDecimal(r) != isDec || (isDec && decimalValue(r) != v) {
			t.Errorf("U+%04X: pyDecimal %v value %d, Python decimal %v %d", r, pyDecimal(r), decimalValue(r), isDec, v)
		}
	}
}

func TestParsePidDigitLimit(t *testing.T) {
	s := "1" + strings.Repeat("0", 5000)
	if _, ok := parsePid([]byte(s), defaultMaxDigits); ok {
		t.Errorf("5001 digits accepted under the 4300-digit limit")
	}
	n, ok := parsePid([]byte(s), 0)
	want := new(big.Int).Exp(big.NewInt(10), big.NewInt(5000), nil)
	if !ok || n.Cmp(want) != 0 {
		t.Errorf("limit 0 (unlimited): got %v, %v", ok, n)
	}
}
