//! `maestro-guest wait` and `--wait`: block until dependencies accept TCP
//! connections, so a program does not start before what it needs.
//!
//! Names are resolved without NSS: a static glibc binary cannot load NSS
//! modules, so only IP literals and `/etc/hosts` are used.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    self, AddressFamily, SockFlag, SockType, SockaddrStorage, getsockopt, sockopt,
};

use maestro_guest::contract::{GuestEnv, env_var_name};

use crate::cli::{Supervise, WaitArgs, exit};

/// Why waiting could not even start, or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// A TARGET names no service, or a service/port the environment lacks.
    #[error("{target}: {reason}")]
    BadTarget { target: String, reason: String },
    /// A host name is neither an IP address nor in /etc/hosts.
    #[error(
        "cannot resolve {0}: not an IP address and not in /etc/hosts (maestro-guest does not use DNS)"
    )]
    Unresolved(String),
    /// Some endpoints never accepted a connection in time.
    #[error("timed out after {seconds}s waiting for: {}", .pending.join(", "))]
    TimedOut { seconds: f64, pending: Vec<String> },
}

/// One address to connect to, with a name for messages.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What the user asked for, e.g. `zookeeper/zk-node-1:client`.
    pub label: String,
    /// Where it is.
    pub address: SocketAddr,
}

