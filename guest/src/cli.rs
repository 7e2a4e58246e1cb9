//! The command line: one subcommand per guest function, plus `render`,
//! `run` and `wait`. Only argument shapes live here; each module does the work.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

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
  maestro-guest run --rewrite TERM:QUIT --stop-delay 5s -- nginx -g 'daemon off;'
  maestro-guest run --file-env -- my-app             # DB_PASSWORD_FILE=/run/secrets/db -> DB_PASSWORD
  maestro-guest render --reload-signal HUP /templates -- haproxy -f /etc/haproxy.cfg
  maestro-guest wait --status 200 --match 'status.*ok' http://api:8080/health
  maestro-guest wait https://api:8443/health         # verified against the image's CA bundle

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
    /// Wait until every TARGET accepts a TCP connection (or answers HTTP as asked).
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
    /// Forward signal FROM as TO (names or numbers; TO 0 drops it); repeatable.
    #[arg(long, value_name = "FROM:TO", value_parser = parse_rewrite, conflicts_with = "exec")]
    pub rewrite: Vec<Rewrite>,
    /// Hold the first SIGTERM/SIGINT this long before forwarding it (a second one goes at once).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "exec")]
    pub stop_delay: Option<Duration>,
    /// Turn every NAME_FILE=PATH variable into NAME=<PATH's content> (for templates and CMD).
    #[arg(long)]
    pub file_env: bool,
    /// Wait for TARGET (SERVICE, SERVICE:PORT, HOST:PORT, http:// or https://URL) before starting CMD.
    #[arg(long = "wait", value_name = "TARGET")]
    pub wait: Vec<String>,
    /// Seconds to wait for the --wait targets.
    #[arg(long = "wait-timeout", default_value_t = 60.0)]
    pub wait_timeout: f64,
    /// HTTP statuses that count as up for http(s):// --wait targets (e.g. 200,204 or 2xx).
    #[arg(long = "wait-status", value_name = "LIST", default_value = "2xx,3xx", value_parser = parse_statuses)]
    pub wait_status: Statuses,
    /// A regular expression the body of http(s):// --wait targets must match.
    #[arg(long = "wait-match", value_name = "REGEX", value_parser = parse_regex)]
    pub wait_match: Option<String>,
    /// Do not verify https:// --wait targets' certificates (CA and host name), like curl --insecure.
    #[arg(long = "wait-insecure")]
    pub wait_insecure: bool,
}

/// One `--rewrite FROM:TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewrite {
    /// The signal received.
    pub from: libc::c_int,
    /// The signal forwarded instead; 0 means none.
    pub to: libc::c_int,
}

fn parse_rewrite(text: &str) -> Result<Rewrite, String> {
    let (from, to) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not FROM:TO (e.g. TERM:QUIT, or 15:0 to drop)"))?;
    let from = crate::init::signals::parse(from, false)?;
    if !crate::init::signals::is_forwardable(from) {
        return Err(format!(
            "{} is never forwarded, so it cannot be rewritten",
            crate::init::signals::name(from)
        ));
    }
    let to = crate::init::signals::parse(to, true)?;
    Ok(Rewrite { from, to })
}

/// A duration: seconds (`5`, `0.5`), or a number with `ms`, `s` or `m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("{text:?} is not a duration (e.g. 5, 2.5s, 500ms, 1m)");
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        _ => return Err(invalid()),
    };
    let number: f64 = number.trim().parse().map_err(|_| invalid())?;
    Duration::try_from_secs_f64(number * scale).map_err(|_| invalid())
}

/// A set of HTTP statuses: codes, ranges (`200-299`) and classes (`2xx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statuses(pub Vec<(u16, u16)>);

impl Statuses {
    /// Whether `status` is in the set.
    pub fn contains(&self, status: u16) -> bool {
        self.0
            .iter()
            .any(|&(low, high)| (low..=high).contains(&status))
    }
}

/// Reads `--status`/`--wait-status`: comma-separated codes, ranges and classes.
pub fn parse_statuses(text: &str) -> Result<Statuses, String> {
    let invalid =
        |part: &str| format!("{part:?} is not an HTTP status, a range (200-299) or a class (2xx)");
    let code = |part: &str| -> Result<u16, String> {
        part.parse::<u16>()
            .ok()
            .filter(|n| (100..=599).contains(n))
            .ok_or_else(|| invalid(part))
    };
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let lower = part.to_ascii_lowercase();
            if let Some(class) = lower.strip_suffix("xx") {
                let class = code(&format!("{class}00"))?;
                return Ok((class, class + 99));
            }
            match part.split_once('-') {
                Some((low, high)) => {
                    let (low, high) = (code(low)?, code(high)?);
                    if low > high {
                        return Err(invalid(part));
                    }
                    Ok((low, high))
                }
                None => code(part).map(|n| (n, n)),
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Statuses)
}

/// Checks a `--match` pattern now, so that a typo is a usage error.
fn parse_regex(text: &str) -> Result<String, String> {
    crate::regex::Regex::new(text).map(|_| text.to_owned())
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
    /// On SIGHUP, render again and send SIG to CMD if a file changed.
    #[arg(long, value_name = "SIG", value_parser = parse_reload_signal, requires = "command", conflicts_with_all = ["check", "exec"])]
    pub reload_signal: Option<libc::c_int>,
    #[command(flatten)]
    pub supervise: Supervise,
    /// The program to run after rendering.
    #[arg(last = true)]
    pub command: Vec<OsString>,
}

