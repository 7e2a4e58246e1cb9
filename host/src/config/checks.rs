//! Lifecycle checks (`lifecycle:` of services and instances): the states,
//! then each check by its `type`, one parser per type (`health` is maestro's
//! own: it waits for the engine's health check, see `healthcheck.rs`).

use super::error::ConfigError;
use super::http;
use super::keys::instance::LIFECYCLE;
use super::keys::{check as key, check_types};
use super::model::{Check, ExecEnvFrom, HttpPort, Lifecycle, Port, Protocol};
use super::read::{Ctx, Entries, Owners, get, get_set, join};
use super::yaml::{Node, Value, node_str};

#[allow(clippy::too_many_arguments)]
pub(super) fn lifecycle(
    ctx: &mut Ctx,
    ports: &[Port],
    container: &str,
    owners: Owners,
) -> Result<Lifecycle, ConfigError> {
    let mut out = Lifecycle::default();
    for (source, base) in owners.sources(LIFECYCLE) {
        let Some(source) = source else { continue };
        for (k, v) in ctx.map(source, &base)? {
            let state = node_str(k);
            let spath = join(&base, &state);
            let target = match state.as_str() {
                "pre-start" => &mut out.pre_start,
                "running" => &mut out.running,
                "pre-stop" => &mut out.pre_stop,
                "stopped" => &mut out.stopped,
                _ => {
                    if ctx.strict {
                        return Err(ctx.err(Some(k), &spath, format!("unknown lifecycle state {state:?} (expected pre-start, running, pre-stop or stopped)")));
                    }
                    ctx.warn(k, &spath, format!("unknown lifecycle state {state:?} (ignored; expected pre-start, running, pre-stop or stopped)"));
                    continue;
                }
            };
            let Value::Seq(items) = &v.value else {
                return Err(ctx.err(Some(v), &spath, format!("invalid {state} lifecycle checks configuration; expected a list of checks, found {}", v.type_name())));
            };
            for (i, item) in items.iter().enumerate() {
                let ipath = format!("{spath}[{i}]");
                let parsed = check(ctx, ports, container, item, &ipath)?;
                // The engine probes running containers only.
                if matches!(parsed, Check::Health { .. })
                    && matches!(state.as_str(), "pre-start" | "stopped")
                {
                    return Err(ctx.err(
                        Some(item),
                        &ipath,
                        format!(
                            "a health check waits for a running container: it belongs in \
                             running or pre-stop, not {state}"
                        ),
                    ));
                }
                target.push(parsed);
            }
        }
    }
    Ok(out)
}

/// One check's mapping and what its parser needs around it.
struct CheckNode<'a> {
    ports: &'a [Port],
    container: &'a str,
    node: &'a Node,
    entries: &'a Entries,
    path: &'a str,
}

/// A check type's parser.
type Parser = fn(&mut Ctx, &CheckNode) -> Result<Check, ConfigError>;

fn check(
    ctx: &mut Ctx,
    ports: &[Port],
    container: &str,
    node: &Node,
    path: &str,
) -> Result<Check, ConfigError> {
    let entries = ctx.map(node, path)?;
    let Some(type_node) = get_set(entries, key::TYPE) else {
        return Err(ctx.err(
            Some(node),
            &join(path, key::TYPE),
            "the check's type is missing (tcp, http, exec, rexec, sleep or health)",
        ));
    };
    let kind = ctx.string(type_node, &join(path, key::TYPE))?;
    let (known, parse): (&[&str], Parser) = match kind.as_str() {
        "tcp" => (check_types::TCP, tcp),
        "http" => (check_types::HTTP, http),
        "exec" => (check_types::EXEC, exec),
        "rexec" => (check_types::REXEC, rexec),
        "sleep" => (check_types::SLEEP, sleep),
        "health" => (check_types::HEALTH, health),
        other => {
            return Err(ctx.err(Some(type_node), &join(path, key::TYPE), format!("unknown lifecycle check type {other:?} (expected tcp, http, exec, rexec, sleep or health)")));
        }
    };
    ctx.check_keys(entries, known, path, &format!("{kind} check"))?;
    parse(
        ctx,
        &CheckNode {
            ports,
            container,
            node,
            entries,
            path,
        },
    )
}

