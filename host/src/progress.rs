//! What a play reports while it runs: one event per container state change.
//!
//! The executor (in `docker`) only sends these; the `output` module alone
//! decides how they look (a live view with one line per container on a
//! terminal, plain progress lines otherwise, JSON for scripts). Keeping the
//! events plain data lets each side be tested without the other.

use std::time::Duration;

/// Where one container of a play is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Waiting for its dependencies (or for a `-c` slot).
    Waiting,
    /// Running `pre-start`/`pre-stop` checks.
    PreChecks,
    /// Pulling its image; percent done when the registry says.
    Pulling { percent: Option<f64> },
    /// A pull was refused with an HTTP status listed in the registry's `retry.when`:
    /// the next attempt follows after the pause (MaestroNG: `got 500; retrying in 1s`).
    PullRetry {
        /// The HTTP status of the refusal.
        status: u16,
        /// The attempt about to be made (2 for the first retry).
        attempt: u32,
        /// `retry.attempts`.
        of: u32,
    },
    /// Removing an old stopped container of the same name.
    Removing,
    /// `upgrade`: removing the stopped replacement an interrupted run left under
    /// the instance's name, before its old container gets the name back.
    DiscardingReplacement,
    /// Creating the container.
    Creating,
    /// Starting it.
    Starting,
    /// Running `running`/`stopped` checks (named, e.g. `tcp broker`).
    Checking { check: String },
    /// Stopping it.
    Stopping,
    /// Killing it.
    Killing,
    /// `upgrade`/`rollback`: renaming the old container aside (`NAME.previous`), or
    /// back when resolving what an interrupted run left.
    Renaming { to: String },
    /// `upgrade`/`rollback` of a service without `running` checks: the replacement
    /// must stay up this long.
    StayingUp { secs: u64 },
    /// `upgrade`/`rollback`: the replacement failed; putting the old container back.
    RollingBack,
    /// `upgrade`/`rollback`: the replacement failed (why, with its last log lines) and
    /// the old container runs again under its name.
    RolledBack { reason: String, logs: Vec<String> },
    /// Done: the container is up (for start) or down (for stop/kill), or was
    /// already so; `detail` says which (`started`, `up for 3m`, `stopped`).
    Done { detail: String },
    /// Failed, with the reason and the last log lines of the container.
    Failed { reason: String, logs: Vec<String> },
    /// Not attempted because a dependency failed or the play was interrupted.
    Skipped { reason: String },
}

/// One state change of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The container (instance) name.
    pub container: String,
    /// Its service.
    pub service: String,
    /// Its ship.
    pub ship: String,
    /// The new phase.
    pub phase: Phase,
    /// Time since the play started.
    pub elapsed: Duration,
}

/// Receives a play's events (the output module implements it).
pub trait Reporter: Send + Sync {
    /// Called for every state change, from any task.
    fn event(&self, event: Event);
}
