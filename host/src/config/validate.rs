//! The checks across sections, once everything is built: dependencies name
//! services, `volumes_from` names containers on the same ship without
//! conflicts, no dependency cycle, and a bounded number of link variables.

use std::collections::{HashMap, HashSet};

use super::error::ConfigError;
use super::keys::service as key;
use super::links::{MAX_LINK_VARIABLES, service_links};
use super::model::{Environment, Service};
use super::read::{Ctx, get, join};
use super::yaml::Node;

/// What a service contributes beyond the model: the nodes the checks after
/// the build read again, to point at them.
pub(super) struct RawService<'n> {
    pub name: String,
    pub node: &'n Node,
    pub path: String,
    pub requires: Vec<(String, &'n Node, String)>,
    pub wants_info: Vec<(String, &'n Node, String)>,
    pub instances: Vec<RawInstance<'n>>,
}

/// What an instance contributes to the checks after the build.
pub(super) struct RawInstance<'n> {
    pub name: String,
    pub path: String,
    pub volumes_from: Option<&'n Node>,
}

/// Every `requires` and `wants_info` entry names a service.
pub(super) fn resolve_dependencies(ctx: &Ctx, raw: &[RawService]) -> Result<(), ConfigError> {
    let known: HashSet<&str> = raw.iter().map(|s| s.name.as_str()).collect();
    for service in raw {
        for list in [&service.requires, &service.wants_info] {
            for (dep, node, path) in list {
                if !known.contains(dep.as_str()) {
                    return Err(ctx.err(Some(node), path, format!("unknown service {dep:?}")));
                }
            }
        }
    }
    Ok(())
}

/// `volumes_from`: known containers on the same ship, no shared targets;
/// other services' containers become ordering edges.
pub(super) fn check_volumes_from(
    ctx: &Ctx,
    environment: &mut Environment,
    raw: &[RawService],
) -> Result<(), ConfigError> {
    let mut extra: HashMap<String, Vec<String>> = HashMap::new();
    for service in raw {
        for inst in &service.instances {
            let Some(node) = inst.volumes_from else {
                continue;
            };
            let path = join(&inst.path, super::keys::instance::VOLUMES_FROM);
            let names = ctx.string_list(Some(node), &path)?;
            let me = environment.instance(&inst.name).cloned();
            let Some(me) = me else { continue };
            let mut seen = HashSet::new();
            for other_name in names {
                if !seen.insert(other_name.clone()) {
                    continue;
                }
                let Some(other) = environment.instance(&other_name) else {
                    return Err(ctx.err(
                        Some(node),
                        &path,
                        format!("unknown container {other_name:?}"),
                    ));
                };
                if other.ship != me.ship {
                    return Err(ctx.err(Some(node), &path, format!("{other_name} and {} must be on the same ship for volumes_from (ships {} and {})", me.name, other.ship, me.ship)));
                }
                let mine: HashSet<&str> = me.volume_targets().into_iter().collect();
                let mut conflicts: Vec<&str> = other
                    .volume_targets()
                    .into_iter()
                    .filter(|t| mine.contains(t))
                    .collect();
                conflicts.sort_unstable();
                if !conflicts.is_empty() {
                    return Err(ctx.err(
                        Some(node),
                        &path,
                        format!(
                            "volume conflicts between {} and {other_name}: {}",
                            me.name,
                            conflicts.join(", ")
                        ),
                    ));
                }
                let other_service = other.service.clone();
                // A container of the same service: no ordering edge (instances
                // of one service never wait for each other).
                if other_service != service.name {
                    let list = extra.entry(service.name.clone()).or_default();
                    if !list.contains(&other_service) {
                        list.push(other_service);
                    }
                }
            }
            if let Some(i) = environment
                .instances
                .iter_mut()
                .find(|i| i.name == inst.name)
            {
                i.volumes_from = seen_in_order(ctx.string_list(Some(node), &path)?);
            }
        }
    }
    for s in &mut environment.services {
        if let Some(list) = extra.remove(&s.name) {
            s.volumes_from_services = list;
        }
    }
    Ok(())
}

