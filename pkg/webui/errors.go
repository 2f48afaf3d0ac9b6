package webui

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
)

// apiErr is the body of every error answer: {"error": {...}}. Code is the
// original's fault code when the error is a fault, 0 otherwise.
type apiErr struct {
	Code    int    `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

func errNotFound(path string) apiErr {
	return apiErr{Name: "NOT_FOUND", Message: "no such resource: " + path}
}

func errBadRequest(msg string) apiErr {
	return apiErr{Name: "BAD_REQUEST", Message: msg}
}

// faultStatus maps the original's faults onto HTTP statuses.
func faultStatus(c fault.Code) int {
	switch c {
	case fault.BadName:
		return http.StatusNotFound
	case fault.BadSignal, fault.BadArguments, fault.IncorrectParameters:
		return http.StatusBadRequest
	case fault.AlreadyStarted, fault.NotRunning, fault.AlreadyAdded, fault.StillRunning:
		return http.StatusConflict
	case fault.CantReread:
		return http.StatusUnprocessableEntity
	case fault.ShutdownState:
		return http.StatusServiceUnavailable
	case fault.Unauthorized:
		return http.StatusForbidden
	case fault.NoFile, fault.NotExecutable, fault.SpawnError, fault.AbnormalTermination:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// writeFailure answers err: a fault with its code and text, anything else as
// an internal error.
func writeFailure(w http.ResponseWriter, err error) {
	var f *fault.Error
	if errors.As(err, &f) {
		writeError(w, faultStatus(f.Code), apiErr{Code: int(f.Code), Name: f.Code.Name(), Message: f.Error()})
		return
	}
	writeError(w, http.StatusInternalServerError, apiErr{Name: "INTERNAL", Message: err.Error()})
}

func writeError(w http.ResponseWriter, status int, e apiErr) {
	writeJSON(w, status, map[string]apiErr{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
