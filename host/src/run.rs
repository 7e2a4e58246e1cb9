//! Runs a parsed command line and maps the outcome to an exit status
//! (0 ok, 1 failure, 2 configuration or usage error).

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{self, Cli, Command, EnvFormat, PlanAction, PlanFormat, TreeFormat};
use crate::config::{self, Options, model::Environment};
use crate::output::{self, Level};
use crate::plan::{self, Action, Request};

/// Success.
pub const EXIT_OK: u8 = 0;
/// An operation failed (or is not available yet).
pub const EXIT_FAILURE: u8 = 1;
/// The configuration or the command line is wrong.
pub const EXIT_USAGE: u8 = 2;

/// MaestroNG's command list for `complete` (its `AVAILABLE_MAESTRO_COMMANDS`
/// plus the commands it has but does not list, and ours).
const COMMANDS: &[&str] = &[
    "status",
    "start",
    "stop",
    "restart",
    "pull",
    "clean",
    "logs",
    "deptree",
    "kill",
    "dump",
    "env",
    "plan",
    "completions",
    "ships",
];

/// Runs the command.
pub fn run(cli: Cli) -> ExitCode {
    ExitCode::from(match execute(&cli) {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            output::report(Level::Error, &message);
            code
        }
    })
}

struct Failure {
    code: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

fn emit(text: &str) -> Result<u8, Failure> {
    output::emit(text).map_err(|e| Failure {
        code: EXIT_FAILURE,
        message: format!("cannot write output: {e}"),
    })?;
    Ok(EXIT_OK)
}

fn load(cli: &Cli) -> Result<Environment, Failure> {
    let loaded = config::load(&cli::source_of(cli), Options { strict: cli.strict })
        .map_err(|e| usage(e.to_string()))?;
    for warning in &loaded.warnings {
        output::report(Level::Warning, &warning.to_string());
    }
    Ok(loaded.environment)
}

fn not_implemented(cli: &Cli, name: &str) -> Result<u8, Failure> {
    load(cli)?;
    Err(Failure {
        code: EXIT_FAILURE,
        message: format!(
            "{name}: not implemented yet (needs the Docker executor); `maestro plan` shows what it would do"
        ),
    })
}

fn request(
    things: &[String],
    c: &cli::Concurrent,
    e: Option<&cli::Expandable>,
    f: &cli::Filters,
) -> Request {
    Request {
        things: things.to_vec(),
        with_dependencies: c.with_dependencies,
        ignore_dependencies: c.ignore_dependencies,
        expand_services: e.is_some_and(|e| e.expand_services),
        all: e.is_some_and(|e| e.all),
        concurrency: c.concurrency,
        container_filter: f.container_filter.clone(),
        ship_filter: f.ship_filter.clone(),
    }
}

fn execute(cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Status(_) => not_implemented(cli, "status"),
        Command::Pull(_) => not_implemented(cli, "pull"),
        Command::Start(_) => not_implemented(cli, "start"),
        Command::Stop(_) => not_implemented(cli, "stop"),
        Command::Kill(_) => not_implemented(cli, "kill"),
        Command::Restart(_) => not_implemented(cli, "restart"),
        Command::Clean(_) => not_implemented(cli, "clean"),
        Command::Logs(_) => not_implemented(cli, "logs"),
        Command::Dump(_) => emit(&output::dump(&load(cli)?)),
        Command::Env(args) => {
            let env = load(cli)?;
            let Some(instance) = env.instance(&args.container) else {
                return Err(usage(format!("unknown container {:?}", args.container)));
            };
            emit(&match args.format {
                EnvFormat::Text => output::env_text(&instance.env),
                EnvFormat::Json => output::env_json(&instance.env),
            })
        }
        Command::Deptree(args) => {
            let env = load(cli)?;
            let roots =
                plan::deptree::roots(&env, &args.things).map_err(|e| usage(e.to_string()))?;
            emit(&match args.format {
                TreeFormat::Text => plan::deptree::text(&env, &roots, args.recursive),
                TreeFormat::Dot => output::deptree_dot(&env, &roots),
                TreeFormat::Mermaid => output::deptree_mermaid(&env, &roots),
            })
        }
        Command::Plan(args) => {
            let env = load(cli)?;
            let action = match args.action {
                PlanAction::Start => Action::Start,
                PlanAction::Stop => Action::Stop,
                PlanAction::Restart => Action::Restart,
                PlanAction::Kill => Action::Kill,
            };
            let expand = (action != Action::Start).then_some(&args.expand);
            let req = request(&args.things, &args.concurrent, expand, &args.filters);
            let plan = plan::plan(&env, action, &req).map_err(|e| usage(e.to_string()))?;
            emit(&match args.format {
                PlanFormat::Text => output::plan_text(&plan),
                PlanFormat::Json => output::plan_json(&plan),
            })
        }
        Command::Complete(args) => complete(cli, &args.tokens),
        Command::Ships(args) => ships(cli, args.format),
        Command::Completions(args) => {
            let shell = match args.shell {
                cli::Shell::Bash => clap_complete::Shell::Bash,
                cli::Shell::Zsh => clap_complete::Shell::Zsh,
                cli::Shell::Fish => clap_complete::Shell::Fish,
            };
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "maestro", &mut buf);
            emit(&String::from_utf8_lossy(&buf))
        }
    }
}

/// `maestro ships`: 0 when every ship answers, 1 otherwise.
fn ships(cli: &Cli, format: cli::ShipsFormat) -> Result<u8, Failure> {
    let env = load(cli)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: EXIT_FAILURE,
            message: format!("cannot start the async runtime: {e}"),
        })?;
    let reports = runtime.block_on(crate::ships::survey(&env));
    emit(&match format {
        cli::ShipsFormat::Text => output::ships_text(&reports),
        cli::ShipsFormat::Json => output::ships_json(&reports),
    })?;
    Ok(if reports.iter().all(|r| r.reachable) {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

/// MaestroNG's `complete`: the words typed so far (options dropped); the
/// second word completes a command, later words a service or container.
/// Choices print in a fixed order (MaestroNG's set order is random).
fn complete(cli: &Cli, tokens: &[String]) -> Result<u8, Failure> {
    let mut args: Vec<&str> = tokens
        .iter()
        .flat_map(|t| t.split(' '))
        .filter(|w| !w.starts_with('-'))
        .collect();
    let names;
    let choices: Vec<&str> = if args.len() <= 2 {
        COMMANDS.to_vec()
    } else {
        let env = load(cli)?;
        names = env
            .services
            .iter()
            .map(|s| s.name.clone())
            .chain(env.instances.iter().map(|i| i.name.clone()))
            .collect::<Vec<_>>();
        let mut seen = std::collections::HashSet::new();
        names
            .iter()
            .map(String::as_str)
            .filter(|n| seen.insert(*n))
            .collect()
    };
    let mut prefix = "";
    if args.len() == 2 {
        prefix = args[1];
        if choices.contains(&prefix) {
            args.push("");
        }
    }
    if args.len() > 2 {
        prefix = args.pop().unwrap_or("");
    }
    let matching: Vec<&str> = choices
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .collect();
    emit(&format!("{}\n", matching.join(" ")))
}
