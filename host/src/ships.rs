//! `maestro ships`: every ship of the environment, contacted in parallel: how it is
//! reached, whether its daemon answers, its engine and API versions, and which of the
//! environment's containers it holds.
//!
//! Exit status: 0 when every ship answers, 1 otherwise.

use futures_util::future::join_all;

use crate::config::model::Environment;
use crate::connect;
use crate::docker::ContainerSelector;

/// What one ship said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipReport {
    /// Ship name.
    pub name: String,
    /// `unix`, `tcp`, `tls` or `ssh`.
    pub transport: &'static str,
    /// Where its daemon is (`unix:///...`, `tcp://h:p`, `https://h:p`, `ssh://...`).
    pub address: String,
    /// The daemon answered.
    pub reachable: bool,
    /// Why it did not (or why listing failed).
    pub error: Option<String>,
    /// Which engine answered (`Docker` or `Podman`): Podman serves the same API with
    /// differences the README lists, so users see which one a ship runs.
    pub engine: Option<&'static str>,
    /// Engine version (`Version` of `/version`).
    pub engine_version: Option<String>,
    /// The API version spoken with it (negotiated or pinned).
    pub api_version: Option<String>,
    /// How many of the environment's containers are placed on this ship.
    pub expected: usize,
    /// The environment's containers that exist on it, by name.
    pub containers: Vec<ShipContainer>,
}

/// One of the environment's containers found on a ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipContainer {
    /// Container name.
    pub name: String,
    /// `running`, `exited`, `created`, ...
    pub state: String,
}

/// Contacts every ship of `env` at once; reports in YAML order.
pub async fn survey(env: &Environment) -> Vec<ShipReport> {
    join_all(env.ships.iter().map(|ship| async move {
        let (transport, address) = connect::describe(ship, &env.base_dir);
        let names: Vec<String> = env
            .instances
            .iter()
            .filter(|i| i.ship == ship.name)
            .map(|i| i.name.clone())
            .collect();
        let mut report = ShipReport {
            name: ship.name.clone(),
            transport,
            address,
            reachable: false,
            error: None,
            engine: None,
            engine_version: None,
            api_version: None,
            expected: names.len(),
            containers: Vec::new(),
        };
        // The guard keeps the tunnel (if any) open until the report is made.
        let (connected, _guard) = connect::connect_ship(env, ship).await;
        let ship = match connected {
            Ok(ship) => ship,
            Err(e) => {
                report.error = Some(e.to_string());
                return report;
            }
        };
        report.reachable = true;
        report.api_version = Some(ship.api_version().to_owned());
        report.engine = Some(ship.engine().name());
        match ship.version().await {
            Ok(v) => report.engine_version = Some(v.version),
            Err(e) => report.error = Some(e.to_string()),
        }
        match ship.list(&ContainerSelector::Names(names)).await {
            Ok(found) => {
                report.containers = found
                    .into_iter()
                    .map(|c| ShipContainer {
                        name: c.name,
                        state: c.state,
                    })
                    .collect();
            }
            Err(e) => report.error = Some(e.to_string()),
        }
        report
    }))
    .await
}
