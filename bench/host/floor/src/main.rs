//! The floor of the host benchmark (issue #9): the creates and starts a play
//! issues, sent straight to each ship's Engine API with nothing around them.
//!
//!     floor start SPEC.json [--checks] [--parallel N]
//!     floor clean SPEC.json [--parallel N]
//!
//! SPEC.json is written by `bench/host/run` next to the `maestro.yaml` it
//! stands for: the ships and, layer by layer, each container's image,
//! command, environment (the one maestro injects) and labels. `start` goes
//! layer after layer; within a layer every ship works at once with at most N
//! (default 8) requests in flight per ship. With `--checks` a layer is done
//! when every one of its ports accepts a TCP connection (polled every 10 ms),
//! as a `tcp` lifecycle check would see it. `clean` force-removes every
//! container of the spec (absent ones are fine). Exit status 1 on any error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions,
};
use bollard::{API_DEFAULT_VERSION, Docker};
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

#[derive(Deserialize)]
struct Spec {
    ships: BTreeMap<String, Ship>,
    layers: Vec<Vec<Container>>,
}

#[derive(Deserialize)]
struct Ship {
    /// `unix:///path` or `tcp://host:port`.
    docker_host: String,
    /// Where the ship's host-network ports answer.
    ip: String,
}

#[derive(Deserialize, Clone)]
struct Container {
    name: String,
    ship: String,
    image: String,
    cmd: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    network_mode: Option<String>,
    /// The port a `running` tcp check would poll.
    port: Option<u16>,
}

/// One ship's client and its bound on requests in flight.
#[derive(Clone)]
struct Conn {
    docker: Docker,
    ip: String,
    slots: Arc<Semaphore>,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("floor: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: floor start|clean SPEC.json [--checks] [--parallel N]";
    let (command, path) = match (args.first(), args.get(1)) {
        (Some(c), Some(p)) => (c.as_str(), p.as_str()),
        _ => return Err(usage.into()),
    };
    let mut checks = false;
    let mut parallel = 8usize;
    let mut rest = args[2..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--checks" => checks = true,
            "--parallel" => {
                parallel = rest
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--parallel needs a positive number")?;
            }
            _ => return Err(format!("unknown argument {a}\n{usage}").into()),
        }
    }
    let spec: Spec = serde_json::from_slice(
        &std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?,
    )
    .map_err(|e| format!("{path}: {e}"))?;
    let conns = connect(&spec, parallel).await?;
    match command {
        "start" => {
            for layer in &spec.layers {
                start_layer(&conns, layer, checks).await?;
            }
            Ok(())
        }
        "clean" => {
            let all: Vec<Container> = spec.layers.iter().flatten().cloned().collect();
            each(&conns, &all, |conn, c| async move {
                let options = RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build();
                match conn.docker.remove_container(&c.name, Some(options)).await {
                    Ok(()) => Ok(()),
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => Ok(()),
                    Err(e) => Err(format!("remove {}: {e}", c.name).into()),
                }
            })
            .await
        }
        _ => Err(usage.into()),
    }
}

/// Connects to every ship at once, negotiating the API version as maestro does.
async fn connect(spec: &Spec, parallel: usize) -> Result<BTreeMap<String, Conn>, Error> {
    let mut set = JoinSet::new();
    for (name, ship) in &spec.ships {
        let (name, host, ip) = (name.clone(), ship.docker_host.clone(), ship.ip.clone());
        set.spawn(async move {
            let docker = if let Some(path) = host.strip_prefix("unix://") {
                Docker::connect_with_unix(path, 120, API_DEFAULT_VERSION)
            } else if let Some(addr) = host.strip_prefix("tcp://") {
                Docker::connect_with_http(&format!("http://{addr}"), 120, API_DEFAULT_VERSION)
            } else {
                return Err(format!("ship {name}: unsupported docker_host {host}").into());
            }
            .map_err(|e| format!("ship {name}: {e}"))?;
            let docker = docker
                .negotiate_version()
                .await
                .map_err(|e| format!("ship {name}: {e}"))?;
            let slots = Arc::new(Semaphore::new(parallel));
            Ok::<_, Error>((name, Conn { docker, ip, slots }))
        });
    }
    let mut conns = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        let (name, conn) = joined??;
        conns.insert(name, conn);
    }
    Ok(conns)
}

/// Runs `work` for every container, each ship's calls bounded by its slots.
async fn each<F, Fut>(
    conns: &BTreeMap<String, Conn>,
    all: &[Container],
    work: F,
) -> Result<(), Error>
where
    F: Fn(Conn, Container) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
{
    let mut set = JoinSet::new();
    for c in all {
        let conn = conns
            .get(&c.ship)
            .ok_or_else(|| format!("{}: unknown ship {}", c.name, c.ship))?
            .clone();
        let slots = conn.slots.clone();
        let fut = work(conn, c.clone());
        set.spawn(async move {
            let _slot = slots.acquire_owned().await?;
            fut.await
        });
    }
    let mut first = None;
    while let Some(joined) = set.join_next().await {
        if let Err(e) = joined? {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

async fn start_layer(
    conns: &BTreeMap<String, Conn>,
    layer: &[Container],
    checks: bool,
) -> Result<(), Error> {
    each(conns, layer, |conn, c| async move {
        let body = ContainerCreateBody {
            image: Some(c.image.clone()),
            cmd: Some(c.cmd.clone()),
            env: Some(c.env.clone()),
            labels: Some(c.labels.clone().into_iter().collect()),
            host_config: Some(HostConfig {
                network_mode: c.network_mode.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default()
            .name(&c.name)
            .build();
        conn.docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| format!("create {}: {e}", c.name))?;
        conn.docker
            .start_container(&c.name, None::<StartContainerOptions>)
            .await
            .map_err(|e| format!("start {}: {e}", c.name))?;
        Ok(())
    })
    .await?;
    if !checks {
        return Ok(());
    }
    let mut set = JoinSet::new();
    for c in layer {
        let Some(port) = c.port else { continue };
        let ip = conns[&c.ship].ip.clone();
        let name = c.name.clone();
        set.spawn(async move { wait_port(&name, &ip, port).await });
    }
    while let Some(joined) = set.join_next().await {
        joined??;
    }
    Ok(())
}

/// Polls `ip:port` every 10 ms until it accepts a connection (60 s at most).
async fn wait_port(name: &str, ip: &str, port: u16) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect((ip, port)),
        )
        .await;
        if let Ok(Ok(_)) = attempt {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{name}: port {ip}:{port} never answered").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
