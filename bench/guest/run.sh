#!/usr/bin/env bash
# Benchmarks maestro-guest against the usual container inits (not a test).
#
#   bench/guest/run.sh            # short runs, prints a Markdown summary
#   RUNS=500 bench/guest/run.sh   # more runs for steadier numbers
#
# Needs: hyperfine, tini-static, dumb-init, catatonit (Debian packages of
# those names). Results are meant for BENCHMARKS.md ("Guest").
set -euo pipefail
cd "$(dirname "$0")/../.."

runs="${RUNS:-200}"
out="${OUT:-target/bench-guest}"
mkdir -p "$out"

for tool in hyperfine tini-static dumb-init catatonit; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install $tool" >&2; exit 1; }
done
mg="$(scripts/build-guest-static)"
true_bin="$(command -v true)"
tini="$(command -v tini-static)"

echo "## Startup overhead (${runs} runs each, one hyperfine run)"
hyperfine -N --warmup 20 --runs "$runs" --export-markdown "$out/startup.md" \
  --export-json "$out/startup.json" \
  -n "plain true" "$true_bin" \
  -n "maestro-guest run" "$mg run -- $true_bin" \
  -n "tini-static -s" "$tini -s -- $true_bin" \
  -n "dumb-init" "dumb-init $true_bin" \
  -n "catatonit" "catatonit -- $true_bin" > "$out/startup.txt"
cat "$out/startup.md"
# CPU time is steadier than wall time on a shared machine.
echo
grep -E "^Benchmark|User:" "$out/startup.txt" | paste - - | sed -E 's/ +/ /g; s/^/    /'
echo "    (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
# Overhead = the init's time minus plain true's, from the same run; medians
# and minimums resist the noise of a shared machine better than means.
echo
echo "## Overhead over plain true (same run)"
python3 - "$out/startup.json" <<'PY'
import json, statistics, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
def stat(name, f): return f(results[name]["times"]) * 1000
base = {f: stat("plain true", f) for f in (min, statistics.median)}
tini = {f: stat("tini-static -s", f) - base[f] for f in base}
print("| init | overhead (median) | overhead (min) | median vs tini-static | user CPU - true's |")
print("|---|---:|---:|---:|---:|")
for name in results:
    if name == "plain true":
        continue
    over = {f: stat(name, f) - base[f] for f in base}
    user = (results[name]["user"] - results["plain true"]["user"]) * 1000
    print(f"| {name} | {over[statistics.median]:.2f} ms | {over[min]:.2f} ms | "
          f"{over[statistics.median] / tini[statistics.median]:.2f}x | {user:.2f} ms |")
PY

# Memory of the init itself while it supervises a sleep.
rss() { # PID -> "RssAnon VmRSS" in kB
  awk '/^RssAnon:/ {a=$2} /^VmRSS:/ {r=$2} END {print a, r}' "/proc/$1/status"
}
measure_memory() { # NAME CMD... ; the init's pid is the one measured
  local name="$1"; shift
  "$@" sleep 30 &
  local pid=$!
  # Wait until the supervised sleep exists (the init has finished starting).
  for _ in $(seq 100); do
    pgrep -P "$pid" sleep >/dev/null && break
    sleep 0.02
  done
  read -r anon vmrss < <(rss "$pid")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  printf '| %s | %s kB | %s kB |\n' "$name" "$anon" "$vmrss"
}
echo
echo "## Memory while supervising sleep"
echo "| init | RssAnon | VmRSS |"
echo "|---|---|---|"
measure_memory "maestro-guest run" "$mg" run --
measure_memory "tini-static -s" "$tini" -s --
measure_memory "catatonit" catatonit --
measure_memory "dumb-init" dumb-init

echo
echo "## Binary size"
echo "| binary | bytes |"
echo "|---|---|"
printf '| maestro-guest (static, stripped) | %s |\n' "$(stat -c %s "$mg")"
printf '| tini-static | %s |\n' "$(stat -c %s "$tini")"
printf '| catatonit (static) | %s |\n' "$(stat -c %s "$(command -v catatonit)")"

# A 100-instance ZooKeeper ensemble as maestro would inject it into zk-node-1.
echo
echo "## Rendering zoo.cfg for a 100-instance cluster"
env_file="$out/zk100.env"
{
  echo "MAESTRO_ENVIRONMENT_NAME=bench"
  echo "SERVICE_NAME=zookeeper"
  echo "CONTAINER_NAME=zk-node-1"
  echo "CONTAINER_HOST_ADDRESS=10.0.0.1"
  names=()
  for i in $(seq 1 100); do
    names+=("zk-node-$i")
    echo "ZOOKEEPER_ZK_NODE_${i}_HOST=10.0.$((i / 250)).$((i % 250 + 1))"
    for port in client:2181 peer:2888 leader_election:3888; do
      pname="${port%%:*}"; pnum="${port##*:}"
      echo "ZOOKEEPER_ZK_NODE_${i}_${pname^^}_PORT=$pnum"
      echo "ZOOKEEPER_ZK_NODE_${i}_${pname^^}_INTERNAL_PORT=$pnum"
    done
  done
  (IFS=,; echo "ZOOKEEPER_INSTANCES=${names[*]}")
} > "$env_file"
template="$PWD/templates/zookeeper/zoo.cfg.j2"
(
  set -a; . "$env_file"; set +a
  hyperfine -N --warmup 20 --runs "$runs" --export-markdown "$out/render.md" \
    -n "render --check (100 instances)" "$mg render --check $template:$out/zoo.cfg" \
    -n "run -- true (process baseline)" "$mg run -- $true_bin" > "$out/render.txt"
)
cat "$out/render.md"
echo
grep -E "^Benchmark|User:" "$out/render.txt" | paste - - | sed -E 's/ +/ /g; s/^/    /'
echo "    (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