/// Entry point of `maestro-guest wait`.
pub fn run(args: WaitArgs) -> ExitCode {
    match wait_for(&args.targets, args.timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("maestro-guest: {error}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// Waits for `--wait` targets before a program starts.
pub fn before_start(options: &Supervise) -> Result<(), ExitCode> {
    if options.wait.is_empty() {
        return Ok(());
    }
    wait_for(&options.wait, options.wait_timeout).map_err(|error| {
        eprintln!("maestro-guest: {error}");
        ExitCode::from(exit::FAILURE)
    })
}

/// Resolves every target, then waits for all their endpoints in parallel.
pub fn wait_for(targets: &[String], timeout: f64) -> Result<(), WaitError> {
    let guest = GuestEnv::from_process();
    let mut endpoints = Vec::new();
    for target in targets {
        endpoints.extend(resolve_target(&guest, target)?);
    }
    let deadline = Instant::now() + Duration::try_from_secs_f64(timeout).unwrap_or_default();
    let pending = poll_all(endpoints, deadline);
    if pending.is_empty() {
        Ok(())
    } else {
        Err(WaitError::TimedOut {
            seconds: timeout,
            pending,
        })
    }
}

/// `HOST:PORT` when PORT is a number, `SERVICE:PORT` when it is a name,
/// `SERVICE` alone for every port of every instance.
pub fn resolve_target(guest: &GuestEnv, target: &str) -> Result<Vec<Endpoint>, WaitError> {
    let bad = |reason: String| WaitError::BadTarget {
        target: target.to_owned(),
        reason,
    };
    if let Some((host, port)) = split_host_port(target) {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(vec![Endpoint {
                label: target.to_owned(),
                address: SocketAddr::new(resolve_host(host)?, port),
            }]);
        }
        let nodes = guest.node_list(host, &[port], 1).map_err(|e| bad(e.0))?;
        let names = guest.instance_names(host);
        return nodes
            .iter()
            .zip(names)
            .map(|(node, name)| {
                let (node_host, node_port) = node.rsplit_once(':').unwrap_or((node, ""));
                let number = node_port
                    .parse::<u16>()
                    .map_err(|_| bad(format!("port {port} of {name} is {node_port}")))?;
                Ok(Endpoint {
                    label: format!("{host}/{name}:{port}"),
                    address: SocketAddr::new(resolve_host(node_host)?, number),
                })
            })
            .collect();
    }
    service_endpoints(guest, target)
}

/// Every port of every instance of `service`.
fn service_endpoints(guest: &GuestEnv, service: &str) -> Result<Vec<Endpoint>, WaitError> {
    let bad = |reason: String| WaitError::BadTarget {
        target: service.to_owned(),
        reason,
    };
    let topology = guest.topology();
    let wanted = env_var_name(service);
    let Some(found) = topology
        .services
        .iter()
        .find(|(name, _)| env_var_name(name) == wanted)
        .map(|(_, found)| found)
    else {
        return Err(bad(format!("No or not enough {service} nodes configured")));
    };
    let mut endpoints = Vec::new();
    for instance in &found.instances {
        let host = instance.host.as_deref().ok_or_else(|| {
            bad(format!(
                "No host defined for container {} of service {service}",
                instance.name
            ))
        })?;
        let ip = resolve_host(host)?;
        for (name, port) in &instance.ports {
            let number = port.external.trim().parse::<u16>().map_err(|_| {
                bad(format!(
                    "port {name} of {} is {:?}, not one port number",
                    instance.name, port.external
                ))
            })?;
            endpoints.push(Endpoint {
                label: format!("{service}/{}:{name}", instance.name),
                address: SocketAddr::new(ip, number),
            });
        }
    }
    Ok(endpoints)
}

/// Splits `host:port` and `[v6]:port`; a bare IPv6 address is no pair.
fn split_host_port(target: &str) -> Option<(&str, &str)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    match target.split_once(':') {
        Some((host, port)) if !port.contains(':') => Some((host, port)),
        _ => None,
    }
}

/// An IP literal, or the first address `/etc/hosts` gives the name.
pub fn resolve_host(host: &str) -> Result<IpAddr, WaitError> {
    maestro_guest::net::resolve_host(host).ok_or_else(|| WaitError::Unresolved(host.to_owned()))
}

/// Polls every endpoint at once until each accepts a connection or
/// `deadline` passes; returns the labels of those that never did.
///
/// One thread drives non-blocking connects with `poll(2)` (threads would
/// cost the static binary ~50 KiB). A refused or failed attempt is retried
/// after 50 ms, then every 100 ms, so a dependency that comes up is noticed
/// within a tenth of a second.
fn poll_all(endpoints: Vec<Endpoint>, deadline: Instant) -> Vec<String> {
    let mut probes: Vec<Probe> = endpoints.into_iter().map(Probe::new).collect();
    loop {
        let now = Instant::now();
        for probe in probes.iter_mut() {
            probe.start_if_due(now);
        }
        if probes.iter().all(|p| p.state == State::Up) {
            return Vec::new();
        }
        let Some(left) = deadline.checked_duration_since(now) else {
            break;
        };
        let next_retry = probes
            .iter()
            .filter_map(|p| match p.state {
                State::Idle(at) => Some(at.saturating_duration_since(now)),
                _ => None,
            })
            .min()
            .unwrap_or(left);
        let timeout = left.min(next_retry).max(Duration::from_millis(1));
        wait_connecting(&mut probes, timeout);
    }
    probes
        .into_iter()
        .filter(|p| p.state != State::Up)
        .map(|p| p.describe())
        .collect()
}

/// Where one endpoint's polling stands.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Not connecting; the next attempt is due at this instant.
    Idle(Instant),
    /// A non-blocking connect is in flight.
    Connecting,
    /// It accepted a connection.
    Up,
}

struct Probe {
    endpoint: Endpoint,
    state: State,
    socket: Option<OwnedFd>,
    attempts: u32,
}

impl Probe {
    fn new(endpoint: Endpoint) -> Probe {
        Probe {
            endpoint,
            state: State::Idle(Instant::now()),
            socket: None,
            attempts: 0,
        }
    }

    fn describe(&self) -> String {
        let address = self.endpoint.address.to_string();
        if self.endpoint.label == address {
            address
        } else {
            format!("{} ({address})", self.endpoint.label)
        }
    }

