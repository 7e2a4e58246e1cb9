//! The command line: one subcommand per guest function, plus `render`,
//! `run` and `wait`. Only argument shapes live here; each module does the work.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exit statuses, documented in `--help`.
#[allow(dead_code)] // used as the subcommands land
pub mod exit {
    /// A query's value is missing (guestutils' `MaestroEnvironmentError`),
    /// a template failed, or a wait timed out.
    pub const FAILURE: u8 = 1;
    /// The command line was wrong.
    pub const USAGE: u8 = 2;
    /// The program to run exists but cannot be executed.
    pub const NOT_EXECUTABLE: u8 = 126;
    /// The program to run was not found.
    pub const NOT_FOUND: u8 = 127;
}

const AFTER_HELP: &str = "\
Examples:
  maestro-guest node-list zookeeper client          # 192.168.10.2:2181,192.168.10.2:2182
  maestro-guest port broker --default 9092
  maestro-guest render /templates -- kafka-server-start.sh /etc/kafka/server.properties
  maestro-guest run --wait zookeeper:client -- my-app

Exit status:
  0    success (run/render: the child's own status, 128+N if it died of signal N)
  1    a value is missing, a template failed, or a wait timed out
  2    usage error
  126  the program exists but cannot be executed
  127  the program was not found";

/// Guest-side toolkit for maestro and MaestroNG environments.
#[derive(Debug, Parser)]
#[command(name = "maestro-guest", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Query(Query),
    /// Run CMD as its init: forward signals, reap zombies, pass its exit status through.
    Run(RunArgs),
    /// Render templates from the topology, then optionally run CMD as `run` does.
    Render(RenderArgs),
    /// Wait until every TARGET accepts a TCP connection.
    Wait(WaitArgs),
}

/// Output options shared by every query.
#[derive(Debug, Args)]
pub struct Output {
    /// Print the value as JSON (what Python's json.dumps prints for the guestutils result).
    #[arg(long)]
    pub json: bool,
}