fn seen_in_order(names: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// Rejects dependency cycles (`requires` and `volumes_from`), naming one.
pub(super) fn check_cycles(
    ctx: &Ctx,
    environment: &Environment,
    raw: &[RawService],
) -> Result<(), ConfigError> {
    let edges = |s: &Service| -> Vec<String> {
        let mut e: Vec<String> = s.requires.clone();
        for v in &s.volumes_from_services {
            if !e.contains(v) {
                e.push(v.clone());
            }
        }
        e
    };
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn visit<'a>(
        env: &'a Environment,
        name: &'a str,
        state: &mut HashMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        edges: &dyn Fn(&Service) -> Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(name) {
            Some(2) => return None,
            Some(1) => {
                let start = stack.iter().position(|s| *s == name).unwrap_or(0);
                let mut cycle: Vec<String> =
                    stack[start..].iter().map(|s| (*s).to_owned()).collect();
                cycle.push(name.to_owned());
                return Some(cycle);
            }
            _ => {}
        }
        let service = env.service(name)?;
        state.insert(name, 1);
        stack.push(name);
        for dep in edges(service) {
            let dep_ref = env.service(&dep).map(|s| s.name.as_str())?;
            if let Some(cycle) = visit(env, dep_ref, state, stack, edges) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(name, 2);
        None
    }
    for service in &environment.services {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(environment, &service.name, &mut state, &mut stack, &edges) {
            let first = &cycle[0];
            let node = raw.iter().find(|r| &r.name == first);
            let (mark, path) = match node {
                Some(r) => {
                    let entries = ctx.map(r.node, &r.path)?;
                    let field = if get(entries, key::REQUIRES).is_some() {
                        key::REQUIRES
                    } else {
                        key::INSTANCES
                    };
                    (get(entries, field).map(|n| n.mark), join(&r.path, field))
                }
                None => (None, String::new()),
            };
            return Err(ctx.err_at(
                mark,
                &path,
                format!("dependency cycle: {}", cycle.join(" -> ")),
            ));
        }
    }
    Ok(())
}

/// Refuses an environment whose containers would get more than
/// [`MAX_LINK_VARIABLES`] link variables in all (counted, not computed: the
/// variables themselves are computed per container when asked for).
pub(super) fn check_links(
    ctx: &Ctx,
    environment: &Environment,
    raw: &[RawService],
) -> Result<(), ConfigError> {
    // How many variables each service's links make, with and without internal ports.
    let services = &environment.services;
    let with: Vec<usize> = services
        .iter()
        .map(|s| service_links(environment, &s.name).variables(true).len())
        .collect();
    let without: Vec<usize> = services
        .iter()
        .map(|s| service_links(environment, &s.name).variables(false).len())
        .collect();
    let position: HashMap<&str, usize> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let requires = environment.service_graph(|s| s.requires.iter().map(String::as_str).collect());
    let mut total = 0usize;
    for service in raw {
        if service.instances.is_empty() {
            continue;
        }
        let Some(&me) = position.get(service.name.as_str()) else {
            continue;
        };
        // `dependency_services`: `requires` transitively, then `wants_info`, once each.
        let mut deps = requires.reachable(me);
        for w in &services[me].wants_info {
            if let Some(&j) = position.get(w.as_str()) {
                if !deps.contains(&j) {
                    deps.push(j);
                }
            }
        }
        let mut vars = with[me];
        for dep in deps {
            vars = vars.saturating_add(without[dep]);
        }
        total = total.saturating_add(vars.saturating_mul(service.instances.len()));
        if total > MAX_LINK_VARIABLES {
            return Err(ctx.err(
                Some(service.node),
                &service.path,
                format!(
                    "the containers would get more than {MAX_LINK_VARIABLES} link variables \
                     in all (each container gets its peers' and dependencies' addresses \
                     and ports); split the environment"
                ),
            ));
        }
    }
    Ok(())
}
