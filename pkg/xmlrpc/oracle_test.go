package xmlrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The oracle is the original itself: supervisor.xmlrpc's loads (the request
// loader) and xmlrpc_marshal (which calls xmlrpc.client.dumps), run under the
// Python that Debian's supervisord uses.
const oracleScript = `
import sys, json, base64, datetime
sys.path.insert(0, '/usr/lib/python3/dist-packages')
import xmlrpc.client as xc
from supervisor.xmlrpc import xmlrpc_marshal, supervisor_xmlrpc_handler

def untag(x):
    t, v = x['t'], x.get('v')
    if t == 'none': return None
    if t == 'bool': return v
    if t == 'int': return int(v)
    if t == 'str': return v
    if t == 'float': return float(v) if v in ('inf', '-inf', 'nan') else float.fromhex(v)
    if t == 'bytes': return base64.b64decode(v)
    if t == 'dt': return datetime.datetime(*v)
    if t == 'list': return [untag(e) for e in v]
    if t == 'dict': return dict((k, untag(e)) for k, e in v)
    if t == 'fault': return xc.Fault(v[0], v[1])
    raise ValueError(t)

def tag(o):
    if o is None: return {'t': 'none'}
    if isinstance(o, bool): return {'t': 'bool', 'v': o}
    if isinstance(o, int): return {'t': 'int', 'v': str(o)}
    if isinstance(o, float): return {'t': 'float', 'v': repr(o)}
    if isinstance(o, str): return {'t': 'str', 'v': o}
    if isinstance(o, datetime.datetime): return {'t': 'dt', 'v': o.isoformat()}
    if isinstance(o, (list, tuple)): return {'t': 'list', 'v': [tag(e) for e in o]}
    if isinstance(o, dict): return {'t': 'dict', 'v': sorted([k, tag(e)] for k, e in o.items())}
    return {'t': 'other', 'v': repr(o)}

def run(mode, items):
    for it in items:
        try:
            if mode == 'marshal':
                out = xmlrpc_marshal(untag(it)).encode('utf-8')
                yield {'ok': base64.b64encode(out).decode()}
            elif mode == 'call':
                params = tuple(untag(p) for p in it['params'])
                out = xc.dumps(params, it['method'], allow_none=True).encode('utf-8')
                yield {'ok': base64.b64encode(out).decode()}
            elif mode == 'loads':
                data = base64.b64decode(it).decode('utf-8')  # medusa's collector
                h = supervisor_xmlrpc_handler.__new__(supervisor_xmlrpc_handler)
                params, method = h.loads(data)
                if not method:
                    yield {'err': 'no method name'}
                    continue
                yield {'ok': {'method': method, 'params': tag(list(params or ()))}}
        except Exception as e:
            yield {'err': '%s: %s' % (type(e).__name__, e)}

req = json.load(sys.stdin)
json.dump(list(run(req['mode'], req['items'])), sys.stdout)
`

type oracleResult struct {
	OK  json.RawMessage `json:"ok"`
	Err string          `json:"err"`
}

// oracle runs the original over items; it skips the test only when
// GOSUPERVISOR_NO_PYTHON=1, so a missing Python makes the suite fail.
func oracle(t *testing.T, mode string, items []any) []oracleResult {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
				t.Skip("python3 not available and GOSUPERVISOR_NO_PYTHON=1")
			}
			t.Fatalf("python3 (with Debian's supervisor) is needed as the oracle; set GOSUPERVISOR_NO_PYTHON=1 to skip: %v", err)
		}
	}
	script := filepath.Join(t.TempDir(), "oracle.py")
	if err := os.WriteFile(script, []byte(oracleScript), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(map[string]any{"mode": mode, "items": items})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if os.Getenv("GOSUPERVISOR_NO_PYTHON") == "1" {
			t.Skipf("oracle failed (GOSUPERVISOR_NO_PYTHON=1): %v\n%s", err, stderr.String())
		}
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	var res []oracleResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oracle output: %v\n%s", err, out)
	}
	if len(res) != len(items) {
		t.Fatalf("oracle returned %d results for %d items", len(res), len(items))
	}
	return res
}

