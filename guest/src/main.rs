//! maestro-guest: answers MaestroNG guest functions from the shell, renders
//! configuration templates, waits for dependencies and runs the application
//! as PID 1.
//!
//! The binary enters through a C `main` instead of Rust's runtime start-up
//! (`#![no_main]`): it starts on every container start, and that start-up
//! (SIGPIPE set to ignored, a stack-overflow handler that parses
//! /proc/self/maps) cost more than the rest of `run`; it also changed
//! SIGPIPE, which the supervised program must get as the caller set it.
#![cfg_attr(not(test), no_main)]

mod cli;
mod init;
mod json;
mod queries;
mod render;
mod wait;

use std::process::ExitCode;

use clap::Parser;

/// The process entry point, called by the C runtime.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    let code = run();
    // Rust's runtime would flush stdout at exit; without it, do it here.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    status(code)
}

/// Dispatches the command line; `run -- CMD` skips clap (see
/// [`cli::parse_run_fast`]).
#[cfg_attr(test, allow(dead_code))] // unit tests have the harness's main
fn run() -> ExitCode {
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

/// The numeric status of an `ExitCode` (std offers no accessor).
#[cfg_attr(test, allow(dead_code))]
fn status(code: ExitCode) -> libc::c_int {
    (0..=255u8)
        .find(|&n| ExitCode::from(n) == code)
        .map_or(1, libc::c_int::from)
}