fn parse_reload_signal(text: &str) -> Result<libc::c_int, String> {
    crate::init::signals::parse(text, false)
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Seconds before giving up on every target still down.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// How long one attempt (connect, HTTP request and answer) may take.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub attempt_timeout: Duration,
    /// HTTP statuses that count as up for http(s):// targets (e.g. 200,204 or 2xx).
    #[arg(long, value_name = "LIST", default_value = "2xx,3xx", value_parser = parse_statuses)]
    pub status: Statuses,
    /// A regular expression the body of http(s):// targets must match.
    #[arg(long = "match", value_name = "REGEX", value_parser = parse_regex)]
    pub body_match: Option<String>,
    /// Do not verify https:// targets' certificates (CA and host name), like curl --insecure.
    /// Otherwise they are checked against $SSL_CERT_FILE or /etc/ssl/certs/ca-certificates.crt.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Give up on TARGET (as written among the targets) after DURATION, before
    /// the overall --timeout; repeatable.
    #[arg(long = "timeout-for", value_name = "TARGET=DURATION", value_parser = parse_target_timeout)]
    pub timeout_for: Vec<(String, Duration)>,
    /// SERVICE, SERVICE:PORT, HOST:PORT or http[s]://HOST[:PORT]/PATH.
    #[arg(required = true)]
    pub targets: Vec<String>,
}

/// `TARGET=DURATION` of `wait --timeout-for` (the last `=` splits: a URL may hold one).
pub fn parse_target_timeout(text: &str) -> Result<(String, Duration), String> {
    let (target, duration) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("{text:?} is not TARGET=DURATION"))?;
    Ok((target.to_owned(), parse_duration(duration)?))
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
    use std::os::unix::ffi::OsStrExt;
    // Bytes are compared, not strings: `run -- CMD` then never touches the
    // UTF-8 check's code (a page fault less on every container start).
    let mut args = args.iter().skip(1);
    if args.next()?.as_bytes() != b"run" {
        return None;
    }
    let mut supervise = Supervise {
        group: false,
        grace: 5.0,
        exec: false,
        rewrite: Vec::new(),
        stop_delay: None,
        file_env: false,
        wait: Vec::new(),
        wait_timeout: 60.0,
        wait_status: Statuses(vec![(200, 299), (300, 399)]),
        wait_match: None,
        wait_insecure: false,
    };
    loop {
        let arg = args.next()?;
        if arg.as_bytes() == b"--" {
            break;
        }
        let arg = arg.to_str()?;
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
            "--group" if inline.is_none() => supervise.group = true,
            "--exec" if inline.is_none() => supervise.exec = true,
            "--file-env" if inline.is_none() => supervise.file_env = true,
            "--wait-insecure" if inline.is_none() => supervise.wait_insecure = true,
            "--rewrite" => supervise.rewrite.push(parse_rewrite(value()?).ok()?),
            "--stop-delay" => supervise.stop_delay = Some(parse_duration(value()?).ok()?),
            "--grace" => supervise.grace = value()?.parse().ok()?,
            "--wait-timeout" => supervise.wait_timeout = value()?.parse().ok()?,
            "--wait" => supervise.wait.push(value()?.to_owned()),
            _ => return None,
        }
    }
    let command: Vec<OsString> = args.cloned().collect();
    let needs_supervisor = !supervise.rewrite.is_empty() || supervise.stop_delay.is_some();
    if command.is_empty() || (supervise.exec && needs_supervisor) {
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
            &[
                "mg",
                "run",
                "--rewrite",
                "TERM:QUIT",
                "--rewrite=15:0",
                "--rewrite",
                "sigrtmin+1:usr1",
                "--stop-delay",
                "2.5s",
                "--file-env",
                "--",
                "a",
            ],
            &["mg", "run", "--stop-delay=300ms", "--group", "--", "a"],
            &[
                "mg",
                "run",
                "--wait",
                "https://api/health",
                "--wait-insecure",
                "--",
                "a",
            ],
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
            &["mg", "run", "--rewrite", "TERM", "--", "a"],
            &["mg", "run", "--rewrite", "CHLD:TERM", "--", "a"],
            &["mg", "run", "--rewrite", "TERM:99", "--", "a"],
            &["mg", "run", "--stop-delay", "5x", "--", "a"],
            &["mg", "run", "--stop-delay", "1", "--exec", "--", "a"],
            &["mg", "run", "--exec", "--rewrite", "1:2", "--", "a"],
            &["mg", "run", "--file-env=yes", "--", "a"],
            &["mg", "run", "--nope", "--", "a"],
            &["mg", "render", "--", "a"],
            &["mg"],
        ];
        for line in others {
            let os: Vec<OsString> = line.iter().map(OsString::from).collect();
            assert_eq!(parse_run_fast(&os), None, "{line:?}");
        }
        // Options the fast path leaves to clap are still accepted there.
        let slow = clap_run(&["mg", "run", "--wait-status", "200", "--", "a"]).unwrap();
        assert_eq!(slow.supervise.wait_status, Statuses(vec![(200, 200)]));
    }

    #[test]
    fn durations_statuses_and_rewrites_parse() {
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2.5s"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        for bad in ["", "-1", "x", "5h", "NaN", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_statuses("2xx,3xx"),
            Ok(Statuses(vec![(200, 299), (300, 399)]))
        );
        let set = parse_statuses("200, 401-403").unwrap();
        assert!(set.contains(200) && set.contains(402) && !set.contains(404));
        for bad in ["", "99", "600", "2x", "300-200", "abc"] {
            assert!(parse_statuses(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_rewrite("TERM:0"),
            Ok(Rewrite {
                from: libc::SIGTERM,
                to: 0
            })
        );
        assert!(parse_rewrite("KILL:TERM").unwrap_err().contains("SIGKILL"));
    }
}
