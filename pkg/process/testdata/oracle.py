"""Differential oracle: drives the original supervisor's Subprocess (the
Python package installed on the machine) through a scripted scenario with a
fake clock, fake fork/kill and a recording logger, and prints the trace in
the same format as the Go test's fake Env. Input and output are JSON.

Input: a JSON list of scenarios; output: the list of their traces.
Scenario: {"policy": {...}, "spawns": [pid or "error text", ...],
           "killerrs": [errno or 0, ...], "steps": [{"op": ..., "t": ms}, ...]}
"""
import errno
import json
import os
import sys
import types

from supervisor import events
from supervisor import process as sp
from supervisor.datatypes import RestartUnconditionally, RestartWhenExitUnexpected
from supervisor.options import BadCommand
from supervisor.rpcinterface import SupervisorNamespaceRPCInterface
from supervisor.states import SupervisorStates, getProcessStateDescription
from supervisor.xmlrpc import capped_int

BASE = 1000000  # seconds; the Go side uses the same epoch offset

def run(scenario):
    events.clear()
    trace = []
    clock = [float(BASE)]
    sp.time = types.SimpleNamespace(time=lambda: clock[0])


    class Logger:
        def _log(self, level, msg):
            if msg.startswith('unknown problem'):
                msg = msg.split('):', 1)[0] + '):'
            trace.append('log %s %s' % (level, msg))

        def critical(self, msg): self._log('CRIT', msg)
        def error(self, msg): self._log('ERRO', msg)
        def warn(self, msg): self._log('WARN', msg)
        def info(self, msg): self._log('INFO', msg)
        def debug(self, msg): self._log('DEBG', msg)


    spawns = list(scenario.get('spawns') or [])
    killerrs = list(scenario.get('killerrs') or [])
    next_pid = [0]


    class Options:
        logger = Logger()
        mood = SupervisorStates.RUNNING
        pidhistory = {}

        def fork(self):
            return next_pid[0]

        def kill(self, pid, sig):
            trace.append('kill %d %d' % (pid, sig))
            e = killerrs.pop(0) if killerrs else 0
            if e:
                raise OSError(e, os.strerror(e))

        def close_child_pipes(self, pipes): pass
        def close_parent_pipes(self, pipes): pass


    pol = scenario['policy']
    autorestart = {'never': False, 'unexpected': RestartWhenExitUnexpected,
                   'always': RestartUnconditionally}[pol['autorestart']]
    config = types.SimpleNamespace(
        name='x', options=Options(), autostart=pol['autostart'],
        startsecs=pol['startsecs'], startretries=pol['startretries'], autorestart=autorestart,
        exitcodes=pol['exitcodes'], stopsignal=pol['stopsignal'], stopwaitsecs=pol['stopwaitsecs'],
        stopasgroup=pol['stopasgroup'], killasgroup=pol['killasgroup'],
        make_dispatchers=lambda proc: ({}, {}))


    def get_execv_args(self):
        trace.append('spawn')
        r = spawns.pop(0) if spawns else 'test: no spawn result left'
        if isinstance(r, str):
            raise BadCommand(r)
        next_pid[0] = r
        return '/bin/x', ['x']


    sp.Subprocess.get_execv_args = get_execv_args
    proc = sp.Subprocess(config)


    def on_event(ev):
        pid = ev.process.pid
        tries = ev.process.backoff
        trace.append('event %s->%s tries=%d expected=%s pid=%d' % (
            getProcessStateDescription(ev.from_state),
            getProcessStateDescription(ev.process.state),
            tries, 'true' if ev.expected else 'false', pid))


    events.subscribe(events.ProcessStateEvent, on_event)


    def ret(v):
        if v is not None:
            if v.startswith('unknown problem'):
                v = v.split('):', 1)[0] + '):'
        trace.append('ret %s' % v)


    for step in scenario['steps']:
        clock[0] = BASE + step['t'] / 1000.0
        op = step['op']
        trace.append('@%d %s' % (step['t'], op))
        if op == 'transition':
            config.options.mood = SupervisorStates.RUNNING if step.get('running', True) else SupervisorStates.SHUTDOWN
            proc.transition()
        elif op == 'start':
            proc.spawn()
        elif op == 'stop':
            ret(proc.stop())
        elif op == 'signal':
            ret(proc.signal(step.get('sig', 0)))
        elif op == 'giveup':
            proc.give_up()
        elif op == 'stopreport':
            proc.stop_report()
        elif op == 'exit':
            proc.finish(proc.pid, step.get('status', 0))
        else:
            raise SystemExit('bad op ' + op)
        info = {
            'name': config.name, 'start': capped_int(proc.laststart), 'stop': capped_int(proc.laststop),
            'now': capped_int(clock[0]), 'state': proc.state, 'spawnerr': proc.spawnerr or '',
            'exitstatus': proc.exitstatus or 0, 'pid': proc.pid,
        }
        desc = SupervisorNamespaceRPCInterface._interpretProcessInfo(None, info)
        trace.append('info %s start=%d stop=%d pid=%d exitstatus=%d backoff=%d spawnerr=%r desc=%r' % (
            getProcessStateDescription(proc.state), info['start'], info['stop'], proc.pid,
            info['exitstatus'], proc.backoff, info['spawnerr'], desc))

    return trace


json.dump([run(sc) for sc in json.load(sys.stdin)], sys.stdout)
