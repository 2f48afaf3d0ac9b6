package server

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// Hostile input on /RPC2 (issue 18, "what held"): malformed bodies and
// every method called with garbage arguments are answered, never a panic
// (ServeHTTP runs on the test's goroutine, so one fails the test), and the
// engine keeps answering afterwards. An answer is a methodResponse, a 400
// or 413 for what does not parse or is too large, or the original's 500
// for an argument its Python code would raise on (SPEC §10 item 49).

// malformedBodies are XML-RPC requests broken in every way a parser can be.
var malformedBodies = []string{
	"", "<", ">", "not xml at all", "\x00\x01\x02", "\xff\xfe<methodCall/>",
	"<methodCall>", "<methodCall></methodCall>", "<methodCall><methodName/></methodCall>",
	"<methodCall><methodName></methodName><params/></methodCall>",
	"<methodResponse><params/></methodResponse>", "<foo><methodName>system.listMethods</methodName></foo>",
	"<methodCall><methodName>system.listMethods</methodName><params><param/></params></methodCall>",
	"<methodCall><methodName>system.listMethods</methodName><params><param><value><int>x</int></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><i4>99999999999999999999</i4></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><double>1e999</double></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><base64>!!!</base64></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><dateTime.iso8601>yesterday</dateTime.iso8601></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><struct><member><value><int>1</int></value></member></struct></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><array></array></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><array><data><int>1</int></data></array></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><nil/></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><unknowntype>1</unknowntype></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><string>a</string><string>b</string></value></param></params></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params><param><value><string><![CDATA[x</string></value></param></params></methodCall>",
	"<?xml version='1.0' encoding='ebcdic'?><methodCall><methodName>system.listMethods</methodName></methodCall>",
	`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><methodCall><methodName>&lol2;</methodName></methodCall>`,
	`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><methodCall><methodName>&e;</methodName></methodCall>`,
	"<methodCall><methodName>system.listMethods</methodName><params></params></methodCall><methodCall>",
	"<methodCall><methodName>system.listMethods</methodName><params></params>",
	"<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><string>x</string></value></data></array></value></param></params></methodCall>",
	"<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><struct><member><name>methodName</name><value><int>1</int></value></member></struct></value></data></array></value></param></params></methodCall>",
	"<methodCall><methodName>system.multicall</methodName><params><param><value><array><data><value><struct><member><name>methodName</name><value><string>system.multicall</string></value></member><member><name>params</name><value><string>x</string></value></member></struct></value></data></array></value></param></params></methodCall>",
	"<methodCall><methodName>" + strings.Repeat("a", 1<<16) + "</methodName></methodCall>",
	"<methodCall><methodName>system.methodHelp</methodName><params>" + strings.Repeat("<param><value><int>1</int></value></param>", 1000) + "</params></methodCall>",
	strings.Repeat("<array><data><value>", 500) + strings.Repeat("</value></data></array>", 500),
}

// garbageArgs are argument lists of every type and count.
var garbageArgs = [][]string{
	{}, {"<int>0</int>"}, {"<int>-1</int>"}, {"<int>2147483647</int>"}, {"<string></string>"},
	{"<string>*</string>"}, {"<string>:</string>"}, {"<string>nosuch:</string>"}, {"<string>../../etc/passwd</string>"},
	{"<string>" + strings.Repeat("x", 1<<14) + "</string>"}, {"<string>\u00e9\u0000</string>"},
	{"<boolean>1</boolean>"}, {"<double>-0.5</double>"}, {"<base64>aGk=</base64>"},
	{"<dateTime.iso8601>20261203T12:00:00</dateTime.iso8601>"}, {"<array><data/></array>"},
	{"<struct></struct>"}, {"<struct><member><name>methodName</name><value><string>supervisor.getState</string></value></member></struct>"},
	{"<string>nosuch</string>", "<int>-5</int>"}, {"<string>nosuch</string>", "<string>KILL</string>"},
	{"<string>nosuch</string>", "<int>0</int>", "<int>100000000</int>"},
	{"<string>nosuch</string>", "<boolean>0</boolean>", "<string>x</string>", "<string>y</string>"},
}

// spared are the methods that would end the engine, or start every
// program of an engine whose reaper does not run here, when called right.
var spared = map[string]bool{"supervisor.shutdown": true, "supervisor.restart": true,
	"supervisor.startAllProcesses": true, "supervisor.stopAllProcesses": true}

func rpcWith(method string, args []string) string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0'?><methodCall><methodName>" + method + "</methodName><params>")
	for _, a := range args {
		b.WriteString("<param><value>" + a + "</value></param>")
	}
	b.WriteString("</params></methodCall>")
	return b.String()
}

func TestRPC2HostileInput(t *testing.T) {
	e := newEngine(t, progConf+"\n[program:dep]\ncommand=/bin/cat\nautostart=false\ndepends_on=prog\nhealthcheck=tcp://127.0.0.1:1\n")
	h := e.handler(config.HTTPServer{Section: "unix_http_server", Unix: true})
	post := func(body string) (int, string) {
		rec := do(h, "POST", "/RPC2", body, map[string]string{"Content-Length": strconv.Itoa(len(body))})
		return rec.Code, rec.Body.String()
	}
	alive := func(after string) {
		t.Helper()
		if code, body := post(rpcCall("supervisor.getState")); code != 200 || !strings.Contains(body, "RUNNING") {
			t.Fatalf("after %s the engine answers getState %d %q", after, code, body)
		}
	}
	answered := func(code int, resp string) bool {
		switch code {
		case 200:
			return strings.Contains(resp, "<methodResponse>")
		case 400, 413, 500:
			return strings.Contains(resp, fmt.Sprintf("Error code %d.", code))
		}
		return false
	}
	for i, body := range malformedBodies {
		if code, resp := post(body); !answered(code, resp) {
			t.Errorf("malformed body %d (%.60q): %d %.200q", i, body, code, resp)
		}
	}
	alive("the malformed bodies")

	_, list := post(rpcCall("system.listMethods"))
	methods := regexp.MustCompile(`<string>([a-zA-Z.]+)</string>`).FindAllStringSubmatch(list, -1)
	if len(methods) < 40 {
		t.Fatalf("system.listMethods named %d methods:\n%s", len(methods), list)
	}
	calls := 0
	for _, m := range methods {
		if spared[m[1]] {
			continue
		}
		for _, args := range garbageArgs {
			code, resp := post(rpcWith(m[1], args))
			calls++
			if !answered(code, resp) {
				t.Errorf("%.60s(%.60v): %d %.200q", m[1], args, code, resp)
			}
		}
	}
	alive(fmt.Sprintf("%d garbage-argument calls", calls))
	t.Logf("%d malformed bodies, %d garbage-argument calls over %d methods", len(malformedBodies), calls, len(methods))
}
