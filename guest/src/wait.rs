//! Waits for dependencies (placeholder; see the entrypoint issue).

use std::process::ExitCode;

use crate::cli::WaitArgs;

pub fn run(_args: WaitArgs) -> ExitCode {
    eprintln!("error: not implemented yet");
    ExitCode::from(crate::cli::exit::FAILURE)
}

/// Waits for `--wait` targets before a program starts.
pub fn before_start(_options: &crate::cli::Supervise) -> Result<(), ExitCode> {
    Ok(())
}
