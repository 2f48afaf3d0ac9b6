package supervisor

import "github.com/gosupervisor/gosupervisor/pkg/rpc"

// procHealth is one process's health check on the loop (EXTENSIONS.md §2).
type procHealth struct {
	ok bool
}

// healthy reports whether the last verdict was healthy.
func (h *procHealth) healthy() bool { return h.ok }

// describe is the status suffix; "" while no verdict is in.
func (h *procHealth) describe() string { return "" }

// fill puts the check's state into getProcessHealth's answer.
func (h *procHealth) fill(out *rpc.Health) { out.Checked = true }

// status is "starting", "healthy" or "unhealthy".
func (h *procHealth) status() string { return "starting" }
