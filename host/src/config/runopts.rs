//! The `docker run` options maestro adds to an instance (MaestroNG #131):
//! one reader per key, values in docker compose's forms (sizes `64m`,
//! `tmpfs` and `sysctls` as a list or a mapping). MaestroNG 0.8.3's own keys
//! for the same settings (`username`, `limits.cpu`) and their docker compose
//! spellings (`user`, `cpu_shares`) are read where those keys are
//! (`options::user`, `resources::limits`).

use super::error::ConfigError;
use super::keys::instance as key;
use super::model::{Device, RunOptions};
use super::options;
use super::read::{Ctx, Entries, get_set, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// Reads every run option of an instance's mapping.
pub(super) fn run_options(
    ctx: &mut Ctx,
    entries: &Entries,
    path: &str,
) -> Result<RunOptions, ConfigError> {
    let p = |k: &str| join(path, k);
    let at = |k: &str| get_set(entries, k);
    let text = |ctx: &Ctx, k: &str| at(k).map(|n| word(ctx, n, &p(k))).transpose();
    let flag = |ctx: &mut Ctx, k: &str| at(k).map(|n| ctx.flag(Some(n), &p(k)));
    Ok(RunOptions {
        stop_signal: at(key::STOP_SIGNAL)
            .map(|n| stop_signal(ctx, n, &p(key::STOP_SIGNAL)))
            .transpose()?,
        hostname: hostname(ctx, entries, path)?,
        domainname: text(ctx, key::DOMAINNAME)?,
        read_only: flag(ctx, key::READ_ONLY).unwrap_or(false),
        tmpfs: at(key::TMPFS)
            .map(|n| tmpfs(ctx, n, &p(key::TMPFS)))
            .transpose()?
            .unwrap_or_default(),
        shm_size: at(key::SHM_SIZE)
            .map(|n| size(ctx, n, &p(key::SHM_SIZE)))
            .transpose()?,
        devices: match at(key::DEVICES) {
            Some(n) => one_or_list(n, &p(key::DEVICES))
                .into_iter()
                .map(|(n, p)| device(ctx, n, &p))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        sysctls: at(key::SYSCTLS)
            .map(|n| sysctls(ctx, n, &p(key::SYSCTLS)))
            .transpose()?
            .unwrap_or_default(),
        init: flag(ctx, key::INIT),
        pid: at(key::PID)
            .map(|n| namespace(ctx, n, &p(key::PID), PID_MODES))
            .transpose()?,
        ipc: at(key::IPC)
            .map(|n| namespace(ctx, n, &p(key::IPC), IPC_MODES))
            .transpose()?,
        group_add: ctx.string_list(at(key::GROUP_ADD), &p(key::GROUP_ADD))?,
        entrypoint: at(key::ENTRYPOINT)
            .map(|n| options::command(ctx, n, &p(key::ENTRYPOINT)))
            .transpose()?,
        cpuset: at(key::CPUSET)
            .map(|n| cpuset(ctx, n, &p(key::CPUSET)))
            .transpose()?,
        mem_reservation: at(key::MEM_RESERVATION)
            .map(|n| size(ctx, n, &p(key::MEM_RESERVATION)))
            .transpose()?,
        pids_limit: at(key::PIDS_LIMIT)
            .map(|n| pids_limit(ctx, n, &p(key::PIDS_LIMIT)))
            .transpose()?,
        oom_kill_disable: flag(ctx, key::OOM_KILL_DISABLE),
        runtime: text(ctx, key::RUNTIME)?,
    })
}

/// The items of a value that is one item or a list of them, with their paths.
fn one_or_list<'n>(node: &'n Node, path: &str) -> Vec<(&'n Node, String)> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (n, format!("{path}[{i}]")))
            .collect(),
        _ => vec![(node, path.to_owned())],
    }
}

/// A non-empty string without white space (a name, a host name, a mode).
fn word(ctx: &Ctx, node: &Node, path: &str) -> Result<String, ConfigError> {
    let s = ctx.string(node, path)?;
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return Err(ctx.err(
            Some(node),
            path,
            format!("expected a name without spaces, found {s:?}"),
        ));
    }
    Ok(s)
}

