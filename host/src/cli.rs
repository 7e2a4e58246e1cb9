//! Command-line arguments (clap derive): MaestroNG 0.8.3's commands and
//! flags, plus `env`, `plan`, `schema` and `completions`. No logic here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Examples and exit statuses, shown in `--help` (and in the man page).
pub const EXIT_CODES_HELP: &str = "\
Examples:
  maestro -f examples/demo/maestro.yaml plan start
  maestro start -d web                  # web and what it requires, in order
  maestro status --format json | jq -r '.[] | select(.state != \"running\") | .instance'
  maestro stop -a && maestro clean
  maestro logs -F -n 20 store
  maestro man --dir /usr/local/share/man/man1

Exit status:
  0  success (plays: every container ended done)
  1  failure (a container failed or was skipped because a dependency failed,
     a ship could not be reached, or the command is not available)
  2  configuration or usage error
  130  a play interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: no new step
       is begun, the running ones are let finish, the summary says what each
       container ended as; a second signal exits at once (same status) with
       the unfinished containers reported as such";

/// maestro: orchestrates Docker containers across many hosts, as MaestroNG does.
#[derive(Debug, Parser)]
#[command(
    name = "maestro",
    version,
    about = "Docker container orchestrator for multi-host environments (MaestroNG-compatible)",
    disable_version_flag = true,
    after_help = EXIT_CODES_HELP,
)]
pub struct Cli {
    /// Read the environment description from FILE (`-` for stdin).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        default_value = "maestro.yaml",
        global = true
    )]
    pub file: String,

    /// Treat unknown keys in the environment description as errors.
    #[arg(long, global = true)]
    pub strict: bool,

    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: Option<bool>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Display container status.
    Status(StatusArgs),
    /// Print the resolved environment description as JSON (secrets redacted).
    Dump(DumpArgs),
    /// Pull images from their registries.
    Pull(PullArgs),
    /// Start services and containers.
    Start(StartArgs),
    /// Stop services and containers.
    Stop(StopArgs),
    /// Kill services and containers.
    Kill(StopArgs),
    /// Restart services and containers.
    Restart(RestartArgs),
    /// Remove stopped containers (with --networks, --volumes: also the environment's
    /// networks and named volumes no container uses).
    #[command(after_help = CLEAN_HELP)]
    Clean(CleanArgs),
    /// Deploy a new version without an outage: pull first, replace changed containers
    /// in health-gated batches, roll a failed replacement back.
    Upgrade(UpgradeArgs),
    /// Put back the image each container ran before its last upgrade (batched and
    /// gated as upgrade).
    Rollback(UpgradeArgs),
    /// Show the logs of containers (one or several; -F follows them).
    Logs(LogsArgs),
    /// Show the dependency tree.
    Deptree(DeptreeArgs),
    /// Show the exact environment a container gets.
    Env(EnvArgs),
    /// Show the steps a command would take, without contacting any daemon.
    Plan(PlanArgs),
    /// Shell auto-completion helper: complete the words of a command line.
    Complete(CompleteArgs),
    /// Print a completion script for a shell.
    Completions(CompletionsArgs),
    /// Print the JSON Schema (draft 2020-12) of maestro.yaml, for editors and validators.
    #[command(after_help = SCHEMA_HELP)]
    Schema,
    /// Contact every ship: transport, whether it answers, engine (Docker or Podman) and API
    /// versions, and the environment's containers on it (exit status 0 when all answer,
    /// else 1).
    Ships(ShipsArgs),
    /// Print a man page, or write all of maestro's and maestro-guest's into a directory.
    Man(ManArgs),
    /// Write a maestro.yaml equivalent to a docker compose file; what it cannot express
    /// is listed as comments in the output and as warnings.
    #[command(name = "import-compose")]
    ImportCompose(ImportComposeArgs),
}

