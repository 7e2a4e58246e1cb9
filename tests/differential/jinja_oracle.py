#!/usr/bin/env python3
"""Oracle for the Jinja pre-pass table: what Jinja2 (as MaestroNG 0.8.3's
loader sets it up) renders for each template.

Usage: jinja_oracle.py CASES.json

CASES.json is the table of tests/differential/jinja_methods.json: a list of
{"template": ..., ...}. Each template is rendered with an Environment built
like maestro.loader.load's (FileSystemLoader, auto_reload=False, Jinja2's
defaults otherwise) and `env` = the table's "env" object (MaestroNG passes
os.environ). Prints one JSON list, in order: {"output": text} or
{"error": "ExceptionType: message"}.
"""

import json
import sys

import jinja2


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding='utf-8') as f:
        table = json.load(f)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader('.'),
                             auto_reload=False)
    variables = table['env']
    results = []
    for case in table['cases']:
        try:
            text = env.from_string(case['template']).render(env=variables)
            results.append({'output': text})
        except Exception as e:  # every Jinja2/Python error is a result here
            results.append({'error': '{}: {}'.format(type(e).__name__, e)})
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
