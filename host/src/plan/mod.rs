//! Planning: which containers a command acts on, in which order, and which
//! of them may run together. Pure functions over the model: no I/O, no
//! Docker, no async. The executor walks the returned [`Plan`].
//!
//! Selection and ordering follow MaestroNG 0.8.3 (`Conductor._to_containers`,
//! `_gather_dependencies`, `_order_dependencies`); waves are the dependency
//! layers its play engine produces when it lets a container go once every
//! container it waits for is done.

pub mod deptree;
pub mod fnmatch;

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use thiserror::Error;

use crate::config::model::Environment;

/// The orchestration commands that act on containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `status`.
    Status,
    /// `pull`.
    Pull,
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `kill`.
    Kill,
    /// `restart`.
    Restart,
    /// `clean`.
    Clean,
}

impl Action {
    /// The command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Status => "status",
            Action::Pull => "pull",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Kill => "kill",
            Action::Restart => "restart",
            Action::Clean => "clean",
        }
    }

    /// Dependencies first (start, pull, clean, status) or dependents first
    /// (stop, kill, restart).
    pub fn forward(self) -> bool {
        !matches!(self, Action::Stop | Action::Kill | Action::Restart)
    }

    /// Whether a service name expands to its instances without `-s`.
    fn expands_by_default(self) -> bool {
        self.forward()
    }
}

/// What the user asked for: the things and the selection flags.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Container or service names, in command-line order.
    pub things: Vec<String>,
    /// `-d`: add the dependencies (or dependents, backwards) of the things.
    pub with_dependencies: bool,
    /// `-i`: act on everything at once, ignoring dependency order.
    pub ignore_dependencies: bool,
    /// `-s`: service names expand to their instances (stop/kill/restart).
    pub expand_services: bool,
    /// `-a`: everything (implies `-s`).
    pub all: bool,
    /// `-c`: at most this many containers at a time (`0` = unlimited).
    pub concurrency: Option<usize>,
    /// `-C`: fnmatch pattern on container names.
    pub container_filter: Option<String>,
    /// `-S`: fnmatch pattern on ship names.
    pub ship_filter: Option<String>,
}

/// Why a request cannot be planned (usage errors, exit status 2).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// stop/kill/restart without names and without `-a`.
    #[error("No services or containers specified for {0}, and --all not set.")]
    NothingSpecified(&'static str),
    /// A service name where `-s` is needed.
    #[error("{0} is a service but --expand-services was not specified")]
    ServiceNotExpanded(String),
    /// A name that is neither.
    #[error("{0} is neither a service nor a container!")]
    Unknown(String),
}

/// One container's step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The number MaestroNG shows for it (descending for stop and kill).
    pub number: usize,
    /// Container name.
    pub container: String,
    /// Its service.
    pub service: String,
    /// Its ship.
    pub ship: String,
    /// Dependency layer: a step may start once every step of lower waves it
    /// waits for is done. Always 0 with `-i`.
    pub wave: usize,
    /// Containers of this plan that must be done first (empty with `-i`).
    pub waits_for: Vec<String>,
}

/// An ordered, layered list of steps for one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The command.
    pub action: Action,
    /// Steps in MaestroNG's list order.
    pub steps: Vec<Step>,
    /// At most this many steps run at once; `None` = unlimited.
    pub concurrency: Option<usize>,
    /// Whether dependency order is ignored (`-i`).
    pub ignore_dependencies: bool,
}

impl Plan {
    /// The number of waves.
    pub fn waves(&self) -> usize {
        self.steps.iter().map(|s| s.wave + 1).max().unwrap_or(0)
    }
}

/// Transitive service dependencies, following `requires` and
/// `volumes_from` (forward), or the reverse of `requires` (backward, as
/// MaestroNG's `needed_for` ignores `volumes_from`).
pub fn service_closure(env: &Environment, service: &str, forward: bool) -> BTreeSet<String> {
    let direct = |name: &str| -> Vec<String> {
        if forward {
            env.service(name)
                .map(|s| {
                    let mut d = s.requires.clone();
                    d.extend(s.volumes_from_services.iter().cloned());
                    d
                })
                .unwrap_or_default()
        } else {
            env.services
                .iter()
                .filter(|s| s.requires.iter().any(|r| r == name))
                .map(|s| s.name.clone())
                .collect()
        }
    };
    let mut out = BTreeSet::new();
    let mut stack = direct(service);
    while let Some(dep) = stack.pop() {
        if dep != service && out.insert(dep.clone()) {
            stack.extend(direct(&dep));
        }
    }
    out
}

/// Resolves names to containers (`_to_containers`), sorted by name.
fn to_containers(
    env: &Environment,
    things: &[String],
    expand: bool,
) -> Result<Vec<String>, PlanError> {
    let mut out = Vec::new();
    for thing in things {
        if env.instance(thing).is_some() {
            out.push(thing.clone());
        } else if let Some(service) = env.service(thing) {
            if !expand {
                return Err(PlanError::ServiceNotExpanded(thing.clone()));
            }
            let mut names = service.instances.clone();
            names.sort();
            out.extend(names);
        } else {
            return Err(PlanError::Unknown(thing.clone()));
        }
    }
    // Naming a container twice (`zk-1 zookeeper`) acts on it once.
    let mut seen = HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    out.sort();
    Ok(out)
}