/// `import-compose`'s help after its options.
pub const IMPORT_COMPOSE_HELP: &str = "\
Examples:
  maestro import-compose                        # ./compose.yaml (or docker-compose.yml) -> ./maestro.yaml
  maestro -f prod.yaml import-compose docker-compose.yml \\
      --ship web1=10.0.0.1:2375 --ship web2=10.0.0.2:2375
  maestro import-compose -o - | less            # print instead of writing
  docker compose config | maestro import-compose - --ship a=10.0.0.1   # compose's own reading

Each compose service becomes a service whose instances (deploy.replicas, scale; one
per ship for deploy.mode: global) are placed on the --ship ships in turn (default:
one ship, local, on /var/run/docker.sock). Instances are named PROJECT-SERVICE-N, as
compose names containers; networks and volumes PROJECT_NAME. depends_on becomes
requires, and service_healthy also a health lifecycle check on the dependency.
${VAR} interpolation is kept as maestro's Jinja `env` (read when maestro runs, .env
values as defaults), except where the value must be read now (ports, counts,
durations): those are resolved from the environment and .env, with a warning.

Exit status:
  0  the description was written (warnings list what was not imported)
  1  the output could not be written
  2  the compose file cannot be read, or a usage error (an existing output
     without --force); with --strict, also when anything cannot be imported
     as it is (nothing is written then)";

/// `import-compose` arguments.
#[derive(Debug, Clone, Args)]
#[command(after_help = IMPORT_COMPOSE_HELP)]
pub struct ImportComposeArgs {
    /// The compose file, `-` for standard input (default: compose.yaml, compose.yml,
    /// docker-compose.yaml or docker-compose.yml in the current directory).
    #[arg(value_name = "COMPOSE_FILE")]
    pub compose_file: Option<PathBuf>,
    /// A ship for the instances: NAME=ADDRESS, ADDRESS being HOST[:PORT] or
    /// tcp://HOST[:PORT] (plain TCP, port 2375 by default) or unix:///PATH. Repeat it
    /// to spread replicas over several ships.
    #[arg(long = "ship", value_name = "NAME=ADDRESS")]
    pub ships: Vec<String>,
    /// The project name (default: the file's `name`, else its directory's name).
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    pub project: Option<String>,
    /// Where to write the description (`-` for standard output; default: the
    /// -f file, ./maestro.yaml).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
    /// How to report what was imported (on stdout; warnings go to stderr).
    #[arg(long, value_enum, default_value_t = ImportFormat::Text)]
    pub format: ImportFormat,
}

/// Output formats of `import-compose`'s report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// One line: what was written where.
    Text,
    /// A JSON object with the counts and every note.
    Json,
}

/// Examples of `man`, shown in its `--help`.
pub const MAN_HELP: &str = "\
Examples:
  maestro man | man -l -                          # read maestro(1) now
  maestro man maestro-guest | man -l -
  maestro man --dir /usr/local/share/man/man1     # install every page (then: mandb)
  maestro man --dir target/man maestro            # only maestro's pages

Exit status:
  0  the pages were written
  1  a page or the directory could not be written
  2  usage error";

/// The programs `man` has pages for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManProgram {
    /// The orchestrator: maestro(1) and maestro-COMMAND(1).
    Maestro,
    /// The container-side tool: maestro-guest(1) and maestro-guest-COMMAND(1).
    MaestroGuest,
}

/// `man` arguments.
#[derive(Debug, Clone, Args)]
#[command(after_help = MAN_HELP)]
pub struct ManArgs {
    /// Write every page of PROGRAM (default: both) into DIR (created if
    /// missing), one file per command (maestro.1, maestro-start.1, ...,
    /// maestro-guest.1, ...), and print their paths; without it, print PROGRAM's main page (default:
    /// maestro) on standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The program whose pages to print or write.
    #[arg(value_enum, value_name = "PROGRAM")]
    pub program: Option<ManProgram>,
}

/// Examples and exit statuses of `schema`, shown in its `--help`.
pub const SCHEMA_HELP: &str = "\
The schema is generated from the tables maestro's loader reads the file with:
every key it knows, with a description, the shapes it accepts and the allowed
values. Unknown keys are rejected, so an editor flags a misspelt key. It
describes the file after its Jinja pre-pass: tags outside YAML strings are
not YAML until rendered.

