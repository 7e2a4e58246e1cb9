//! A `maestro.yaml` with a `ships:` block of the test's choosing, run with a home of
//! its own: for scenarios whose ships are not [`super::ships_yaml`]'s two.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maestro_e2e::Scope;

/// Writes `maestro.yaml` (the scope's prefix as `name:`, `ships`, then `rest`) into a
/// scratch dir; returns its path.
pub fn project_file(scope: &Scope, ships: &str, rest: &str) -> PathBuf {
    let dir = scope.scratch_dir("project");
    let file = dir.join("maestro.yaml");
    let text = format!("name: {}\n{ships}{rest}", scope.prefix());
    std::fs::write(&file, text).expect("writing maestro.yaml");
    file
}

/// Runs `maestro -f FILE ARGS` with a home of its own ([`maestro_own_home_cli`]).
pub fn maestro_own_home(scope: &Scope, file: &Path, args: &[&str]) -> Output {
    maestro_own_home_cli(scope, file, args)
        .output()
        .expect("running maestro")
}

/// `maestro -f FILE ARGS` with a home of its own (no Docker credentials but the
/// file's), not run yet: for a play watched while it runs.
pub fn maestro_own_home_cli(scope: &Scope, file: &Path, args: &[&str]) -> Command {
    let mut cmd = maestro_e2e::maestro_cli(file, args);
    cmd.env("HOME", scope.scratch_dir("home"));
    cmd
}
