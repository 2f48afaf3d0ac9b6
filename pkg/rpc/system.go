package rpc

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

func (s *Server) addSystem() {
	s.add(0, 0, `List the names of every published method.

@return array result  Method names ("namespace.method"), sorted.`,
		func(context.Context, []any) (any, error) { return strList(s.Methods()), nil },
		"system.listMethods")

	s.add(1, 1, `Describe a method in prose.

@param string name     Method name, e.g. "supervisor.getState".
@return string result  The method's description.`,
		func(_ context.Context, a []any) (any, error) {
			m, err := s.introspect(a[0])
			if err != nil {
				return nil, err
			}
			return m.help, nil
		}, "system.methodHelp")

	s.add(1, 1, `Give the types of a method as [return type, parameter types...],
taken from its description's tags.

@param string name    Method name.
@return array result  Type names, return type first.`,
		func(_ context.Context, a []any) (any, error) {
			m, err := s.introspect(a[0])
			if err != nil {
				return nil, err
			}
			sig, ok := signature(m.help)
			if !ok {
				return nil, fault.New(fault.SignatureUnsupported, "")
			}
			return strList(sig), nil
		}, "system.methodSignature")

	s.add(1, 1, `Run several calls in one request, in order. Each call is a struct
with a methodName string and a params array. The answer holds, for each
call, either its return value or a struct with faultCode and faultString.

@param array calls    The calls to make.
@return array result  One entry per call.`,
		s.multicall, "system.multicall")
}

// introspect finds the method named by a methodHelp/methodSignature argument.
func (s *Server) introspect(name any) (*method, error) {
	if n, ok := name.(string); ok {
		if m, ok := s.methods[n]; ok {
			return m, nil
		}
	}
	return nil, fault.New(fault.SignatureUnsupported, "")
}

// signature reads a help text's tags the way the original's gettags does: a
// line starting with "@" is "@tag [type [name [text]]]"; the last @return's
// type comes first, then every @param's type in order.
func signature(help string) ([]string, bool) {
	var ret string
	var hasRet bool
	var params []string
	for line := range strings.SplitSeq(help, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "@") {
			continue
		}
		fields := strings.Fields(line)
		typ := ""
		if len(fields) > 1 {
			typ = fields[1]
		}
		switch fields[0][1:] {
		case "return":
			ret, hasRet = typ, true
		case "param":
			params = append(params, typ)
		}
	}
	if !hasRet {
		return nil, false
	}
	return append([]string{ret}, params...), true
}

// multicall is system.multicall with the original's quirks: each result is
// the bare value (not a one-element array, whatever its description says)
// or a fault struct; calls that wait run to completion one after another.
// At most MaxMulticall calls are taken. With a context from
// StreamMulticall the result is an xmlrpc.Stream that runs the calls as it
// is encoded, so that no more than one result is kept at a time.
func (s *Server) multicall(ctx context.Context, a []any) (any, error) {
	var calls []any
	switch c := a[0].(type) {
	case []any:
		calls = c
	case string:
		// calls[:] works on a str, but a str has no pop().
		if c != "" {
			return nil, noAttr(c, "pop")
		}
	default:
		return nil, incorrectParameters() // calls[:] raises TypeError
	}
	if len(calls) > MaxMulticall {
		return nil, tooManyCalls(len(calls))
	}
	if streamed(ctx) {
		return xmlrpc.Stream(func(yield func(any) error) error {
			for _, c := range calls {
				v, err := s.multicallItem(ctx, c)
				if err != nil {
					return err
				}
				if err := yield(v); err != nil {
					return err
				}
			}
			return nil
		}), nil
	}
	results := make([]any, 0, len(calls))
	for _, c := range calls {
		v, err := s.multicallItem(ctx, c)
		if err != nil {
			return nil, err
		}
		results = append(results, v)
	}
	return results, nil
}

// multicallItem runs one call of a multicall: its result or fault struct,
// or the error that ends the whole multicall.
func (s *Server) multicallItem(ctx context.Context, c any) (any, error) {
	call, ok := c.(map[string]any)
	if !ok {
		return nil, noAttr(c, "get") // escapes: HTTP 500
	}
	v, err := s.multicallOne(ctx, call)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		if f, ok := faultOf(err); ok {
			v = faultStruct(int(f.Code), f.Error())
		} else {
			v = faultStruct(int(fault.Failed), "FAILED: "+pyExceptionText(err))
		}
	}
	return v, nil
}

func (s *Server) multicallOne(ctx context.Context, call map[string]any) (any, error) {
	nameV, ok := call["methodName"]
	if !ok {
		return nil, fault.New(fault.IncorrectParameters, "No methodName")
	}
	if nameV == "system.multicall" {
		return nil, fault.New(fault.IncorrectParameters, "Recursive system.multicall forbidden")
	}
	name, ok := nameV.(string)
	if !ok {
		return nil, noAttr(nameV, "split")
	}
	params, ok := call["params"]
	if !ok {
		params = []any{}
	}
	// The original calls func(*params): any iterable spreads.
	var args []any
	switch p := params.(type) {
	case []any:
		args = p
	case string:
		for _, r := range p {
			args = append(args, string(r))
		}
	case map[string]any:
		keys := make([]string, 0, len(p))
		for k := range p {
			keys = append(keys, k)
		}
		slices.Sort(keys) // Python keeps document order; ours is lost
		for _, k := range keys {
			args = append(args, k)
		}
	default:
		return nil, incorrectParameters()
	}
	return s.call(ctx, name, args)
}

// pyExceptionText renders an unexpected error as multicall's
// "<class 'X'>:message".
func pyExceptionText(err error) string {
	var pe *pyError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return "<class 'Exception'>:" + err.Error()
}

func faultStruct(code int, text string) xmlrpc.Struct {
	return xmlrpc.Struct{{Name: "faultCode", Value: code}, {Name: "faultString", Value: text}}
}

func strList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
