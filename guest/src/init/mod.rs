//! PID 1 supervision (placeholder; see the entrypoint issue).

use std::process::ExitCode;

use crate::cli::RunArgs;

pub fn run(_args: RunArgs) -> ExitCode {
    eprintln!("error: not implemented yet");
    ExitCode::from(crate::cli::exit::FAILURE)
}
