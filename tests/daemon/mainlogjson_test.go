package daemon_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jsonLine is one line of the main log under logformat=json.
type jsonLine struct {
	Time  string `json:"time"`
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

// parseJSONLog parses every line of a logformat=json log strictly: each is
// one object with exactly time, level and msg.
func parseJSONLog(t *testing.T, what, text string) []jsonLine {
	t.Helper()
	var out []jsonLine
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("%s line %d is not a JSON object: %q: %v", what, i+1, line, err)
		}
		if len(fields) != 3 {
			t.Errorf("%s line %d: fields %v, want time, level, msg", what, i+1, fields)
		}
		var l jsonLine
		_ = json.Unmarshal([]byte(line), &l)
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", l.Time); err != nil {
			t.Errorf("%s line %d: time %q: %v", what, i+1, l.Time, err)
		}
		out = append(out, l)
	}
	return out
}

var textLineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (CRIT|ERRO|WARN|INFO|DEBG|TRAC|BLAT) (.*)$`)

// logformat=json writes the same messages as the original's text format,
// one JSON object per message (file and foreground stdout alike), with
// the text level words mapped to the loglevel= names.
func TestMainLogJSON(t *testing.T) {
	t.Parallel()
	const programs = `
[program:sleeper]
command=sleep 1000
startsecs=0
`
	digits := regexp.MustCompile(`\d+`)
	run := func(format string) (file, stdout string) {
		dir := t.TempDir()
		extra := "loglevel=debug"
		if format != "" {
			extra += "\nlogformat=" + format
		}
		conf := writeConf(t, dir, extra, programs)
		d := startForeground(t, dir, conf)
		d.waitLog(`success: sleeper entered RUNNING state`, 10*time.Second)
		d.waitLog(`supervisord started with pid`, 10*time.Second)
		d.signal(syscall.SIGTERM)
		if st := d.waitExit(15 * time.Second); st != 0 {
			t.Fatalf("logformat=%s: exit status %d", format, st)
		}
		return d.log(), d.stdout.String()
	}
	textFile, _ := run("")
	jsonFile, jsonStdout := run("json")
	if jsonFile != jsonStdout {
		t.Errorf("the foreground stdout differs from the file:\n%s\n---\n%s", jsonStdout, jsonFile)
	}
	words := map[string]string{"CRIT": "critical", "ERRO": "error", "WARN": "warn", "INFO": "info", "DEBG": "debug", "TRAC": "trace", "BLAT": "blather"}
	var want []string
	for _, line := range strings.Split(strings.TrimSuffix(textFile, "\n"), "\n") {
		m := textLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("text line %q", line)
		}
		want = append(want, words[m[1]]+" "+digits.ReplaceAllString(m[2], "N"))
	}
	var got []string
	for _, l := range parseJSONLog(t, "main log", jsonFile) {
		got = append(got, l.Level+" "+digits.ReplaceAllString(l.Msg, "N"))
	}
	// The temporary directories differ between the two runs.
	norm := func(s []string) string {
		return regexp.MustCompile(`/tmp/\S*?/\S*?/`).ReplaceAllString(strings.Join(s, "\n"), "DIR/")
	}
	if norm(got) != norm(want) {
		t.Errorf("JSON messages differ from the text ones:\n%s\n--- text:\n%s", norm(got), norm(want))
	}
	for _, must := range []string{"info supervisord started with pid N", "warn received SIGTERM indicating exit request", "info spawned: 'sleeper' with pid N"} {
		if !strings.Contains(norm(got), must) {
			t.Errorf("no %q in the JSON log", must)
		}
	}
}
