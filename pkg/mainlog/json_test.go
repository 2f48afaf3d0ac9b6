package mainlog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// logformat=json: every target gets one object per message, with time,
// level and msg; the message is the text line's, and the levels map one to
// one onto the text words.
func TestJSONFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervisord.log")
	var out lockedBuf
	l, err := New(Options{Path: path, Level: loglevel.Blather, Stdout: &out, Clock: clock, RingSize: 4096, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	msgs := map[loglevel.Level]string{
		loglevel.Critical: `crit "quoted"`, loglevel.Error: "two\nlines", loglevel.Warn: "w\ttab",
		loglevel.Info: "spawned: 'x' with pid 42", loglevel.Debug: "d", loglevel.Trace: "t", loglevel.Blather: "b é",
	}
	wantName := map[loglevel.Level]string{
		loglevel.Critical: "critical", loglevel.Error: "error", loglevel.Warn: "warn", loglevel.Info: "info",
		loglevel.Debug: "debug", loglevel.Trace: "trace", loglevel.Blather: "blather",
	}
	for _, lv := range loglevel.Levels() {
		l.Log(lv, msgs[lv])
	}
	file, _ := os.ReadFile(path)
	ring, _, _ := l.Ring().ReadAt(0, 0)
	if !bytes.Equal(file, []byte(out.String())) || !bytes.Equal(file, ring) {
		t.Fatalf("targets differ:\nfile %q\nstdout %q\nring %q", file, out.String(), ring)
	}
	lines := strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
	if len(lines) != len(msgs) {
		t.Fatalf("%d lines, want %d: %q", len(lines), len(msgs), file)
	}
	for i, lv := range loglevel.Levels() {
		var obj map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &obj); err != nil {
			t.Fatalf("line %d %q: %v", i, lines[i], err)
		}
		want := map[string]any{"time": fixed.UTC().Format("2006-01-02T15:04:05.000Z"), "level": wantName[lv], "msg": msgs[lv]}
		if len(obj) != len(want) {
			t.Errorf("line %d: %v, want %v", i, obj, want)
		}
		for k, v := range want {
			if obj[k] != v {
				t.Errorf("line %d: %s = %#v, want %#v", i, k, obj[k], v)
			}
		}
	}
	if strings.Contains(string(file), "INFO") {
		t.Errorf("JSON log carries text level words: %q", file)
	}
}

// The JSON level of every zap level is that of the text word it prints.
func TestJSONLevelNames(t *testing.T) {
	words := map[string]string{"CRIT": "critical", "ERRO": "error", "WARN": "warn", "INFO": "info", "DEBG": "debug", "TRAC": "trace", "BLAT": "blather"}
	for z := zapcore.DebugLevel - 3; z <= zapcore.FatalLevel; z++ {
		if got, want := LevelName(z), words[levelWord(z)]; got != want {
			t.Errorf("zap %v: JSON level %q, text %q (want %q)", z, got, levelWord(z), want)
		}
	}
}

// A zap logger on the core keeps its structured fields in JSON.
func TestJSONZapFields(t *testing.T) {
	var out lockedBuf
	l, err := New(Options{Level: loglevel.Info, Stdout: &out, Clock: clock, JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	zap.New(l.Core()).Info("hello", zap.String("k", "v"))
	var obj map[string]any
	if err := json.Unmarshal([]byte(out.String()), &obj); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if obj["msg"] != "hello" || obj["k"] != "v" || obj["level"] != "info" {
		t.Errorf("%v", obj)
	}
}
