//! maestro-guest's library: the environment contract shared with the host.
//!
//! The contract is the only place that knows the names of the variables the
//! orchestrator injects into a container. The host writes through it, the
//! guest reads through it; it is std-only so the host can depend on it
//! without pulling in the guest's runtime.

pub mod contract;

/// Own address and host-name lookups (no NSS), for queries, templates and waits.
#[cfg(feature = "runtime")]
pub mod net;

/// The template environment of `maestro-guest render` (the guest functions
/// and `env`), pure: no files are read or written. The binary renders
/// through it; it is public so that it can be fuzzed and tested alone.
#[cfg(feature = "runtime")]
#[path = "render/api.rs"]
pub mod template;

/// The guest's command line (clap), the very definition the binary parses
/// with, for tools that describe the guest without being it: `maestro man`
/// writes the guest's man pages from it, so they cannot drift from
/// `maestro-guest --help`. Behind the `cli` feature; the guest binary never
/// enables it (it compiles these files as its own modules).
#[cfg(feature = "cli")]
#[allow(dead_code)] // value parsers only; the rest of the binary is not here
pub mod cli;

/// Signal names for the command line's value parsers (`--rewrite`, `--reload-signal`).
#[cfg(feature = "cli")]
#[allow(dead_code)]
mod init {
    pub mod signals;
}

/// Pattern checks for the command line's value parsers (`--match`).
#[cfg(feature = "cli")]
#[allow(dead_code)]
mod regex;
