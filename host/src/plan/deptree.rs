//! The dependency tree MaestroNG's `deptree` prints, and the edges for
//! graph output.

use std::collections::BTreeSet;

use crate::config::model::Environment;

use super::PlanError;

/// The direct dependencies of a service as `deptree` shows them:
/// `requires` plus services some instance takes `volumes_from` of, sorted.
pub fn direct_dependencies(env: &Environment, service: &str) -> Vec<String> {
    let Some(s) = env.service(service) else {
        return Vec::new();
    };
    let set: BTreeSet<String> = s
        .requires
        .iter()
        .chain(s.volumes_from_services.iter())
        .filter(|d| d.as_str() != service)
        .cloned()
        .collect();
    set.into_iter().collect()
}

/// The root services for `things` (`_to_services`): a container stands for
/// its service; no things means every service not omitted; sorted, unique.
pub fn roots(env: &Environment, things: &[String]) -> Result<Vec<String>, PlanError> {
    let mut out = BTreeSet::new();
    if things.is_empty() {
        out.extend(
            env.services
                .iter()
                .filter(|s| !s.omit)
                .map(|s| s.name.clone()),
        );
    }
    for thing in things {
        if let Some(i) = env.instance(thing) {
            out.insert(i.service.clone());
        } else if env.service(thing).is_some() {
            out.insert(thing.clone());
        } else {
            return Err(PlanError::Unknown(thing.clone()));
        }
    }
    Ok(out.into_iter().collect())
}

/// MaestroNG's text tree: each root, its dependencies indented with
/// `+-`/`\-`; without `recursive`, a dependency already shown under the same
/// root is not shown again. Roots are separated by a blank line.
pub fn text(env: &Environment, roots: &[String], recursive: bool) -> String {
    fn helper(
        env: &Environment,
        service: &str,
        indent: &str,
        shown: &mut BTreeSet<String>,
        recursive: bool,
        out: &mut String,
    ) {
        let deps: Vec<String> = direct_dependencies(env, service)
            .into_iter()
            .filter(|d| recursive || !shown.contains(d))
            .collect();
        shown.extend(deps.iter().cloned());
        for (i, dep) in deps.iter().enumerate() {
            let last = i + 1 == deps.len();
            out.push_str(&format!(
                "{indent}{} {dep}\n",
                if last { "\\-" } else { "+-" }
            ));
            let child = format!("{indent}{}", if last { "  " } else { "|  " });
            helper(env, dep, &child, shown, recursive, out);
        }
    }
    let mut out = String::new();
    for (i, root) in roots.iter().enumerate() {
        out.push_str(root);
        out.push('\n');
        helper(env, root, " ", &mut BTreeSet::new(), recursive, &mut out);
        if i + 1 < roots.len() {
            out.push('\n');
        }
    }
    out
}

/// The services reachable from `roots` and their dependency edges
/// (`from` requires `to`), both sorted, for Graphviz and Mermaid.
pub fn graph(env: &Environment, roots: &[String]) -> (Vec<String>, Vec<(String, String)>) {
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    let mut stack: Vec<String> = roots.to_vec();
    while let Some(s) = stack.pop() {
        if !nodes.insert(s.clone()) {
            continue;
        }
        for d in direct_dependencies(env, &s) {
            edges.insert((s.clone(), d.clone()));
            stack.push(d);
        }
    }
    (nodes.into_iter().collect(), edges.into_iter().collect())
}