// toTagged describes a Go value for the oracle's untag (Python rebuilds the
// same value from it). Maps become dicts in sorted key order, as we emit them.
func toTagged(v any) any {
	switch x := v.(type) {
	case nil:
		return map[string]any{"t": "none"}
	case bool:
		return map[string]any{"t": "bool", "v": x}
	case string:
		return map[string]any{"t": "str", "v": x}
	case []byte:
		return map[string]any{"t": "bytes", "v": x}
	case float64:
		s := strconv.FormatFloat(x, 'x', -1, 64)
		switch {
		case math.IsNaN(x):
			s = "nan"
		case math.IsInf(x, 1):
			s = "inf"
		case math.IsInf(x, -1):
			s = "-inf"
		}
		return map[string]any{"t": "float", "v": s}
	case time.Time:
		return map[string]any{"t": "dt", "v": []int{x.Year(), int(x.Month()), x.Day(), x.Hour(), x.Minute(), x.Second()}}
	case Struct:
		pairs := []any{}
		for _, m := range x {
			pairs = append(pairs, []any{m.Name, toTagged(m.Value)})
		}
		return map[string]any{"t": "dict", "v": pairs}
	case Fault:
		return toTagged(Struct{{"faultCode", x.Code}, {"faultString", x.String}})
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"t": "int", "v": strconv.FormatInt(rv.Int(), 10)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"t": "int", "v": strconv.FormatUint(rv.Uint(), 10)}
	case reflect.Float32:
		return toTagged(rv.Float())
	case reflect.String:
		return toTagged(rv.String())
	case reflect.Slice, reflect.Array:
		items := []any{}
		for i := 0; i < rv.Len(); i++ {
			items = append(items, toTagged(rv.Index(i).Interface()))
		}
		return map[string]any{"t": "list", "v": items}
	case reflect.Map:
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			if a.String() < b.String() {
				return -1
			}
			return 1
		})
		pairs := []any{}
		for _, k := range keys {
			pairs = append(pairs, []any{k.String(), toTagged(rv.MapIndex(k).Interface())})
		}
		return map[string]any{"t": "dict", "v": pairs}
	case reflect.Pointer:
		if rv.IsNil() {
			return toTagged(nil)
		}
		return toTagged(rv.Elem().Interface())
	}
	panic(fmt.Sprintf("toTagged: %T", v))
}

// canonical renders a decoded value the way the oracle's tag() renders the
// original's: base64 payloads are strings there, floats are repr()s.
func canonical(v any) any {
	switch x := v.(type) {
	case nil:
		return map[string]any{"t": "none"}
	case bool:
		return map[string]any{"t": "bool", "v": x}
	case int:
		return map[string]any{"t": "int", "v": strconv.Itoa(x)}
	case float64:
		return map[string]any{"t": "float", "v": string(appendPyFloatRepr(nil, x))}
	case string:
		return map[string]any{"t": "str", "v": x}
	case []byte:
		return map[string]any{"t": "str", "v": string(x)}
	case time.Time:
		return map[string]any{"t": "dt", "v": x.Format("2006-01-02T15:04:05")}
	case []any:
		items := []any{}
		for _, e := range x {
			items = append(items, canonical(e))
		}
		return map[string]any{"t": "list", "v": items}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		pairs := []any{}
		for _, k := range keys {
			pairs = append(pairs, []any{k, canonical(x[k])})
		}
		return map[string]any{"t": "dict", "v": pairs}
	}
	return map[string]any{"t": "go", "v": fmt.Sprintf("%T", v)}
}

// sameJSON compares a Go structure with the oracle's JSON.
func sameJSON(t *testing.T, got any, want json.RawMessage) (string, string, bool) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var w any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(w)
	return string(g), string(wb), bytes.Equal(g, wb)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
