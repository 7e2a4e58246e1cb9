//! Configuration: `maestro.yaml` → typed, validated [`model::Environment`].
//!
//! No Docker and no async here: this module reads a file, renders it as a
//! template, parses YAML, and builds the model, with every error pointing at
//! a file position and a key path.
//!
//! Layout, by concern (a module imports only those below it; the layers are
//! `SUBLAYERS` in `scripts/import-graph`, which checks them):
//! - `build`: the top level of the file and the order of the build;
//! - `service`, `instance`: a service and its instances, one call per key;
//! - `ships` (ships, registries), `ports`, `checks` (lifecycle), `volumes`,
//!   `resources` (limits, ulimits), `options` (command, restart, log...),
//!   `env` (env sources → ordered variables), `healthcheck` (the engine's
//!   health check), `runopts` (the `docker run` options maestro adds): one
//!   section each;
//! - `validate`: the checks across sections; `links`: link variables;
//! - `load`: file and Jinja (with `pycompat`, Python's methods in templates);
//! - `model`: the types; `audit` and `http` (auditors, http checks'
//!   options): their types and parsers;
//! - `keys`: every section's key names and allowed-keys table;
//! - `schema`: the JSON Schema of the file, from the tables of `keys`;
//! - `read`: the node-reading toolkit (`Ctx`, typed getters, `check_keys`);
//! - `error`: messages; `yaml`: the tree with marks and the YAML 1.1
//!   scalar resolver (`yaml::pyvalue`).

pub mod audit;
pub mod build;
mod checks;
pub mod env;
pub mod error;
mod healthcheck;
pub mod http;
mod instance;
mod keys;
mod links;
pub mod load;
pub mod model;
mod networks;
mod options;
mod ports;
pub mod pycompat;
mod read;
mod resources;
mod runopts;
pub mod schema;
mod service;
mod ships;
mod validate;
mod volumes;
pub mod yaml;

/// The YAML 1.1 scalar resolver, at its older path too (it lives in `yaml/`).
pub use yaml::pyvalue;

pub use build::{Loaded, Options};
pub use error::{ConfigError, Diagnostic};
pub use healthcheck::parse_duration;
pub use load::Source;
pub use ports::port_spec;

/// Loads a description: read, render, parse, build.
pub fn load(source: &Source, options: Options) -> Result<Loaded, ConfigError> {
    let parsed = load::read_with(source, load::process_environ())?;
    build::build(&parsed, options)
}

/// A description given as text, loaded as `t.yaml` of the current directory:
/// the unit tests' environments (a bad one fails the test with its message).
#[cfg(test)]
pub(crate) fn load_for_tests(yaml: &str) -> model::Environment {
    load_text(yaml.to_owned(), Options { strict: false })
        .unwrap_or_else(|e| panic!("{e}"))
        .environment
}

/// Service `a` (its own keys `service`) with instance `a-1` (`instance`, flow-mapping
/// entries) on one ship, loaded strictly: the key parsers' unit tests.
#[cfg(test)]
pub(crate) fn load_service_a(service: &str, instance: &str) -> Result<Loaded, String> {
    let text = format!(
        "name: t\nships: {{s1: {{ip: 10.0.0.1}}}}\nservices:\n  a:\n    image: busybox\n    {service}\n    instances:\n      a-1: {{ship: s1, {instance}}}\n"
    );
    load_text(text, Options { strict: true }).map_err(|e| e.to_string())
}

/// `text` loaded as `t.yaml` of the current directory: the unit tests' one way in
/// when they look at the error or the warnings too.
#[cfg(test)]
pub(crate) fn load_text(text: String, options: Options) -> Result<Loaded, ConfigError> {
    let source = Source::Text {
        text,
        name: "t.yaml".into(),
        base_dir: std::path::PathBuf::from("."),
    };
    load(&source, options)
}
