package pyfmt

import "testing"

func TestRepr(t *testing.T) {
	cases := map[string]string{
		"abc":        `'abc'`,
		"it's":       `"it's"`,
		`a'b"c`:      `'a\'b"c'`,
		"a\tb\n":     `'a\tb\n'`,
		`back\slash`: `'back\\slash'`,
		"\x01":       `'\x01'`,
		"é":          `'é'`,
		"\xff":       `'\udcff'`,
		"":           `''`,
	}
	for in, want := range cases {
		if got := Repr(in); got != want {
			t.Errorf("Repr(%q) = %s, want %s", in, got, want)
		}
	}
	if got := ReprList([]string{"extra", "x"}); got != `['extra', 'x']` {
		t.Errorf("ReprList = %s", got)
	}
}
