package config

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// ours returns the config's own (not the original's) messages, which are
// all warnings.
func ours(t *testing.T, c *Config) []string {
	t.Helper()
	var out []string
	for _, m := range c.Messages {
		if m.Ours {
			if m.Level != loglevel.Warn {
				t.Errorf("%q is logged at %v, want WARN", m.Text, m.Level)
			}
			out = append(out, m.Text)
		}
	}
	return out
}

// TestDuplicateSections: a repeated section is merged as the original
// merges it (the later key wins) and named in one warning per section,
// with every header's place, the main file as given and included files
// relative to its directory.
func TestDuplicateSections(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"s.conf": `[DEFAULT]
startsecs=4
[supervisord]
logfile=%(here)s/s.log
[program:dup]
command=/bin/a
priority=10
[program:once]
command=/bin/once
[DEFAULT]
startretries=5
[program:dup]
priority=20
[include]
files=conf.d/*.conf ` + dir + `/other/*.conf
`,
		"conf.d/a.conf":   "[program:dup]\nstopwaitsecs=33\n",
		"conf.d/b.conf":   "\n[program:dup]\ncommand=/bin/b\n[program:inc]\ncommand=/bin/inc\n",
		"conf.d/c.conf":   "[program:inc]\nautostart=false\n",
		"other/x.conf":    "[program:inc]\nstartsecs=1\n",
		"other/empty.txt": "",
	})
	// Given relative or absolute, files are named relative to the main
	// file's directory.
	t.Chdir(filepath.Join(dir, "other"))
	c, err := Load("../s.conf", Options{Env: testEnv(dir), Hostname: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"section 'DEFAULT' appears twice (s.conf line 1, s.conf line 10); later keys win",
		"section 'program:dup' appears 4 times (s.conf line 5, s.conf line 12, conf.d/a.conf line 1, conf.d/b.conf line 2); later keys win",
		"section 'program:inc' appears 3 times (conf.d/b.conf line 4, conf.d/c.conf line 1, other/x.conf line 1); later keys win",
	}
	if got := ours(t, c); !slices.Equal(got, want) {
		t.Errorf("warnings\n got %q\nwant %q", got, want)
	}
	procs := map[string]*Process{}
	for _, g := range c.Groups {
		procs[g.Name] = g.Processes[0]
	}
	dup, inc := procs["dup"], procs["inc"]
	if dup.Command != "/bin/b" || dup.Priority != 20 || dup.Stopwaitsecs != 33 || dup.Startsecs != 4 || dup.Startretries != 5 {
		t.Errorf("merged dup: command %q priority %d stopwaitsecs %d startsecs %d startretries %d",
			dup.Command, dup.Priority, dup.Stopwaitsecs, dup.Startsecs, dup.Startretries)
	}
	if inc.Autostart || inc.Startsecs != 1 {
		t.Errorf("merged inc: autostart %v startsecs %d", inc.Autostart, inc.Startsecs)
	}

	// A file outside the main file's directory is named by its full path.
	writeTree(t, dir, map[string]string{
		"abs/s.conf": "[supervisord]\nlogfile=%(here)s/s.log\n[include]\nfiles=" + dir + "/other/*.conf\n[program:inc]\ncommand=x\n",
	})
	c, err = Load(filepath.Join(dir, "abs/s.conf"), Options{Env: testEnv(dir), Hostname: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"section 'program:inc' appears twice (s.conf line 5, " + dir + "/other/x.conf line 1); later keys win"}
	if got := ours(t, c); !slices.Equal(got, want) {
		t.Errorf("warnings\n got %q\nwant %q", got, want)
	}

	// No repeated section, no warning; the original's own messages are not ours.
	c = mustLoad(t, "[supervisord]\nlogfile=%(here)s/s.log\n[program:a]\ncommand=x\nstdout_logfile=AUTO\nstdout_logfile_maxbytes=0\n")
	if got := ours(t, c); len(got) != 0 || len(c.Messages) != 1 {
		t.Errorf("messages %v, ours %q", c.Messages, got)
	}
}
