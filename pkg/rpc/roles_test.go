package rpc

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
	"github.com/gosupervisor/gosupervisor/pkg/fault"
	"github.com/gosupervisor/gosupervisor/pkg/loglevel"
	"github.com/gosupervisor/gosupervisor/pkg/xmlrpc"
)

// lines records what a Principal logs.
type lines struct {
	mu  sync.Mutex
	got []string
}

func (l *lines) Log(level loglevel.Level, msg string) {
	l.mu.Lock()
	l.got = append(l.got, level.String()+" "+msg)
	l.mu.Unlock()
}

func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

func as(role config.Role, log *lines) context.Context {
	return access.With(context.Background(), &access.Principal{User: "alice", Role: role, Peer: "127.0.0.1:51234", Log: log})
}

// TestEveryTableRoleIsAMethod: the table names no method that does not
// exist (TestEveryMethodHasARole in pkg/server checks the converse on the
// real engine, whose backend registers every method).
func TestEveryTableRoleIsAMethod(t *testing.T) {
	_, s := fixture()
	all := s.AllMethods()
	for name := range methodRoles {
		if !slices.Contains(all, name) && !strings.HasPrefix(name, "gosupervisor.") {
			t.Errorf("methodRoles names %s, which is not registered", name)
		}
	}
	for _, name := range all {
		if _, ok := MethodRole(name); !ok {
			t.Errorf("%s has no declared role", name)
		}
	}
}

// TestRolesPerMethod calls every method as each role: refused with the
// UNAUTHORIZED fault exactly when the role is below the declared one, and
// audited exactly when it needs more than readonly.
func TestRolesPerMethod(t *testing.T) {
	for _, role := range []config.Role{config.RoleReadonly, config.RoleOperator, config.RoleAdmin} {
		_, s := fixture()
		log := &lines{}
		for _, name := range s.AllMethods() {
			need, _ := MethodRole(name)
			if name == "supervisor.shutdown" || name == "supervisor.restart" {
				continue // they end the fake's RUNNING state; see below
			}
			_, err := s.Dispatch(as(role, log), name, []any{})
			f, isFault := faultOf(err)
			refused := isFault && f.Code == fault.Unauthorized
			if refused != (role < need) {
				t.Errorf("%s as %s: %v, want refused=%v", name, role, err, role < need)
			}
			if refused {
				want := "UNAUTHORIZED: role '" + role.String() + "' may not call " + name
				if f.Error() != want {
					t.Errorf("fault %q, want %q", f.Error(), want)
				}
				got := log.take()
				if len(got) != 1 || got[0] != "WARN refused: 'alice' ("+role.String()+") from 127.0.0.1:51234 may not call "+name {
					t.Errorf("%s as %s logged %q", name, role, got)
				}
				continue
			}
			got := log.take()
			audited := len(got) == 1 && strings.HasPrefix(got[0], "INFO audit: 'alice' from 127.0.0.1:51234 "+name+"(")
			// A call with too few arguments is refused before it runs,
			// and so not audited.
			wrongCount := isFault && f.Code == fault.IncorrectParameters
			if need > config.RoleReadonly && !wrongCount && !audited {
				t.Errorf("%s as %s: audit lines %q", name, role, got)
			}
			if (need == config.RoleReadonly || wrongCount) && len(got) != 0 {
				t.Errorf("%s as %s: unexpected lines %q", name, role, got)
			}
		}
	}
	for _, name := range []string{"supervisor.shutdown", "supervisor.restart"} {
		for _, role := range []config.Role{config.RoleReadonly, config.RoleOperator, config.RoleAdmin} {
			f, s := fixture()
			log := &lines{}
			_, err := s.Dispatch(as(role, log), name, []any{})
			if (err != nil) != (role < config.RoleAdmin) {
				t.Errorf("%s as %s: %v", name, role, err)
			}
			f.mu.Lock()
			ran := f.shutdowns + f.restarts
			f.mu.Unlock()
			if (ran == 1) != (role == config.RoleAdmin) {
				t.Errorf("%s as %s ran %d times", name, role, ran)
			}
		}
	}
}

// TestMulticallRoles: each call of a multicall is checked on its own; a
// refused one is a fault entry among the others' results, as the
// original's inner faults are, and the allowed state change is audited.
func TestMulticallRoles(t *testing.T) {
	f, s := fixture()
	f.procs["sleeper"][0].setState(ProcRunning)
	log := &lines{}
	calls := []any{
		map[string]any{"methodName": "supervisor.getPID"},
		map[string]any{"methodName": "supervisor.stopProcess", "params": []any{"sleeper"}},
		map[string]any{"methodName": "supervisor.shutdown"},
		map[string]any{"methodName": "supervisor.getState"},
	}
	v, err := s.Dispatch(as(config.RoleOperator, log), "system.multicall", []any{calls})
	if err != nil {
		t.Fatal(err)
	}
	res := v.([]any)
	if len(res) != 4 || res[0] != 4242 || res[1] != true {
		t.Fatalf("results %#v", res)
	}
	want := xmlrpc.Struct{{Name: "faultCode", Value: 403}, {Name: "faultString", Value: "UNAUTHORIZED: role 'operator' may not call supervisor.shutdown"}}
	if got, ok := res[2].(xmlrpc.Struct); !ok || !slices.Equal(got, want) {
		t.Errorf("refused entry %#v, want %#v", res[2], want)
	}
	if _, ok := res[3].(xmlrpc.Struct); !ok {
		t.Errorf("getState after the refusal: %#v", res[3])
	}
	if f.shutdowns != 0 {
		t.Error("shutdown ran")
	}
	got := log.take()
	wantLines := []string{
		"INFO audit: 'alice' from 127.0.0.1:51234 supervisor.stopProcess('sleeper')",
		"WARN refused: 'alice' (operator) from 127.0.0.1:51234 may not call supervisor.shutdown",
	}
	if !slices.Equal(got, wantLines) {
		t.Errorf("lines %q, want %q", got, wantLines)
	}
}

// TestNoPrincipalNoChecks: the daemon's own calls (no caller in the
// context) are neither checked nor audited.
func TestNoPrincipalNoChecks(t *testing.T) {
	f, s := fixture()
	if _, err := s.Dispatch(context.Background(), "supervisor.shutdown", []any{}); err != nil {
		t.Fatal(err)
	}
	if f.shutdowns != 1 {
		t.Error("shutdown did not run")
	}
}

func TestAuditCallRendering(t *testing.T) {
	for _, tt := range []struct {
		args []any
		want string
	}{
		{[]any{"web"}, "m('web')"},
		{[]any{"web", true}, "m('web', True)"},
		{[]any{"g:*", "HUP"}, "m('g:*', 'HUP')"},
		{[]any{"it's", 3, 1.5, 2.0, false}, `m("it's", 3, 1.5, 2.0, False)`},
		{[]any{[]any{"a", map[string]any{"b": 1}}}, "m(['a', {'b': 1}])"},
		{[]any{"caf\u00e9\n"}, `m('café\n')`},
		{nil, "m()"},
	} {
		if got := access.Call("m", tt.args); got != tt.want {
			t.Errorf("Call(%v) = %s, want %s", tt.args, got, tt.want)
		}
	}
	long := access.Call("m", []any{strings.Repeat("x", 1000)})
	if !strings.HasSuffix(long, "...(1000 bytes))") || len(long) > 260 {
		t.Errorf("long argument: %s", long)
	}
}
