package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
)

// The original's web UI views (web.py) that scripts and bookmarks rely on:
// index.html?action=..., tail.html and ok.html. The status page itself
// belongs to the web console.

// formValue is the original's form lookup: query and urlencoded body merged
// (body wins), blank values treated as absent.
func formValue(r *http.Request, key string) string {
	_ = r.ParseForm()
	return r.Form.Get(key)
}

func hasAction(r *http.Request, _ *mux.RouteMatch) bool { return formValue(r, "action") != "" }

func serveOK(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", "2")
	_, _ = w.Write([]byte("OK"))
}

// noCache are the headers of the original's rendered views.
func noCache(h http.Header) {
	h.Set("Pragma", "no-cache")
	h.Set("Cache-Control", "no-cache")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
}

// serveAction performs index.html?action=X[&processname=NS] and redirects
// to the status page with the outcome, as the original does (a 301 whose
// body is medusa's error page for 301).
func (rt *routes) serveAction(w http.ResponseWriter, r *http.Request) {
	msg, err := rt.action(r.Context(), formValue(r, "processname"), formValue(r, "action"))
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left while the action waited
		}
		rt.log.Log(loglevel.Error, "Web interface error:"+err.Error())
		Error(w, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Location", serverURL(r)+"/?message="+pyQuote(msg))
	noCache(h)
	Error(w, http.StatusMovedPermanently)
}

// ctime is Python's time.ctime() of now.
func ctime() string { return time.Now().Format(time.ANSIC) }

// action runs one UI action through the RPC dispatcher (waiting as the RPC
// does) and returns the original's message. An error is what the original
// answers with HTTP 500 (unknown action, no process name, unexpected
// failures).
func (rt *routes) action(ctx context.Context, ns, action string) (string, error) {
	d := rt.full
	switch action {
	case "refresh":
		return "Page refreshed at " + ctime(), nil
	case "stopall":
		if _, err := d.Dispatch(ctx, "supervisor.stopAllProcesses", nil); err != nil {
			return "", fmt.Errorf("stopall: %w", err)
		}
		return "All stopped at " + ctime(), nil
	case "restartall":
		calls := []any{
			map[string]any{"methodName": "supervisor.stopAllProcesses"},
			map[string]any{"methodName": "supervisor.startAllProcesses"},
		}
		if _, err := d.Dispatch(ctx, "system.multicall", []any{calls}); err != nil {
			return "", fmt.Errorf("restartall: %w", err)
		}
		return "All restarted at " + ctime(), nil
	}
	if ns == "" {
		return "", fmt.Errorf("unknown action %q without a process name", action)
	}
	if _, err := rt.sup.LogPath(ns, "stdout"); err != nil {
		return "No such process named " + ns, nil
	}
	switch action {
	case "start":
		_, err := d.Dispatch(ctx, "supervisor.startProcess", []any{ns})
		if f, ok := asFault(err); ok {
			return "ERROR: Process " + ns + ": " + startError(f), nil
		} else if err != nil {
			return "", fmt.Errorf("start %s: %w", ns, err)
		}
		return "Process " + ns + " started", nil
	case "stop":
		_, err := d.Dispatch(ctx, "supervisor.stopProcess", []any{ns})
		if f, ok := asFault(err); ok {
			return unexpectedFault(f), nil
		} else if err != nil {
			return "", fmt.Errorf("stop %s: %w", ns, err)
		}
		return "Process " + ns + " stopped", nil
	case "restart":
		calls := []any{
			map[string]any{"methodName": "supervisor.stopProcess", "params": []any{ns}},
			map[string]any{"methodName": "supervisor.startProcess", "params": []any{ns}},
		}
		// Faults end up inside the multicall result: always "restarted".
		if _, err := d.Dispatch(ctx, "system.multicall", []any{calls}); err != nil {
			return "", fmt.Errorf("restart %s: %w", ns, err)
		}
		return "Process " + ns + " restarted", nil
	case "clearlog":
		_, err := d.Dispatch(ctx, "supervisor.clearProcessLogs", []any{ns})
		if f, ok := asFault(err); ok {
			return unexpectedFault(f), nil
		} else if err != nil {
			return "", fmt.Errorf("clearlog %s: %w", ns, err)
		}
		return "Log for " + ns + " cleared", nil
	}
	return "", fmt.Errorf("unknown action %q", action)
}

