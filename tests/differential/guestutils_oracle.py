"""Expected answers of MaestroNG 0.8.3's real guestutils, for the
differential test of `maestro-guest`'s queries
(tests/tests/guestutils_differential.rs).

Generates CASES environments-and-calls from SEED (deterministic: the same
seed gives the same cases), runs each call against the installed
`maestro.guestutils` with `os.environ` set to the case's environment, and
prints one JSON document on stdout:

    {"cases": [{"env": {...}, "argv": [...], "call": "get_...(...)",
                "stdout": "...", "stderr": "...", "status": 0,
                "exact": true}, ...]}

`argv` is the `maestro-guest` command line for the same call. The expected
output follows the guest's documented mapping: the value on one line (a
node list joined by the separator), or `json.dumps(value)` with `--json`;
`MaestroEnvironmentError(m)` is exit 1 with stderr `error: m`. Any other
exception is `exact: false`: the guest must exit 1 with one `error: ` line
on stderr and nothing on stdout, whatever the message (guestutils has no
message to match there; none of the generated calls raise one today).

Every code point assigned in Unicode 14 (Python 3.11) sanitises the same
on both sides except four lower-case letters that gained an upper case in
Unicode 16 (U+019B, U+0264, U+A7D3, U+A7D5); they are left out here.

Usage: python guestutils_oracle.py SEED CASES
"""

import json
import os
import random
import sys

from maestro import guestutils

# Name material: dashes, dots, digits, mixed case, underscores, non-ASCII
# (é ß ü Ω; a Devanagari vowel sign and a circled letter, which Python's \w
# does not match; a title-case letter), and spaces or slashes now and then.
PIECES = ['zk', 'kafka', 'node', 'db', 'Web', 'front', 'x', 'A', 'Zoo',
          'keeper', '1', '2', '10', '007', 'é', 'café', 'straße', 'über',
          'Ω', 'v2', 'r_1', 'सेवा', 'Ⓐ', 'ǅ']
JOINERS = ['-', '-', '.', '_', '', ' ', '/']
HOSTS = ['192.168.10.2', '10.99.0.2', '10.0.0.{}', 'db.example.com',
         'ship-{}', '::1', '', ' spaced ']
ODD_PORTS = ['1-3', '', ' 42 ', '007', '1_0', '+5', '-1', '0', '1__0',
             '_1', '0x10', '4.5', 'abc', '\t8080\n', '\u00a0 99',
             '123456789012345678901234567890', '30000-30010', '-0',
             '\x1c1', '1\x1f', '\x85 12', '1\u3000', '12\u2003',
             '\u0661\u0662', '\uff19_\U0001d7ce', '\u00b2', '\u0661-\u0663',
             '9' * 4300, '0' * 4301, '1_' * 4300 + '1']
DEFAULTS = ['42', '0', ' 43 ', '007', '1_0', '', 'x', '1-3', '-7', '+8',
            '2181', '1__0', '\x1f5', '\u20085', '\u0968\u0967', '\u2155']
SEPARATORS = [None, None, None, ' ', ';', '', '::', ', ', 'é']
MINIMUMS = [None, None, None, 0, 1, 2, 3, 4, 5, -1]


def name(rng):
    parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 3))]
    text = parts[0]
    for part in parts[1:]:
        text += rng.choice(JOINERS) + part
    return text


def variant(rng, text):
    """The same name as guestutils sanitises it, spelled differently."""
    choice = rng.randrange(6)
    if choice == 0:
        return text.upper()
    if choice == 1:
        return text.lower()
    if choice == 2:
        return text.replace('-', '.').replace(' ', '-')
    return text


def port_value(rng):
    if rng.random() < 0.15:
        return rng.choice(ODD_PORTS)
    return str(rng.randint(1, 65535))


def host_value(rng):
    return rng.choice(HOSTS).format(rng.randint(1, 250))


def unique_names(rng, count):
    names = []
    while len(names) < count:
        candidate = name(rng)
        if candidate not in names and ',' not in candidate:
            names.append(candidate)
    return names


def environment(rng):
    """A MaestroNG-like environment, then damaged a little."""
    N = guestutils._to_env_var_name
    env = {}
    services = {}
    for service in unique_names(rng, rng.randint(1, 3)):
        instances = unique_names(rng, rng.randint(0, 4))
        ports = unique_names(rng, rng.randint(0, 3))
        services[service] = (instances, ports)
    own = rng.choice(list(services))
    for service, (instances, ports) in services.items():
        for instance in instances:
            env['{}_{}_HOST'.format(N(service), N(instance))] = host_value(rng)
            for port in ports:
                base = '{}_{}_{}'.format(N(service), N(instance), N(port))
                env[base + '_PORT'] = port_value(rng)
                if service == own:
                    env[base + '_INTERNAL_PORT'] = port_value(rng)
        env[N(service) + '_INSTANCES'] = ','.join(sorted(instances))
    if rng.random() < 0.1:
        env[N(name(rng)) + '_INSTANCES'] = rng.choice(['', ',', 'a,,b'])
    own_instances = services[own][0]
    identity = {
        'MAESTRO_ENVIRONMENT_NAME': rng.choice(['zk-kafka', 'prod', 'é-env', '']),
        'SERVICE_NAME': own,
        'CONTAINER_NAME': rng.choice(own_instances) if own_instances else name(rng),
        'CONTAINER_HOST_ADDRESS': host_value(rng),
        'DOCKER_IMAGE': 'img:1',
        'DOCKER_TAG': '1',
    }
    for key, value in identity.items():
        roll = rng.random()
        if roll < 0.08:
            continue  # missing
        env[key] = '' if roll < 0.14 else value
    for key in rng.sample(sorted(env), min(len(env), rng.choice([0, 0, 0, 1, 2]))):
        del env[key]
    return env, services, own


