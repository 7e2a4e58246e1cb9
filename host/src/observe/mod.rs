//! The read-only commands: `status` and `logs`.
//!
//! They ask every ship at once and never change anything. What they find is
//! handed to `output` for rendering; the Docker calls go through `docker`.
//!
//! # Layout
//! - `ships`: connecting the ships a command needs, all at once; a ship that
//!   cannot be reached is an answer, not a failure of the command.
//! - `status`: one container listing per ship, uptimes, port probes.
//! - `logs`: history and following of one or several containers, across
//!   restarts.
//! - `time`: Docker's RFC 3339 timestamps.

pub mod logs;
pub mod ships;
pub mod status;
pub mod time;
