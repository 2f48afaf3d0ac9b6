#!/bin/sh
# Side-by-side comparison of our supervisord with Debian's Python one; see
# docs/BENCHMARKS.md. `make bench` builds bin/ first and then runs this.
#   scripts/bench.sh            full run (3 repetitions, 200 and 1,000 programs), then the scale
#                               scenarios of issue 13 (1,000 and 10,000 programs, ~6 min); rewrites docs/BENCHMARKS.md
#   scripts/bench.sh -quick     1 repetition, 200 programs only, a few minutes (no scale scenarios)
#   scripts/bench.sh -only scale [-scale-n 200]   the scale scenarios alone (smaller: -scale-n, -scale-big)
#   scripts/bench.sh -reps 5    more repetitions; any other sidebyside flag passes through (-v, -only, -idle)
# BENCH_OUT overrides the Markdown file that is updated (empty: print only).
set -eu
cd "$(dirname "$0")/.."
if [ ! -x bin/supervisord ] || [ ! -x bin/supervisorctl ]; then
	make build
fi
if [ ! -x /usr/bin/supervisord ]; then
	echo "bench.sh: Debian's Python supervisor is needed: apt-get install supervisor" >&2
	exit 1
fi
exec go run ./bench/sidebyside -out "${BENCH_OUT-docs/BENCHMARKS.md}" "$@"
