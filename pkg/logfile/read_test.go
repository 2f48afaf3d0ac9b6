package logfile

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
)

const readContent = "x\nr1\n" // 5 bytes, as in SPEC §10 item 45

type readCase struct{ offset, length int64 }

var readCases = []readCase{
	{0, 0}, {0, 3}, {2, 2}, {2, 0}, {4, 10}, {5, 0}, {100, 0}, {100, 3},
	{-3, 0}, {-5, 0}, {-100, 0}, {-10, 5}, {10, -5}, {0, -1}, {-1, 1},
	{0, 5}, {0, 6}, {1, 3}, {3, 3}, {5, 3}, {4, 1}, {0, 1}, {2, 1}, {0, -3}, {-2, 0},
}

func writeReadFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte(readContent), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadFileSpec(t *testing.T) {
	path := writeReadFile(t)
	tests := []struct {
		offset, length int64
		want           string
		fault          fault.Code
	}{
		{-10, 5, "", fault.BadArguments}, // item 45
		{10, -5, "", fault.BadArguments}, // item 45
		{-3, 0, "r1\n", 0},
		{-100, 0, readContent, 0},
		{2, 0, "r1\n", 0},
		{1, 2, "\nr", 0},
		{100, 0, "", 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.offset, tc.length), func(t *testing.T) {
			got, err := ReadFile(path, tc.offset, tc.length)
			if tc.fault != 0 {
				if !IsFault(err, tc.fault) || err.Error() != tc.fault.Name() {
					t.Fatalf("err = %v, want %s", err, tc.fault.Name())
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), 0, 0); !IsFault(err, fault.Failed) {
		t.Errorf("missing file: %v, want FAILED", err)
	}
	// The file is opened first: bad arguments on a missing file are FAILED.
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), -1, 1); !IsFault(err, fault.Failed) {
		t.Errorf("missing file with bad args: %v, want FAILED", err)
	}
}

func TestTailFileSpec(t *testing.T) {
	path := writeReadFile(t)
	tests := []struct {
		offset, length int64
		want           string
		wantOff        int64
		overflow       bool
	}{
		{0, 3, "r1\n", 5, true}, // item 45
		{100, 3, "", 5, false},  // item 45
		{4, 3, "r1\n", 5, false},
		{3, 10, readContent, 5, false},
	}
	for _, tc := range tests {
		got, off, of, err := TailFile(path, tc.offset, tc.length)
		if err != nil || string(got) != tc.want || off != tc.wantOff || of != tc.overflow {
			t.Errorf("TailFile(%d,%d) = %q,%d,%v,%v want %q,%d,%v", tc.offset, tc.length, got, off, of, err, tc.want, tc.wantOff, tc.overflow)
		}
	}
	if got, off, of, err := TailFile(filepath.Join(t.TempDir(), "missing"), 7, 3); len(got) != 0 || off != 7 || of || !IsFault(err, fault.Failed) {
		t.Errorf("missing: %q %d %v %v", got, off, of, err)
	}
}

// Compare every case against the original's readFile/tailFile, and the ring
// equivalents against the same answers (a ring holding the whole file).
func TestReadTailAgainstPython(t *testing.T) {
	if _, err := os.Stat("/usr/lib/python3/dist-packages/supervisor/options.py"); err != nil {
		t.Skip("Python supervisor not installed")
	}
	path := writeReadFile(t)
	script := `
import json, sys
from supervisor.options import readFile, tailFile
out = []
for c in json.loads(sys.argv[2]):
    o, l = c["O"], c["L"]
    try:
        r = readFile(sys.argv[1], o, l).decode()
    except ValueError as e:
        r = "FAULT " + e.args[0]
    d, off, of = tailFile(sys.argv[1], o, l)
    out.append([r, d, off, of])
print(json.dumps(out))
`
	type pyCase struct{ O, L int64 }
	var pc []pyCase
	for _, c := range readCases {
		pc = append(pc, pyCase{c.offset, c.length})
	}
	casesJSON, _ := json.Marshal(pc)
	out, err := exec.Command("/usr/bin/python3", "-c", script, path, string(casesJSON)).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var want [][]any
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	ring := NewRing(64)
	ring.Write([]byte(readContent))
	for i, c := range readCases {
		w := want[i]
		var got, gotRing string
		if data, err := ReadFile(path, c.offset, c.length); err != nil {
			got = "FAULT " + err.Error()
		} else {
			got = string(data)
		}
		if data, err := ReadRing(ring, c.offset, c.length); err != nil {
			gotRing = "FAULT " + err.Error()
		} else {
			gotRing = string(data)
		}
		if got != w[0] || gotRing != w[0] {
			t.Errorf("readFile(%d,%d): go %q ring %q, python %q", c.offset, c.length, got, gotRing, w[0])
		}
		data, off, of, err := TailFile(path, c.offset, c.length)
		rdata, roff, rof := TailRing(ring, c.offset, c.length)
		pw := fmt.Sprint(w[1], int64(w[2].(float64)), w[3])
		if g := fmt.Sprint(string(data), off, of); err != nil || g != pw {
			t.Errorf("tailFile(%d,%d): go %q %v, python %q", c.offset, c.length, g, err, pw)
		}
		if g := fmt.Sprint(string(rdata), roff, rof); g != pw {
			t.Errorf("TailRing(%d,%d): %q, python %q", c.offset, c.length, g, pw)
		}
	}
}
