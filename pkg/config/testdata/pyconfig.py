"""Load a config with the original supervisor and print what it parsed as JSON.

Usage: python3 pyconfig.py CONFIG...
Prints a JSON list, one entry per config: {"error": msg} when the original
rejects the file, else the fields of getAllConfigInfo() plus group, server
and [supervisord] details. One process for many configs keeps tests fast.
"""
import json
import socket
import sys

from supervisor.datatypes import Automatic, RestartUnconditionally, RestartWhenExitUnexpected
from supervisor.events import EventTypes
from supervisor.options import ServerOptions


class Usage(Exception):
    pass


def plain(v):
    if v is Automatic:
        return 'auto'
    if v is None:
        return 'none'
    return v


def autorestart_name(v):
    if v is RestartUnconditionally:
        return 'true'
    if v is RestartWhenExitUnexpected:
        return 'unexpected'
    return 'false'


def load(path):
    opts = ServerOptions()

    def usage(msg):
        raise Usage(str(msg))

    opts.usage = usage
    try:
        opts.realize(args=['-c', path])
    except Usage as e:
        return {'error': str(e)}
    info = []
    groups = []
    for g in opts.process_group_configs:
        gd = {'name': g.name, 'priority': g.priority, 'kind': type(g).__name__,
              'processes': [p.name for p in g.process_configs]}
        if hasattr(g, 'buffer_size'):
            gd['buffer_size'] = g.buffer_size
            gd['events'] = sorted(k for k, v in vars(EventTypes).items() if v in g.pool_events)
        if hasattr(g, 'socket_config'):
            gd['socket'] = g.socket_config.url
        groups.append(gd)
        for p in g.process_configs:
            d = {'autostart': p.autostart, 'directory': p.directory, 'uid': p.uid,
                 'command': p.command, 'exitcodes': p.exitcodes, 'group': g.name,
                 'group_prio': g.priority, 'killasgroup': p.killasgroup, 'name': p.name,
                 'process_prio': p.priority, 'redirect_stderr': p.redirect_stderr,
                 'startretries': p.startretries, 'startsecs': p.startsecs,
                 'stdout_capture_maxbytes': p.stdout_capture_maxbytes,
                 'stdout_events_enabled': p.stdout_events_enabled,
                 'stdout_logfile': p.stdout_logfile,
                 'stdout_logfile_backups': p.stdout_logfile_backups,
                 'stdout_logfile_maxbytes': p.stdout_logfile_maxbytes,
                 'stdout_syslog': p.stdout_syslog, 'stopsignal': int(p.stopsignal),
                 'stopwaitsecs': p.stopwaitsecs,
                 'stderr_capture_maxbytes': p.stderr_capture_maxbytes,
                 'stderr_events_enabled': p.stderr_events_enabled,
                 'stderr_logfile': p.stderr_logfile,
                 'stderr_logfile_backups': p.stderr_logfile_backups,
                 'stderr_logfile_maxbytes': p.stderr_logfile_maxbytes,
                 'stderr_syslog': p.stderr_syslog, 'serverurl': p.serverurl,
                 # not in getAllConfigInfo, compared too
                 'umask': p.umask, 'autorestart': autorestart_name(p.autorestart),
                 'stopasgroup': p.stopasgroup,
                 'environment': sorted((p.environment or {}).items())}
            info.append({k: plain(v) for k, v in d.items()})
    info.sort(key=lambda r: r['name'])
    servers = []
    for s in opts.server_configs:
        d = {'section': s['section'], 'username': s.get('username'), 'password': s.get('password')}
        if s['family'] == socket.AF_UNIX:
            d.update(file=s['file'], chmod=s['chmod'], chown=list(s['chown']))
        else:
            d.update(host=s['host'], port=s['port'])
        servers.append({k: plain(v) for k, v in d.items()})
    sd = opts.configroot.supervisord
    return {
        'configinfo': info,
        'groups': groups,
        'servers': servers,
        'serverurl': plain(opts.serverurl),
        'supervisord': {
            'logfile': opts.logfile, 'pidfile': opts.pidfile, 'loglevel': opts.loglevel,
            'umask': opts.umask, 'minfds': opts.minfds, 'minprocs': opts.minprocs,
            'identifier': opts.identifier, 'childlogdir': opts.childlogdir,
            'logfile_maxbytes': opts.logfile_maxbytes, 'logfile_backups': opts.logfile_backups,
            'nodaemon': bool(opts.nodaemon), 'nocleanup': bool(opts.nocleanup),
            'strip_ansi': bool(opts.strip_ansi), 'silent': bool(opts.silent),
            'directory': plain(opts.directory), 'user': plain(opts.user),
            'environment': sorted(sd.environment.items()),
        },
        'rpcinterfaces': [name for name, _, _ in opts.rpcinterface_factories],
        'warnings': opts.parse_warnings,
        'infos': opts.parse_infos,
    }


json.dump([load(p) for p in sys.argv[1:]], sys.stdout, sort_keys=True)