Examples:
  maestro schema > maestro.schema.json
  # then, first line of maestro.yaml (yaml-language-server, VS Code YAML):
  # yaml-language-server: $schema=./maestro.schema.json
  check-jsonschema --schemafile maestro.schema.json maestro.yaml

Exit status:
  0  the schema was printed
  1  it could not be written
  2  usage error";

/// Output formats of `ships`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShipsFormat {
    /// A table, then the reasons of the ships that did not answer.
    Text,
    /// JSON.
    Json,
}

/// `ships` arguments.
#[derive(Debug, Clone, Args)]
pub struct ShipsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ShipsFormat::Text)]
    pub format: ShipsFormat,
}

/// Output formats of `env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvFormat {
    /// `KEY=VALUE` lines in injection order.
    Text,
    /// A JSON object (null for a variable without value).
    Json,
}

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A table.
    Text,
    /// JSON.
    Json,
}

/// Output formats of `deptree`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TreeFormat {
    /// MaestroNG's tree.
    Text,
    /// A Graphviz digraph.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// JSON: the roots and, for each service reached, its direct dependencies
    /// and instances (`-r` changes nothing).
    Json,
}

/// `-c`, `-d`, `-i`.
#[derive(Debug, Clone, Args)]
pub struct Concurrent {
    /// Act on at most LIMIT containers at the same time (0: no limit).
    #[arg(short = 'c', long = "concurrency", value_name = "LIMIT")]
    pub concurrency: Option<usize>,
    /// Include the dependencies (dependents when stopping) of the things.
    #[arg(short = 'd', long = "with-dependencies")]
    pub with_dependencies: bool,
    /// Ignore dependency order: act on all containers at once.
    #[arg(short = 'i', long = "ignore-dependencies")]
    pub ignore_dependencies: bool,
}

/// `-C`, `-S`.
#[derive(Debug, Clone, Args)]
pub struct Filters {
    /// Only containers whose name matches PAT (shell pattern).
    #[arg(short = 'C', long = "container-filter", value_name = "PAT")]
    pub container_filter: Option<String>,
    /// Only containers on ships whose name matches PAT (shell pattern).
    #[arg(short = 'S', long = "ship-filter", value_name = "PAT")]
    pub ship_filter: Option<String>,
}

/// `-s`, `-a`.
#[derive(Debug, Clone, Args)]
pub struct Expandable {
    /// Service names stand for all their containers.
    #[arg(short = 's', long = "expand-services")]
    pub expand_services: bool,
    /// Act on every service (implies --expand-services).
    #[arg(short = 'a', long = "all")]
    pub all: bool,
}

/// `-r` | `--reuse`.
#[derive(Debug, Clone, Args)]
pub struct Refresh {
    /// Pull images even if present.
    #[arg(short = 'r', long = "refresh-images", conflicts_with = "reuse")]
    pub refresh_images: bool,
    /// Start existing stopped containers as they are instead of re-creating them.
    #[arg(long)]
    pub reuse: bool,
}

/// Exit statuses of `status`, shown in its `--help`.
pub const STATUS_EXIT_HELP: &str = "\
Exit status:
  0  every container asked for is running
  1  some container is not running, does not exist, or its ship cannot be reached
  2  configuration or usage error";

/// Exit statuses of `logs`, shown in its `--help`.
pub const LOGS_EXIT_HELP: &str = "\
With several containers (or a service of several instances), each line is
prefixed by its container's name; a single container's lines are printed as
they are. With -F, a container that stops is followed again when it starts
(or is re-created), until Ctrl-C or SIGTERM.

Exit status:
  0  every log was shown (with -F: until Ctrl-C or SIGTERM)
  1  some container does not exist or its ship cannot be reached
  2  configuration or usage error";

/// Output formats of a play's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlayFormat {
    /// A summary table after the progress.
    Text,
    /// The summary as JSON on stdout; the progress goes to stderr.
    Json,
}

