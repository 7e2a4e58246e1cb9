//! The man pages `maestro man` writes for `maestro-guest` come from the
//! guest's clap definition compiled into the host (`maestro_guest::cli`),
//! not from the guest binary. This checks that the two cannot drift: the
//! built `maestro-guest` prints, for itself and each command, exactly the
//! `--help` that definition gives. No Docker needed.

use std::process::Command;

use clap::CommandFactory;

/// What the built binary prints for `maestro-guest ARGS --help`.
fn binary_help(args: &[&str]) -> String {
    let out = Command::new(maestro_e2e::bin("maestro-guest"))
        .args(args)
        .arg("--help")
        .env_remove("COLUMNS")
        .output()
        .expect("running maestro-guest --help");
    assert_eq!(out.status.code(), Some(0), "maestro-guest {args:?} --help");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// What the definition `maestro man` reads gives for the same command line.
fn definition_help(args: &[&str]) -> String {
    let line = std::iter::once("maestro-guest")
        .chain(args.iter().copied())
        .chain(["--help"]);
    match maestro_guest::cli::Cli::command().try_get_matches_from(line) {
        Ok(_) => panic!("{args:?} --help parsed as a command"),
        Err(e) => {
            assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp, "{args:?}");
            e.render().to_string()
        }
    }
}

#[test]
fn the_guest_binary_prints_the_help_its_man_pages_are_made_from() {
    assert_eq!(
        binary_help(&[]),
        definition_help(&[]),
        "maestro-guest --help"
    );
    let names: Vec<String> = maestro_guest::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(names.len() > 10, "{names:?}");
    for name in names {
        assert_eq!(
            binary_help(&[&name]),
            definition_help(&[&name]),
            "maestro-guest {name} --help"
        );
    }
}