    /// Starts a connect when a retry is due.
    fn start_if_due(&mut self, now: Instant) {
        match self.state {
            State::Idle(at) if at <= now => {}
            _ => return,
        }
        self.attempts += 1;
        match connect_nonblocking(self.endpoint.address) {
            Ok(None) => self.up(),
            Ok(Some(socket)) => {
                self.socket = Some(socket);
                self.state = State::Connecting;
            }
            Err(_) => self.retry_later(),
        }
    }

    fn up(&mut self) {
        self.socket = None;
        self.state = State::Up;
    }

    fn retry_later(&mut self) {
        self.socket = None;
        let backoff = if self.attempts <= 1 { 50 } else { 100 };
        self.state = State::Idle(Instant::now() + Duration::from_millis(backoff));
    }
}

/// Starts a connect; `None` when it completed at once.
fn connect_nonblocking(address: SocketAddr) -> nix::Result<Option<OwnedFd>> {
    let family = match address {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let socket = socket::socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    match socket::connect(socket.as_raw_fd(), &SockaddrStorage::from(address)) {
        Ok(()) => Ok(None),
        Err(Errno::EINPROGRESS) => Ok(Some(socket)),
        Err(error) => Err(error),
    }
}

/// Waits up to `timeout` for in-flight connects to finish and records
/// each one's outcome.
fn wait_connecting(probes: &mut [Probe], timeout: Duration) {
    let connecting: Vec<usize> = (0..probes.len())
        .filter(|&i| probes[i].state == State::Connecting)
        .collect();
    let results: Vec<Option<bool>> = {
        let mut fds: Vec<PollFd> = connecting
            .iter()
            .filter_map(|&i| probes[i].socket.as_ref())
            .map(|socket| PollFd::new(socket.as_fd(), PollFlags::POLLOUT))
            .collect();
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        if fds.is_empty() {
            std::thread::sleep(timeout);
            return;
        }
        if poll(&mut fds, PollTimeout::from(millis)).is_err() {
            return;
        }
        connecting
            .iter()
            .zip(&fds)
            .map(|(&i, fd)| {
                let done = fd.revents().is_some_and(|r| !r.is_empty());
                let socket = probes[i].socket.as_ref()?;
                done.then(|| matches!(getsockopt(socket, sockopt::SocketError), Ok(0)))
            })
            .collect()
    };
    for (&i, result) in connecting.iter().zip(results) {
        match result {
            Some(true) => probes[i].up(),
            Some(false) => probes[i].retry_later(),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_into_host_and_port() {
        assert_eq!(split_host_port("a:1"), Some(("a", "1")));
        assert_eq!(split_host_port("zk:client"), Some(("zk", "client")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("zookeeper"), None);
    }

    #[test]
    fn service_targets_expand_to_every_instance() {
        let guest = GuestEnv::from_vars([
            ("ZK_INSTANCES", "a,b"),
            ("ZK_A_HOST", "127.0.0.1"),
            ("ZK_A_CLIENT_PORT", "2181"),
            ("ZK_A_PEER_PORT", "2888"),
            ("ZK_B_HOST", "127.0.0.2"),
            ("ZK_B_CLIENT_PORT", "2182"),
        ]);
        let all = resolve_target(&guest, "zk").unwrap();
        let mut got: Vec<String> = all.iter().map(|e| e.address.to_string()).collect();
        got.sort();
        assert_eq!(got, ["127.0.0.1:2181", "127.0.0.1:2888", "127.0.0.2:2182"]);
        let client = resolve_target(&guest, "zk:client").unwrap();
        assert_eq!(client.len(), 2);
        assert_eq!(client[1].label, "zk/b:client");
        assert!(matches!(
            resolve_target(&guest, "zk:peer"),
            Err(WaitError::BadTarget { .. })
        ));
        assert!(matches!(
            resolve_target(&guest, "nothing"),
            Err(WaitError::BadTarget { .. })
        ));
        assert!(matches!(
            resolve_target(&guest, "no-such-host.invalid:80"),
            Err(WaitError::Unresolved(_))
        ));
    }
}
