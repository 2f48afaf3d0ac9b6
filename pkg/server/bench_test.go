package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/testengine"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// BenchmarkRPC2Multicall200 is what `supervisorctl fleet status` asks of
// each node: one multicall of getSupervisorVersion, getState and
// getAllProcessInfo, here with 200 programs (encoded anew each time: a
// multicall's answer is not cached).
func BenchmarkRPC2Multicall200(b *testing.B) {
	var conf strings.Builder
	conf.WriteString(rpcSection)
	for i := range 200 {
		fmt.Fprintf(&conf, "[program:p%d]\ncommand=/bin/sleep 1000\nautostart=false\n", i)
	}
	e := testengine.Start(b, conf.String(), loglevel.Info)
	h := Handler(e.Sup, e.Log, config.HTTPServer{Unix: true}, Options{Poll: 20 * time.Millisecond, AuthFailDelay: -1})
	body := `<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>` +
		`<value><struct><member><name>methodName</name><value><string>supervisor.getSupervisorVersion</string></value></member><member><name>params</name><value><array><data/></array></value></member></struct></value>` +
		`<value><struct><member><name>methodName</name><value><string>supervisor.getState</string></value></member><member><name>params</name><value><array><data/></array></value></member></struct></value>` +
		`<value><struct><member><name>methodName</name><value><string>supervisor.getAllProcessInfo</string></value></member><member><name>params</name><value><array><data/></array></value></member></struct></value>` +
		`</data></array></value></param></params></methodCall>`
	b.ReportAllocs()
	for b.Loop() {
		rec := do(h, http.MethodPost, "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
		if rec.Code != 200 || strings.Count(rec.Body.String(), "<name>pid</name>") != 200 {
			b.Fatalf("%d %.300s", rec.Code, rec.Body.String())
		}
	}
}
