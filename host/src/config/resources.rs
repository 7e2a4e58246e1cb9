//! Resources: `limits` (cpu shares, memory and swap sizes, merged from the
//! service's and the instance's) and `ulimits`.

use super::error::ConfigError;
use super::keys::instance::LIMITS;
use super::keys::{limits, ulimit};
use super::model::{Limits, Ulimit};
use super::read::{Ctx, Owners, join};
use super::yaml::{Node, PyScalar, Value, node_str};

fn bytes(ctx: &Ctx, node: &Node, path: &str, container: &str) -> Result<Option<i64>, ConfigError> {
    let Some(s) = node.scalar() else {
        return Err(ctx.err(
            Some(node),
            path,
            format!("expected a size, found {}", node.type_name()),
        ));
    };
    match &s.value {
        PyScalar::None | PyScalar::Bool(false) => Ok(None),
        PyScalar::Int(_) => {
            let n = ctx.int(node, path)?;
            Ok((n != 0).then_some(n))
        }
        PyScalar::Str(text) if text.is_empty() => Ok(None),
        PyScalar::Str(text) => {
            let last = text.chars().last().unwrap_or(' ').to_ascii_lowercase();
            let unit: i64 = match last {
                'k' => 1024,
                'm' => 1024 * 1024,
                'g' => 1024 * 1024 * 1024,
                _ => {
                    if !text.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ctx.err(
                            Some(node),
                            path,
                            format!(
                                "unknown unit suffix {last} in {text} for container {container}"
                            ),
                        ));
                    }
                    return text.parse().map(Some).map_err(|_| {
                        ctx.err(Some(node), path, format!("size {text} is too large"))
                    });
                }
            };
            let number = &text[..text.len() - 1];
            let n: i64 = number
                .trim()
                .replace('_', "")
                .parse()
                .map_err(|_| ctx.err(Some(node), path, format!("invalid size {text:?}")))?;
            n.checked_mul(unit)
                .map(Some)
                .ok_or_else(|| ctx.err(Some(node), path, format!("size {text} is too large")))
        }
        other => Err(ctx.err(
            Some(node),
            path,
            format!("expected a size such as 512m, found {}", other.type_name()),
        )),
    }
}

pub(super) fn limits(ctx: &mut Ctx, owners: Owners) -> Result<Limits, ConfigError> {
    let path = owners.path;
    let mut merged: Vec<(String, &Node, String)> = Vec::new();
    for (source, base) in owners.sources(LIMITS) {
        let Some(source) = source else { continue };
        let entries = ctx.map(source, &base)?;
        ctx.check_keys(entries, limits::ALL, &base, "limits")?;
        for (k, v) in entries {
            let key = node_str(k);
            if !limits::ALL.contains(&key.as_str()) {
                continue;
            }
            let kpath = join(&base, &key);
            match merged.iter_mut().find(|(n, _, _)| *n == key) {
                Some(slot) => *slot = (key, v, kpath),
                None => merged.push((key, v, kpath)),
            }
        }
    }
    let container = path.rsplit('.').next().unwrap_or(path).to_owned();
    let mut out = Limits::default();
    for (key, node, kpath) in merged {
        match key.as_str() {
            limits::CPU => {
                out.cpu_shares = if node.is_null() {
                    None
                } else {
                    Some(ctx.int(node, &kpath)?)
                }
            }
            limits::MEMORY => out.memory = bytes(ctx, node, &kpath, &container)?,
            _ => out.swap = bytes(ctx, node, &kpath, &container)?,
        }
    }
    Ok(out)
}

/// `ulimits`: `NAME: N` (soft and hard) or `NAME: {soft, hard}`.
pub(super) fn ulimits(
    ctx: &mut Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<Ulimit>, ConfigError> {
    let mut ulimits = Vec::new();
    let Some(n) = node else {
        return Ok(ulimits);
    };
    for (k, v) in ctx.map(n, path)? {
        let uname = node_str(k);
        let upath = join(path, &uname);
        match &v.value {
            Value::Map(e) => {
                let mut soft = None;
                let mut hard = None;
                for (lk, lv) in e {
                    match node_str(lk).as_str() {
                        ulimit::SOFT => soft = Some(ctx.int(lv, &join(&upath, ulimit::SOFT))?),
                        ulimit::HARD => hard = Some(ctx.int(lv, &join(&upath, ulimit::HARD))?),
                        other => {
                            return Err(ctx.err(
                                Some(lk),
                                &join(&upath, other),
                                "unknown ulimit key (expected soft and hard)",
                            ));
                        }
                    }
                }
                ulimits.push(Ulimit {
                    name: uname,
                    soft,
                    hard,
                });
            }
            Value::Scalar(s) if matches!(s.value, PyScalar::Int(_)) => {
                let value = ctx.int(v, &upath)?;
                ulimits.push(Ulimit {
                    name: uname,
                    soft: Some(value),
                    hard: Some(value),
                });
            }
            _ => ctx.warn(
                v,
                &upath,
                format!(
                    "expected a number or {{soft, hard}}, found {}; ulimit ignored",
                    v.type_name()
                ),
            ),
        }
    }
    Ok(ulimits)
}
