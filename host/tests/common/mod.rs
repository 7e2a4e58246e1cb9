//! What the integration tests share: a description loaded from text, as
//! `maestro -f` would load a file (template pre-pass with `vars` as the
//! environment, then the build), errors as their messages.

use std::collections::BTreeMap;
use std::path::Path;

use maestro::config::build::{self, Loaded, Options};
use maestro::config::load::{self, Source};

/// Loads `yaml` as the file `t.yaml` of directory `dir` (where its envfiles
/// and includes are looked up), with `vars` as the process environment.
pub fn load_text(
    yaml: &str,
    dir: &Path,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<Loaded, String> {
    let source = Source::Text {
        text: yaml.to_owned(),
        name: "t.yaml".into(),
        base_dir: dir.to_path_buf(),
    };
    let parsed = load::read(&source, vars).map_err(|e| e.to_string())?;
    build::build(&parsed, Options { strict }).map_err(|e| e.to_string())
}
