"""Generated environments for the host benchmark (issue #9).

N containers in L dependency layers: every service of layer k `requires`
every service of layer k-1. A service has at most five instances. Each
container runs busybox's httpd on its own port with host networking (so a
`tcp` check reaches the process itself, not Docker's port proxy, which
accepts connections before anything listens) after a 100 ms sleep: a service
that is ready 100 ms after its start. A TERM trap makes it stop at once.

From one layout come: the MaestroNG schema-2 `maestro.yaml` (read by maestro
and by maestro-ng 0.8.3), its variant with a `tcp` `running` check on every
service, a docker-compose file for the single-ship equivalent and the floor's
JSON spec (same images, commands and environment, layer by layer).
"""

import json
import math

PER_SERVICE = 5
READY_AFTER = "0.1"


def layout(n, layers, prefix, placement="instances"):
    """The services, layer by layer: [[{name, instances: [(name, ship)]}]].

    placement "instances" alternates the instances of every service over the
    two ships; "services" puts each service whole on one ship, alternating
    (needed when the image name differs per ship, as for cold images); "main"
    puts everything on main (the single-ship equivalent).
    """
    layers = max(1, min(layers, n))
    sizes = [n // layers + (1 if k < n % layers else 0) for k in range(layers)]
    out = []
    svc_index = 0
    ctr_index = 0
    for k, size in enumerate(sizes):
        nsvc = math.ceil(size / PER_SERVICE)
        counts = [size // nsvc + (1 if s < size % nsvc else 0) for s in range(nsvc)]
        layer = []
        for s, count in enumerate(counts):
            svc = f"l{k}s{s}"
            instances = []
            for i in range(count):
                if placement == "main":
                    ship = "main"
                elif placement == "services":
                    ship = ("main", "ship2")[svc_index % 2]
                else:
                    ship = ("main", "ship2")[(i + svc_index) % 2]
                instances.append((f"{prefix}-{svc}-{i + 1}", ship, ctr_index))
                ctr_index += 1
            layer.append({"name": svc, "index": svc_index, "instances": instances})
            svc_index += 1
        out.append(layer)
    return out


def command(port):
    return ["sh", "-c", f"trap 'exit 0' TERM; sleep {READY_AFTER}; httpd -f -p {port} & wait"]


def q(value):
    """A YAML scalar that every YAML 1.1 reader takes as this exact string."""
    return json.dumps(value)


def maestro_yaml(env_name, lay, ships, port_base, image_for, checks=False, registries=None):
    """The MaestroNG schema-2 description. `ships`: name -> {ip, socket_path|docker_port}."""
    lines = ["__maestro:", "  schema: 2", f"name: {q(env_name)}", "ships:"]
    for name, ship in ships.items():
        fields = [f"ip: {q(ship['ip'])}", 'api_version: "1.41"', "timeout: 60"]
        if "socket_path" in ship:
            fields.append(f"socket_path: {q(ship['socket_path'])}")
        else:
            fields.append(f"docker_port: {ship['docker_port']}")
        lines.append(f"  {name}: {{{', '.join(fields)}}}")
    if registries:
        lines.append("registries:")
        for key, reg in registries.items():
            lines.append(f"  {q(key)}:")
            for field in ("registry", "username", "password", "email"):
                lines.append(f"    {field}: {q(reg[field])}")
    lines.append("services:")
    previous = []
    for layer in lay:
        for svc in layer:
            lines.append(f"  {svc['name']}:")
            first_ship = svc["instances"][0][1]
            lines.append(f"    image: {q(image_for(svc, first_ship))}")
            if previous:
                lines.append(f"    requires: [{', '.join(previous)}]")
            if checks:
                lines.append("    lifecycle:")
                lines.append("      running: [{type: tcp, port: http, max_wait: 60}]")
            lines.append("    instances:")
            for name, ship, idx in svc["instances"]:
                port = port_base + idx
                lines.append(f"      {name}:")
                lines.append(f"        ship: {ship}")
                if image_for(svc, ship) != image_for(svc, first_ship):
                    lines.append(f"        image: {q(image_for(svc, ship))}")
                lines.append("        net: host")
                lines.append(f"        ports: {{http: {port}}}")
                lines.append(f"        command: {json.dumps(command(port))}")
        previous = [svc["name"] for svc in layer]
    return "\n".join(lines) + "\n"


def floor_spec(lay, ships, port_base, image_for, envs):
    """The floor's JSON: the same containers, with the environment maestro gives them."""
    layers = []
    for layer in lay:
        out = []
        for svc in layer:
            for name, ship, idx in svc["instances"]:
                port = port_base + idx
                out.append({
                    "name": name,
                    "ship": ship,
                    "image": image_for(svc, ship),
                    "cmd": command(port),
                    "env": envs[name],
                    "network_mode": "host",
                    "port": port,
                })
        layers.append(out)
    return {
        "ships": {n: {"docker_host": s["docker_host"], "ip": s["ip"]} for n, s in ships.items()},
        "layers": layers,
    }


def compose_yaml(lay, port_base, image, envs):
    """docker-compose 2.4 file: one compose service per container (each has its
    own port), `depends_on` the previous layer's, same environment as maestro's."""
    lines = ['version: "2.4"', "services:"]
    previous = []
    for layer in lay:
        current = []
        for svc in layer:
            for name, _ship, idx in svc["instances"]:
                port = port_base + idx
                lines.append(f"  {name}:")
                lines.append(f"    container_name: {q(name)}")
                lines.append(f"    image: {q(image)}")
                lines.append("    network_mode: host")
                lines.append(f"    command: {json.dumps(command(port))}")
                if previous:
                    lines.append(f"    depends_on: [{', '.join(previous)}]")
                if envs.get(name):
                    # $ would be interpolated by compose; none of ours carry one.
                    lines.append(f"    environment: {json.dumps(envs[name])}")
                current.append(name)
        previous = current
    return "\n".join(lines) + "\n"
