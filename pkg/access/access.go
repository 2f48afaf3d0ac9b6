// Package access is who a control-API request comes from and what that
// caller may do (EXTENSIONS.md §7): the authenticated user and role that
// pkg/server puts in each request's context, the role checks that pkg/rpc
// makes for every XML-RPC method and the HTTP routers for their routes, the
// audit lines of state-changing calls and the same-origin test that keeps
// browsers from sending cross-site requests on an operator's behalf.
package access

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// Unauthorized is the fault of a call the caller's role does not allow.
const Unauthorized = fault.Unauthorized

// Logger is the main log as this package writes to it.
type Logger interface {
	Log(level loglevel.Level, msg string)
}

// Principal is the caller of one request.
type Principal struct {
	// User is the name the caller authenticated as; "" on a server that
	// asks for no credentials.
	User string
	// Role is what the caller may do: admin for the original's
	// username/password and for a server without authentication.
	Role config.Role
	// Peer is the client: "127.0.0.1:51234", or "uid 1000" on a unix
	// socket.
	Peer string
	// Roles says that the config has [user:NAME] sections, so that the
	// console shows the role (and hides what it does not allow).
	Roles bool
	// Log receives the audit lines and refusals; nil for a config without
	// the §7 keys, whose main log stays as the original's.
	Log Logger
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the caller that ctx carries, nil when there is none: a call
// the daemon makes itself, which nothing restricts.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Allows reports whether p may do what needs role need.
func (p *Principal) Allows(need config.Role) bool { return p.Role >= need }

// who is the user as the audit and refusal lines name it.
func (p *Principal) who() string {
	if p.User == "" {
		return "None"
	}
	return pyfmt.Repr(p.User)
}

// Refuse logs that p may not do what (a method name, or "GET /path") and
// returns the fault that says so.
func (p *Principal) Refuse(what string) *fault.Error {
	if p.Log != nil {
		p.Log.Log(loglevel.Warn, fmt.Sprintf("refused: %s (%s) from %s may not call %s", p.who(), p.Role, p.Peer, what))
	}
	return Refusal(p.Role, what)
}

// Refusal is the fault for role calling what:
// "UNAUTHORIZED: role 'readonly' may not call supervisor.stopProcess".
func Refusal(role config.Role, what string) *fault.Error {
	return fault.Newf(Unauthorized, "role %s may not call %s", pyfmt.Repr(role.String()), what)
}

// Audit writes the audit line of one state-changing call, e.g.
// "audit: 'alice' from 127.0.0.1:51234 supervisor.stopProcess('web')".
func (p *Principal) Audit(method string, args []any) {
	p.audit(Call(method, args))
}

// AuditNode is Audit for a call the fleet console proxies to another node
// (EXTENSIONS §8): "… supervisor.stopProcess('web') on node 'beta'".
func (p *Principal) AuditNode(node, method string, args []any) {
	p.audit(Call(method, args) + " on node " + pyfmt.Repr(node))
}

func (p *Principal) audit(call string) {
	if p == nil || p.Log == nil {
		return
	}
	p.Log.Log(loglevel.Info, "audit: "+p.who()+" from "+p.Peer+" "+call)
}

// Audit writes the audit line for ctx's caller (nothing for a call the
// daemon makes itself or a config without the §7 keys).
func Audit(ctx context.Context, method string, args ...any) {
	From(ctx).Audit(method, args)
}

// Call renders method(args…) with Python reprs of the arguments.
func Call(method string, args []any) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		repr(&b, a, 0)
	}
	b.WriteByte(')')
	return b.String()
}

// maxRepr caps one string argument in an audit line (stdin data, say).
const maxRepr = 200

// repr writes Python's repr of an XML-RPC value.
func repr(b *strings.Builder, v any, depth int) {
	if depth > 8 {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case string:
		if len(x) > maxRepr {
			cut := maxRepr
			for cut > 0 && x[cut]&0xC0 == 0x80 {
				cut--
			}
			b.WriteString(pyfmt.Repr(x[:cut]))
			fmt.Fprintf(b, "...(%d bytes)", len(x))
			return
		}
		b.WriteString(pyfmt.Repr(x))
	case []byte:
		repr(b, string(x), depth)
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case math.IsInf(x, 1):
			b.WriteString("inf")
		case math.IsInf(x, -1):
			b.WriteString("-inf")
		case math.IsNaN(x):
			b.WriteString("nan")
		case x == math.Trunc(x) && math.Abs(x) < 1e16:
			b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		default:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			repr(b, e, depth+1)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyfmt.Repr(k))
			b.WriteString(": ")
			repr(b, x[k], depth+1)
		}
		b.WriteByte('}')
	case xmlrpc.Struct:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyfmt.Repr(m.Name))
			b.WriteString(": ")
			repr(b, m.Value, depth+1)
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}
