package update

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// short renders steps as "op:group" for compact tables.
func short(steps []Step) string {
	var parts []string
	for _, s := range steps {
		parts = append(parts, s.Op.String()+":"+s.Group)
	}
	return strings.Join(parts, " ")
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name                    string
		added, changed, removed []string
		only                    []string
		want                    string
	}{
		{name: "nothing", want: ""},
		{name: "order is removed, changed, added",
			added: []string{"a1", "a2"}, changed: []string{"c"}, removed: []string{"r"},
			want: "stop:r remove:r stop:c remove:c add:c add:a1 add:a2"},
		{name: "all means every group",
			added: []string{"a"}, changed: []string{"c"}, only: []string{"c", "all"},
			want: "stop:c remove:c add:c add:a"},
		{name: "named groups only",
			added: []string{"a", "b"}, changed: []string{"c"}, removed: []string{"r"}, only: []string{"b", "r"},
			want: "stop:r remove:r add:b"},
		{name: "unknown name selects nothing",
			added: []string{"a"}, only: []string{"zz"}, want: ""},
		{name: "diff order wins over argument order",
			added: []string{"a", "b"}, only: []string{"b", "a"}, want: "add:a add:b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := short(Plan(tt.added, tt.changed, tt.removed, tt.only)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlanKinds(t *testing.T) {
	got := Plan([]string{"a"}, []string{"c"}, []string{"r"}, nil)
	want := []Step{
		{"r", Removed, Stop}, {"r", Removed, Remove},
		{"c", Changed, Stop}, {"c", Changed, Remove}, {"c", Changed, Add},
		{"a", Added, Add},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestUnknown(t *testing.T) {
	tests := []struct {
		only, active, added []string
		want                []string
	}{
		{only: nil, want: nil},
		{only: []string{"x", "all"}, want: nil},
		{only: []string{"x", "g", "n", "x", "y"}, active: []string{"g"}, added: []string{"n"}, want: []string{"x", "y"}},
	}
	for _, tt := range tests {
		if got := Unknown(tt.only, tt.active, tt.added); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Unknown(%v) = %v, want %v", tt.only, got, tt.want)
		}
	}
}

func TestDryRun(t *testing.T) {
	got := DryRun(Plan([]string{"a"}, []string{"c"}, []string{"r"}, nil))
	want := []string{"r: would be removed", "c: would be changed (restart)", "a: would be added"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// fake records calls and fails the ones listed in faults ("op:group").
type fake struct {
	calls      []string
	faults     map[string]error
	stopFailed map[string]bool
	diff       [3][]string
	active     []string
}

func (f *fake) do(op, g string) error {
	f.calls = append(f.calls, op+":"+g)
	return f.faults[op+":"+g]
}

func (f *fake) StopGroup(_ context.Context, g string) (bool, error) {
	return f.stopFailed[g], f.do("stop", g)
}
func (f *fake) RemoveGroup(_ context.Context, g string) error { return f.do("remove", g) }
func (f *fake) AddGroup(_ context.Context, g string) error    { return f.do("add", g) }
func (f *fake) Reload(context.Context) ([]string, []string, []string, error) {
	return f.diff[0], f.diff[1], f.diff[2], f.faults["reload"]
}
func (f *fake) ActiveGroups(context.Context) ([]string, error) {
	f.calls = append(f.calls, "active")
	return f.active, f.faults["active"]
}

func execute(f *fake, steps []Step) ([]string, error) {
	var lines []string
	err := Execute(context.Background(), f, steps, func(r Result) {
		if l := r.Line(); l != "" {
			lines = append(lines, l)
		}
	})
	return lines, err
}

func TestExecuteLines(t *testing.T) {
	f := &fake{}
	lines, err := execute(f, Plan([]string{"a"}, []string{"c"}, []string{"r"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := "r: stopped|r: removed process group|c: stopped|c: updated process group|a: added process group"
	if got := strings.Join(lines, "|"); got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	if got := strings.Join(f.calls, " "); got != "stop:r remove:r stop:c remove:c add:c add:a" {
		t.Errorf("calls %q", got)
	}
}

func TestExecuteStopProblems(t *testing.T) {
	// A removed group that fails to stop stays; a changed one is
	// restarted anyway, as in the original.
	f := &fake{stopFailed: map[string]bool{"r": true, "c": true}}
	var results []Result
	err := Execute(context.Background(), f, Plan(nil, []string{"c"}, []string{"r", "r2"}, nil),
		func(r Result) { results = append(results, r) })
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range results {
		if l := r.Line(); l != "" {
			lines = append(lines, l)
		}
	}
	want := "r: stopped|r: has problems; not removing|r2: stopped|r2: removed process group|c: stopped|c: updated process group"
	if got := strings.Join(lines, "|"); got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	if got := strings.Join(f.calls, " "); got != "stop:r stop:r2 remove:r2 stop:c remove:c add:c" {
		t.Errorf("calls %q", got)
	}
	if !results[1].Skipped || results[1].Op != Remove {
		t.Errorf("second result %+v, want a skipped remove", results[1])
	}
}

func TestExecuteFaultStops(t *testing.T) {
	boom := errors.New("BAD_NAME: c")
	f := &fake{faults: map[string]error{"remove:c": boom}}
	lines, err := execute(f, Plan([]string{"a"}, []string{"c"}, []string{"r"}, nil))
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want it to wrap %v", err, boom)
	}
	if !strings.Contains(err.Error(), "remove group c") {
		t.Errorf("err %q does not name the step", err)
	}
	if got := strings.Join(lines, "|"); got != "r: stopped|r: removed process group|c: stopped" {
		t.Errorf("lines before the fault %q", got)
	}
	if got := f.calls[len(f.calls)-1]; got != "remove:c" {
		t.Errorf("calls went on after the fault: %v", f.calls)
	}
}

func TestPrepare(t *testing.T) {
	f := &fake{diff: [3][]string{{"a"}, {"c"}, {"r"}}, active: []string{"c", "r"}}
	steps, unknown, err := Prepare(context.Background(), f, []string{"a", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if short(steps) != "add:a" || !reflect.DeepEqual(unknown, []string{"nope"}) {
		t.Errorf("steps %q unknown %v", short(steps), unknown)
	}
	// Without names the active groups are not asked for.
	f.calls = nil
	if _, _, err := Prepare(context.Background(), f, []string{"all"}); err != nil || len(f.calls) != 0 {
		t.Errorf("err %v calls %v", err, f.calls)
	}
}

func TestPrepareErrors(t *testing.T) {
	boom := fmt.Errorf("SHUTDOWN_STATE")
	f := &fake{faults: map[string]error{"reload": boom}}
	_, _, err := Prepare(context.Background(), f, nil)
	var re *ReloadError
	if !errors.As(err, &re) || !errors.Is(err, boom) {
		t.Errorf("reload failure %v is not a ReloadError wrapping the cause", err)
	}
	f = &fake{faults: map[string]error{"active": boom}}
	_, _, err = Prepare(context.Background(), f, []string{"g"})
	if errors.As(err, &re) || !errors.Is(err, boom) {
		t.Errorf("listing failure %v: want the cause, not a ReloadError", err)
	}
}
