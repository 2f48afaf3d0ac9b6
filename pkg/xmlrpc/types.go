// Package xmlrpc is the server side of supervisord's XML-RPC transport: it
// decodes method calls the way the original's ElementTree-based loader does
// and encodes responses and faults byte for byte as Python's
// xmlrpc.client.dumps does.
package xmlrpc

import (
	"errors"
	"fmt"
)

// Struct is an XML-RPC struct whose members are emitted in the given order
// (Python dicts keep insertion order; Go maps do not).
type Struct []Member

// Member is one name/value pair of a Struct.
type Member struct {
	Name  string
	Value any
}

// Fault is an XML-RPC fault. As a value inside a response (system.multicall
// results) it is encoded as the struct {faultCode, faultString}.
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("fault %d: %s", f.Code, f.String) }

// Limits bounds what DecodeCall accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int64 // request body size cap
	MaxDepth    int   // XML element nesting cap (each array level costs 3: value, array, data)
	MaxElements int   // XML element count cap: bounds the decoded values' memory
}

// Default limits. The original has none; these are far above anything a
// supervisor client sends (sendProcessStdin payloads are the largest, a
// system.multicall of rpc.MaxMulticall calls has 60,000 to 150,000 elements).
// A decoded element costs up to about 100 bytes, so the element cap holds
// one request's values to a few tens of MB whatever the body holds.
const (
	DefaultMaxBytes    = 32 << 20
	DefaultMaxDepth    = 256
	DefaultMaxElements = 250_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// Decode error kinds; every error DecodeCall returns is a *DecodeError whose
// Kind is one of these, so callers can test with errors.Is. The original
// answers HTTP 400 for ErrMalformed and ErrNoMethod. For invalid UTF-8 its
// medusa collector raises before the handler runs and the channel is closed
// without any response; 400 is the friendlier answer. The original has no
// size or depth limits.
var (
	ErrMalformed   = errors.New("request data is invalid: unmarshallable")
	ErrNoMethod    = errors.New("request data is invalid: no method name")
	ErrInvalidUTF8 = errors.New("request body is not valid UTF-8")
	ErrTooLarge    = errors.New("request body too large") // bytes or elements
	ErrTooDeep     = errors.New("request nesting too deep")
)

// DecodeError describes why a request could not be decoded.
type DecodeError struct {
	Kind   error  // one of the Err* kinds above
	Detail string // what exactly was wrong, for the log
	Err    error  // underlying parser error, if any
}

func (e *DecodeError) Error() string {
	s := "xmlrpc: " + e.Kind.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports the error's kind to errors.Is.
func (e *DecodeError) Is(target error) bool { return target == e.Kind }

// Unwrap exposes the underlying parser error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Encoding errors. The original's marshaller raises for these and its
// handler turns that into HTTP 500.
var (
	ErrNil         = errors.New("cannot marshal None unless allow_none is enabled")
	ErrIntOverflow = errors.New("int exceeds XML-RPC limits")
	ErrUnsupported = errors.New("cannot marshal value")
	ErrBadString   = errors.New("string is not valid UTF-8")
)
