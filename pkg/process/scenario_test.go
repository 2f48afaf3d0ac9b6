package process

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the Python oracle")

func exitCode(n int) int { return n << 8 }

func tr(ms int64) step                 { return step{Op: "transition", T: ms} }
func trDown(ms int64) step             { f := false; return step{Op: "transition", T: ms, Running: &f} }
func exitAt(ms int64, status int) step { return step{Op: "exit", T: ms, Status: status} }
func op(name string, ms int64) step    { return step{Op: name, T: ms} }

func pol(mod func(*scenarioPolicy)) scenarioPolicy {
	p := scenarioPolicy{Autostart: true, Startsecs: 1, Startretries: 3, Autorestart: "unexpected",
		Exitcodes: []int{0}, Stopsignal: 15, Stopwaitsecs: 10}
	if mod != nil {
		mod(&p)
	}
	return p
}

const notFound = "can't find command '/nonexistent/cmd'"

// scenarios cover every transition of SPEC §3.3 and the §10 checks that a
// pure machine can show. Their traces are compared with golden files made
// by the original (testdata/oracle.py) and, when it is installed, with the
// original itself.
var scenarios = []scenario{
	{Name: "autostart_running_expected_exit", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(500), tr(1000), tr(1001), exitAt(5000, 0), tr(5000), tr(9000)}},
	{Name: "autorestart_unexpected_exit1", Policy: pol(nil), Spawns: []any{100, 101},
		Steps: []step{tr(0), tr(1001), exitAt(3000, exitCode(1)), tr(3000), tr(4001)}},
	{Name: "autorestart_always_exit0", Policy: pol(func(p *scenarioPolicy) { p.Autorestart = "always" }),
		Spawns: []any{100, 101}, Steps: []step{tr(0), tr(1001), exitAt(2000, 0), tr(2000)}},
	{Name: "autorestart_never_exit1", Policy: pol(func(p *scenarioPolicy) { p.Autorestart = "never" }),
		Spawns: []any{100}, Steps: []step{tr(0), tr(1001), exitAt(2000, exitCode(1)), tr(2000), tr(9000)}},
	{Name: "autostart_false", Policy: pol(func(p *scenarioPolicy) { p.Autostart = false }),
		Spawns: []any{100}, Steps: []step{tr(0), tr(5000), op("start", 6000), tr(6000), tr(7001)}},
	// §10.2: exits at once, startretries=2: spawns at t, t+1, t+3, then FATAL.
	{Name: "quick_exit_startretries2", Policy: pol(func(p *scenarioPolicy) { p.Startretries = 2 }),
		Spawns: []any{100, 101, 102}, Steps: []step{
			tr(0), exitAt(10, exitCode(3)), tr(10), tr(1010), tr(1011), exitAt(1020, exitCode(3)), tr(1020),
			tr(3020), tr(3021), exitAt(3030, exitCode(3)), tr(3030), tr(9000)}},
	// startretries=3, exit at once: exactly 4 spawns then FATAL.
	{Name: "quick_exit_startretries3", Policy: pol(nil), Spawns: []any{100, 101, 102, 103}, Steps: []step{
		tr(0), exitAt(1, 1), tr(1), tr(1002), exitAt(1003, 1), tr(1003), tr(3004), exitAt(3005, 1), tr(3005),
		tr(6006), exitAt(6007, 1), tr(6007), tr(20000)}},
	// §10.5: synchronous spawn error, startretries=2: BACKOFF, FATAL in the same pass as the last try.
	{Name: "spawn_error_sync", Policy: pol(func(p *scenarioPolicy) { p.Startretries = 2 }),
		Spawns: []any{notFound, notFound, notFound}, Steps: []step{tr(0), tr(0), tr(1001), tr(3001), tr(3002), tr(9000)}},
	{Name: "spawn_error_startretries0", Policy: pol(func(p *scenarioPolicy) { p.Startretries = 0 }),
		Spawns: []any{notFound}, Steps: []step{tr(0), tr(1)}},
	// §10.27: startsecs=0, exit 1, autorestart=unexpected: RUNNING, EXITED, respawn, never BACKOFF.
	{Name: "startsecs0_loop", Policy: pol(func(p *scenarioPolicy) { p.Startsecs = 0 }),
		Spawns: []any{100, 101, 102, 103}, Steps: []step{
			tr(0), exitAt(5, exitCode(1)), tr(5), exitAt(9, exitCode(1)), tr(9), tr(10), exitAt(20, exitCode(1)), tr(20)}},
	// Exit after startsecs but before the RUNNING check: RUNNING then EXITED.
	{Name: "exit_before_running_check", Policy: pol(nil), Spawns: []any{100, 101},
		Steps: []step{tr(0), exitAt(1500, exitCode(1)), tr(1500)}},
	// Exit exactly startsecs after the start: not too quick (the original's `<`).
	{Name: "exit_at_startsecs", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(1000), exitAt(1000, 0)}},
	{Name: "stop_running_sigterm", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(1001), op("stop", 3000), tr(3000), exitAt(3100, 15), tr(3100), tr(9000)}},
	// §10.20: a trapper ignores TERM; SIGKILL at stopwaitsecs, repeated every stopwaitsecs.
	{Name: "stop_sigkill_escalation", Policy: pol(func(p *scenarioPolicy) { p.Stopwaitsecs = 3 }),
		Spawns: []any{100}, Steps: []step{tr(0), tr(1001), op("stop", 2000), tr(4999), tr(5000), tr(7999),
			tr(8000), exitAt(8100, 9)}},
	{Name: "stop_as_group", Policy: pol(func(p *scenarioPolicy) { p.Stopasgroup, p.Killasgroup, p.Stopwaitsecs = true, true, 1 }),
		Spawns: []any{100}, Steps: []step{tr(0), tr(1001), op("stop", 2000), tr(3000), exitAt(3001, 9)}},
	{Name: "stop_killasgroup_only", Policy: pol(func(p *scenarioPolicy) { p.Killasgroup, p.Stopwaitsecs = true, 1 }),
		Spawns: []any{100}, Steps: []step{tr(0), tr(1001), op("stop", 2000), tr(3000), exitAt(3001, 9)}},
	// §10.21: stopsignal=INT, exitcodes=5, exits 5 → INFO stopped.
	{Name: "intstop", Policy: pol(func(p *scenarioPolicy) { p.Stopsignal, p.Exitcodes = 2, []int{5} }),
		Spawns: []any{100}, Steps: []step{tr(0), tr(1001), op("stop", 2000), exitAt(2100, exitCode(5))}},
	{Name: "stop_starting", Policy: pol(func(p *scenarioPolicy) { p.Startsecs = 10 }), Spawns: []any{100},
		Steps: []step{tr(0), op("stop", 500), tr(600), exitAt(700, 15), tr(800)}},
	{Name: "stop_backoff", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), exitAt(10, exitCode(1)), op("stop", 20), tr(5000)}},
	{Name: "stop_not_running", Policy: pol(func(p *scenarioPolicy) { p.Autostart = false }),
		Steps: []step{op("stop", 0), tr(10)}},
	{Name: "stop_esrch", Policy: pol(nil), Spawns: []any{100}, KillErrs: []syscall.Errno{syscall.ESRCH},
		Steps: []step{tr(0), tr(1001), op("stop", 2000), exitAt(2001, 15)}},
	{Name: "stop_eperm_unknown", Policy: pol(nil), Spawns: []any{100}, KillErrs: []syscall.Errno{syscall.EPERM},
		Steps: []step{tr(0), tr(1001), op("stop", 2000), tr(20000), op("start", 20001)}},
	{Name: "signal", Policy: pol(nil), Spawns: []any{100},
		KillErrs: []syscall.Errno{0, syscall.ESRCH, syscall.EPERM},
		Steps: []step{tr(0), {Op: "signal", T: 100, Sig: 1}, tr(1001), {Op: "signal", T: 1100, Sig: 10},
			{Op: "signal", T: 1200, Sig: 12}}},
	{Name: "signal_not_running", Policy: pol(func(p *scenarioPolicy) { p.Autostart = false }),
		Steps: []step{{Op: "signal", T: 0, Sig: 1}}},
	{Name: "start_already_running", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(1001), op("start", 2000)}},
	{Name: "start_from_fatal", Policy: pol(func(p *scenarioPolicy) { p.Startretries = 0 }),
		Spawns: []any{100, 101}, Steps: []step{tr(0), exitAt(10, exitCode(1)), tr(10), op("start", 5000),
			tr(5000), tr(6001)}},
	{Name: "start_from_exited_autorestart_never", Policy: pol(func(p *scenarioPolicy) { p.Autorestart = "never" }),
		Spawns: []any{100, 101}, Steps: []step{tr(0), tr(1001), exitAt(2000, 0), op("start", 3000), tr(4001)}},
	{Name: "shutdown_mood", Policy: pol(func(p *scenarioPolicy) { p.Autorestart = "always"; p.Startretries = 1 }),
		Spawns: []any{100, 101}, Steps: []step{trDown(0), tr(0), tr(1001), exitAt(2000, 0), trDown(2000), trDown(5000),
			tr(5000)}},
	{Name: "shutdown_backoff", Policy: pol(func(p *scenarioPolicy) { p.Startretries = 1 }),
		Spawns: []any{100, 101}, Steps: []step{tr(0), exitAt(1, 1), trDown(5000), tr(5001), exitAt(5002, 1),
			trDown(5002)}},
	{Name: "giveup", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), exitAt(1, 1), op("giveup", 2), tr(9000)}},
	{Name: "stopreport", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), op("stopreport", 100), tr(1001), op("stop", 2000), op("stopreport", 2000),
			op("stopreport", 3500), op("stopreport", 4000), op("stopreport", 4001), exitAt(4100, 15)}},
	{Name: "core_dumped", Policy: pol(nil), Spawns: []any{100, 101},
		Steps: []step{tr(0), tr(1001), exitAt(2000, 11|0x80), tr(2000)}},
	{Name: "unknown_termination", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(1001), exitAt(2000, 0x137f)}},
	{Name: "uptime_over_a_day", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(1001), tr(90_061_500), tr(2 * 86_400_000)}},
	{Name: "clock_rollback_starting", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(10_000), tr(5000), tr(5999), tr(6001)}},
	{Name: "clock_rollback_backoff", Policy: pol(nil), Spawns: []any{100, 101},
		Steps: []step{tr(10_000), exitAt(10_001, 1), tr(3000), tr(4001), tr(4002)}},
	{Name: "clock_rollback_running", Policy: pol(func(p *scenarioPolicy) { p.Startsecs = 5 }), Spawns: []any{100},
		Steps: []step{tr(0), tr(5001), tr(5500), exitAt(5600, 0)}},
	{Name: "clock_rollback_stopping", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(0), tr(1001), op("stop", 20_000), tr(2000), tr(11_999), tr(12_000), exitAt(12_001, 9)}},
	{Name: "exit_laststart_in_future", Policy: pol(nil), Spawns: []any{100},
		Steps: []step{tr(10_000), exitAt(5000, exitCode(2))}},
}