/// `--format` of the plays (start, stop, kill, restart, pull, clean).
#[derive(Debug, Clone, Args)]
pub struct PlayOutput {
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = PlayFormat::Text)]
    pub format: PlayFormat,
}

/// Output formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A table.
    Text,
    /// A JSON array, one object per container.
    Json,
}

/// `status` arguments.
#[derive(Debug, Clone, Args)]
#[command(after_help = STATUS_EXIT_HELP)]
pub struct StatusArgs {
    /// Container or service names.
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    #[command(flatten)]
    pub concurrent: Concurrent,
    #[command(flatten)]
    pub filters: Filters,
    /// Show full status with port state.
    #[arg(short = 'F', long)]
    pub full: bool,
    /// Show ship addresses instead of names.
    #[arg(short = 'H', long = "show-hosts")]
    pub show_hosts: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
}

/// `dump` arguments.
#[derive(Debug, Clone, Args)]
pub struct DumpArgs {
    /// Container or service names (accepted for compatibility; the whole model is dumped).
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    /// Accepted for compatibility with MaestroNG (the dump always includes the configuration).
    #[arg(short = 'c', long)]
    pub config: bool,
}

/// `clean`'s examples.
pub const CLEAN_HELP: &str = "\
Examples:
  maestro clean                        remove every stopped container
  maestro clean --networks             also remove the networks labelled with this
                                       environment that no container (running or
                                       not) is attached to
  maestro clean --networks --volumes   likewise for the environment's named volumes;
                                       volumes are never removed without --volumes,
                                       nor ones maestro did not create";

/// `clean` arguments: `pull`'s, and what else to remove.
#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    #[command(flatten)]
    pub play: PullArgs,
    /// Also remove the environment's networks (labelled maestro.environment=NAME)
    /// that no container uses.
    #[arg(long)]
    pub networks: bool,
    /// Also remove the environment's named volumes (labelled likewise) that no
    /// container uses; without it, clean never removes a volume.
    #[arg(long)]
    pub volumes: bool,
}

/// `pull` and `clean` arguments.
#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Container or service names.
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    #[command(flatten)]
    pub concurrent: Concurrent,
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub output: PlayOutput,
}

/// `start` arguments.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Container or service names.
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    #[command(flatten)]
    pub concurrent: Concurrent,
    #[command(flatten)]
    pub refresh: Refresh,
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub output: PlayOutput,
}

/// `stop` and `kill` arguments (and the first of `upgrade`'s).
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Container or service names.
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    #[command(flatten)]
    pub concurrent: Concurrent,
    #[command(flatten)]
    pub expand: Expandable,
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub output: PlayOutput,
}

/// `restart` arguments.
#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// Container or service names.
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    #[command(flatten)]
    pub concurrent: Concurrent,
    #[command(flatten)]
    pub expand: Expandable,
    #[command(flatten)]
    pub refresh: Refresh,
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub output: PlayOutput,
    /// Seconds to wait between restarting two containers.
    #[arg(long = "step-delay", value_name = "N", default_value_t = 0)]
    pub step_delay: u64,
    /// Seconds to wait between stopping and starting a container.
    #[arg(long = "stop-start-delay", value_name = "N", default_value_t = 0)]
    pub stop_start_delay: u64,
    /// Only restart containers whose image changed.
    #[arg(long = "only-if-changed")]
    pub only_if_changed: bool,
}

/// `upgrade`'s and `rollback`'s examples and exit statuses, shown in their `--help`.
pub const UPGRADE_HELP: &str = "\
upgrade pulls every image it needs on every ship first (a failed pull stops it
before anything is touched), then, dependencies first, replaces each container
whose image id or creation configuration is not what the file asks: the old one
is stopped and kept aside as NAME.previous, the new one is created and must pass
its running checks (or stay up --min-up seconds); then the old one is removed.
A replacement that fails is removed and the old container is put back, started
and checked again, and the upgrade stops there. rollback puts back the image
each container ran before its last upgrade (by image id), the same way.

