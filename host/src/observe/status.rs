//! `maestro status`: what every asked-for container is doing, found with
//! one listing per ship, all ships at once.
//!
//! The listing says which containers exist and whether they run; the exact
//! start or stop time (for `running for 3m2s`) is only in a container's
//! inspection, so the containers found are then inspected, concurrently.
//! With `-F` each published tcp port is tried (one TCP connection to the
//! ship's ip, 1 s), as MaestroNG's FullStatus does.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::future::join_all;

use super::time::{now_secs, since};
use crate::config::model::{Environment, Instance, Protocol};
use crate::connect::connect_all;
use crate::docker::{ContainerInfo, ContainerSelector, Ship};
use crate::plan::swap::previous_name;
use serde::Serialize;

use super::time::uptime;

/// How long a port probe may take (MaestroNG: 1 s, one attempt).
pub const PORT_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// What `status` found for one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Running, for this long.
    Running {
        /// Seconds since it started.
        #[serde(rename = "uptime_secs", serialize_with = "secs")]
        uptime: Duration,
    },
    /// Exists but is not running; how long since it stopped (`None`: never
    /// ran, or the time is unknown).
    Down {
        /// Seconds since it stopped.
        #[serde(rename = "down_secs", serialize_with = "opt_secs")]
        since: Option<Duration>,
        /// Its exit code, once it ran.
        exit_code: Option<i64>,
    },
    /// No such container on its ship.
    Absent,
    /// Its ship could not be asked.
    HostDown {
        /// Why.
        error: String,
    },
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u64(d.as_secs()),
        None => s.serialize_none(),
    }
}

impl State {
    /// `running for 3m2s`, `down for 5s`, `down`, `absent`, `host down`.
    pub fn text(&self) -> String {
        match self {
            State::Running { uptime: u } => format!("running for {}", uptime(*u)),
            State::Down { since: Some(d), .. } => format!("down for {}", uptime(*d)),
            State::Down { since: None, .. } => "down".into(),
            State::Absent => "absent".into(),
            State::HostDown { .. } => "host down".into(),
        }
    }
}

/// A published port and whether it answered a TCP connection (`-F`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortState {
    /// The port's name in the configuration.
    pub name: String,
    /// The published port as configured (`2181/tcp`, `8000-8010/tcp`).
    pub external: String,
    /// Whether a TCP connection to the ship's ip on that port succeeded
    /// (always false for udp, as in MaestroNG).
    pub up: bool,
}

/// One container's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// The instance (container) name.
    pub instance: String,
    /// Its service.
    pub service: String,
    /// Its ship's name.
    pub ship: String,
    /// Its ship's `ip`.
    pub ship_ip: String,
    /// The container's full id, when it exists.
    pub container_id: Option<String>,
    /// What was found.
    #[serde(flatten)]
    pub state: State,
    /// The image: the container's when it exists, else the configured one
    /// (`-F` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Published ports (`-F` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortState>>,
    /// The `NAME.previous` an interrupted `upgrade` left next to it (the next
    /// `upgrade` or `start` resolves it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_aside: Option<String>,
}

impl StatusRow {
    /// Whether this container counts as "up" for the exit status.
    pub fn running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }
}

/// What one ship said about its containers.
type ShipAnswer = Result<BTreeMap<String, ContainerInfo>, String>;

