package daemon

import (
	"reflect"
	"testing"
)

func TestGetopt(t *testing.T) {
	short := "c:hnu:"
	long := []string{"configuration=", "help", "nodaemon", "nocleanup", "user=", "childlogdir="}
	ours := []string{"check-config", "strict", "ours="}
	cases := []struct {
		args     []string
		opts     []option
		rest     []string
		errorMsg string
	}{
		{args: []string{"-c", "f.conf", "-n"}, opts: []option{{"-c", "f.conf"}, {"-n", ""}}},
		{args: []string{"-cf.conf", "-nh"}, opts: []option{{"-c", "f.conf"}, {"-n", ""}, {"-h", ""}}},
		{args: []string{"-nc", "x"}, opts: []option{{"-n", ""}, {"-c", "x"}}},
		{args: []string{"--configuration=a", "--user", "bob"}, opts: []option{{"--configuration", "a"}, {"--user", "bob"}}},
		{args: []string{"--conf", "a"}, opts: []option{{"--configuration", "a"}}},
		{args: []string{"--nod"}, opts: []option{{"--nodaemon", ""}}},
		{args: []string{"-n", "extra", "-c", "x"}, opts: []option{{"-n", ""}}, rest: []string{"extra", "-c", "x"}},
		{args: []string{"--", "-n"}, rest: []string{"-n"}},
		{args: []string{"-"}, rest: []string{"-"}},
		{args: []string{"--badopt"}, errorMsg: "option --badopt not recognized"},
		{args: []string{"--no"}, errorMsg: "option --no not a unique prefix"},
		{args: []string{"--help=x"}, errorMsg: "option --help must not have an argument"},
		{args: []string{"--user"}, errorMsg: "option --user requires argument"},
		{args: []string{"-x"}, errorMsg: "option -x not recognized"},
		{args: []string{"-c"}, errorMsg: "option -c requires argument"},
		{args: []string{"-:"}, errorMsg: "option -: not recognized"},
		// Our own options: full names only, never in the way of the original's.
		{args: []string{"--check-config", "--strict"}, opts: []option{{"--check-config", ""}, {"--strict", ""}}},
		{args: []string{"--ours=x", "--ours", "y"}, opts: []option{{"--ours", "x"}, {"--ours", "y"}}},
		{args: []string{"--ch", "d"}, opts: []option{{"--childlogdir", "d"}}},
		{args: []string{"--check"}, errorMsg: "option --check not recognized"},
		{args: []string{"--stri"}, errorMsg: "option --stri not recognized"},
		{args: []string{"--strict=1"}, errorMsg: "option --strict must not have an argument"},
		{args: []string{"--ours"}, errorMsg: "option --ours requires argument"},
		{args: []string{"--c"}, errorMsg: "option --c not a unique prefix"},
	}
	for _, tc := range cases {
		opts, rest, err := getopt(tc.args, short, long, ours)
		if tc.errorMsg != "" {
			if err == nil || err.Error() != tc.errorMsg {
				t.Errorf("getopt(%q) error = %v, want %q", tc.args, err, tc.errorMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("getopt(%q): %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(opts, tc.opts) || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("getopt(%q) = %v, %q; want %v, %q", tc.args, opts, rest, tc.opts, tc.rest)
		}
	}
}
