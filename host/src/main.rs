//! maestro: orchestrates Docker containers across many hosts from a
//! `maestro.yaml`, compatible with MaestroNG 0.8.3.
//!
//! # Layout
//! - [`cli`]: the command line (clap), no logic;
//! - [`config`]: YAML → typed, validated model and each container's
//!   environment (no Docker, no async);
//! - [`plan`]: pure planning of which containers, in which order and waves;
//! - [`output`]: the only writer to the terminal;
//! - [`run`]: glue from a parsed command line to an exit status.

mod cli;
mod config;
mod output;
mod plan;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    run::run(cli::Cli::parse())
}
