//! Planning: which containers a command acts on, in which order, and which
//! of them may run together. Pure functions over the model: no I/O, no
//! Docker, no async. The executor walks the returned [`Plan`].
//!
//! Selection and ordering follow MaestroNG 0.8.3 (`Conductor._to_containers`,
//! `_gather_dependencies`, `_order_dependencies`); waves are the dependency
//! layers its play engine produces when it lets a container go once every
//! container it waits for is done.

pub mod decide;
pub mod deptree;
pub mod fnmatch;
pub mod resources;
pub mod swap;

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use thiserror::Error;

use crate::config::model::{Environment, Instance, ServiceGraph};

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
    /// `upgrade`: replace each container whose image or configuration changed, in
    /// health-gated batches, rolling back a replacement that fails.
    Upgrade,
    /// `rollback`: put back the image each container ran before its last upgrade.
    Rollback,
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
            Action::Upgrade => "upgrade",
            Action::Rollback => "rollback",
        }
    }

    /// Dependencies first (start, pull, clean, status) or dependents first
    /// (stop, kill, restart).
    pub fn forward(self) -> bool {
        !matches!(self, Action::Stop | Action::Kill | Action::Restart)
    }

    /// Whether a service name expands to its instances without `-s`.
    fn expands_by_default(self) -> bool {
        self.forward() && !self.swaps()
    }

    /// `upgrade` and `rollback`: plays that replace containers one batch at a time,
    /// keeping the old one aside until its replacement passes (see [`swap`]).
    pub fn swaps(self) -> bool {
        matches!(self, Action::Upgrade | Action::Rollback)
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
    /// `upgrade --batch`: at most this many instances of one service replaced at a
    /// time (`None` or `0`: one).
    pub batch: Option<usize>,
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
    /// Containers of this plan that must be done first (empty with `-i`, but for
    /// the previous batch of its service in `upgrade` and `rollback`).
    pub waits_for: Vec<String>,
    /// `upgrade`/`rollback`: the batch of its service it belongs to (0 first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
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

/// What planning looks up again and again, computed once: the instances by
/// name, and per service the containers of its transitive dependencies
/// (`service_closure`, in the planned direction).
struct Lookup<'a> {
    env: &'a Environment,
    graph: ServiceGraph,
    position: HashMap<&'a str, usize>,
    instances: HashMap<&'a str, &'a Instance>,
    dep_containers: std::cell::RefCell<HashMap<&'a str, std::rc::Rc<Vec<&'a str>>>>,
}

impl<'a> Lookup<'a> {
    fn new(env: &'a Environment, forward: bool) -> Lookup<'a> {
        // `service_closure`'s edges.
        let requires = env.service_graph(|s| {
            s.requires
                .iter()
                .chain(&s.volumes_from_services)
                .map(String::as_str)
                .collect()
        });
        let graph = if forward {
            requires
        } else {
            env.service_graph(|s| s.requires.iter().map(String::as_str).collect())
                .reversed()
        };
        Lookup {
            env,
            graph,
            position: env
                .services
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), i))
                .collect(),
            instances: env.instances.iter().map(|i| (i.name.as_str(), i)).collect(),
            dep_containers: Default::default(),
        }
    }

    fn instance(&self, name: &str) -> Option<&'a Instance> {
        self.instances.get(name).copied()
    }

    /// The containers of every service `service` depends on (or that depend on
    /// it, backwards), in YAML order of the services' closure.
    fn dep_containers(&self, service: &'a str) -> std::rc::Rc<Vec<&'a str>> {
        if let Some(found) = self.dep_containers.borrow().get(service) {
            return found.clone();
        }
        let names: Vec<&'a str> = match self.position.get(service) {
            None => Vec::new(),
            Some(&me) => self
                .graph
                .reachable(me)
                .into_iter()
                .flat_map(|s| self.env.services[s].instances.iter().map(String::as_str))
                .collect(),
        };
        let names = std::rc::Rc::new(names);
        self.dep_containers
            .borrow_mut()
            .insert(service, names.clone());
        names
    }
}

