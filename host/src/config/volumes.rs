//! Volumes: `volumes` (bind mounts, read as the schema says) and
//! `container_volumes` (anonymous volumes), which may not share a target.

use super::error::ConfigError;
use super::keys::volume;
use super::model::Volume;
use super::read::{Ctx, get, get_set, join};
use super::yaml::{Node, PyScalar, Value, node_str};

pub(super) fn volumes(
    ctx: &mut Ctx,
    schema: u32,
    node: Option<&Node>,
    path: &str,
) -> Result<Vec<Volume>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let key = node_str(k);
        let vpath = join(path, &key);
        if schema == 1 {
            // Schema 1: `container: host`.
            out.push(Volume {
                host: ctx.string(v, &vpath).map_err(|_| {
                    ctx.err(
                        Some(v),
                        &vpath,
                        "schema 1 volumes are `container path: host path`",
                    )
                })?,
                container: key,
                mode: "rw".into(),
            });
            continue;
        }
        match &v.value {
            Value::Scalar(s) if matches!(s.value, PyScalar::Str(_)) => out.push(Volume {
                host: key,
                container: s.value.py_str(),
                mode: "rw".into(),
            }),
            Value::Map(e) if get(e, volume::TARGET).is_some() => {
                let target = ctx.string(
                    get(e, volume::TARGET).unwrap_or(v),
                    &join(&vpath, volume::TARGET),
                )?;
                let mode = match get_set(e, volume::MODE) {
                    Some(m) => ctx.string(m, &join(&vpath, volume::MODE))?,
                    None => "rw".into(),
                };
                out.push(Volume {
                    host: key,
                    container: target,
                    mode,
                });
            }
            _ => {
                return Err(ctx.err(
                    Some(v),
                    &vpath,
                    format!("invalid volume specification {key} -> {}; expected a container path or {{target, mode}}", node_str(v)),
                ));
            }
        }
    }
    Ok(out)
}

/// `container_volumes`, each target once, none of them also bind-mounted.
pub(super) fn container_volumes(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
    volumes: &[Volume],
) -> Result<Vec<String>, ConfigError> {
    let mut container_volumes: Vec<String> = Vec::new();
    for v in ctx.string_list(node, path)? {
        if !container_volumes.contains(&v) {
            container_volumes.push(v);
        }
    }
    for v in volumes {
        if container_volumes.contains(&v.container) {
            return Err(ctx.err(
                node,
                path,
                format!(
                    "conflict between bind-mounted volume and container-only volume on {}",
                    v.container
                ),
            ));
        }
    }
    Ok(container_volumes)
}
