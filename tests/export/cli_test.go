package export_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyCatchesWarnings: the check the other tests rely on does see a
// unit systemd would warn about.
func TestVerifyCatchesWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.service"), "[Service]\nExecStart=/bin/true\nEnvironment=\"1X=y\"\nStandardOutput=append:rel.log\n", 0o644)
	out, _ := verifyOutput(t, dir, []string{"bad.service"})
	for _, w := range []string{"Invalid environment assignment", "path is not absolute"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output %q lacks %q", out, w)
		}
	}
}

func simpleConf(t *testing.T) string {
	conf := filepath.Join(t.TempDir(), "supervisord.conf")
	writeFile(t, conf, "[supervisord]\n[program:a]\ncommand=/bin/sleep 100\n[program:b]\ncommand=/bin/sleep 100\nautostart=false\n", 0o644)
	return conf
}

func TestExportCommandLine(t *testing.T) {
	conf := simpleConf(t)
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "", 0o644)
	p := bins.Supervisord
	for _, c := range []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"no format", []string{"export"}, 2, "Error: export needs a format: systemd\nFor help, use " + p + " export -h\n"},
		{"unknown format", []string{"export", "launchd"}, 2, "Error: unknown export format 'launchd' (known: systemd)\nFor help, use " + p + " export -h\n"},
		{"no -o", []string{"export", "systemd", "-c", conf}, 2, "Error: export systemd needs -o DIRECTORY\nFor help, use " + p + " export -h\n"},
		{"bad option", []string{"export", "systemd", "-x"}, 2, "Error: option -x not recognized\nFor help, use " + p + " export -h\n"},
		{"positional", []string{"export", "systemd", "-o", "d", "more"}, 2, "Error: positional arguments are not supported: ['more']\nFor help, use " + p + " export -h\n"},
		{"unwritable", []string{"export", "systemd", "-c", conf, "-o", filepath.Join(file, "units")}, 1,
			"Error: cannot create the output directory " + filepath.Join(file, "units") + ": not a directory\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := supervisord(t, nil, c.args...)
			if r.status != c.status || r.stderr != c.stderr || r.stdout != "" {
				t.Errorf("status %d, stderr %q, stdout %q; want %d, %q, none", r.status, r.stderr, r.stdout, c.status, c.stderr)
			}
		})
	}
}

func TestExportHelp(t *testing.T) {
	for _, args := range [][]string{{"export", "-h"}, {"export", "systemd", "--help"}} {
		r := supervisord(t, nil, args...)
		if r.status != 0 || !strings.HasPrefix(r.stdout, "Usage: "+bins.Supervisord+" export systemd [-c FILE] -o DIR") || r.stderr != "" {
			t.Errorf("%v: status %d, stdout %q, stderr %q", args, r.status, r.stdout, r.stderr)
		}
	}
}

// TestExportBadConfig: a config error reads exactly as supervisord's own.
func TestExportBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "supervisord.conf")
	writeFile(t, conf, "[supervisord]\n[program:a]\ncommand=/bin/true\nautorestart=sometimes\n", 0o644)
	own := supervisord(t, nil, "-c", conf)
	r := supervisord(t, nil, "export", "systemd", "-c", conf, "-o", t.TempDir())
	if r.status != 2 || r.stderr != own.stderr || own.status != 2 || !strings.Contains(r.stderr, "autorestart") {
		t.Errorf("export: %d %q; supervisord: %d %q", r.status, r.stderr, own.status, own.stderr)
	}
}

// TestExportOutput: the files written are listed, then how to install
// them, enabling the targets and the autostart services only.
func TestExportOutput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "new", "units")
	r := supervisord(t, nil, "export", "systemd", "-c", simpleConf(t), "-o", out)
	want := strings.Join([]string{
		filepath.Join(out, "a.service"), filepath.Join(out, "a.target"),
		filepath.Join(out, "b.service"), filepath.Join(out, "b.target"),
		"Install: cp " + out + "/*.service " + out + "/*.target /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now a.service a.target b.target",
	}, "\n") + "\n"
	if r.status != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("status %d\nstdout %q\nwant   %q\nstderr %q", r.status, r.stdout, want, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "b.service")); err != nil {
		t.Error(err)
	}
}

// TestOriginalCommandLineUnchanged: export is only a first argument;
// anywhere else it is still the original's positional-argument error.
func TestOriginalCommandLineUnchanged(t *testing.T) {
	for _, args := range [][]string{{"-c", "x.conf", "export"}, {"--", "export"}, {"exports"}} {
		r := supervisord(t, nil, args...)
		want := "Error: positional arguments are not supported: ['" + args[len(args)-1] + "']\nFor help, use " + bins.Supervisord + " -h\n"
		if r.status != 2 || r.stderr != want {
			t.Errorf("%v: status %d stderr %q, want 2 %q", args, r.status, r.stderr, want)
		}
	}
}
