//! The one error a command can end with: what it tells the user, the chain of
//! causes under it, and the exit status it gives.
//!
//! Each layer keeps its own error type (`ConfigError`, `PlanError`,
//! `DockerError`, ...); the command runner (`run`) turns whatever ends a
//! command into an [`Error`] and prints it with [`Error::report`]:
//!
//! ```text
//! error: the start play was not run and nothing was changed: an auditor failed before it
//!   caused by: auditor #2 (http) failed: POST http://127.0.0.1:1/<redacted>: connection refused
//! ```

use crate::audit::ActionFailed;
use crate::config::ConfigError;
use crate::exit::{EXIT_FAILURE, EXIT_USAGE};
use crate::plan::PlanError;

/// Why a command ended without doing its work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The environment description could not be loaded (exit status 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The compose file cannot be imported (exit status 2).
    #[error(transparent)]
    Compose(#[from] crate::compose::ComposeError),
    /// The request names nothing that can be planned (exit status 2).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The command line asks for something the description does not have (exit
    /// status 2).
    #[error("{0}")]
    Usage(String),
    /// An auditor failed when told about a play before it began (exit status 1).
    #[error(
        "audit: {source}; the {action} play was not run and nothing was changed \
         (set ignore_errors: true on that auditor to play regardless)"
    )]
    AuditBeforePlay {
        /// The play.
        action: &'static str,
        /// The auditor's failure.
        source: ActionFailed,
    },
    /// Standard output could not be written (exit status 1).
    #[error("cannot write output")]
    Output(#[source] std::io::Error),
    /// The async runtime could not be started (exit status 1).
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A file the command writes (a man page) could not be written (exit status 1).
    #[error("cannot write {}", path.display())]
    WriteFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// The exit status this error ends the command with.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Compose(_) | Error::Plan(_) | Error::Usage(_) => EXIT_USAGE,
            Error::AuditBeforePlay { .. }
            | Error::Output(_)
            | Error::Runtime(_)
            | Error::WriteFile { .. } => EXIT_FAILURE,
        }
    }

    /// The message and its causes, one per line (`  caused by: ...`); a cause
    /// whose text the message already shows is not repeated.
    pub fn report(&self) -> String {
        chain(self)
    }
}

/// `err` and the chain of its sources, as [`Error::report`] prints them.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let line = c.to_string();
        if !text.contains(&line) {
            text.push_str("\n  caused by: ");
            text.push_str(&line);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_listed_once_each() {
        let err = Error::Output(std::io::Error::other("disk full"));
        assert_eq!(err.report(), "cannot write output\n  caused by: disk full");
        assert_eq!(err.exit_code(), EXIT_FAILURE);
        // A message that already carries its cause does not repeat it.
        let err = Error::AuditBeforePlay {
            action: "start",
            source: ActionFailed {
                label: "auditor #1 (log)".into(),
                reason: "denied".into(),
            },
        };
        assert_eq!(
            err.report(),
            "audit: auditor #1 (log) failed: denied; the start play was not run and nothing \
             was changed (set ignore_errors: true on that auditor to play regardless)"
        );
        assert_eq!(Error::Usage("x".into()).exit_code(), EXIT_USAGE);
    }
}