/// The status of `containers` (names of instances, in the order to show).
pub async fn status(env: &Environment, containers: &[String], full: bool) -> Vec<StatusRow> {
    let instances: Vec<&Instance> = containers.iter().filter_map(|c| env.instance(c)).collect();
    let mut by_ship: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in &instances {
        by_ship
            .entry(i.ship.clone())
            .or_default()
            .extend([i.name.clone(), previous_name(&i.name)]);
    }
    let answers = join_all(by_ship.iter().map(|(name, wanted)| async move {
        let limit = deadline(env, name);
        let asked = tokio::time::timeout(limit, async {
            // One ship at a time, so a hung daemon holds up nobody else.
            let ships = connect_all(env, [name.as_str()]).await;
            match ships.get(name) {
                Ok(ship) => observe(ship, wanted).await,
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
        let answer: ShipAnswer = asked.unwrap_or_else(|_| {
            Err(format!(
                "ship {name}: the Docker daemon did not answer within {}s",
                limit.as_secs()
            ))
        });
        (name.clone(), answer)
    }))
    .await;
    let answers: BTreeMap<String, ShipAnswer> = answers.into_iter().collect();
    let now = now_secs();
    let rows = instances.iter().map(|inst| {
        let answer = &answers[&inst.ship];
        let ship_ip = env
            .ships
            .iter()
            .find(|s| s.name == inst.ship)
            .map_or(String::new(), |s| s.ip.clone());
        let left_aside = match answer {
            Ok(found) => Some(previous_name(&inst.name)).filter(|p| found.contains_key(p)),
            Err(_) => None,
        };
        async move {
            let (container_id, state, image) = match answer {
                Err(e) => (None, State::HostDown { error: e.clone() }, None),
                Ok(found) => match found.get(&inst.name) {
                    None => (None, State::Absent, None),
                    Some(info) => (
                        Some(info.id.clone()),
                        state_of(info, now),
                        Some(info.config_image.clone()),
                    ),
                },
            };
            let (image, ports) = if full {
                let image = image.unwrap_or_else(|| inst.image.clone());
                (Some(image), Some(probe_ports(inst, &ship_ip).await))
            } else {
                (None, None)
            };
            StatusRow {
                instance: inst.name.clone(),
                service: inst.service.clone(),
                ship: inst.ship.clone(),
                ship_ip,
                container_id,
                state,
                image,
                ports,
                left_aside,
            }
        }
    });
    join_all(rows).await
}

/// How long `status` waits for one ship: its `timeout` for each of the
/// three round trips (connect, list, inspect), at least 1 s each. (The
/// executor's connections allow a slow stop more; status stops nothing.)
fn deadline(env: &Environment, ship: &str) -> Duration {
    let each = env
        .ships
        .iter()
        .find(|s| s.name == ship)
        .map_or(5.0, |s| s.timeout_secs)
        .clamp(1.0, 600.0);
    Duration::from_secs_f64(each * 3.0)
}

/// One listing of the wanted names, then an inspection of those found.
async fn observe(ship: &Ship, wanted: &BTreeSet<String>) -> ShipAnswer {
    let listed = ship
        .list(&ContainerSelector::Names(wanted.iter().cloned().collect()))
        .await
        .map_err(|e| e.to_string())?;
    let inspected = join_all(listed.iter().map(|c| ship.inspect(&c.name))).await;
    let mut out = BTreeMap::new();
    for r in inspected {
        // A container removed between listing and inspection is absent.
        if let Some(info) = r.map_err(|e| e.to_string())? {
            out.insert(info.name.clone(), info);
        }
    }
    Ok(out)
}

fn state_of(info: &ContainerInfo, now: i64) -> State {
    if info.state.running {
        State::Running {
            uptime: info
                .state
                .started_at
                .as_deref()
                .and_then(|t| since(t, now))
                .unwrap_or_default(),
        }
    } else {
        let ran = info.state.finished_at.is_some();
        State::Down {
            since: info
                .state
                .finished_at
                .as_deref()
                .and_then(|t| since(t, now)),
            exit_code: if ran { info.state.exit_code } else { None },
        }
    }
}

/// Tries every published port of the instance on the ship's ip.
async fn probe_ports(inst: &Instance, ip: &str) -> Vec<PortState> {
    join_all(inst.ports.iter().map(|p| async move {
        let external = format!("{}/{}", p.external, p.protocol.as_str());
        let up = p.protocol == Protocol::Tcp && tcp_answers(ip, p.external.start).await;
        PortState {
            name: p.name.clone(),
            external,
            up,
        }
    }))
    .await
}

async fn tcp_answers(ip: &str, port: u32) -> bool {
    let Ok(port) = u16::try_from(port) else {
        return false;
    };
    let addr = if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    };
    matches!(
        tokio::time::timeout(PORT_PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::ContainerState;

    fn info(state: ContainerState) -> ContainerInfo {
        ContainerInfo {
            id: "abc".into(),
            name: "web-1".into(),
            state,
            image_id: String::new(),
            config_image: "img".into(),
            labels: Default::default(),
            env: Vec::new(),
        }
    }

    #[test]
    fn states_from_inspection() {
        let now = 1_000_000;
        let running = info(ContainerState {
            running: true,
            status: "running".into(),
            started_at: Some("1970-01-12T13:43:38Z".into()),
            finished_at: None,
            exit_code: Some(0),
        });
        assert_eq!(
            state_of(&running, now),
            State::Running {
                uptime: Duration::from_secs(182)
            }
        );
        let exited = info(ContainerState {
            running: false,
            status: "exited".into(),
            started_at: Some("1970-01-12T13:40:00Z".into()),
            finished_at: Some("1970-01-12T13:46:35Z".into()),
            exit_code: Some(137),
        });
        assert_eq!(
            state_of(&exited, now),
            State::Down {
                since: Some(Duration::from_secs(5)),
                exit_code: Some(137)
            }
        );
        let created = info(ContainerState {
            running: false,
            status: "created".into(),
            started_at: None,
            finished_at: None,
            exit_code: Some(0),
        });
        assert_eq!(
            state_of(&created, now),
            State::Down {
                since: None,
                exit_code: None
            }
        );
        assert_eq!(
            State::Down {
                since: None,
                exit_code: None
            }
            .text(),
            "down"
        );
    }
}