/// `hostname`; with `net: host` or `container:NAME` the engine refuses one
/// (the container has the other's), so that is an error here.
fn hostname(ctx: &Ctx, entries: &Entries, path: &str) -> Result<Option<String>, ConfigError> {
    let Some(node) = get_set(entries, key::HOSTNAME) else {
        return Ok(None);
    };
    let p = join(path, key::HOSTNAME);
    let name = word(ctx, node, &p)?;
    let net = get_set(entries, key::NET).and_then(|n| n.scalar().map(|s| s.value.py_str()));
    if let Some(net) = net.filter(|n| n == "host" || n.starts_with("container:")) {
        return Err(ctx.err(
            Some(node),
            &p,
            format!("a hostname cannot be set with net: {net} (the container has the network's)"),
        ));
    }
    Ok(Some(name))
}

/// `pid`'s modes besides `container:NAME`; the schema's pattern is made of them.
pub(super) const PID_MODES: &[&str] = &["host"];

/// `ipc`'s modes besides `container:NAME`; the schema's pattern is made of them.
pub(super) const IPC_MODES: &[&str] = &["none", "private", "shareable", "host"];

/// The signals Linux knows by name (Docker takes them with or without `SIG`).
pub(super) const SIGNALS: &[&str] = &[
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL",
    "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",
    "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
];

/// `stop_signal`: a signal name (`SIGUSR1`, `USR1`, `SIGRTMIN+3`) or number,
/// sent as Docker shows it (`SIGUSR1`, `10`).
fn stop_signal(ctx: &Ctx, node: &Node, path: &str) -> Result<String, ConfigError> {
    let written = ctx.string(node, path)?;
    let upper = written.trim().to_ascii_uppercase();
    if let Ok(n) = upper.parse::<u32>() {
        if (1..=64).contains(&n) {
            return Ok(n.to_string());
        }
    }
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let realtime = |base: &str, sign: char| {
        name.strip_prefix(base).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(sign)
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| (1..=15).contains(&n))
        })
    };
    if SIGNALS.contains(&name) || realtime("RTMIN", '+') || realtime("RTMAX", '-') {
        return Ok(format!("SIG{name}"));
    }
    Err(ctx.err(
        Some(node),
        path,
        format!("unknown signal {written:?} (expected a name such as SIGTERM or USR1, or a number from 1 to 64)"),
    ))
}

/// `tmpfs`: a path, a list of `PATH[:OPTIONS]`, or a mapping `PATH: OPTIONS`.
fn tmpfs(ctx: &Ctx, node: &Node, path: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |at: &Node, p: &str, mount: String, opts: String| {
        if !mount.starts_with('/') {
            return Err(ctx.err(
                Some(at),
                p,
                format!("tmpfs mount point {mount:?} is not an absolute path"),
            ));
        }
        if out.iter().any(|(m, _)| *m == mount) {
            return Err(ctx.err(Some(at), p, format!("tmpfs {mount} is given twice")));
        }
        out.push((mount, opts));
        Ok(())
    };
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let mount = node_str(k);
                let p = join(path, &mount);
                let opts = if v.is_null() {
                    String::new()
                } else {
                    ctx.string(v, &p)?
                };
                add(k, &p, mount, opts)?;
            }
        }
        _ => {
            for (n, p) in one_or_list(node, path) {
                let spec = ctx.string(n, &p)?;
                let (mount, opts) = spec.split_once(':').unwrap_or((&spec, ""));
                add(n, &p, mount.to_owned(), opts.to_owned())?;
            }
        }
    }
    Ok(out)
}

/// A size as Docker writes it: bytes, or a number with `k`, `m`, `g`, `t`
/// (1024 each step), an optional `b`: `64m`, `1.5g`, `512kb`, `1048576`.
pub(super) fn size(ctx: &Ctx, node: &Node, path: &str) -> Result<i64, ConfigError> {
    let bad = |found: String| {
        ctx.err(
            Some(node),
            path,
            format!("expected a size such as 64m, 1g or 1048576 (bytes), found {found}"),
        )
    };
    match node.scalar().map(|s| &s.value) {
        Some(PyScalar::Int(_)) => {
            let n = ctx.int(node, path)?;
            if n < 0 {
                return Err(bad(n.to_string()));
            }
            Ok(n)
        }
        Some(PyScalar::Str(text)) => parse_size(text).ok_or_else(|| bad(format!("{text:?}"))),
        Some(other) => Err(bad(other.type_name().to_owned())),
        None => Err(bad(node.type_name().to_owned())),
    }
}

