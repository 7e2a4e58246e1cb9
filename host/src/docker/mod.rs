//! The Docker layer: the only module that talks to Docker daemons (and the only one that
//! imports bollard).
//!
//! It executes and observes, and decides nothing: what to create, when to pull and in
//! which order to act are the plan's business. Each [`Ship`] wraps one connected daemon;
//! its methods map one-to-one onto Engine API calls (plus MaestroNG's pull retry rule and
//! the polling an exec needs), and every failure comes back as a [`DockerError`] that
//! names the ship and the container or image involved.
//!
//! # Layout
//! - `ship`: connecting (unix socket, TCP, TLS), API version negotiation or pinning, ping,
//!   and which engine answers ([`Engine`]: Docker or Podman, whose differences `ops`
//!   absorbs).
//! - `tls`: the rustls client configuration for TLS ships.
//! - `ops`: container and image operations on a connected ship; `runopts`: the
//!   create body's health check and `docker run` options maestro adds.
//! - `health`: waiting for a container's health status (events, not polling).
//! - `networks`: user-defined networks and named volumes on a connected ship.
//! - `logs`: reassembling Docker's log frames into whole lines.
//! - `error`: [`DockerError`].

mod error;
mod health;
mod logs;
mod networks;
mod ops;
mod runopts;
mod ship;
mod tls;

pub use tls::TlsSetupError;
pub(crate) use tls::client_config as tls_client_config;

pub use error::DockerError;
pub use health::{HealthProbe, HealthWait};
pub use logs::{LogLine, LogStream, LogTail};
pub use ops::{
    ContainerInfo, ContainerSelector, ContainerState, ContainerSummary, Created, ExecOutcome,
    ImageInfo, PullEvent,
};
pub use ship::{DaemonVersion, Engine, Ship};
