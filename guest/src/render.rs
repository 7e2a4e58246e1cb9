//! Renders templates (placeholder; see the entrypoint issue).

use std::process::ExitCode;

use crate::cli::RenderArgs;

pub fn run(_args: RenderArgs) -> ExitCode {
    eprintln!("error: not implemented yet");
    ExitCode::from(crate::cli::exit::FAILURE)
}
