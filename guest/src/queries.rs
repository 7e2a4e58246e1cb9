//! Answers the guest functions (placeholder; see the guest queries issue).

use std::process::ExitCode;

use crate::cli::Query;

pub fn run(_query: Query) -> ExitCode {
    eprintln!("error: not implemented yet");
    ExitCode::from(crate::cli::exit::FAILURE)
}
