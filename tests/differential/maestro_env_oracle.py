#!/usr/bin/env python3
"""Oracle for the environment differential test: what MaestroNG 0.8.3
injects into each container.

Usage: maestro_env_oracle.py FILE

Loads FILE with maestro.loader.load (Jinja2 + PyYAML, exactly as the
`maestro` command does), builds maestro.maestro.Conductor (which computes
every container's environment at construction), and prints one JSON object:
{container name: {variable: value or null}}, each environment stringified
by docker-py's own format_environment, i.e. exactly the list a container
receives. No Docker daemon is contacted: ships pin api_version (MaestroNG
defaults to 1.18 otherwise; only `auto` would query a daemon).
"""

import json
import sys

from docker.utils.utils import format_environment
from maestro import loader
from maestro.maestro import Conductor


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    config = loader.load(argv[1])
    conductor = Conductor(config)
    result = {}
    for name, container in conductor.containers.items():
        variables = {}
        for entry in format_environment(container.env):
            key, sep, value = entry.partition('=')
            variables[key] = value if sep else None
        result[name] = variables
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