/// Docker's `RAMInBytes`: `N[.F][ ][k|m|g|t|p][i][b]`, case-insensitive.
fn parse_size(text: &str) -> Option<i64> {
    let lower = text.trim().to_ascii_lowercase();
    let number_len = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let number: f64 = lower[..number_len].parse().ok()?;
    let unit = lower[number_len..].trim_start();
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    let bytes = number * 1024f64.powi(power);
    (bytes.is_finite() && bytes < 9.2e18).then_some(bytes as i64)
}

/// A `devices` entry: `HOST[:CONTAINER][:PERMISSIONS]`, as `docker run --device`.
fn device(ctx: &Ctx, node: &Node, path: &str) -> Result<Device, ConfigError> {
    let spec = ctx.string(node, path)?;
    let is_mode = |m: &str| !m.is_empty() && m.len() <= 3 && m.chars().all(|c| "rwm".contains(c));
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, permissions) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, m] if is_mode(m) => (*h, *h, *m),
        [h, c] => (*h, *c, "rwm"),
        [h, c, m] if is_mode(m) => (*h, *c, *m),
        _ => {
            return Err(ctx.err(
                Some(node),
                path,
                format!("invalid device {spec:?} (expected HOST[:CONTAINER][:PERMISSIONS], permissions some of rwm)"),
            ));
        }
    };
    for p in [host, container] {
        if !p.starts_with('/') {
            return Err(ctx.err(
                Some(node),
                path,
                format!("invalid device {spec:?}: {p:?} is not an absolute path"),
            ));
        }
    }
    Ok(Device {
        host: host.to_owned(),
        container: container.to_owned(),
        permissions: permissions.to_owned(),
    })
}

/// `sysctls`: a mapping `NAME: VALUE` or a list of `NAME=VALUE`.
fn sysctls(ctx: &Ctx, node: &Node, path: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |at: &Node, p: &str, name: String, value: String| {
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(ctx.err(Some(at), p, format!("invalid sysctl name {name:?}")));
        }
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => out.push((name, value)),
        }
        Ok(())
    };
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let name = node_str(k);
                let p = join(path, &name);
                let value = ctx.string(v, &p)?;
                add(k, &p, name, value)?;
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let spec = ctx.string(item, &p)?;
                let Some((name, value)) = spec.split_once('=') else {
                    return Err(ctx.err(
                        Some(item),
                        &p,
                        format!("expected NAME=VALUE, found {spec:?}"),
                    ));
                };
                add(item, &p, name.trim().to_owned(), value.trim().to_owned())?;
            }
        }
        Value::Scalar(_) => {
            return Err(ctx.err(
                Some(node),
                path,
                format!(
                    "expected a mapping NAME: VALUE or a list of NAME=VALUE, found {}",
                    node.type_name()
                ),
            ));
        }
    }
    Ok(out)
}

/// `pid` and `ipc`: one of `modes`, or `container:NAME` (share another
/// container's namespace).
fn namespace(ctx: &Ctx, node: &Node, path: &str, modes: &[&str]) -> Result<String, ConfigError> {
    let mode = ctx.string(node, path)?;
    let shared = mode
        .strip_prefix("container:")
        .is_some_and(|name| !name.is_empty() && !name.contains(char::is_whitespace));
    if modes.contains(&mode.as_str()) || shared {
        return Ok(mode);
    }
    Err(ctx.err(
        Some(node),
        path,
        format!(
            "invalid mode {mode:?} (expected {} or container:NAME)",
            modes.join(", ")
        ),
    ))
}

