"""Runs MaestroNG 0.8.3's own auditors (maestro/audit.py) on a sequence of
events, so that tests/tests/audit.rs can compare what they write, send and run
with what maestro's auditors do for the same play.

Usage: audit_oracle.py SPEC.json, where SPEC is
  {"audit": [<auditor configs, as in maestro.yaml>],
   "containers": [{"name", "ship", "ship_ip", "service"}, ...],
   "events": [{"event": "action"|"success"|"error", "level": "info"|"debug",
               "what": "play" | <container name>, "action": "start",
               "message": "..." (error only)}, ...]}
Each event goes through the MultiplexAuditor 0.8.3 builds from the config;
an exception is printed as one JSON line {"event": i, "raised": "Type"} and
the remaining events still run. Prints nothing else.
"""

import json
import sys

from maestro import audit, entities


class _Named(entities.Entity):
    pass


class FakeContainer(entities.Entity):
    """What the auditors read of a container: name, ship (name, ip), service
    (name), and the real Container's repr."""

    def __init__(self, name, ship, ship_ip, service):
        entities.Entity.__init__(self, name)
        self.ship = _Named(ship)
        self.ship.ip = ship_ip
        self.service = _Named(service)

    __repr__ = entities.Container.__repr__



def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    containers = [FakeContainer(c['name'], c['ship'], c['ship_ip'],
                                c['service']) for c in spec['containers']]
    by_name = dict((c.name, c) for c in containers)
    auditor = audit.AuditorFactory.from_config(spec['audit'])
    for i, e in enumerate(spec['events']):
        what = containers if e['what'] == 'play' else by_name[e['what']]
        level = audit._LEVELS_MAP[e.get('level', 'info')]
        try:
            if e['event'] == 'action':
                auditor.action(level=level, what=what, action=e['action'])
            elif e['event'] == 'success':
                auditor.success(level=level, what=what, action=e['action'])
            else:
                auditor.error(what=what, action=e['action'],
                              message=e.get('message'))
        except Exception as ex:
            print(json.dumps({'event': i, 'raised': type(ex).__name__}))


if __name__ == '__main__':
    main()
