package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/rpc"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// maxLoggedBody caps how much of a bad request body goes into the log (the
// original logs all of it).
const maxLoggedBody = 4096

// serveRPC is the original's supervisor_xmlrpc_handler.
func (rt *routes) serveRPC(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		Error(w, http.StatusBadRequest)
		return
	}
	if r.Header.Get("Content-Length") == "" {
		Error(w, http.StatusLengthRequired)
		return
	}
	lim := rt.opts.Limits
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = xmlrpc.DefaultMaxBytes
	}
	if r.ContentLength > maxBytes {
		Error(w, http.StatusRequestEntityTooLarge)
		return
	}
	// The body is decoded as it arrives (the element cap bounds what it
	// decodes to); its start is kept for the log.
	in := &rpcBody{r: http.MaxBytesReader(w, r.Body, maxBytes)}
	method, params, err := xmlrpc.DecodeCall(in, lim)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(in.err, &tooBig), errors.Is(err, xmlrpc.ErrTooLarge):
			rt.log.Log(loglevel.Warn, "XML-RPC request refused: "+limitText(err, in.err, maxBytes))
			rt.refuseBody(w, r, http.StatusRequestEntityTooLarge)
		case bodyTimedOut(in.err):
			rt.refuseBody(w, r, http.StatusRequestTimeout)
		case in.err != nil:
			// the client went away mid-body
		case errors.Is(err, xmlrpc.ErrNoMethod):
			in.drain()
			rt.log.Log(loglevel.Error, "XML-RPC request data "+in.logged()+" is invalid: no method name")
			Error(w, http.StatusBadRequest)
		default:
			// Malformed XML, too deep, or not UTF-8. For the last the
			// original's medusa collector fails before the handler and
			// closes the connection without any answer; 400 says why.
			in.drain()
			rt.log.Log(loglevel.Error, "XML-RPC request data "+in.logged()+" is invalid: unmarshallable")
			Error(w, http.StatusBadRequest)
		}
		return
	}
	rt.log.Log(loglevel.Trace, "XML-RPC method called: "+method+"()")
	cacheable := method == "supervisor.getAllProcessInfo" && len(params) == 0
	var key snapshotKey
	if cacheable {
		key = snapshotKey{sec: time.Now().Unix(), gen: rt.sup.Generation()}
		if body := rt.snapshots.get(key); body != nil {
			rt.log.Log(loglevel.Trace, "XML-RPC method "+method+"() returned successfully")
			rt.metrics.ObserveRPC(method, 0)
			writeXML(w, body)
			return
		}
	}
	// system.multicall's results are encoded as its calls run.
	value, err := rt.rpc.Dispatch(rpc.StreamMulticall(r.Context()), method, params)
	var body []byte
	var f *fault.Error
	switch {
	case err == nil && cacheable:
		rt.log.Log(loglevel.Trace, "XML-RPC method "+method+"() returned successfully")
		if body, err = xmlrpc.AppendResponse(nil, value); err == nil {
			rt.snapshots.put(key, snapshotKey{sec: time.Now().Unix(), gen: rt.sup.Generation()}, body)
		}
	case err == nil:
		rt.log.Log(loglevel.Trace, "XML-RPC method "+method+"() returned successfully")
		w.Header().Set("Content-Type", "text/xml")
		var written bool
		scratch := rt.answers.get()
		defer rt.answers.put(scratch)
		body, written, err = xmlrpc.WriteResponse(w, value, responseSpill, *scratch)
		*scratch = body[:0] // keep the grown memory for the next answer
		if written {
			rt.reclaim() // a rare, large answer: give its memory back
			rt.observeRPC(method, nil, err)
			if err != nil {
				// Too late for a 500: the answer has begun. Cut it.
				if r.Context().Err() == nil {
					rt.log.Log(loglevel.Critical, "Handling XML-RPC request with data "+in.logged()+" raised an unexpected exception: "+err.Error())
				}
				panic(http.ErrAbortHandler)
			}
			return
		}
		if err != nil && r.Context().Err() != nil {
			return // a multicall's client left while a call waited
		}
	case errors.As(err, &f):
		rt.log.Log(loglevel.Trace, fmt.Sprintf("XML-RPC method %s() returned fault: [%d] %s", method, int(f.Code), f.Error()))
		body, err = xmlrpc.AppendFault(nil, int(f.Code), f.Error())
	case r.Context().Err() != nil:
		return // the client left while the call waited; nobody to answer
	}
	rt.observeRPC(method, f, err)
	if err != nil {
		// An unexpected exception in the original (e.g. a log slice that
		// is not UTF-8): HTTP 500.
		rt.log.Log(loglevel.Critical, "Handling XML-RPC request with data "+in.logged()+" raised an unexpected exception: "+err.Error())
		Error(w, http.StatusInternalServerError)
		return
	}
	writeXML(w, body)
}

// observeRPC counts an answered call for /metrics: code 0 for a result,
// the fault code for a fault, 500 for an unexpected exception.
func (rt *routes) observeRPC(method string, f *fault.Error, err error) {
	switch {
	case err != nil && f == nil:
		rt.metrics.ObserveRPC(method, http.StatusInternalServerError)
	case f != nil:
		rt.metrics.ObserveRPC(method, int(f.Code))
	default:
		rt.metrics.ObserveRPC(method, 0)
	}
}

func writeXML(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// answerBuffers recycles the memory answers are encoded into: a
// getAllProcessInfo inside a multicall (what `fleet status`, the console
// and node pollers ask) is ~150 KB for 200 processes, and growing a fresh
// buffer to that size for every call made the garbage collector most of
// the daemon's work for it.
type answerBuffers struct{ pool sync.Pool }

// maxKeptAnswer: larger buffers (rare, huge answers) are left to the
// collector rather than kept.
const maxKeptAnswer = 1 << 20

func (a *answerBuffers) get() *[]byte {
	if b, ok := a.pool.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (a *answerBuffers) put(b *[]byte) {
	if cap(*b) <= maxKeptAnswer {
		a.pool.Put(b)
	}
}

// snapshotKey identifies a getAllProcessInfo answer: its contents depend
// only on the engine's generation and the clock's whole second (now,
// uptimes).
type snapshotKey struct {
	sec int64
	gen uint64
}

// snapshotCache keeps the last encoded getAllProcessInfo answer, so that
// many monitoring clients polling at once share one snapshot and encoding.
type snapshotCache struct {
	mu   sync.Mutex
	key  snapshotKey
	body []byte
}

func (c *snapshotCache) get(k snapshotKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.body != nil && c.key == k {
		return c.body
	}
	return nil
}

// put stores body computed between keys before and after; if the second or
// the generation moved meanwhile it is not known to be current, so it is
// not kept.
func (c *snapshotCache) put(before, after snapshotKey, body []byte) {
	if before != after {
		return
	}
	c.mu.Lock()
	c.key, c.body = before, body
	c.mu.Unlock()
}

// loggedBody is Python's repr of the request body, shortened if huge.
func loggedBody(data []byte) string {
	if len(data) > maxLoggedBody {
		return pyfmt.Repr(string(data[:maxLoggedBody])) + fmt.Sprintf(" (%d more bytes)", len(data)-maxLoggedBody)
	}
	return pyfmt.Repr(string(data))
}