Examples:
  maestro upgrade -a                       every service, one instance at a time
  maestro upgrade -s web --batch 2         web's instances two at a time
  maestro upgrade -s web --step-delay 10 --min-up 20
  maestro plan upgrade -s web --observe    what would change, without changing it
  maestro rollback -s web                  back to the image before the upgrade

Exit status:
  0  every container is up to date (or rolled back, for rollback) and passed
  1  a pull failed (nothing was touched), a replacement failed and was rolled
     back (the summary names it, with its last log lines), or a ship failed
  2  configuration or usage error
  130/143  interrupted: the swaps under way are finished, no new one begins";

/// `upgrade` and `rollback` arguments.
#[derive(Debug, Clone, Args)]
#[command(after_help = UPGRADE_HELP)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub play: StopArgs,
    /// Replace at most N instances of one service at a time.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Seconds to wait between two batches of a service.
    #[arg(long = "step-delay", value_name = "SECONDS", default_value_t = 0)]
    pub step_delay: u64,
    /// Seconds a replacement without running checks must stay up to pass.
    #[arg(long = "min-up", value_name = "SECONDS", default_value_t = 5)]
    pub min_up: u64,
}

/// `logs` arguments.
#[derive(Debug, Clone, Args)]
#[command(after_help = LOGS_EXIT_HELP)]
pub struct LogsArgs {
    /// Containers or services (one or several).
    #[arg(value_name = "THING", required = true)]
    pub things: Vec<String>,
    /// Follow the log output.
    #[arg(short = 'F', long)]
    pub follow: bool,
    /// Show only the last LINES lines.
    #[arg(short = 'n', value_name = "LINES")]
    pub lines: Option<usize>,
}

/// `deptree` arguments.
#[derive(Debug, Clone, Args)]
pub struct DeptreeArgs {
    /// Container or service names (default: every service not omitted).
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    /// Show dependencies again wherever they appear.
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TreeFormat::Text)]
    pub format: TreeFormat,
}

/// `env` arguments.
#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// The container.
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EnvFormat::Text)]
    pub format: EnvFormat,
}

/// The commands `plan` can plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanAction {
    /// Start (dependencies first).
    Start,
    /// Stop (dependents first).
    Stop,
    /// Restart (dependents first).
    Restart,
    /// Kill (dependents first).
    Kill,
    /// Upgrade (dependencies first, in batches).
    Upgrade,
    /// Roll back (dependencies first, in batches).
    Rollback,
}

/// `plan` arguments.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The command to plan.
    #[arg(value_enum)]
    pub action: PlanAction,
    /// Container or service names.
    #[arg(value_name = "THING")]
    pub things: Vec<String>,
    #[command(flatten)]
    pub concurrent: Concurrent,
    #[command(flatten)]
    pub expand: Expandable,
    #[command(flatten)]
    pub filters: Filters,
    /// Ask the ships what each container is now, and show what the command would
    /// do to it (leave it, create it, pull its image, ...). Changes nothing.
    #[arg(long)]
    pub observe: bool,
    #[command(flatten)]
    pub refresh: Refresh,
    /// With `restart --observe`: as `restart --only-if-changed` would decide.
    #[arg(long = "only-if-changed")]
    pub only_if_changed: bool,
    /// With `upgrade`/`rollback`: at most N instances of one service at a time.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

/// `complete` arguments.
#[derive(Debug, Clone, Args)]
pub struct CompleteArgs {
    /// The command line typed so far.
    #[arg(value_name = "TOKENS", allow_hyphen_values = true)]
    pub tokens: Vec<String>,
}

/// Shells `completions` supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// `completions` arguments.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Where the description is read from, as given.
pub fn source_of(cli: &Cli) -> crate::config::Source {
    if cli.file == "-" {
        crate::config::Source::Stdin
    } else {
        crate::config::Source::File(PathBuf::from(&cli.file))
    }
}
