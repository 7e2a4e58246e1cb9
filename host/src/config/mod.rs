//! Configuration: `maestro.yaml` → typed, validated [`model::Environment`].
//!
//! No Docker and no async here: this module reads a file, renders it as a
//! template, parses YAML, and builds the model, with every error pointing at
//! a file position and a key path.

pub mod model;
