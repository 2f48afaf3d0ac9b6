package loglevel

import (
	"strings"
	"testing"
)

func TestNamesRoundTrip(t *testing.T) {
	want := map[string]struct {
		l    Level
		num  int
		word string
	}{
		"critical": {Critical, 50, "CRIT"}, "error": {Error, 40, "ERRO"}, "warn": {Warn, 30, "WARN"},
		"info": {Info, 20, "INFO"}, "debug": {Debug, 10, "DEBG"}, "trace": {Trace, 5, "TRAC"},
		"blather": {Blather, 3, "BLAT"},
	}
	if len(Levels()) != len(want) {
		t.Fatalf("Levels() = %v", Levels())
	}
	for name, w := range want {
		for _, n := range []string{name, strings.ToUpper(name)} {
			got, err := Parse(n)
			if err != nil || got != w.l {
				t.Errorf("Parse(%q) = %v, %v; want %v", n, got, err, w.l)
			}
		}
		if int(w.l) != w.num || w.l.String() != w.word {
			t.Errorf("%s: number %d word %q; want %d %q", name, int(w.l), w.l.String(), w.num, w.word)
		}
	}
	if got := Level(7).String(); got != "LEVEL7" {
		t.Errorf("Level(7) = %q", got)
	}
}

func TestOrdering(t *testing.T) {
	ls := Levels()
	if ls[0] != Critical || ls[len(ls)-1] != Blather {
		t.Fatalf("Levels() = %v", ls)
	}
	for i := 1; i < len(ls); i++ {
		if !(ls[i-1] > ls[i]) {
			t.Errorf("%v is not more severe than %v", ls[i-1], ls[i])
		}
	}
}

func TestUnknownName(t *testing.T) {
	for name, msg := range map[string]string{
		"warning": "bad logging level name 'warning'",
		"Verbose": "bad logging level name 'Verbose'",
		"":        "bad logging level name ''",
	} {
		if _, err := Parse(name); err == nil || err.Error() != msg {
			t.Errorf("Parse(%q) error = %v; want %q", name, err, msg)
		}
	}
}
