//! The networks and named volumes of a play: made ready on a container's
//! ship before the container is created (once per ship and name in a play,
//! however many containers need them), and swept by `clean --networks` /
//! `clean --volumes`. `plan::resources` decides; this module observes and
//! performs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::OnceCell;

use super::Ctx;
use crate::config::model::{Environment, Instance};
use crate::connect::Ships;
use crate::docker::Ship;
use crate::plan::resources::{self, Ensure, Sweep};
use crate::resolve;
use crate::spec::labels;

/// The outcome of making one network or volume ready, once known.
type Outcome = Arc<OnceCell<Result<(), String>>>;

/// One outcome per (ship, kind, name), shared by the steps that need it: the
/// first asks the ship and creates, the others await its answer (two
/// concurrent creates of one network name would make two networks).
#[derive(Default)]
pub(super) struct Ensured {
    cells: Mutex<HashMap<(String, &'static str, String), Outcome>>,
}

impl Ensured {
    fn cell(
        &self,
        ship: &str,
        kind: &'static str,
        name: &str,
    ) -> Arc<OnceCell<Result<(), String>>> {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        cells
            .entry((ship.to_owned(), kind, name.to_owned()))
            .or_default()
            .clone()
    }
}

/// Makes the networks and named volumes `inst` needs exist on its ship.
pub(super) async fn ready(ctx: &Ctx, inst: &Instance, ship: &Ship) -> Result<(), String> {
    let (networks, volumes) = resources::needs(inst);
    for name in networks {
        ctx.resources
            .cell(&inst.ship, "network", name)
            .get_or_init(|| ensure_network(&ctx.env, ship, name))
            .await
            .clone()?;
    }
    for name in volumes {
        ctx.resources
            .cell(&inst.ship, "volume", name)
            .get_or_init(|| ensure_volume(&ctx.env, ship, name))
            .await
            .clone()?;
    }
    Ok(())
}

async fn ensure_network(env: &Environment, ship: &Ship, name: &str) -> Result<(), String> {
    let Some(spec) = resolve::network_spec(env, name) else {
        return Err(format!("network {name} is not declared in `networks`"));
    };
    let seen = ship
        .inspect_network(name)
        .await
        .map_err(|e| e.to_string())?;
    match resources::network(&spec, seen.as_ref()) {
        Ensure::Use => Ok(()),
        Ensure::Create => ship.create_network(&spec).await.map_err(|e| e.to_string()),
        Ensure::Conflict { message } => Err(format!("ship {}: {message}", ship.name())),
    }
}

async fn ensure_volume(env: &Environment, ship: &Ship, name: &str) -> Result<(), String> {
    let spec = resolve::volume_spec(env, name);
    let seen = ship.inspect_volume(name).await.map_err(|e| e.to_string())?;
    match resources::volume(&spec, seen.as_ref()) {
        Ensure::Use => Ok(()),
        Ensure::Create => ship.create_volume(&spec).await.map_err(|e| e.to_string()),
        Ensure::Conflict { message } => Err(format!("ship {}: {message}", ship.name())),
    }
}

/// What `clean --networks` / `--volumes` sweeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepKinds {
    /// `--networks`.
    pub networks: bool,
    /// `--volumes`.
    pub volumes: bool,
}

/// What became of one of the environment's networks or volumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// The ship.
    pub ship: String,
    /// `network` or `volume`.
    pub kind: &'static str,
    /// Its name (empty when the ship could not be asked).
    pub name: String,
    /// Removed, left (in use), or the error.
    pub outcome: SweptOutcome,
}

/// The end of one sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SweptOutcome {
    /// Removed.
    Removed,
    /// Left: these containers use it.
    InUse {
        /// Their names.
        users: Vec<String>,
    },
    /// The ship refused or did not answer.
    Failed {
        /// Why.
        reason: String,
    },
}

/// Removes, on `ship_names`, the networks and volumes labelled with the
/// environment that no container uses; a volume is never touched unless
/// `kinds.volumes`.
pub async fn sweep(
    env: &Environment,
    ships: &Ships,
    ship_names: &[String],
    kinds: SweepKinds,
) -> Vec<Swept> {
    let mut out = Vec::new();
    for ship_name in ship_names {
        let ship = match ships.get(ship_name) {
            Ok(ship) => ship,
            Err(e) => {
                out.push(Swept {
                    ship: ship_name.clone(),
                    kind: if kinds.networks { "network" } else { "volume" },
                    name: String::new(),
                    outcome: SweptOutcome::Failed {
                        reason: e.to_string(),
                    },
                });
                continue;
            }
        };
        for kind in ["network", "volume"] {
            if (kind == "network" && !kinds.networks) || (kind == "volume" && !kinds.volumes) {
                continue;
            }
            out.extend(sweep_kind(env, ship, kind).await);
        }
    }
    out
}

async fn sweep_kind(env: &Environment, ship: &Ship, kind: &'static str) -> Vec<Swept> {
    let swept = |name: &str, outcome| Swept {
        ship: ship.name().to_owned(),
        kind,
        name: name.to_owned(),
        outcome,
    };
    let failed = |e: crate::docker::DockerError| SweptOutcome::Failed {
        reason: e.to_string(),
    };
    let listed = if kind == "network" {
        ship.networks_labelled(labels::ENVIRONMENT, &env.name).await
    } else {
        ship.volumes_labelled(labels::ENVIRONMENT, &env.name).await
    };
    let names = match listed {
        Ok(names) => names,
        Err(e) => return vec![swept("", failed(e))],
    };
    let mut out = Vec::new();
    for name in names {
        let users = match ship.containers_using(kind, &name).await {
            Ok(users) => users,
            Err(e) => {
                out.push(swept(&name, failed(e)));
                continue;
            }
        };
        let outcome = match resources::sweep(&users) {
            Sweep::InUse { users } => SweptOutcome::InUse { users },
            Sweep::Remove => {
                let removed = if kind == "network" {
                    ship.remove_network(&name).await
                } else {
                    ship.remove_volume(&name).await
                };
                match removed {
                    Ok(()) => SweptOutcome::Removed,
                    Err(e) => failed(e),
                }
            }
        };
        out.push(swept(&name, outcome));
    }
    out
}
