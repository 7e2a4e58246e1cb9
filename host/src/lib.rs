//! maestro (library): orchestrates Docker containers across many hosts from a
//! `maestro.yaml`, compatible with MaestroNG 0.8.3.
//!
//! # Layout
//! - [`cli`]: the command line (clap), no logic;
//! - [`config`]: YAML → typed, validated model and each container's
//!   environment (no Docker, no async);
//! - [`plan`]: pure planning of which containers, in which order and waves;
//! - [`spec`]: the fully resolved containers, ships and registries the
//!   Docker layer consumes (plain data);
//! - [`resolve`]: model → [`spec`] container specs, pure; [`shlex`]: command
//!   strings split as Python's `shlex.split`;
//! - [`credentials`]: an image's registry credentials (`registries`, then the
//!   Docker client configuration and its credential helpers);
//! - [`connect`]: config ships → endpoints (TLS names, SSH tunnels), every
//!   ship connected at once with per-ship errors;
//! - [`docker`]: the only module that talks to Docker (bollard); executes,
//!   makes no decisions;
//! - [`execute`]: the executor of plays (start, stop, kill, restart, clean,
//!   pull): walks a plan, reports [`progress`] events;
//! - [`audit`]: the audit trail (`audit:` auditors: log file, webhook,
//!   script, Slack) told before and after each play and step;
//! - [`lifecycle`]: the lifecycle checks (tcp, http, exec, rexec, sleep,
//!   health);
//! - [`ships`]: `maestro ships`;
//! - [`tunnel`]: SSH tunnels to ships (the system's `ssh`);
//! - [`observe`]: the read-only commands (`status`, `logs`) over every
//!   ship at once;
//! - [`output`]: the only writer to the terminal;
//! - [`signals`]: SIGINT and SIGTERM as one stream of interrupts;
//! - [`exit`]: the exit statuses (a leaf: everyone may name them);
//! - [`timestamp`]: Docker's RFC 3339 timestamps as epoch seconds (a leaf);
//! - [`error`]: the one error a command ends with, its causes and exit status;
//! - [`run`]: glue from a parsed command line to an exit status.

pub mod audit;
pub mod cli;
pub mod compose;
pub mod config;
pub mod connect;
pub mod credentials;
pub mod docker;
pub mod error;
pub mod execute;
pub mod exit;
pub mod lifecycle;
pub mod observe;
pub mod output;
pub mod plan;
pub mod progress;
pub mod resolve;
pub mod run;
pub mod ships;
pub mod shlex;
pub mod signals;
pub mod spec;
pub mod timestamp;
pub mod tunnel;
