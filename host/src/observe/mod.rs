//! The read-only commands: `status`, `logs`, and the snapshot `plan --observe`
//! decides from.
//!
//! They ask every ship at once and never change anything. What they find is
//! handed to `output` for rendering; the Docker calls go through `docker`.
//!
//! # Layout
//!
//! Ships are connected all at once by [`crate::connect::connect_all`]; a ship
//! that cannot be reached is an answer (`host down`), not a failure of the
//! command.
//! - `status`: one container listing per ship, uptimes, port probes.
//! - `logs`: history and following of one or several containers, across
//!   restarts.
//! - `snapshot`: each container and image of a plan as its ship reports it,
//!   turned into what `plan::decide` reads.
//! - `time`: Docker's RFC 3339 timestamps.

pub mod logs;
pub mod snapshot;
pub mod status;
pub mod time;
