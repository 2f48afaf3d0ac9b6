// Package update plans and carries out supervisorctl's update: after
// reloadConfig, stop and remove the removed groups, restart the changed
// ones by removing and re-adding them, and add the new ones. supervisorctl
// and the web console both drive it, so they print the same lines in the
// same order as the original 4.2.5 supervisorctl.
package update

import (
	"context"
	"fmt"
	"slices"
)

// Kind is what the reread found for a group.
type Kind int

const (
	Removed Kind = iota
	Changed
	Added
)

func (k Kind) String() string {
	switch k {
	case Removed:
		return "removed"
	case Changed:
		return "changed"
	case Added:
		return "added"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText names the kind in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Op is one call made on a group.
type Op int

const (
	Stop Op = iota
	Remove
	Add
)

func (o Op) String() string {
	switch o {
	case Stop:
		return "stop"
	case Remove:
		return "remove"
	case Add:
		return "add"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// MarshalText names the operation in JSON.
func (o Op) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// opsOf is the original's sequence of calls for each kind of change.
func opsOf(k Kind) []Op {
	switch k {
	case Removed:
		return []Op{Stop, Remove}
	case Changed:
		return []Op{Stop, Remove, Add}
	}
	return []Op{Add}
}

// Step is one group operation of an update.
type Step struct {
	Group string `json:"group"`
	Kind  Kind   `json:"kind"`
	Op    Op     `json:"op"`
}

// Selective reports whether the group-name arguments restrict the update:
// like the original, "all" anywhere means every group.
func Selective(only []string) bool {
	return len(only) > 0 && !slices.Contains(only, "all")
}

// Plan turns a reread's diff into the original's ordered steps: removed
// groups first, then changed, then added, each in the diff's order, keeping
// only the groups named in only (all of them when only is not Selective).
func Plan(added, changed, removed, only []string) []Step {
	keep := func(g string) bool { return !Selective(only) || slices.Contains(only, g) }
	var steps []Step
	for _, part := range []struct {
		kind   Kind
		groups []string
	}{{Removed, removed}, {Changed, changed}, {Added, added}} {
		for _, g := range part.groups {
			if !keep(g) {
				continue
			}
			for _, op := range opsOf(part.kind) {
				steps = append(steps, Step{Group: g, Kind: part.kind, Op: op})
			}
		}
	}
	return steps
}

// Unknown lists the names in only that are neither active groups nor about
// to be added, for the original's "ERROR: no such group" lines. The
// original walks a Python set (arbitrary order); we keep the argument
// order, each name once.
func Unknown(only, active, added []string) []string {
	if !Selective(only) {
		return nil
	}
	var out []string
	for _, g := range only {
		if !slices.Contains(active, g) && !slices.Contains(added, g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// DryRun describes the planned changes, one line per group, without making
// them (update --dry-run).
func DryRun(steps []Step) []string {
	var lines []string
	for _, s := range steps {
		if s.Op != opsOf(s.Kind)[0] {
			continue
		}
		switch s.Kind {
		case Removed:
			lines = append(lines, s.Group+": would be removed")
		case Changed:
			lines = append(lines, s.Group+": would be changed (restart)")
		case Added:
			lines = append(lines, s.Group+": would be added")
		}
	}
	return lines
}

// Result is a step that was carried out, or skipped because stopping a
// removed group had problems.
type Result struct {
	Step
	Skipped bool `json:"skipped,omitempty"`
}

// Line is the original's output for the result; "" when it prints nothing
// (removing a changed group before re-adding it).
func (r Result) Line() string {
	switch {
	case r.Skipped:
		return r.Group + ": has problems; not removing"
	case r.Op == Stop:
		return r.Group + ": stopped"
	case r.Op == Remove && r.Kind == Removed:
		return r.Group + ": removed process group"
	case r.Op == Add && r.Kind == Changed:
		return r.Group + ": updated process group"
	case r.Op == Add && r.Kind == Added:
		return r.Group + ": added process group"
	}
	return ""
}

// Groups makes the calls an update needs.
type Groups interface {
	// StopGroup stops every process of the group and reports whether any
	// of them failed to stop (a FAILED status in the answer).
	StopGroup(ctx context.Context, name string) (failed bool, err error)
	RemoveGroup(ctx context.Context, name string) error
	AddGroup(ctx context.Context, name string) error
}

// Backend is a supervisord to update.
type Backend interface {
	Groups
	// Reload rereads the configuration (reloadConfig).
	Reload(ctx context.Context) (added, changed, removed []string, err error)
	// ActiveGroups names the groups that are running now.
	ActiveGroups(ctx context.Context) ([]string, error)
}

// Execute carries out steps in order, reporting each one, and stops at the
// first error as the original does when a call raises. When stopping a
// removed group has problems the group is left in place: its removal is
// reported as skipped.
func Execute(ctx context.Context, g Groups, steps []Step, report func(Result)) error {
	stuck := map[string]bool{}
	for _, s := range steps {
		if stuck[s.Group] {
			report(Result{Step: s, Skipped: true})
			continue
		}
		failed, err := run(ctx, g, s)
		if err != nil {
			return fmt.Errorf("%s group %s: %w", s.Op, s.Group, err)
		}
		// Only a removed group's stop results are looked at: the
		// original restarts a changed group whatever the stop said.
		stuck[s.Group] = failed && s.Kind == Removed
		report(Result{Step: s})
	}
	return nil
}

func run(ctx context.Context, g Groups, s Step) (failed bool, err error) {
	switch s.Op {
	case Stop:
		return g.StopGroup(ctx, s.Group)
	case Remove:
		return false, g.RemoveGroup(ctx, s.Group)
	}
	return false, g.AddGroup(ctx, s.Group)
}

// Prepare rereads the configuration and plans the update for only. It
// also returns the names in only that match no group; the active groups
// are asked for only when only is Selective, as in the original.
func Prepare(ctx context.Context, b Backend, only []string) (steps []Step, unknown []string, err error) {
	added, changed, removed, err := b.Reload(ctx)
	if err != nil {
		return nil, nil, &ReloadError{Err: err}
	}
	if Selective(only) {
		active, err := b.ActiveGroups(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list active groups: %w", err)
		}
		unknown = Unknown(only, active, added)
	}
	return Plan(added, changed, removed, only), unknown, nil
}

// ReloadError is a failed reloadConfig, which callers answer differently
// from a failed group call (supervisorctl's "ERROR: already shutting down").
type ReloadError struct{ Err error }

func (e *ReloadError) Error() string { return "reload config: " + e.Err.Error() }

func (e *ReloadError) Unwrap() error { return e.Err }