func TestScenariosMatchOriginal(t *testing.T) {
	oracles, haveOracle := runOracle(t, scenarios)
	for i, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			got := runGo(t, sc)
			golden := filepath.Join("testdata", "golden", sc.Name+".json")
			var oracle []string
			if haveOracle {
				oracle = oracles[i]
			}
			if *update {
				if !haveOracle {
					t.Fatal("-update needs Debian's python3 supervisor package")
				}
				data, err := json.MarshalIndent(oracle, "", " ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden trace: %v (run with -update)", err)
			}
			var want []string
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if haveOracle && !equalTraces(oracle, want) {
				t.Errorf("golden file is stale against the installed original:\n%s", diffTraces(oracle, want))
			}
			if !equalTraces(want, got) {
				t.Errorf("trace differs from the original (left: original, right: ours):\n%s", diffTraces(want, got))
			}
		})
	}
}

// TestScenarioGoldensAreMeaningful spot-checks a few golden traces by hand so
// that a wrong oracle cannot silently bless a wrong machine.
func TestScenarioGoldensAreMeaningful(t *testing.T) {
	byName := map[string]scenario{}
	for _, sc := range scenarios {
		byName[sc.Name] = sc
	}
	has := func(name string, lines ...string) {
		t.Helper()
		trace := strings.Join(runGo(t, byName[name]), "\n")
		for _, l := range lines {
			if !strings.Contains(trace, l) {
				t.Errorf("%s: trace lacks %q\n%s", name, l, trace)
			}
		}
	}
	has("quick_exit_startretries2",
		"@0 transition\nevent STOPPED->STARTING tries=0 expected=true pid=0\nspawn\nlog INFO spawned: 'x' with pid 100",
		"log WARN exited: x (exit status 3; not expected)",
		"@1011 transition\nevent BACKOFF->STARTING tries=1",
		"@3021 transition\nevent BACKOFF->STARTING tries=2",
		"event BACKOFF->FATAL tries=0 expected=true pid=0\nlog INFO gave up: x entered FATAL state, too many start retries too quickly",
		"info FATAL start=1000003 stop=1000003 pid=0 exitstatus=0 backoff=0 spawnerr='Exited too quickly (process log may have details)' desc='Exited too quickly (process log may have details)'")
	has("spawn_error_sync", "log INFO spawnerr: "+notFound,
		"@3002 transition\nevent BACKOFF->STARTING tries=2 expected=true pid=0\nspawn\nlog INFO spawnerr: "+notFound+
			"\nevent STARTING->BACKOFF tries=3 expected=true pid=0\nevent BACKOFF->FATAL")
	has("startsecs0_loop", "event STARTING->RUNNING tries=0 expected=true pid=100\nevent RUNNING->EXITED tries=0 expected=false pid=100")
	has("stop_sigkill_escalation", "@5000 transition\nlog WARN killing 'x' (100) with SIGKILL\n", "kill 100 9",
		"log WARN stopped: x (terminated by SIGKILL)")
	has("intstop", "kill 100 2", "log INFO stopped: x (exit status 5)")
	has("stop_running_sigterm", "event STOPPING->STOPPED tries=0 expected=true pid=100",
		"info STOPPED start=1000000 stop=1000003 pid=0 exitstatus=-1 backoff=0 spawnerr='' desc='Jan 12 08:46 AM'")
	has("stop_as_group", "kill -100 15", "kill -100 9")
	has("stop_killasgroup_only", "kill 100 15", "kill -100 9")
	has("autorestart_unexpected_exit1", "info EXITED start=1000000 stop=1000003 pid=0 exitstatus=1 backoff=0 spawnerr='Bad exit code 1'")
	has("uptime_over_a_day", "desc='pid 100, uptime 1 day, 1:01:01'", "desc='pid 100, uptime 2 days, 0:00:00'")
	has("stop_backoff", "event BACKOFF->STOPPED tries=1 expected=true pid=0\nret None")
}