/// Plans `action` for `request`.
pub fn plan(env: &Environment, action: Action, request: &Request) -> Result<Plan, PlanError> {
    let lookup = Lookup::new(env, action.forward());
    let containers = containers(env, &lookup, action, request)?;

    // Which listed containers each one waits for: every container of a
    // (transitively) required service (dependent service, backwards).
    // The status play never waits; clean always does (MaestroNG's plays).
    let ignore =
        action == Action::Status || (request.ignore_dependencies && action != Action::Clean);
    let position: HashMap<&str, usize> = containers
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    // The same for every container of a service, so computed once per service: the
    // names (sorted) and their positions in the plan.
    let mut per_service: HashMap<&str, (Vec<String>, Vec<usize>)> = HashMap::new();
    let mut services: Vec<Option<&str>> = Vec::with_capacity(containers.len());
    for c in &containers {
        let service = lookup.instance(c).map(|i| i.service.as_str());
        services.push(service);
        let Some(service) = service.filter(|_| !ignore) else {
            continue;
        };
        per_service.entry(service).or_insert_with(|| {
            let mut names: Vec<&str> = lookup
                .dep_containers(service)
                .iter()
                .copied()
                .filter(|n| position.contains_key(n))
                .collect();
            names.sort_unstable();
            let at = names.iter().map(|n| position[n]).collect();
            (names.into_iter().map(str::to_owned).collect(), at)
        });
    }
    // `upgrade`/`rollback`: each batch of a service waits for the one before it.
    let batches = if action.swaps() {
        swap::batches(
            &containers
                .iter()
                .zip(&services)
                .map(|(c, s)| (c.as_str(), s.unwrap_or("")))
                .collect::<Vec<_>>(),
            request.batch.unwrap_or(1),
        )
    } else {
        Vec::new()
    };
    let waits: Vec<(Vec<String>, Vec<usize>)> = (0..containers.len())
        .map(|i| {
            let mut w = services[i]
                .and_then(|s| per_service.get(s))
                .cloned()
                .unwrap_or_default();
            if let Some(b) = batches.get(i) {
                for &j in &b.after {
                    w.0.push(containers[j].clone());
                    w.1.push(j);
                }
            }
            w
        })
        .collect();
    let waits_of = |i: usize| Some(&waits[i]);
    let mut wave = vec![0usize; containers.len()];
    // Dependencies form a DAG (cycles are rejected at load), so repeated
    // relaxation terminates within `len` rounds.
    for _ in 0..=containers.len() {
        let mut changed = false;
        for i in 0..containers.len() {
            let w = waits_of(i)
                .and_then(|(_, at)| at.iter().map(|&j| wave[j] + 1).max())
                .unwrap_or(0);
            if wave[i] != w {
                wave[i] = w;
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
            let inst = lookup.instance(c)?;
            Some(Step {
                number: if descending { len - i } else { i + 1 },
                container: c.clone(),
                service: inst.service.clone(),
                ship: inst.ship.clone(),
                wave: wave[i],
                waits_for: waits_of(i)
                    .map(|(names, _)| names.clone())
                    .unwrap_or_default(),
                batch: batches.get(i).map(|b| b.index),
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

/// The containers a request names, with their dependencies (or dependents) when
/// asked, in MaestroNG's order, filtered by `-C`/`-S`.
fn containers(
    env: &Environment,
    lookup: &Lookup,
    action: Action,
    request: &Request,
) -> Result<Vec<String>, PlanError> {
    let expand = request.all || request.expand_services || action.expands_by_default();
    let mut things = request.things.clone();
    let mut with_dependencies = request.with_dependencies;
    if things.is_empty() {
        if (!action.forward() || action.swaps()) && !request.all {
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
    let selected = to_containers(env, &things, expand)?;
    let mut containers: Vec<String> = if with_dependencies {
        let mut all: BTreeSet<&str> = selected.iter().map(String::as_str).collect();
        let services: BTreeSet<&str> = selected
            .iter()
            .filter_map(|c| lookup.instance(c))
            .map(|i| i.service.as_str())
            .collect();
        for service in services {
            all.extend(lookup.dep_containers(service).iter().copied());
        }
        order(lookup, all.into_iter().collect())
    } else {
        selected
    };
    let matches = |pattern: &Option<String>, text: &str| {
        pattern.as_deref().is_none_or(|p| fnmatch::fnmatch(p, text))
    };
    containers.retain(|c| {
        lookup.instance(c).is_some_and(|i| {
            matches(&request.container_filter, &i.name) && matches(&request.ship_filter, &i.ship)
        })
    });
    Ok(containers)
}

/// MaestroNG's `_order_dependencies`: repeated passes over the sorted list,
/// taking a container once all containers of its dependency services are
/// taken, keeping the relative order of the deferred ones.
fn order(lookup: &Lookup<'_>, pending: Vec<&str>) -> Vec<String> {
    // Per service, how many of its dependency containers are not taken yet; per
    // container, the services waiting for it.
    let mut remaining: HashMap<&str, usize> = HashMap::new();
    let mut waited_by: HashMap<&str, Vec<&str>> = HashMap::new();
    for &c in &pending {
        let Some(inst) = lookup.instance(c) else {
            continue;
        };
        let service = inst.service.as_str();
        if remaining.contains_key(service) {
            continue;
        }
        let deps = lookup.dep_containers(service);
        remaining.insert(service, deps.len());
        for &d in deps.iter() {
            waited_by.entry(d).or_default().push(service);
        }
    }
    let mut ordered: Vec<String> = Vec::new();
    let mut pending = pending;
    while !pending.is_empty() {
        let mut wait = Vec::new();
        for &c in pending.iter() {
            let ready = lookup
                .instance(c)
                .is_none_or(|inst| remaining.get(inst.service.as_str()) == Some(&0));
            if ready {
                ordered.push(c.to_owned());
                for service in waited_by.get(c).into_iter().flatten() {
                    if let Some(n) = remaining.get_mut(service) {
                        *n -= 1;
                    }
                }
            } else {
                wait.push(c);
            }
        }
        if wait.len() == pending.len() {
            // Unreachable with an acyclic graph; keep the rest as they are.
            ordered.extend(wait.into_iter().map(str::to_owned));
            break;
        }
        pending = wait;
    }
    ordered
}
