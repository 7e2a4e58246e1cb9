//! Resources: `limits` (cpu shares, memory and swap sizes, merged from the
//! service's and the instance's) and `ulimits`.

use super::error::ConfigError;
use super::keys::instance::{CPU_SHARES, LIMITS};
use super::keys::{limits, ulimit};
use super::model::{Limits, Ulimit};
use super::read::{Ctx, Owners, get_set, join};
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

/// `limits`, the instance's keys over the service's, and the instance's
/// `cpu_shares` (another spelling of `limits.cpu`).
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
    // `cpu_shares` (the instance's) is `limits.cpu` by docker compose's
    // name: given with a `limits.cpu` that counts (the instance's, or the
    // service's it does not override with null), it is an error.
    let cpu_shares = get_set(owners.instance, CPU_SHARES);
    if let Some(node) = cpu_shares {
        let spath = join(path, CPU_SHARES);
        if let Some((_, cpu, cpath)) = merged
            .iter()
            .find(|(k, v, _)| k == limits::CPU && !v.is_null())
        {
            return Err(ctx.err_alias(
                (node, &spath, CPU_SHARES),
                (cpu, cpath, "limits.cpu"),
                "the container's CPU shares",
            ));
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
    if let Some(node) = cpu_shares {
        out.cpu_shares = Some(ctx.int(node, &join(path, CPU_SHARES))?);
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

#[cfg(test)]
mod tests {
    use crate::config::load_service_a as with;

    /// The whole resolved environment (what Docker and the container get).
    fn model(service: &str, instance: &str) -> serde_json::Value {
        let loaded = with(service, instance).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        serde_json::to_value(&loaded.environment).expect("JSON")
    }

    /// `user` and `cpu_shares` are `username` and `limits.cpu` by docker
    /// compose's names: the resolved environment is the same either way.
    #[test]
    fn user_and_cpu_shares_are_username_and_limits_cpu() {
        let old = model("", "username: '1000:1000', limits: {cpu: 256, memory: 64m}");
        let new = model(
            "",
            "user: '1000:1000', cpu_shares: 256, limits: {memory: 64m}",
        );
        assert_eq!(old, new);
        let instance = &new["instances"][0];
        assert_eq!(instance["username"], "1000:1000");
        assert_eq!(instance["limits"]["cpu_shares"], 256);
        // Over a service's limits without cpu, and a numeric string as int() reads it.
        let new = model("limits: {memory: 64m}", "user: app, cpu_shares: '512'");
        assert_eq!(new["instances"][0]["limits"]["cpu_shares"], 512);
        assert_eq!(new["instances"][0]["username"], "app");
        // A null spelling is absent, as every null key is.
        let new = model(
            "",
            "user: ~, username: app, cpu_shares: ~, limits: {cpu: 2}",
        );
        assert_eq!(new["instances"][0]["username"], "app");
        assert_eq!(new["instances"][0]["limits"]["cpu_shares"], 2);
        // An instance's `limits: {cpu: null}` drops the service's, so cpu_shares is alone.
        let new = model("limits: {cpu: 100}", "cpu_shares: 300, limits: {cpu: ~}");
        assert_eq!(new["instances"][0]["limits"]["cpu_shares"], 300);
    }

    /// Both spellings of one setting on a container: an error naming both,
    /// each with its path and file:line:column.
    #[test]
    fn both_spellings_are_an_error_naming_both() {
        let e = with("", "username: app, user: other").unwrap_err();
        assert!(
            e.contains("t.yaml:8:44: ") && e.contains(": services.a.instances.a-1.user: `user` and `username` both set the user the container runs as")
                && e.contains("`username` is services.a.instances.a-1.username at t.yaml:8:33"),
            "{e}"
        );
        let e = with("", "limits: {cpu: 2}, cpu_shares: 4").unwrap_err();
        assert!(
            e.contains("services.a.instances.a-1.cpu_shares: `cpu_shares` and `limits.cpu` both set the container's CPU shares")
                && e.contains("`limits.cpu` is services.a.instances.a-1.limits.cpu at t.yaml:8:"),
            "{e}"
        );
        // The service's limits.cpu counts for its instances, as 0.8.3 merges limits.
        let e = with("limits: {cpu: 2}", "cpu_shares: 4").unwrap_err();
        assert!(
            e.starts_with("t.yaml:8:35: services.a.instances.a-1.cpu_shares: ")
                && e.contains("`limits.cpu` is services.a.limits.cpu at t.yaml:6:19"),
            "{e}"
        );
        let e = with("", "cpu_shares: lots").unwrap_err();
        assert!(
            e.contains("services.a.instances.a-1.cpu_shares: expected an integer"),
            "{e}"
        );
    }
}
