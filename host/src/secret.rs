//! [`Secret`]: a string never printed. A leaf, so that the configuration (which
//! reads secrets: registry passwords, check credentials) and the Docker
//! specification (which sends them) can both hold one.

use std::fmt;

/// A string that must never reach the terminal or a log: `Debug` shows `***`, and
/// there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it (the registry auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
