package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gosupervisor/gosupervisor/pkg/pyfmt"
)

// DependencyKind is what a depends_on namespec names.
type DependencyKind int

// Dependency kinds; DependsNothing: the namespec names nothing.
const (
	DependsNothing DependencyKind = iota
	DependsProgram
	DependsGroup
	DependsProcess
)

func (k DependencyKind) String() string {
	switch k {
	case DependsProgram:
		return "program"
	case DependsGroup:
		return "group"
	case DependsProcess:
		return "process"
	}
	return "nothing"
}

// ResolveDependency returns the processes a depends_on namespec names
// among groups, in the groups' order, and what it names:
//
//   - "group:*": every process of the group;
//   - "group:name": that process of the group;
//   - "name": every process of the program section [program:name] (or
//     fcgi-program, eventlistener), wherever its group; else every process
//     of the group name; else the processes called name. For a program of
//     its own group (the usual case) all three are the same processes.
func ResolveDependency(groups []*Group, spec string) ([]*Process, DependencyKind) {
	g, n, hasColon := strings.Cut(spec, ":")
	var out []*Process
	if hasColon {
		for _, grp := range groups {
			if grp.Name != g {
				continue
			}
			for _, p := range grp.Processes {
				if n == "*" || p.Name == n {
					out = append(out, p)
				}
			}
			if n == "*" {
				return out, DependsGroup
			}
		}
		if len(out) == 0 {
			return nil, DependsNothing
		}
		return out, DependsProcess
	}
	for _, match := range []struct {
		kind DependencyKind
		has  func(grp *Group, p *Process) bool
	}{
		{DependsProgram, func(_ *Group, p *Process) bool { return p.Program == spec }},
		{DependsGroup, func(grp *Group, _ *Process) bool { return grp.Name == spec }},
		{DependsProcess, func(_ *Group, p *Process) bool { return p.Name == spec }},
	} {
		groupFound := false
		for _, grp := range groups {
			groupFound = groupFound || (match.kind == DependsGroup && grp.Name == spec)
			for _, p := range grp.Processes {
				if match.has(grp, p) {
					out = append(out, p)
				}
			}
		}
		// An empty [group:x] (programs= names none) is still a group.
		if len(out) > 0 || groupFound {
			return out, match.kind
		}
	}
	return nil, DependsNothing
}

// depEdge is one dependency of a process, with the section whose
// depends_on made it (the process's own, or its [group:x]).
type depEdge struct {
	to  *Process
	sec string
}

// sectionErr is an error of ours with the original's section suffix,
// naming the file as processes() names it.
func (l *loader) sectionErr(sec, msg string) error {
	file, ok := l.p.sectionFile[sec]
	if !ok {
		file = l.configfile
	}
	return &Error{Msg: fmt.Sprintf("%s in section %s (file: %s)", msg, pyfmt.Repr(sec), pyfmt.Repr(file))}
}

func unknownDependency(spec string) string {
	what := "no program, group or process"
	if _, n, ok := strings.Cut(spec, ":"); ok && n == "*" {
		what = "no group"
	} else if ok {
		what = "no process"
	}
	return fmt.Sprintf("depends_on names %s, which is %s", pyfmt.Repr(spec), what)
}

// dependencies checks every depends_on of the loaded config (after
// includes): each namespec names something, and there is no cycle among
// processes, group wildcards and [group:x] depends_on included. A process
// that depends on itself is a cycle.
func (l *loader) dependencies(groups []*Group) error {
	edges := map[*Process][]depEdge{}
	var order []*Process
	for _, g := range groups {
		gsec := "group:" + g.Name
		for _, spec := range g.DependsOn {
			if _, kind := ResolveDependency(groups, spec); kind == DependsNothing {
				return l.sectionErr(gsec, unknownDependency(spec))
			}
		}
		for _, p := range g.Processes {
			order = append(order, p)
			for _, spec := range p.DependsOn {
				sec := p.Section
				if slices.Contains(g.DependsOn, spec) {
					sec = gsec
				}
				to, kind := ResolveDependency(groups, spec)
				if kind == DependsNothing {
					return l.sectionErr(sec, unknownDependency(spec))
				}
				for _, t := range to {
					edges[p] = append(edges[p], depEdge{to: t, sec: sec})
				}
			}
		}
	}
	if len(edges) == 0 {
		return nil
	}
	const (
		white = iota
		grey
		black
	)
	color := map[*Process]int{}
	var stack []*Process
	var stackSec []string // stackSec[i]: the section of the edge stack[i] -> stack[i+1]
	var visit func(p *Process) error
	visit = func(p *Process) error {
		color[p] = grey
		stack = append(stack, p)
		for _, e := range edges[p] {
			stackSec = append(stackSec, e.sec)
			switch color[e.to] {
			case grey:
				i := slices.Index(stack, e.to)
				names := make([]string, 0, len(stack)-i+1)
				for _, q := range stack[i:] {
					names = append(names, namespec(q.Group, q.Name))
				}
				names = append(names, namespec(e.to.Group, e.to.Name))
				return l.sectionErr(stackSec[i], "depends_on cycle: "+strings.Join(names, " -> "))
			case white:
				if err := visit(e.to); err != nil {
					return err
				}
			}
			stackSec = stackSec[:len(stackSec)-1]
		}
		stack = stack[:len(stack)-1]
		color[p] = black
		return nil
	}
	for _, p := range order {
		if color[p] == white {
			if err := visit(p); err != nil {
				return err
			}
		}
	}
	return nil
}
