//! The exit statuses of `maestro`, in one leaf module: the command runner
//! returns them, the signal handling names the ones an interrupt gives, and
//! `--help` documents them (`cli::EXIT_CODES_HELP`).

/// Success.
pub const EXIT_OK: u8 = 0;
/// An operation failed (or is not available yet).
pub const EXIT_FAILURE: u8 = 1;
/// The configuration or the command line is wrong.
pub const EXIT_USAGE: u8 = 2;
/// A play was interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;
/// A play was interrupted by SIGTERM: 128 + 15.
pub const EXIT_TERMINATED: u8 = 143;
