package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The capture table (issue 16): daemon CPU per MB captured against the
// floor measured in the same run, raw and json, 1 and 100 writers.
const (
	captureBeginMark = "<!-- BEGIN GENERATED capture (issue 16) by bench/sidebyside: do not edit by hand -->"
	captureEndMark   = "<!-- END GENERATED capture -->"
	captureHeading   = "## Log capture against the copy floor (issue 16)"
)

// captureRow is one line of the capture table: its figures' keys and the
// most CPU per MB it may cost, as a multiple of the floor.
type captureRow struct {
	writers  int
	format   string
	mbs, cpu string // figure keys
	pyMBs    string // Python's throughput to beat (json: Python's raw)
	maxRatio float64
}

var captureRows = []captureRow{
	{1, "raw", "log1mbs", "log1cpu", "log1mbs", 1.3},
	{100, "raw", "log100mbs", "log100cpu", "log100mbs", 1.3},
	{1, "json", "log1jmbs", "log1jcpu", "log1mbs", 1.6},
	{100, "json", "log100jmbs", "log100jcpu", "log100mbs", 1.6},
}

// medMin renders a figure's median and minimum: "0.512 (min 0.480)".
func medMin(xs []float64) (string, float64) {
	if len(xs) == 0 {
		return "–", math.NaN()
	}
	m := median(xs)
	if len(xs) == 1 {
		return fmtVal(m), m
	}
	return fmt.Sprintf("%s (min %s)", fmtVal(m), fmtVal(slices.Min(xs))), m
}

func ratioCell(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// captureTable renders the capture table from the results, or "" when no
// capture scenario ran.
func (r *results) captureTable(ours, py string) string {
	floorS := r.fig("logfloor").samples[ours]
	var rows []string
	for _, cr := range captureRows {
		oc, pc := r.fig(cr.cpu).samples[ours], r.fig(cr.cpu).samples[py]
		om, pm := r.fig(cr.mbs).samples[ours], r.fig(cr.pyMBs).samples[py]
		if len(oc)+len(pc) == 0 {
			continue
		}
		oCell, o := medMin(oc)
		pCell, p := medMin(pc)
		if cr.format == "json" {
			pCell, p = "– (no json)", math.NaN()
		}
		fCell, f := medMin(floorS)
		jsonFloor := "–"
		if cr.format == "json" {
			if js := r.fig("logfloorj").samples[ours]; len(js) > 0 {
				jc, jf := medMin(js)
				jsonFloor = jc + "; ours/it " + ratioCell(o, jf)
			}
		}
		omCell, omv := medMin(om)
		pmCell, pmv := medMin(pm)
		verdict := "pending"
		if !math.IsNaN(o) && !math.IsNaN(f) {
			ok := o/f <= cr.maxRatio
			if !math.IsNaN(pmv) {
				ok = ok && omv >= pmv
			}
			verdict = judge(true, ok)
		}
		minRatio := "–"
		if len(oc) > 0 && len(floorS) > 0 {
			minRatio = fmt.Sprintf("%.2f", slices.Min(oc)/median(floorS))
		}
		rows = append(rows, "| "+strings.Join([]string{
			fmt.Sprintf("%d × 64-byte lines, %s", cr.writers, cr.format),
			omCell, pmCell, oCell, pCell, fCell,
			ratioCell(o, f), minRatio, ratioCell(p, f), ratioCell(o, p), jsonFloor,
			fmt.Sprintf("ours/floor ≤ %g, MB/s ≥ Python's", cr.maxRatio), verdict,
			fmt.Sprintf("%d/%d/%d", len(oc), len(pc), len(floorS)),
		}, " | ")+" |")
	}
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| writers, format | ours MB/s | Python MB/s | ours ms/MB | Python ms/MB | floor ms/MB | ours/floor | ours min/floor | Python/floor | ours/Python (CPU) | floor for json's bytes ms/MB | target | verdict | samples (ours/Python/floor) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	return b.String()
}
