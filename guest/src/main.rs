//! maestro-guest: answers MaestroNG guest functions from the shell, renders
//! configuration templates, waits for dependencies and runs the application
//! as PID 1.
//!
//! The binary enters through a C `main` instead of Rust's runtime start-up
//! (`#![no_main]`): it starts on every container start, and that start-up
//! (SIGPIPE set to ignored, a stack-overflow handler that parses
//! /proc/self/maps) cost more than the rest of `run`; it also changed
//! SIGPIPE, which the supervised program must get as the caller set it.
//!
//! Without Rust's start-up, `std::env::args_os()` is filled only on glibc
//! (from `.init_array`); on musl it stays empty. The arguments therefore
//! always come from `main`'s own `argc`/`argv`.
#![cfg_attr(not(test), no_main)]

mod cli;
mod fileenv;
mod http;
mod init;
mod json;
mod queries;
mod regex;
mod render;
mod tls;
mod wait;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// The process entry point, called by the C runtime.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: the C runtime passes `argc` valid, NUL-terminated strings in `argv`.
    let args = unsafe { arguments(argc, argv) };
    if let Some(run) = cli::parse_run_fast(&args) {
        // `run` writes to stderr only: no stdout to flush, and its code
        // (touched on every container start and exit) stays untouched.
        return status(init::run(run));
    }
    let code = run(args);
    // Rust's runtime would flush stdout at exit; without it, do it here.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    status(code)
}

/// Copies the C `argv` into owned strings (bytes as they are: arguments
/// need not be UTF-8).
///
/// # Safety
/// `argv` must hold `argc` pointers to NUL-terminated strings, as the C
/// runtime passes them to `main`.
#[cfg(not(test))]
unsafe fn arguments(argc: libc::c_int, argv: *const *const libc::c_char) -> Vec<OsString> {
    use std::os::unix::ffi::OsStrExt;
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        .map(|i| {
            // SAFETY: i < argc, and each entry is a NUL-terminated string (the caller's promise).
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_os_string()
        })
        .collect()
}

/// Dispatches the command line through clap (`main` has taken the
/// `run -- CMD` fast path, [`cli::parse_run_fast`], already).
#[cfg_attr(test, allow(dead_code))] // unit tests have the harness's main
fn run(args: Vec<OsString>) -> ExitCode {
    let cli = cli::Cli::parse_from(args);
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
