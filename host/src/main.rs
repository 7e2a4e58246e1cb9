//! maestro: orchestrates Docker containers across many hosts from a
//! `maestro.yaml`, compatible with MaestroNG 0.8.3. The work happens in the
//! library (see `lib.rs` for the layout); this is only the entry point.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    maestro::run::run(maestro::cli::Cli::parse())
}