def pick_service(rng, services):
    if rng.random() < 0.1:
        return name(rng)
    return variant(rng, rng.choice(list(services)))


def pick_instance(rng, services, service):
    for known, (instances, _) in services.items():
        if guestutils._to_env_var_name(known) == guestutils._to_env_var_name(service):
            if instances and rng.random() < 0.9:
                return variant(rng, rng.choice(instances))
    return name(rng)


def pick_port(rng, services, service):
    for known, (_, ports) in services.items():
        if guestutils._to_env_var_name(known) == guestutils._to_env_var_name(service):
            if ports and rng.random() < 0.9:
                return variant(rng, rng.choice(ports))
    return name(rng)


def pick_default(rng):
    return rng.choice(DEFAULTS) if rng.random() < 0.35 else None


def call(rng, services, own, env):
    """One guestutils call: (description, thunk, argv, kind, separator)."""
    g = guestutils
    kind = rng.choice(['environment-name', 'service-name', 'container-name',
                       'host-address', 'port', 'port', 'node-list',
                       'node-list', 'node-list', 'specific-host',
                       'specific-port', 'specific-port',
                       'specific-exposed-port', 'specific-exposed-port',
                       'internal-address'])
    json_flag = rng.random() < 0.3
    argv = [kind] + (['--json'] if json_flag else [])
    separator = None
    if kind == 'environment-name':
        return 'get_environment_name()', g.get_environment_name, argv, json_flag, separator
    if kind == 'service-name':
        return 'get_service_name()', g.get_service_name, argv, json_flag, separator
    if kind == 'container-name':
        return 'get_container_name()', g.get_container_name, argv, json_flag, separator
    if kind == 'host-address':
        return ('get_container_host_address()', g.get_container_host_address,
                argv, json_flag, separator)
    if kind == 'internal-address':
        return ('get_container_internal_address()',
                g.get_container_internal_address, argv, json_flag, separator)
    if kind == 'port':
        port = pick_port(rng, services, own)
        default = pick_default(rng)
        if default is not None:
            argv.append('--default=' + default)
        argv += ['--', port]
        return ('get_port({!r}, {!r})'.format(port, default),
                lambda: g.get_port(port, default), argv, json_flag, separator)
    if kind == 'node-list':
        service = pick_service(rng, services)
        ports = [pick_port(rng, services, service)
                 for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        minimum = rng.choice(MINIMUMS)
        separator = rng.choice(SEPARATORS)
        if minimum is not None:
            argv.append('--minimum={}'.format(minimum))
        if separator is not None:
            argv.append('--separator=' + separator)
        argv += ['--', service] + ports
        args = (service, ports) if minimum is None else (service, ports, minimum)
        return ('get_node_list{!r}'.format(args),
                lambda: g.get_node_list(*args), argv, json_flag, separator)
    service = pick_service(rng, services)
    container = pick_instance(rng, services, service)
    if kind == 'specific-host':
        argv += ['--', service, container]
        return ('get_specific_host({!r}, {!r})'.format(service, container),
                lambda: g.get_specific_host(service, container), argv,
                json_flag, separator)
    port = pick_port(rng, services, service)
    default = pick_default(rng)
    if default is not None:
        argv.append('--default=' + default)
    argv += ['--', service, container, port]
    function = (g.get_specific_port if kind == 'specific-port'
                else g.get_specific_exposed_port)
    return ('{}({!r}, {!r}, {!r}, {!r})'.format(function.__name__, service,
                                               container, port, default),
            lambda: function(service, container, port, default), argv,
            json_flag, separator)


def expected(thunk, json_flag, separator):
    try:
        value = thunk()
    except guestutils.MaestroEnvironmentError as e:
        return {'stdout': '', 'stderr': 'error: {}\n'.format(e), 'status': 1,
                'exact': True}
    except Exception as e:  # noqa: BLE001 - any other failure is "exit 1"
        return {'stdout': '', 'stderr': 'error: {!r}\n'.format(e), 'status': 1,
                'exact': False}
    if json_flag:
        line = json.dumps(value)
    elif isinstance(value, list):
        line = (',' if separator is None else separator).join(value)
    else:
        line = str(value)
    return {'stdout': line + '\n', 'stderr': '', 'status': 0, 'exact': True}


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    cases = []
    while len(cases) < count:
        env, services, own = environment(rng)
        for _ in range(rng.randint(1, 6)):
            description, thunk, argv, json_flag, separator = call(rng, services, own, env)
            os.environ.clear()
            os.environ.update(env)
            case = {'env': env, 'argv': argv, 'call': description}
            case.update(expected(thunk, json_flag, separator))
            cases.append(case)
    json.dump({'cases': cases[:count]}, sys.stdout, ensure_ascii=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
