//! maestro-guest: answers MaestroNG guest functions from the shell, renders
//! configuration templates, waits for dependencies and runs the application
//! as PID 1.

mod cli;
mod init;
mod queries;
mod render;
mod wait;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(run) = cli::parse_run_fast(&args) {
        return init::run(run);
    }
    drop(args);
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Query(query) => queries::run(query),
        cli::Command::Run(args) => init::run(args),
        cli::Command::Render(args) => render::run(args),
        cli::Command::Wait(args) => wait::run(args),
    }
}