/// Plans `action` for `request`.
pub fn plan(env: &Environment, action: Action, request: &Request) -> Result<Plan, PlanError> {
    let expand = request.all || request.expand_services || action.expands_by_default();
    let mut things = request.things.clone();
    let mut with_dependencies = request.with_dependencies;
    if things.is_empty() {
        if !action.forward() && !request.all {
            return Err(PlanError::NothingSpecified(action.as_str()));
        }
        things = env
            .services
            .iter()
            .filter(|s| action == Action::Status || !s.omit)
            .map(|s| s.name.clone())
            .collect();
        with_dependencies = !request.ignore_dependencies;
    }
    let forward = action.forward();
    let selected = to_containers(env, &things, expand)?;
    let mut containers: Vec<String> = if with_dependencies {
        let mut all: BTreeSet<String> = selected.iter().cloned().collect();
        for c in &selected {
            let Some(inst) = env.instance(c) else {
                continue;
            };
            for dep in service_closure(env, &inst.service, forward) {
                all.extend(env.instances_of(&dep).map(|i| i.name.clone()));
            }
        }
        order(env, all.into_iter().collect(), forward)
    } else {
        selected
    };
    let matches = |pattern: &Option<String>, text: &str| {
        pattern.as_deref().is_none_or(|p| fnmatch::fnmatch(p, text))
    };
    containers.retain(|c| {
        env.instance(c).is_some_and(|i| {
            matches(&request.container_filter, &i.name) && matches(&request.ship_filter, &i.ship)
        })
    });

    // Which listed containers each one waits for: every container of a
    // (transitively) required service (dependent service, backwards).
    // The status play never waits; clean always does (MaestroNG's plays).
    let ignore =
        action == Action::Status || (request.ignore_dependencies && action != Action::Clean);
    let in_plan: HashSet<&str> = containers.iter().map(String::as_str).collect();
    let mut waits: HashMap<&str, Vec<String>> = HashMap::new();
    for c in &containers {
        let mut list = Vec::new();
        if !ignore {
            if let Some(inst) = env.instance(c) {
                for dep in service_closure(env, &inst.service, forward) {
                    let mut names: Vec<String> = env
                        .instances_of(&dep)
                        .map(|i| i.name.clone())
                        .filter(|n| in_plan.contains(n.as_str()))
                        .collect();
                    list.append(&mut names);
                }
            }
        }
        list.sort();
        waits.insert(c.as_str(), list);
    }
    let mut wave: HashMap<&str, usize> = HashMap::new();
    // Dependencies form a DAG (cycles are rejected at load), so repeated
    // relaxation terminates within `len` rounds.
    for _ in 0..=containers.len() {
        let mut changed = false;
        for c in &containers {
            let w = waits[c.as_str()]
                .iter()
                .map(|d| wave.get(d.as_str()).copied().unwrap_or(0) + 1)
                .max()
                .unwrap_or(0);
            if wave.get(c.as_str()) != Some(&w) {
                wave.insert(c.as_str(), w);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let len = containers.len();
    let descending = matches!(action, Action::Stop | Action::Kill);
    let steps = containers
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let inst = env.instance(c)?;
            Some(Step {
                number: if descending { len - i } else { i + 1 },
                container: c.clone(),
                service: inst.service.clone(),
                ship: inst.ship.clone(),
                wave: wave.get(c.as_str()).copied().unwrap_or(0),
                waits_for: waits.get(c.as_str()).cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(Plan {
        action,
        steps,
        concurrency: request.concurrency.filter(|c| *c > 0),
        ignore_dependencies: ignore,
    })
}

/// MaestroNG's `_order_dependencies`: repeated passes over the sorted list,
/// taking a container once all containers of its dependency services are
/// taken, keeping the relative order of the deferred ones.
fn order(env: &Environment, pending: Vec<String>, forward: bool) -> Vec<String> {
    let deps_of = |c: &str| -> HashSet<String> {
        let Some(inst) = env.instance(c) else {
            return HashSet::new();
        };
        service_closure(env, &inst.service, forward)
            .iter()
            .flat_map(|s| env.instances_of(s).map(|i| i.name.clone()))
            .collect()
    };
    let mut ordered: Vec<String> = Vec::new();
    let mut pending = pending;
    while !pending.is_empty() {
        let mut wait = Vec::new();
        for c in pending.iter() {
            let done: HashSet<&str> = ordered.iter().map(String::as_str).collect();
            if deps_of(c)
                .iter()
                .all(|d| done.contains(d.as_str()) || d == c)
            {
                ordered.push(c.clone());
            } else {
                wait.push(c.clone());
            }
        }
        if wait.len() == pending.len() {
            // Unreachable with an acyclic graph; keep the rest as they are.
            ordered.extend(wait);
            break;
        }
        pending = wait;
    }
    ordered
}
