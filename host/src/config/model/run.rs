//! The types of the keys maestro adds to an instance beyond MaestroNG 0.8.3:
//! the engine's health check (`healthcheck`, also on a service) and the
//! `docker run` options (`stop_signal`, `tmpfs`, `sysctls`, ...), as
//! `config/healthcheck.rs` and `config/runopts.rs` read them. Values are
//! final (durations and sizes already converted), so the mapping to the
//! Engine API is one to one.

use std::time::Duration;

use serde::{Serialize, Serializer};

use super::Command;

/// `healthcheck`: the engine's own health probe of the container (Docker's
/// `Config.Healthcheck`). A field left out takes the image's value (its
/// `HEALTHCHECK`), as Docker does for a zero value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    /// `test`: what runs, or `None` to keep the image's test.
    pub test: Option<HealthTest>,
    /// `interval` between probes.
    #[serde(serialize_with = "seconds")]
    pub interval: Option<Duration>,
    /// `timeout` of one probe.
    #[serde(serialize_with = "seconds")]
    pub timeout: Option<Duration>,
    /// `retries`: failures in a row that make the container unhealthy.
    pub retries: Option<u32>,
    /// `start_period`: failures in this time after start do not count.
    #[serde(serialize_with = "seconds")]
    pub start_period: Option<Duration>,
}

/// A duration as `dump` shows it: seconds.
fn seconds<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    d.map(|d| d.as_secs_f64()).serialize(s)
}

impl HealthCheck {
    /// Whether the check is turned off (`disable: true` or `test: [NONE]`):
    /// the image's `HEALTHCHECK` does not run either.
    pub fn is_disabled(&self) -> bool {
        self.test == Some(HealthTest::None)
    }
}

/// A health check's `test`, in Docker's three forms (`dump` shows Docker's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthTest {
    /// `[NONE]` or `disable: true`: no health check, not even the image's.
    None,
    /// `[CMD, prog, args...]`: run directly.
    Cmd(Vec<String>),
    /// `[CMD-SHELL, line]` or a string: run with the container's `/bin/sh -c`.
    CmdShell(String),
}

impl HealthTest {
    /// Docker's list form (`["CMD", ...]`, `["CMD-SHELL", line]`, `["NONE"]`).
    pub fn to_docker(&self) -> Vec<String> {
        match self {
            HealthTest::None => vec!["NONE".into()],
            HealthTest::Cmd(argv) => std::iter::once("CMD".to_owned())
                .chain(argv.iter().cloned())
                .collect(),
            HealthTest::CmdShell(line) => vec!["CMD-SHELL".into(), line.clone()],
        }
    }
}

impl Serialize for HealthTest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_docker().serialize(s)
    }
}

/// The `docker run` options of an instance that MaestroNG 0.8.3 does not
/// read (its `username`, `limits.cpu`, `dns`, `security_opt`... keep their
/// own fields). `None` or empty leaves the engine's (or image's) default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunOptions {
    /// `stop_signal`: sent by a stop before the kill (Docker's `StopSignal`).
    pub stop_signal: Option<String>,
    /// `hostname`: replaces the default (the container's name).
    pub hostname: Option<String>,
    /// `domainname`.
    pub domainname: Option<String>,
    /// `read_only`: the root filesystem is mounted read-only.
    pub read_only: bool,
    /// `tmpfs`: mount point → mount options (`""` for none), in file order.
    pub tmpfs: Vec<(String, String)>,
    /// `shm_size` in bytes.
    pub shm_size: Option<i64>,
    /// `devices`: host devices made available.
    pub devices: Vec<Device>,
    /// `sysctls`: kernel parameters of the container's namespaces, in file order.
    pub sysctls: Vec<(String, String)>,
    /// `init`: Docker's init (tini) runs as PID 1 before the command.
    pub init: Option<bool>,
    /// `pid`: PID namespace (`host`, `container:NAME`).
    pub pid: Option<String>,
    /// `ipc`: IPC namespace (`private`, `shareable`, `host`, `none`, `container:NAME`).
    pub ipc: Option<String>,
    /// `group_add`: supplementary groups (names or ids).
    pub group_add: Vec<String>,
    /// `entrypoint`: replaces the image's; an empty one clears it.
    pub entrypoint: Option<Command>,
    /// `cpuset`: CPUs the container may use (`0-2`, `0,3`).
    pub cpuset: Option<String>,
    /// `mem_reservation` in bytes: the soft memory limit.
    pub mem_reservation: Option<i64>,
    /// `pids_limit`: at most this many processes (`-1`: unlimited).
    pub pids_limit: Option<i64>,
    /// `oom_kill_disable`.
    pub oom_kill_disable: Option<bool>,
    /// `runtime`: the OCI runtime (`runc`, ...).
    pub runtime: Option<String>,
}

/// A `devices` entry: `HOST[:CONTAINER[:PERMISSIONS]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Device path on the ship.
    pub host: String,
    /// Path inside the container (default: the same).
    pub container: String,
    /// Cgroup permissions, some of `rwm` (default `rwm`).
    pub permissions: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dump` shows the test as Docker's list and durations in seconds.
    #[test]
    fn dump_shows_dockers_forms() {
        let check = HealthCheck {
            test: Some(HealthTest::CmdShell("test -f /ok".into())),
            interval: Some(Duration::from_millis(1500)),
            timeout: None,
            retries: Some(3),
            start_period: None,
        };
        assert_eq!(
            serde_json::to_value(&check).unwrap(),
            serde_json::json!({
                "test": ["CMD-SHELL", "test -f /ok"],
                "interval": 1.5,
                "timeout": null,
                "retries": 3,
                "start_period": null
            })
        );
        assert_eq!(HealthTest::None.to_docker(), ["NONE"]);
        assert_eq!(
            HealthTest::Cmd(vec!["true".into()]).to_docker(),
            ["CMD", "true"]
        );
    }
}
