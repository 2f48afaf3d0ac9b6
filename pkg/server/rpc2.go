package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/mainlog"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
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
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			Error(w, http.StatusRequestEntityTooLarge)
		}
		return // otherwise the client went away mid-body
	}
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(data), lim)
	if err != nil {
		switch {
		case errors.Is(err, xmlrpc.ErrTooLarge):
			Error(w, http.StatusRequestEntityTooLarge)
		case errors.Is(err, xmlrpc.ErrNoMethod):
			rt.log.Log(mainlog.Error, "XML-RPC request data "+loggedBody(data)+" is invalid: no method name")
			Error(w, http.StatusBadRequest)
		default:
			// Malformed XML, too deep, or not UTF-8. For the last the
			// original's medusa collector fails before the handler and
			// closes the connection without any answer; 400 says why.
			rt.log.Log(mainlog.Error, "XML-RPC request data "+loggedBody(data)+" is invalid: unmarshallable")
			Error(w, http.StatusBadRequest)
		}
		return
	}
	rt.log.Log(mainlog.Trace, "XML-RPC method called: "+method+"()")
	value, err := rt.rpc.Dispatch(r.Context(), method, params)
	var body []byte
	var f *fault.Error
	switch {
	case err == nil:
		rt.log.Log(mainlog.Trace, "XML-RPC method "+method+"() returned successfully")
		body, err = xmlrpc.AppendResponse(nil, value)
	case errors.As(err, &f):
		rt.log.Log(mainlog.Trace, fmt.Sprintf("XML-RPC method %s() returned fault: [%d] %s", method, int(f.Code), f.Error()))
		body, err = xmlrpc.AppendFault(nil, int(f.Code), f.Error())
	case r.Context().Err() != nil:
		return // the client left while the call waited; nobody to answer
	}
	if err != nil {
		// An unexpected exception in the original (e.g. a log slice that
		// is not UTF-8): HTTP 500.
		rt.log.Log(mainlog.Crit, "Handling XML-RPC request with data "+loggedBody(data)+" raised an unexpected exception: "+err.Error())
		Error(w, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// loggedBody is Python's repr of the request body, shortened if huge.
func loggedBody(data []byte) string {
	if len(data) > maxLoggedBody {
		return pyfmt.Repr(string(data[:maxLoggedBody])) + fmt.Sprintf(" (%d more bytes)", len(data)-maxLoggedBody)
	}
	return pyfmt.Repr(string(data))
}
