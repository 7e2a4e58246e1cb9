//! The container's run options that are one key each: `command`, `links`,
//! `extra_hosts`, `restart`, `log_driver`/`log_opt`, `lxc_conf`, `labels`.

use super::error::ConfigError;
use super::keys::{extra_host, instance as key, restart as restart_key};
use super::model::{Command, Environment, ExtraHost, Link, LogConfig, RestartName, RestartPolicy};
use super::read::{Ctx, Entries, get_set, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// The log drivers `log_driver` accepts (MaestroNG 0.8.3's list).
pub(super) const LOG_DRIVERS: &[&str] =
    &["json-file", "syslog", "journald", "gelf", "fluentd", "none"];
const RESTART_NAMES: &str = "no, always, on-failure, unless-stopped";

pub(super) fn command(ctx: &Ctx, node: &Node, path: &str) -> Result<Command, ConfigError> {
    match &node.value {
        Value::Seq(items) => Ok(Command::Argv(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| ctx.string(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        )),
        _ => Ok(Command::Shell(ctx.string(node, path)?)),
    }
}

/// `links`: `NAME: ALIAS`, sorted as MaestroNG sorts them.
/// The user the container runs as: `username` (MaestroNG's key) or `user`
/// (docker compose's spelling of it), not both; null counts as absent.
pub(super) fn user(
    ctx: &Ctx,
    entries: &Entries,
    path: &str,
) -> Result<Option<String>, ConfigError> {
    let username = get_set(entries, key::USERNAME);
    let user = get_set(entries, key::USER);
    let (upath, npath) = (join(path, key::USER), join(path, key::USERNAME));
    match (user, username) {
        (Some(user), Some(username)) => Err(ctx.err_alias(
            (user, &upath, key::USER),
            (username, &npath, key::USERNAME),
            "the user the container runs as",
        )),
        (Some(user), None) => ctx.string(user, &upath).map(Some),
        (None, Some(username)) => ctx.string(username, &npath).map(Some),
        (None, None) => Ok(None),
    }
}

pub(super) fn links(ctx: &Ctx, node: Option<&Node>, path: &str) -> Result<Vec<Link>, ConfigError> {
    let mut links = Vec::new();
    if let Some(n) = node {
        for (k, v) in ctx.map(n, path)? {
            let lname = node_str(k);
            links.push(Link {
                alias: ctx.string(v, &join(path, &lname))?,
                name: lname,
            });
        }
    }
    links.sort_by_key(|l| format!("{}:{}", l.name, l.alias));
    Ok(links)
}

/// `extra_hosts`: `HOST: ADDRESS` or `HOST: {ship: NAME}` (the ship's ip).
pub(super) fn extra_hosts(
    ctx: &mut Ctx,
    environment: &Environment,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<ExtraHost>, ConfigError> {
    let mut extra_hosts = Vec::new();
    if let Some(n) = node {
        for (k, v) in ctx.map(n, path)? {
            let host = node_str(k);
            let hpath = join(path, &host);
            let address = match &v.value {
                Value::Map(e) => {
                    let sname = match get_set(e, extra_host::SHIP) {
                        Some(s) => ctx.string(s, &join(&hpath, extra_host::SHIP))?,
                        None => {
                            return Err(ctx.err(
                                Some(v),
                                &hpath,
                                "expected an address or {ship: NAME}",
                            ));
                        }
                    };
                    match environment.ship(&sname) {
                        Some(s) => s.ip.clone(),
                        None => {
                            return Err(ctx.err(
                                Some(v),
                                &join(&hpath, extra_host::SHIP),
                                format!("unknown ship {sname:?}"),
                            ));
                        }
                    }
                }
                Value::Scalar(s) if matches!(s.value, PyScalar::Str(_)) => s.value.py_str(),
                _ => {
                    ctx.warn(
                        v,
                        &hpath,
                        format!(
                            "expected an address or {{ship: NAME}}, found {}; entry ignored",
                            v.type_name()
                        ),
                    );
                    continue;
                }
            };
            extra_hosts.push(ExtraHost { host, address });
        }
    }
    extra_hosts.sort_by_key(|h| format!("{}:{}", h.host, h.address));
    Ok(extra_hosts)
}

pub(super) fn restart(
    ctx: &mut Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<RestartPolicy, ConfigError> {
    let Some(node) = node else {
        return Ok(RestartPolicy::default());
    };
    let make = |ctx: &Ctx,
                name: &str,
                retries: Option<(&str, &Node)>|
     -> Result<RestartPolicy, ConfigError> {
        let name = match name {
            "no" => RestartName::No,
            "always" => RestartName::Always,
            "on-failure" => RestartName::OnFailure,
            "unless-stopped" => RestartName::UnlessStopped,
            other => {
                return Err(ctx.err(
                    Some(node),
                    path,
                    format!("invalid restart policy {other:?}; choose one of {RESTART_NAMES}"),
                ));
            }
        };
        let max_retries = match retries {
            None => 0,
            Some((text, n)) => text.trim().parse::<u32>().map_err(|_| {
                ctx.err(
                    Some(n),
                    path,
                    format!("invalid restart policy format {:?}", node_str(node)),
                )
            })?,
        };
        Ok(RestartPolicy { name, max_retries })
    };
    match &node.value {
        Value::Scalar(s) => match &s.value {
            PyScalar::Str(text) => match text.split_once(':') {
                Some((name, retries)) => make(ctx, name, Some((retries, node))),
                None => make(ctx, text, None),
            },
            _ => Ok(RestartPolicy::default()),
        },
        Value::Map(e) => {
            let mut name = "no".to_owned();
            let mut retries: Option<(String, &Node)> = None;
            for (k, v) in e {
                match node_str(k).as_str() {
                    restart_key::NAME => name = node_str(v),
                    restart_key::RETRIES => retries = Some((node_str(v), v)),
                    restart_key::MAXIMUM_RETRY_COUNT => {
                        ctx.warn(k, &join(path, restart_key::MAXIMUM_RETRY_COUNT), "maximum_retry_count (from the 0.7.5 documentation) is read as retries; MaestroNG 0.8.3 rejects it");
                        retries = Some((node_str(v), v));
                    }
                    other => return Err(ctx.err(Some(k), &join(path, other), format!("invalid restart policy format {:?}: unknown key (expected name and retries)", node_str(node)))),
                }
            }
            make(ctx, &name, retries.as_ref().map(|(t, n)| (t.as_str(), *n)))
        }
        Value::Seq(_) => Ok(RestartPolicy::default()),
    }
}

/// `log_driver` and its `log_opt`.
pub(super) fn log(
    ctx: &mut Ctx,
    entries: &Entries,
    path: &str,
) -> Result<Option<LogConfig>, ConfigError> {
    let (driver, opt) = (
        get_set(entries, key::LOG_DRIVER),
        get_set(entries, key::LOG_OPT),
    );
    let (driver_path, opt_path) = (&join(path, key::LOG_DRIVER), &join(path, key::LOG_OPT));
    Ok(match driver {
        Some(n) => {
            let driver = ctx.string(n, driver_path)?;
            if !LOG_DRIVERS.contains(&driver.as_str()) {
                return Err(ctx.err(
                    Some(n),
                    driver_path,
                    format!("log_driver must be one of ({})", LOG_DRIVERS.join(", ")),
                ));
            }
            let mut options = Vec::new();
            if let Some(o) = opt {
                let Value::Map(e) = &o.value else {
                    return Err(ctx.err(Some(o), opt_path, "log_opt must be a mapping"));
                };
                for (k, v) in e {
                    options.push((node_str(k), node_str(v)));
                }
            }
            Some(LogConfig { driver, options })
        }
        None => {
            if let Some(o) = opt {
                ctx.warn(o, opt_path, "log_opt without log_driver is ignored");
            }
            None
        }
    })
}

/// `lxc_conf`: `KEY: VALUE` pairs as `str()`.
pub(super) fn lxc_conf(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut lxc_conf = Vec::new();
    if let Some(n) = node {
        for (k, v) in ctx.map(n, path)? {
            lxc_conf.push((node_str(k), node_str(v)));
        }
    }
    Ok(lxc_conf)
}

/// `labels`: a list (`KEY` with an empty value) or a mapping.
pub(super) fn labels(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    Ok(match node {
        None => Vec::new(),
        Some(n) => match &n.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    out.push((ctx.string(item, &format!("{path}[{i}]"))?, String::new()));
                }
                out
            }
            Value::Map(e) => e.iter().map(|(k, v)| (node_str(k), node_str(v))).collect(),
            Value::Scalar(_) => {
                return Err(ctx.err(
                    Some(n),
                    path,
                    "invalid labels configuration; must be a list or mapping",
                ));
            }
        },
    })
}
