//! Configuration: `maestro.yaml` → typed, validated [`model::Environment`].
//!
//! No Docker and no async here: this module reads a file, renders it as a
//! template, parses YAML, and builds the model, with every error pointing at
//! a file position and a key path.

pub mod build;
pub mod env;
pub mod error;
mod instance;
pub mod load;
pub mod model;
pub mod yaml;

pub use build::{Loaded, Options};
pub use error::{ConfigError, Diagnostic};
pub use instance::port_spec;
pub use load::Source;

/// Loads a description: read, render, parse, build.
pub fn load(source: &Source, options: Options) -> Result<Loaded, ConfigError> {
    let parsed = load::read(source, &load::process_vars())?;
    build::build(&parsed, options)
}