/// The guest functions of MaestroNG's `maestro.guestutils`.
#[derive(Debug, Subcommand)]
pub enum Query {
    /// get_environment_name(): the environment's name, `local` when unset.
    EnvironmentName(Output),
    /// get_service_name(): this container's service.
    ServiceName(Output),
    /// get_container_name(): this container's instance name.
    ContainerName(Output),
    /// get_container_host_address(): the address of this container's ship.
    HostAddress(Output),
    /// get_container_internal_address(): this container's own IPv4 address on eth0.
    InternalAddress(Output),
    /// get_port(NAME, default): this container's internal port NAME.
    Port {
        /// The port's name in the environment description.
        name: String,
        /// Answer this when the port is not defined (read as Python's int() would).
        #[arg(long)]
        default: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// get_node_list(SERVICE, ports, minimum): host[:port...] of every instance of SERVICE.
    NodeList {
        /// The service whose instances to list.
        service: String,
        /// Port names whose external numbers to append, in order, as `:N`.
        ports: Vec<String>,
        /// Fail when fewer instances are defined.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
        minimum: i64,
        /// What joins the nodes (ignored with --json).
        #[arg(long, default_value = ",")]
        separator: String,
        #[command(flatten)]
        output: Output,
    },
    /// get_specific_host(SERVICE, CONTAINER).
    SpecificHost {
        /// The service the container belongs to.
        service: String,
        /// The container (instance) name.
        container: String,
        #[command(flatten)]
        output: Output,
    },
    /// get_specific_port(SERVICE, CONTAINER, PORT, default): an external port.
    SpecificPort {
        /// The service the container belongs to.
        service: String,
        /// The container (instance) name.
        container: String,
        /// The port's name in the environment description.
        port: String,
        /// Answer this when the port is not defined (read as Python's int() would).
        #[arg(long)]
        default: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// get_specific_exposed_port(SERVICE, CONTAINER, PORT, default): an internal port.
    SpecificExposedPort {
        /// The service the container belongs to.
        service: String,
        /// The container (instance) name.
        container: String,
        /// The port's name in the environment description.
        port: String,
        /// Answer this when the port is not defined (read as Python's int() would).
        #[arg(long)]
        default: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// The whole topology this container sees, as JSON (always; `--json` is accepted too).
    Info(Output),
}

/// How the child is supervised (shared by `run` and `render -- CMD`).
#[derive(Debug, Args, PartialEq)]
pub struct Supervise {
    /// Forward signals to the child's whole process group.
    #[arg(long)]
    pub group: bool,
    /// Seconds the processes left behind by CMD get between SIGTERM and SIGKILL.
    #[arg(long, default_value_t = 5.0)]
    pub grace: f64,
    /// Replace maestro-guest with CMD instead of supervising it.
    #[arg(long)]
    pub exec: bool,
    /// Wait for TARGET (SERVICE, SERVICE:PORT or HOST:PORT) before starting CMD.
    #[arg(long = "wait", value_name = "TARGET")]
    pub wait: Vec<String>,
    /// Seconds to wait for the --wait targets.
    #[arg(long = "wait-timeout", default_value_t = 60.0)]
    pub wait_timeout: f64,
}

#[derive(Debug, Args, PartialEq)]
pub struct RunArgs {
    #[command(flatten)]
    pub supervise: Supervise,
    /// The program and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Directory that rendered files of a template directory go under.
    #[arg(long, default_value = "/")]
    pub to: PathBuf,
    /// Render and report, but write nothing (and run no CMD).
    #[arg(long)]
    pub check: bool,
    /// Template directories, or FILE:DEST pairs.
    #[arg(required = true)]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub supervise: Supervise,
    /// The program to run after rendering.
    #[arg(last = true)]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Seconds before giving up.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// SERVICE, SERVICE:PORT or HOST:PORT.
    #[arg(required = true)]
    pub targets: Vec<String>,
}

/// The common `maestro-guest run [OPTIONS] -- CMD...` line, read without
/// clap; `None` for anything else (help, errors, unusual spellings), which
/// then goes through clap.
///
/// This is PID 1's start-up path: building clap's parser costs about as
/// much CPU as the rest of the start-up, and its freed allocations would
/// stay resident for the container's whole life. A test checks that both
/// parsers agree.
pub fn parse_run_fast(args: &[OsString]) -> Option<RunArgs> {
    let mut args = args.iter().skip(1);
    if args.next()?.to_str()? != "run" {
        return None;
    }
    let mut supervise = Supervise {
        group: false,
        grace: 5.0,
        exec: false,
        wait: Vec::new(),
        wait_timeout: 60.0,
    };
    loop {
        let arg = args.next()?.to_str()?;
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value)),
            _ => (arg, None),
        };
        let mut value = || -> Option<&str> {
            let value = match inline {
                Some(value) => value,
                None => args.next()?.to_str()?,
            };
            (!value.starts_with('-')).then_some(value)
        };
        match name {
            "--" => break,
            "--group" if inline.is_none() => supervise.group = true,
            "--exec" if inline.is_none() => supervise.exec = true,
            "--grace" => supervise.grace = value()?.parse().ok()?,
            "--wait-timeout" => supervise.wait_timeout = value()?.parse().ok()?,
            "--wait" => supervise.wait.push(value()?.to_owned()),
            _ => return None,
        }
    }
    let command: Vec<OsString> = args.cloned().collect();
    if command.is_empty() {
        return None;
    }
    Some(RunArgs { supervise, command })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clap_run(line: &[&str]) -> Option<RunArgs> {
        match Cli::try_parse_from(line).ok()?.command {
            Command::Run(args) => Some(args),
            _ => None,
        }
    }

    #[test]
    fn the_fast_run_parser_agrees_with_clap() {
        let lines: &[&[&str]] = &[
            &["mg", "run", "--", "true"],
            &["mg", "run", "--", "sh", "-c", "exit 3", "--", "x"],
            &["mg", "run", "--group", "--grace", "0.5", "--", "sleep", "1"],
            &["mg", "run", "--grace=2", "--exec", "--", "a"],
            &[
                "mg",
                "run",
                "--wait",
                "zk:client",
                "--wait=db",
                "--wait-timeout",
                "3",
                "--",
                "a",
            ],
            &["mg", "run", "--", "--help"],
        ];
        for line in lines {
            let os: Vec<OsString> = line.iter().map(OsString::from).collect();
            let fast = parse_run_fast(&os);
            assert!(fast.is_some(), "{line:?}");
            assert_eq!(fast, clap_run(line), "{line:?}");
        }
        // Everything else is left to clap, which reports it properly.
        let others: &[&[&str]] = &[
            &["mg", "run"],
            &["mg", "run", "--"],
            &["mg", "run", "true"],
            &["mg", "run", "--help", "--", "x"],
            &["mg", "run", "--grace", "x", "--", "a"],
            &["mg", "run", "--grace", "-1", "--", "a"],
            &["mg", "run", "--group=1", "--", "a"],
            &["mg", "run", "--nope", "--", "a"],
            &["mg", "render", "--", "a"],
            &["mg"],
        ];
        for line in others {
            let os: Vec<OsString> = line.iter().map(OsString::from).collect();
            assert_eq!(parse_run_fast(&os), None, "{line:?}");
        }
    }
}