func asFault(err error) (*fault.Error, bool) {
	var f *fault.Error
	ok := errors.As(err, &f)
	return f, ok
}

func unexpectedFault(f *fault.Error) string {
	return fmt.Sprintf("unexpected rpc fault [%d] %s", int(f.Code), f.Error())
}

func startError(f *fault.Error) string {
	switch f.Code {
	case fault.NoFile:
		return "no such file"
	case fault.NotExecutable:
		return "file not executable"
	case fault.AlreadyStarted:
		return "already started"
	case fault.SpawnError:
		return "spawn error"
	case fault.AbnormalTermination:
		return "abnormal termination"
	}
	return unexpectedFault(f)
}

// serverURL is the original's get_server_url: "http://" + the Host header,
// without a port of 80.
func serverURL(r *http.Request) string {
	host := strings.TrimSpace(r.Host)
	if host == "" {
		// No Host (supervisorctl over a unix socket sends an empty one):
		// the original falls back to its server name.
		host = "localhost"
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
			host = a.String()
		}
	}
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && allDigits(host[i+1:]) {
		name, port = host[:i], host[i+1:]
	}
	if port == "" || port == "80" {
		return "http://" + name
	}
	return "http://" + name + ":" + port
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pyQuote is Python's urllib.parse.quote(s) (safe "/").
func pyQuote(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

// tailPage is the original's ui/tail.html as its template engine renders it.
const tailPage = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html>
<head>
  <title>Supervisor tail of process %s</title>
</head>
<body>

<div>

<pre>%s</pre>

<form action="index.html" method="POST">

<div style="margin-top: 10px;">
  %s</div>

</form>

</div>

</body>
</html>`

const refreshAnchor = `<a href="%s">
    <input name="refresh" type="button" value=" Refresh " />
  </a>
`

// serveTail is tail.html?processname=NS[&limit=N]: the last max(1024, N)
// bytes of the process's stdout log in a page.
func (rt *routes) serveTail(w http.ResponseWriter, r *http.Request) {
	ns := formValue(r, "processname")
	title, text, anchor := "None", "No process name found", ""
	if ns != "" {
		limit := 1024
		if v := formValue(r, "limit"); v != "" && allDigits(v) {
			n, err := strconv.Atoi(v)
			if err != nil || n > 1<<31-1 {
				n = 1<<31 - 1
			}
			limit = max(limit, n)
		}
		v, err := rt.full.Dispatch(r.Context(), "supervisor.readProcessStdoutLog", []any{ns, -limit, 0})
		s, isString := v.(string)
		switch f, isFault := asFault(err); {
		case isFault && f.Code == fault.NoFile:
			text = "No file for " + ns
		case isFault:
			text = "ERROR: " + unexpectedFault(f)
		case err != nil || !isString || !utf8.ValidString(s):
			// The original fails decoding a slice that is not UTF-8: 500.
			Error(w, http.StatusInternalServerError)
			return
		default:
			text = s
		}
		title = ns
		anchor = fmt.Sprintf(refreshAnchor, htmlAttr("tail.html?processname="+pyQuote(ns)+"&limit="+strconv.Itoa(limit)))
	}
	// The original can only render ASCII here (it answers 500 otherwise);
	// we send the text as UTF-8.
	body := fmt.Sprintf(tailPage, htmlText(title), htmlText(text), anchor)
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	noCache(h)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write([]byte(body))
}

// htmlText escapes character data as the original's templating does: "<"
// always, "&" unless it already starts an entity; ">" stays.
func htmlText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '&':
			if startsEntity(s[i+1:]) {
				b.WriteByte('&')
			} else {
				b.WriteString("&amp;")
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// htmlAttr escapes an attribute value: as text, plus '"'.
func htmlAttr(s string) string { return strings.ReplaceAll(htmlText(s), `"`, "&quot;") }

// startsEntity reports whether s (what follows a '&') matches [#\w]*;.
func startsEntity(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ';':
			return true
		case c == '#', c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return false
}
