//! maestro (library): orchestrates Docker containers across many hosts from a
//! `maestro.yaml`, compatible with MaestroNG 0.8.3.
//!
//! # Layout
//! - [`cli`]: the command line (clap), no logic;
//! - [`config`]: YAML → typed, validated model and each container's
//!   environment (no Docker, no async);
//! - [`plan`]: pure planning of which containers, in which order and waves;
//! - [`output`]: the only writer to the terminal;
//! - [`run`]: glue from a parsed command line to an exit status.

pub mod cli;
pub mod config;
pub mod output;
pub mod plan;
pub mod run;
