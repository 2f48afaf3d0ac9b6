package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/sdexport"
)

// exportCommand is `supervisord export FORMAT …` (EXTENSIONS.md §8). The
// original takes no positional argument at all, so this first argument
// changes no invocation it accepts.
const exportCommand = "export"

// Exit statuses of export: 2 as supervisord's own usage and config errors.
const (
	exportFailed = 1
	exportUsage  = 2
)

// systemUnitDirs are where installed units live; an exported unit of the
// same name in /etc/systemd/system would override one of them.
func systemUnitDirs() []string {
	return []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}
}

func exportUsageText(prog string) string {
	return strings.ReplaceAll(`Usage: %s export systemd [-c FILE] -o DIR [--prefix PREFIX]

Writes one systemd service per process and one target per group of the
configuration to DIR (created if missing): NAME.service, or GROUP-NAME.service
when the process's name differs from its group's, and GROUP.target.

-c/--configuration FILENAME -- configuration file path (searches if not given)
-o/--output DIRECTORY -- where to write the units
--prefix PREFIX -- put PREFIX before every unit name
-h/--help -- print this usage message and exit
`, "%s", prog)
}

func exportError(stderr io.Writer, prog, msg string) int {
	fmt.Fprintf(stderr, "Error: %s\nFor help, use %s export -h\n", msg, prog)
	return exportUsage
}

// exportMain runs `supervisord export`; args follow the word export.
func exportMain(prog string, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		return exportError(stderr, prog, "export needs a format: systemd")
	case args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(stdout, exportUsageText(prog))
		return 0
	case args[0] != "systemd":
		return exportError(stderr, prog, fmt.Sprintf("unknown export format %s (known: systemd)", pyfmt.Repr(args[0])))
	}
	conf, dir, prefix, help, err := exportArgs(args[1:])
	switch {
	case err != nil:
		return exportError(stderr, prog, err.Error())
	case help:
		fmt.Fprint(stdout, exportUsageText(prog))
		return 0
	}
	if conf == "" {
		if conf, err = config.FindConfig(prog); err != nil {
			return usage(stderr, prog, err.Error())
		}
	}
	environ := os.Environ()
	cfg, err := config.Load(conf, config.Options{Env: environ})
	if err != nil {
		return usage(stderr, prog, err.Error())
	}
	return exportSystemd(cfg, dir, prefix, stdout, stderr)
}

// exportArgs parses the options after `export systemd`.
func exportArgs(args []string) (conf, dir, prefix string, help bool, err error) {
	opts, rest, err := getopt(args, "hc:o:", []string{"help", "configuration=", "output=", "prefix="}, nil)
	if err != nil {
		return "", "", "", false, err
	}
	if len(rest) > 0 {
		return "", "", "", false, errors.New("positional arguments are not supported: " + pyfmt.ReprList(rest))
	}
	for _, o := range opts {
		switch o.Name {
		case "-h", "--help":
			return "", "", "", true, nil
		case "-c", "--configuration":
			conf = o.Value
		case "-o", "--output":
			dir = o.Value
		case "--prefix":
			prefix = o.Value
		}
	}
	if dir == "" {
		return "", "", "", false, errors.New("export systemd needs -o DIRECTORY")
	}
	return conf, dir, prefix, false, nil
}

// exportSystemd generates the units of cfg and writes them to dir.
func exportSystemd(cfg *config.Config, dir, prefix string, stdout, stderr io.Writer) int {
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return exportFailed
	}
	res, err := sdexport.Export(cfg, sdexport.Options{PATH: os.Getenv("PATH"), Dir: cwd, Prefix: prefix})
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return exportFailed
	}
	var warnings []string
	for _, m := range cfg.Messages {
		if m.Level == loglevel.Warn {
			warnings = append(warnings, m.Text)
		}
	}
	warnings = append(append(warnings, res.Warnings...), overrides(res.Files, dir)...)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "Warning: %s\n", w)
	}
	if err := writeUnits(dir, res.Files); err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return exportFailed
	}
	for _, f := range res.Files {
		fmt.Fprintln(stdout, filepath.Join(dir, f.Name))
	}
	fmt.Fprintf(stdout, "Install: cp %s/*.service %s/*.target /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now %s\n",
		shellWord(dir), shellWord(dir), shellWords(res.Enable))
	return 0
}

// writeUnits creates dir if needed and writes every file, replacing ours
// from an earlier export.
func writeUnits(dir string, files []sdexport.File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the output directory %s: %w", dir, pathCause(err))
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, pathCause(err))
		}
	}
	return nil
}

// pathCause drops the *PathError's own path, which the message names.
func pathCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// overrides warns about exported units that installed units already
// have, unless dir is where those are (a second export to the same place).
func overrides(files []sdexport.File, dir string) []string {
	abs, _ := filepath.Abs(dir)
	var out []string
	for _, f := range files {
		for _, d := range systemUnitDirs() {
			if d == abs {
				continue
			}
			if _, err := os.Lstat(filepath.Join(d, f.Name)); err == nil {
				out = append(out, fmt.Sprintf("%s exists in %s; installed in /etc/systemd/system this export overrides it (--prefix avoids that)", f.Name, d))
				break
			}
		}
	}
	return out
}

func shellWords(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = shellWord(w)
	}
	return strings.Join(q, " ")
}

// shellWord single-quotes w unless the shell takes it as it is.
func shellWord(w string) string {
	if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,:/@+=-") == "" {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}
