"""MaestroNG 0.8.3's verdict on `http` lifecycle checks (for tests/tests/http_checks.rs).

Reads a JSON object {name: check-in-YAML} on stdin; builds each check as 0.8.3 does
(maestro.lifecycle.HttpRequestLifecycle with the ship's ip replaced by the check's
`host`) and runs them all at once; prints a JSON object {name: true|false}.
Run with the testbed's MaestroNG venv (it has maestro 0.8.3, requests and PyYAML).
"""

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import yaml
from maestro.lifecycle import HttpRequestLifecycle


def verdict(text):
    config = yaml.safe_load(text)
    del config["type"]
    host = config.pop("host")
    port = int(config.pop("port"))
    return bool(HttpRequestLifecycle(host, port, **config).test())


checks = json.load(sys.stdin)
with ThreadPoolExecutor(max_workers=len(checks) or 1) as pool:
    results = dict(zip(checks, pool.map(verdict, checks.values())))
json.dump(results, sys.stdout)