impl CheckNode<'_> {
    /// The key path of `key` in this check.
    fn at(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// A positive count or wait; absent or 0 means `default`.
    fn opt_uint(&self, ctx: &Ctx, key: &str, default: u64) -> Result<u64, ConfigError> {
        match get_set(self.entries, key) {
            Some(n) => {
                let v = ctx.uint(n, &self.at(key))?;
                Ok(if v == 0 { default } else { v })
            }
            None => Ok(default),
        }
    }

    /// The `port` node, which tcp and http checks require.
    fn port_node(&self, ctx: &Ctx) -> Result<&Node, ConfigError> {
        get_set(self.entries, key::PORT).ok_or_else(|| {
            ctx.err(
                Some(self.node),
                &self.at(key::PORT),
                "the check's port is missing",
            )
        })
    }

    /// A port name the container defines, and a TCP one.
    fn named_tcp_port(&self, ctx: &Ctx, pnode: &Node) -> Result<String, ConfigError> {
        let pname = node_str(pnode);
        match self.ports.iter().find(|p| p.name == pname) {
            None => Err(ctx.err(
                Some(pnode),
                &self.at(key::PORT),
                format!("port {pname:?} is not defined by {}", self.container),
            )),
            Some(p) if p.protocol != Protocol::Tcp => Err(ctx.err(
                Some(pnode),
                &self.at(key::PORT),
                format!("port {pname:?} is not TCP"),
            )),
            Some(_) => Ok(pname),
        }
    }

    /// `command` (or the deprecated `cmd`) of exec and rexec checks.
    fn command(&self, ctx: &mut Ctx) -> Result<String, ConfigError> {
        match (
            get_set(self.entries, key::COMMAND),
            get_set(self.entries, key::CMD),
        ) {
            (Some(c), _) => ctx.string(c, &self.at(key::COMMAND)),
            (None, Some(c)) => {
                ctx.warn(
                    c,
                    &self.at(key::CMD),
                    "cmd is read as command (MaestroNG 0.8.3 requires command)",
                );
                ctx.string(c, &self.at(key::CMD))
            }
            (None, None) => Err(ctx.err(
                Some(self.node),
                &self.at(key::COMMAND),
                "the check's command is missing",
            )),
        }
    }
}

fn tcp(ctx: &mut Ctx, c: &CheckNode) -> Result<Check, ConfigError> {
    let pnode = c.port_node(ctx)?;
    Ok(Check::Tcp {
        port: c.named_tcp_port(ctx, pnode)?,
        max_wait: c.opt_uint(ctx, key::MAX_WAIT, 180)?,
    })
}

fn http(ctx: &mut Ctx, c: &CheckNode) -> Result<Check, ConfigError> {
    let (entries, path) = (c.entries, c.path);
    let pnode = c.port_node(ctx)?;
    let pname = node_str(pnode);
    let port = if c.ports.iter().any(|p| p.name == pname) {
        HttpPort::Named(c.named_tcp_port(ctx, pnode)?)
    } else {
        match pname.trim().parse::<u32>() {
            Ok(n) if n <= 65535 => HttpPort::Number(n),
            _ => {
                return Err(ctx.err(
                    Some(pnode),
                    &join(path, key::PORT),
                    format!("port {pname:?} is not defined by {}", c.container),
                ));
            }
        }
    };
    let mut http_path = match get_set(entries, key::PATH) {
        Some(n) => ctx.string(n, &join(path, key::PATH))?,
        None => "/".into(),
    };
    if !http_path.starts_with('/') {
        http_path.insert(0, '/');
    }
    Ok(Check::Http {
        port,
        host: ctx.opt_string(get(entries, key::HOST), &join(path, key::HOST))?,
        match_regex: http::match_regex(
            ctx,
            get(entries, key::MATCH_REGEX),
            &join(path, key::MATCH_REGEX),
        )?,
        path: http_path,
        scheme: http::scheme(ctx, get(entries, key::SCHEME), &join(path, key::SCHEME))?,
        method: http::method(ctx, get(entries, key::METHOD), &join(path, key::METHOD))?,
        max_wait: c.opt_uint(ctx, key::MAX_WAIT, 300)?,
        requests_options: Box::new(http::requests_options(
            ctx,
            get(entries, key::REQUESTS_OPTIONS),
            &join(path, key::REQUESTS_OPTIONS),
        )?),
    })
}

fn exec(ctx: &mut Ctx, c: &CheckNode) -> Result<Check, ConfigError> {
    let command = c.command(ctx)?;
    let envfrom = match get_set(c.entries, key::ENVFROM) {
        None => ExecEnvFrom::Env,
        Some(n) => match ctx.string(n, &c.at(key::ENVFROM))?.as_str() {
            "env" => ExecEnvFrom::Env,
            "stdin" => ExecEnvFrom::Stdin,
            other => {
                return Err(ctx.err(
                    Some(n),
                    &c.at(key::ENVFROM),
                    format!("invalid envfrom {other:?} (expected env or stdin)"),
                ));
            }
        },
    };
    Ok(Check::Exec {
        command,
        attempts: c.opt_uint(ctx, key::ATTEMPTS, 180)?,
        envfrom,
    })
}

fn rexec(ctx: &mut Ctx, c: &CheckNode) -> Result<Check, ConfigError> {
    Ok(Check::Rexec {
        command: c.command(ctx)?,
        attempts: c.opt_uint(ctx, key::ATTEMPTS, 180)?,
    })
}

fn sleep(ctx: &mut Ctx, c: &CheckNode) -> Result<Check, ConfigError> {
    let Some(w) = get_set(c.entries, key::WAIT) else {
        return Err(ctx.err(
            Some(c.node),
            &c.at(key::WAIT),
            "the check's wait is missing",
        ));
    };
    Ok(Check::Sleep {
        wait: ctx.number(w, &c.at(key::WAIT))?,
    })
}

/// `health` (maestro's own): wait for the engine's health check to report
/// the container healthy, at most `max_wait` seconds (default 300).
fn health(ctx: &mut Ctx, c: &CheckNode) -> Result<Check, ConfigError> {
    Ok(Check::Health {
        max_wait: c.opt_uint(ctx, key::MAX_WAIT, 300)?,
    })
}
