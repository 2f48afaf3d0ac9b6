// Package fault holds the original supervisord's fault codes. The engine's
// internal API returns *fault.Error so that the XML-RPC layer, the JSON API
// and the web console all report the same code and text.
package fault

import "fmt"

// Code is one of the original's xmlrpc.Faults values.
type Code int

const (
	UnknownMethod        Code = 1
	IncorrectParameters  Code = 2
	BadArguments         Code = 3
	SignatureUnsupported Code = 4
	ShutdownState        Code = 6
	BadName              Code = 10
	BadSignal            Code = 11
	NoFile               Code = 20
	NotExecutable        Code = 21
	Failed               Code = 30
	AbnormalTermination  Code = 40
	SpawnError           Code = 50
	AlreadyStarted       Code = 60
	NotRunning           Code = 70
	Success              Code = 80
	AlreadyAdded         Code = 90
	StillRunning         Code = 91
	CantReread           Code = 92
	// Unauthorized is ours (EXTENSIONS.md §7): the caller's role does not
	// allow the method. None of the original's codes (1–92); 403 says
	// what HTTP would.
	Unauthorized Code = 403
)

var names = map[Code]string{
	UnknownMethod: "UNKNOWN_METHOD", IncorrectParameters: "INCORRECT_PARAMETERS",
	BadArguments: "BAD_ARGUMENTS", SignatureUnsupported: "SIGNATURE_UNSUPPORTED",
	ShutdownState: "SHUTDOWN_STATE", BadName: "BAD_NAME", BadSignal: "BAD_SIGNAL",
	NoFile: "NO_FILE", NotExecutable: "NOT_EXECUTABLE", Failed: "FAILED",
	AbnormalTermination: "ABNORMAL_TERMINATION", SpawnError: "SPAWN_ERROR",
	AlreadyStarted: "ALREADY_STARTED", NotRunning: "NOT_RUNNING", Success: "SUCCESS",
	AlreadyAdded: "ALREADY_ADDED", StillRunning: "STILL_RUNNING", CantReread: "CANT_REREAD",
	Unauthorized: "UNAUTHORIZED",
}

// Name returns the fault's name, e.g. "BAD_NAME", or "UNKNOWN" for a code
// the original does not define.
func (c Code) Name() string {
	if n, ok := names[c]; ok {
		return n
	}
	return "UNKNOWN"
}

// Error is a fault with the original's text: "NAME" or "NAME: extra".
type Error struct {
	Code  Code
	Extra string // usually the name exactly as the caller passed it
}

// New returns a fault; extra may be empty.
func New(code Code, extra string) *Error { return &Error{Code: code, Extra: extra} }

// Newf returns a fault whose extra text is formatted.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Extra: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Extra == "" {
		return e.Code.Name()
	}
	return e.Code.Name() + ": " + e.Extra
}
