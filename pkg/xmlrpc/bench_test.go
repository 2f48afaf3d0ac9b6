package xmlrpc

import (
	"bytes"
	"strings"
	"testing"
)

// BenchmarkEncodeAllProcessInfo encodes a getAllProcessInfo result of 1,000
// processes (14 fields each, SPEC §5.4).
func BenchmarkEncodeAllProcessInfo(b *testing.B) {
	infos := make([]any, 1000)
	for i := range infos {
		infos[i] = processInfo(i)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendResponse(buf[:0], infos); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEncodeAllProcessInfoMaps is the same result built from maps
// (keys are sorted on every encode).
func BenchmarkEncodeAllProcessInfoMaps(b *testing.B) {
	infos := make([]any, 1000)
	for i := range infos {
		m := map[string]any{}
		for _, f := range processInfo(i) {
			m[f.Name] = f.Value
		}
		infos[i] = m
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := EncodeResponse(&buf, infos); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkDecodeCall decodes a typical supervisorctl request.
func BenchmarkDecodeCall(b *testing.B) {
	body := "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.readProcessStdoutLog</methodName>\n<params>\n" +
		"<param>\n<value><string>group:name</string></value>\n</param>\n<param>\n<value><int>-1600</int></value>\n</param>\n" +
		"<param>\n<value><int>0</int></value>\n</param>\n</params>\n</methodCall>\n"
	r := strings.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r.Reset(body)
		if _, _, err := DecodeCall(r, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