/// `cpuset`: CPU numbers and ranges, `0-2,4`.
fn cpuset(ctx: &Ctx, node: &Node, path: &str) -> Result<String, ConfigError> {
    let set = ctx.string(node, path)?;
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let valid = !set.is_empty()
        && set.split(',').all(|part| match part.split_once('-') {
            Some((a, b)) => {
                number(a) && number(b) && a.parse::<u32>().ok() <= b.parse::<u32>().ok()
            }
            None => number(part),
        });
    if valid {
        return Ok(set);
    }
    Err(ctx.err(
        Some(node),
        path,
        format!("invalid cpuset {set:?} (expected CPU numbers and ranges such as 0-2,4)"),
    ))
}

/// `pids_limit`: a number of processes; `-1` (or 0) is unlimited.
fn pids_limit(ctx: &Ctx, node: &Node, path: &str) -> Result<i64, ConfigError> {
    let n = ctx.int(node, path)?;
    if n < -1 {
        return Err(ctx.err(
            Some(node),
            path,
            format!("expected a number of processes, or -1 for no limit, found {n}"),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Command;
    use crate::config::{Loaded, Options, load_text};

    /// Loads one instance `a-1` with `keys` (YAML flow-mapping entries), strictly.
    fn with(keys: &str) -> Result<Loaded, String> {
        let text = format!(
            "name: t\nships: {{s1: {{ip: 10.0.0.1}}}}\nservices:\n  a:\n    image: busybox\n    instances:\n      a-1: {{ship: s1, {keys}}}\n"
        );
        load_text(text, Options { strict: true }).map_err(|e| e.to_string())
    }

    fn run(keys: &str) -> RunOptions {
        let loaded = with(keys).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        loaded.environment.instances[0].run.clone()
    }

    #[test]
    fn every_option_in_its_forms() {
        let r = run(concat!(
            "stop_signal: usr1, hostname: h1, domainname: example.test, read_only: true, ",
            "tmpfs: [/run, '/tmp:size=1m,mode=1777'], shm_size: 64m, ",
            "devices: ['/dev/null:/dev/n:r', /dev/zero, '/dev/full:rw'], ",
            "sysctls: {net.core.somaxconn: 1024}, init: true, pid: host, ipc: shareable, ",
            "group_add: [123, audio], entrypoint: '/bin/sh -c', cpuset: 0-1, ",
            "mem_reservation: 32m, pids_limit: 100, oom_kill_disable: false, runtime: runc"
        ));
        assert_eq!(r.stop_signal.as_deref(), Some("SIGUSR1"));
        assert_eq!(r.hostname.as_deref(), Some("h1"));
        assert_eq!(r.domainname.as_deref(), Some("example.test"));
        assert!(r.read_only);
        assert_eq!(
            r.tmpfs,
            [
                ("/run".to_owned(), String::new()),
                ("/tmp".to_owned(), "size=1m,mode=1777".to_owned())
            ]
        );
        assert_eq!(r.shm_size, Some(64 << 20));
        let devices: Vec<_> = r
            .devices
            .iter()
            .map(|d| format!("{}:{}:{}", d.host, d.container, d.permissions))
            .collect();
        assert_eq!(
            devices,
            [
                "/dev/null:/dev/n:r",
                "/dev/zero:/dev/zero:rwm",
                "/dev/full:/dev/full:rw"
            ]
        );
        assert_eq!(
            r.sysctls,
            [("net.core.somaxconn".to_owned(), "1024".to_owned())]
        );
        assert_eq!(r.init, Some(true));
        assert_eq!(r.pid.as_deref(), Some("host"));
        assert_eq!(r.ipc.as_deref(), Some("shareable"));
        assert_eq!(r.group_add, ["123", "audio"]);
        assert_eq!(r.entrypoint, Some(Command::Shell("/bin/sh -c".into())));
        assert_eq!(r.cpuset.as_deref(), Some("0-1"));
        assert_eq!(r.mem_reservation, Some(32 << 20));
        assert_eq!(r.pids_limit, Some(100));
        assert_eq!(r.oom_kill_disable, Some(false));
        assert_eq!(r.runtime.as_deref(), Some("runc"));

        // The other forms: tmpfs and sysctls the other way round, a signal number.
        let r = run(
            "tmpfs: {/run: 'size=1m', /x: ~}, sysctls: ['a.b=1', 'c.d = 2'], stop_signal: 10, ipc: 'container:db-1'",
        );
        assert_eq!(
            r.tmpfs,
            [
                ("/run".to_owned(), "size=1m".to_owned()),
                ("/x".to_owned(), String::new())
            ]
        );
        assert_eq!(
            r.sysctls,
            [
                ("a.b".to_owned(), "1".to_owned()),
                ("c.d".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(r.stop_signal.as_deref(), Some("10"));
        assert_eq!(r.ipc.as_deref(), Some("container:db-1"));
        assert_eq!(
            run("tmpfs: /run").tmpfs,
            [("/run".to_owned(), String::new())]
        );
        assert_eq!(run("image: x"), RunOptions::default());
    }

    /// Bad values are errors at their line and column, saying what was expected.
    #[test]
    fn bad_values_name_their_place_and_the_expected_form() {
        // The instance's mapping starts at column 17 of line 7; its keys at 23.
        let cases = [
            (
                "stop_signal: SIGNOPE",
                "SIGNOPE",
                "services.a.instances.a-1.stop_signal: unknown signal \"SIGNOPE\" (expected a name such as SIGTERM or USR1, or a number from 1 to 64)",
            ),
            (
                "shm_size: 64x",
                "64x",
                "services.a.instances.a-1.shm_size: expected a size such as 64m, 1g or 1048576 (bytes), found \"64x\"",
            ),
            (
                "mem_reservation: -5",
                "-5",
                "services.a.instances.a-1.mem_reservation: expected a size such as 64m, 1g or 1048576 (bytes), found -5",
            ),
            (
                "tmpfs: [run]",
                "run",
                "services.a.instances.a-1.tmpfs[0]: tmpfs mount point \"run\" is not an absolute path",
            ),
            (
                "devices: ['/dev/null:/x:rwz:q']",
                "'",
                "services.a.instances.a-1.devices[0]: invalid device \"/dev/null:/x:rwz:q\" (expected HOST[:CONTAINER][:PERMISSIONS], permissions some of rwm)",
            ),
            (
                "sysctls: [a.b]",
                "a.b",
                "services.a.instances.a-1.sysctls[0]: expected NAME=VALUE, found \"a.b\"",
            ),
            (
                "sysctls: 5",
                "5",
                "services.a.instances.a-1.sysctls: expected a mapping NAME: VALUE or a list of NAME=VALUE, found int",
            ),
            (
                "pid: private",
                "private",
                "services.a.instances.a-1.pid: invalid mode \"private\" (expected host or container:NAME)",
            ),
            (
                "ipc: shared",
                "shared",
                "services.a.instances.a-1.ipc: invalid mode \"shared\" (expected none, private, shareable, host or container:NAME)",
            ),
            (
                "cpuset: 2-1",
                "2-1",
                "services.a.instances.a-1.cpuset: invalid cpuset \"2-1\" (expected CPU numbers and ranges such as 0-2,4)",
            ),
            (
                "pids_limit: -2",
                "-2",
                "services.a.instances.a-1.pids_limit: expected a number of processes, or -1 for no limit, found -2",
            ),
            (
                "hostname: 'a b'",
                "'",
                "services.a.instances.a-1.hostname: expected a name without spaces, found \"a b\"",
            ),
            (
                "net: host, hostname: web",
                "web",
                "services.a.instances.a-1.hostname: a hostname cannot be set with net: host (the container has the network's)",
            ),
            (
                "entrypoint: {a: 1}",
                "{a",
                "services.a.instances.a-1.entrypoint: expected a string, found dict",
            ),
        ];
        for (keys, value, expected) in cases {
            let col = 23 + keys.find(value).expect("the value is in the keys");
            let expected = format!("t.yaml:7:{col}: {expected}");
            assert_eq!(with(keys).err(), Some(expected), "{keys}");
        }
    }

    #[test]
    fn sizes_read_as_docker_reads_them() {
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("64MB"), Some(64 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("512kib"), Some(512 << 10));
        assert_eq!(parse_size("100 k"), Some(100 << 10));
        assert_eq!(parse_size("1048576"), Some(1 << 20));
        assert_eq!(parse_size("10b"), Some(10));
        for bad in ["", "m", "64x", "-1m", "1e3", "64 mbx", "1.2.3m"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}
