//! Configuration errors and warnings, each pointing at a file position and
//! a key path so that the user can find the offending line at once.

use std::fmt;

use super::yaml::Mark;

/// A message about one place in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The configuration file (`-` for stdin) or envfile concerned.
    pub file: String,
    /// Position in that file, when known.
    pub mark: Option<Mark>,
    /// Dotted key path (`services.kafka.instances.kafka-1.ports.broker`);
    /// empty for whole-file problems.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(mark) = self.mark {
            write!(f, ":{}:{}", mark.line, mark.col)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a configuration could not be loaded. Every variant is a
/// configuration error (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file (or stdin) could not be read.
    #[error("cannot read environment description {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The Jinja template could not be rendered.
    #[error("{0}")]
    Template(Diagnostic),
    /// The rendered text is not valid YAML (or uses duplicate keys).
    #[error("{0}")]
    Yaml(Diagnostic),
    /// The YAML is valid but the description is not.
    #[error("{0}")]
    Invalid(Diagnostic),
}

impl ConfigError {
    /// The diagnostic, for the variants that have one.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Template(d) | ConfigError::Yaml(d) | ConfigError::Invalid(d) => Some(d),
        }
    }
}
