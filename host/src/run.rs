//! Runs a parsed command line and maps the outcome to an exit status
//! (0 ok, 1 failure, 2 configuration or usage error, 130/143 interrupted by
//! SIGINT/SIGTERM).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use clap::CommandFactory;

use crate::cli::{self, Cli, Command, EnvFormat, PlanAction, PlanFormat, StatusFormat, TreeFormat};
use crate::config::{self, Options, model::Environment};
use crate::error::Error;
use crate::exit::{EXIT_FAILURE, EXIT_OK};
use crate::output::{self, Level};
use crate::plan::{self, Action, Request};
use crate::progress::Phase;
use crate::signals::{Interrupt, Interrupts};
use crate::{compose, connect, execute};

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
    "man",
    "schema",
    "import-compose",
    "upgrade",
    "rollback",
];

/// Runs the command.
pub fn run(cli: Cli) -> ExitCode {
    ExitCode::from(match execute(&cli) {
        Ok(code) => code,
        Err(error) => {
            output::report(Level::Error, &error.report());
            error.exit_code()
        }
    })
}

fn emit(text: &str) -> Result<u8, Error> {
    output::emit(text).map_err(Error::Output)?;
    Ok(EXIT_OK)
}

fn load(cli: &Cli) -> Result<Environment, Error> {
    let loaded = config::load(&cli::source_of(cli), Options { strict: cli.strict })?;
    for warning in &loaded.warnings {
        output::report(Level::Warning, &warning.to_string());
    }
    Ok(loaded.environment)
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
        batch: None,
    }
}

fn execute(cli: &Cli) -> Result<u8, Error> {
    match &cli.command {
        Command::Status(args) => status(cli, args),
        Command::Pull(a) => play(
            cli,
            Action::Pull,
            request(&a.things, &a.concurrent, None, &a.filters),
            execute::Options::default(),
            a.output.format,
        ),
        Command::Start(a) => play(
            cli,
            Action::Start,
            request(&a.things, &a.concurrent, None, &a.filters),
            execute::Options {
                refresh_images: a.refresh.refresh_images,
                reuse: a.refresh.reuse,
                ..Default::default()
            },
            a.output.format,
        ),
        Command::Stop(a) | Command::Kill(a) => play(
            cli,
            if matches!(cli.command, Command::Kill(_)) {
                Action::Kill
            } else {
                Action::Stop
            },
            request(&a.things, &a.concurrent, Some(&a.expand), &a.filters),
            execute::Options::default(),
            a.output.format,
        ),
        Command::Restart(a) => play(
            cli,
            Action::Restart,
            request(&a.things, &a.concurrent, Some(&a.expand), &a.filters),
            execute::Options {
                refresh_images: a.refresh.refresh_images,
                reuse: a.refresh.reuse,
                step_delay: Duration::from_secs(a.step_delay),
                stop_start_delay: Duration::from_secs(a.stop_start_delay),
                only_if_changed: a.only_if_changed,
                ..Default::default()
            },
            a.output.format,
        ),
        Command::Clean(a) => play(
            cli,
            Action::Clean,
            request(&a.play.things, &a.play.concurrent, None, &a.play.filters),
            execute::Options {
                sweep: execute::resources::SweepKinds {
                    networks: a.networks,
                    volumes: a.volumes,
                },
                ..Default::default()
            },
            a.play.output.format,
        ),
        Command::Upgrade(a) | Command::Rollback(a) => play(
            cli,
            if matches!(cli.command, Command::Rollback(_)) {
                Action::Rollback
            } else {
                Action::Upgrade
            },
            Request {
                batch: usize::try_from(a.batch).ok(),
                ..request(
                    &a.play.things,
                    &a.play.concurrent,
                    Some(&a.play.expand),
                    &a.play.filters,
                )
            },
            execute::Options {
                step_delay: Duration::from_secs(a.step_delay),
                min_up: Duration::from_secs(a.min_up),
                ..Default::default()
            },
            a.play.output.format,
        ),
        Command::Logs(args) => logs(cli, args),
        Command::Dump(_) => emit(&output::dump(&load(cli)?)),
        Command::Env(args) => env(cli, args),
        Command::Deptree(args) => deptree(cli, args),
        Command::Plan(args) => plan_command(cli, args),
        Command::Complete(args) => complete(cli, &args.tokens),
        Command::Ships(args) => ships(cli, args.format),
        Command::Completions(args) => completions(args.shell),
        Command::Man(args) => man(args),
        Command::Schema => emit(&output::schema(&config::schema::schema())),
        Command::ImportCompose(args) => import_compose(cli, args),
    }
}

/// `env CONTAINER`: the environment the container gets.
fn env(cli: &Cli, args: &cli::EnvArgs) -> Result<u8, Error> {
    let env = load(cli)?;
    let Some(instance) = env.instance(&args.container) else {
        return Err(Error::Usage(format!(
            "unknown container {:?}",
            args.container
        )));
    };
    emit(&match args.format {
        EnvFormat::Text => output::env_text(env.container_env(instance)),
        EnvFormat::Json => output::env_json(env.container_env(instance)),
    })
}

/// `deptree`: the services' dependencies as a tree or a graph.
fn deptree(cli: &Cli, args: &cli::DeptreeArgs) -> Result<u8, Error> {
    let env = load(cli)?;
    let roots = plan::deptree::roots(&env, &args.things)?;
    emit(&match args.format {
        TreeFormat::Text => plan::deptree::text(&env, &roots, args.recursive),
        TreeFormat::Dot => output::deptree_dot(&env, &roots),
        TreeFormat::Mermaid => output::deptree_mermaid(&env, &roots),
        TreeFormat::Json => output::deptree_json(&env, &roots),
    })
}

/// `plan ACTION`: the steps, in order and waves; with `--observe`, what the
/// command would do to each container now (exit 1 when a ship did not answer).
fn plan_command(cli: &Cli, args: &cli::PlanArgs) -> Result<u8, Error> {
    let env = load(cli)?;
    let action = match args.action {
        PlanAction::Start => Action::Start,
        PlanAction::Stop => Action::Stop,
        PlanAction::Restart => Action::Restart,
        PlanAction::Kill => Action::Kill,
        PlanAction::Upgrade => Action::Upgrade,
        PlanAction::Rollback => Action::Rollback,
    };
    let expand = (action != Action::Start).then_some(&args.expand);
    let req = Request {
        batch: args.batch.and_then(|b| usize::try_from(b).ok()),
        ..request(&args.things, &args.concurrent, expand, &args.filters)
    };
    let plan = plan::plan(&env, action, &req)?;
    if !args.observe {
        return emit(&match args.format {
            PlanFormat::Text => output::plan_text(&plan),
            PlanFormat::Json => output::plan_json(&plan),
        });
    }
    if action.swaps() {
        let observed = runtime()?.block_on(crate::observe::snapshot::swaps(&env, &plan));
        let unreachable = observed.iter().any(Result::is_err);
        emit(&match args.format {
            PlanFormat::Text => output::plan_swaps_text(&plan, &observed),
            PlanFormat::Json => output::plan_swaps_json(&plan, &observed),
        })?;
        return Ok(if unreachable { EXIT_FAILURE } else { EXIT_OK });
    }
    let choices = plan::decide::Choices {
        refresh_images: args.refresh.refresh_images,
        reuse: args.refresh.reuse,
        only_if_changed: args.only_if_changed,
    };
    let observed = runtime()?.block_on(crate::observe::snapshot::snapshot(&env, &plan));
    let decisions: Vec<_> = observed
        .into_iter()
        .map(|o| {
            o.map(|(seen, image)| {
                let decision = plan::decide::decide(action, &seen, &image, choices);
                (seen, image, decision)
            })
        })
        .collect();
    let unreachable = decisions.iter().any(Result::is_err);
    emit(&match args.format {
        PlanFormat::Text => output::plan_observed_text(&plan, &decisions),
        PlanFormat::Json => output::plan_observed_json(&plan, &decisions),
    })?;
    Ok(if unreachable { EXIT_FAILURE } else { EXIT_OK })
}

/// `completions SHELL`: the shell's completion script.
fn completions(shell: cli::Shell) -> Result<u8, Error> {
    let shell = match shell {
        cli::Shell::Bash => clap_complete::Shell::Bash,
        cli::Shell::Zsh => clap_complete::Shell::Zsh,
        cli::Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "maestro", &mut buf);
    emit(&String::from_utf8_lossy(&buf))
}

/// `man`: PROGRAM's main page on stdout, or every page of the programs into `--dir`
/// (created if missing; their paths printed, one a line). The guest's pages come from its own clap
/// definition (`maestro_guest::cli`), so they say what `maestro-guest --help` says.
fn man(args: &cli::ManArgs) -> Result<u8, Error> {
    use clap::CommandFactory as _;
    let maestro = || output::man::pages(Cli::command(), &["maestro-guest"]);
    let guest = || output::man::pages(maestro_guest::cli::Cli::command(), &["maestro"]);
    let Some(dir) = &args.dir else {
        let mut pages = match args.program {
            Some(cli::ManProgram::MaestroGuest) => guest(),
            _ => maestro(),
        };
        return emit(&pages.swap_remove(0).roff);
    };
    let pages = match args.program {
        Some(cli::ManProgram::Maestro) => maestro(),
        Some(cli::ManProgram::MaestroGuest) => guest(),
        None => maestro().into_iter().chain(guest()).collect(),
    };
    std::fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
        path: dir.clone(),
        source,
    })?;
    let mut written = String::new();
    for page in pages {
        let path = dir.join(&page.file);
        std::fs::write(&path, &page.roff).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
        written.push_str(&format!("{}\n", path.display()));
    }
    emit(&written)
}

/// A play (start, stop, kill, restart, clean, pull): plan, connect the ships the plan
/// touches (all at once), execute with the live view as reporter, print the summary.
/// Exit status: 0 when every container ended done, 130 (SIGINT) or 143 (SIGTERM) when
/// interrupted, else 1.
fn play(
    cli: &Cli,
    action: Action,
    req: Request,
    mut options: execute::Options,
    format: cli::PlayFormat,
) -> Result<u8, Error> {
    let env = Arc::new(load(cli)?);
    let plan = plan::plan(&env, action, &req)?;
    let sweep_ships = if options.sweep.networks || options.sweep.volumes {
        plan::resources::sweep_ships(&env, req.ship_filter.as_deref())
    } else {
        Vec::new()
    };
    if matches!(
        action,
        Action::Pull | Action::Start | Action::Restart | Action::Upgrade
    ) {
        let (config, warnings) = crate::credentials::DockerConfig::load_default();
        for warning in &warnings {
            output::report(Level::Warning, &warning.to_string());
        }
        options.docker_config = config.map(Arc::new);
    }
    let rt = runtime()?;
    // The audit trail: told before anything is done; an auditor failing then
    // (without `ignore_errors`) stops the play, as in MaestroNG 0.8.3.
    let audit = crate::audit::Audit::new(&env, matches!(format, cli::PlayFormat::Json))
        .filter(|_| crate::audit::audited(action))
        .map(Arc::new);
    let subjects = match &audit {
        Some(_) => crate::audit::subjects(&env, plan.steps.iter().map(|s| s.container.clone())),
        None => Vec::new(),
    };
    if let Some(a) = &audit {
        let what = crate::audit::message::What::Play(&subjects);
        let started = rt.block_on(a.action(crate::audit::INFO, what, action.as_str()));
        report_notes(a);
        if let Err(e) = started {
            return Err(Error::AuditBeforePlay {
                action: action.as_str(),
                source: e,
            });
        }
        options.audit = Some(a.clone());
    }
    let rows = plan
        .steps
        .iter()
        .map(|s| output::live::Row::new(&s.container, &s.service, &s.ship))
        .collect();
    // With JSON on stdout, the progress goes to stderr.
    let view = match format {
        cli::PlayFormat::Text => output::live::LiveView::stdout(rows),
        cli::PlayFormat::Json => output::live::LiveView::stderr(rows),
    };
    let clock = Instant::now();
    let first_signal = Arc::new(std::sync::Mutex::new(None::<Interrupt>));
    let finished = rt.block_on(async {
        let rx = watch_interrupts(
            first_signal.clone(),
            view.clone(),
            action.as_str(),
            format,
            clock,
        );
        let ships = connect::connect_all(
            &env,
            plan.steps
                .iter()
                .map(|s| s.ship.as_str())
                .chain(sweep_ships.iter().map(String::as_str)),
        )
        .await;
        for (ship, error) in ships.failures() {
            if plan.steps.iter().any(|s| s.ship == ship) {
                output::report(Level::Warning, &error.to_string());
            }
        }
        view.spawn_ticker();
        let reporter: Arc<dyn crate::progress::Reporter> = view.clone();
        let ships = Arc::new(ships);
        let sweep = options.sweep;
        let finished =
            execute::execute(env.clone(), &plan, ships.clone(), options, reporter, rx).await;
        // The networks and volumes go once the containers are gone (not after an
        // interrupt: the user asked to stop).
        let swept = if sweep_ships.is_empty() || finished.interrupted {
            Vec::new()
        } else {
            execute::resources::sweep(&env, &ships, &sweep_ships, sweep).await
        };
        (finished, swept)
    });
    let (finished, swept) = finished;
    view.finish();
    emit(&summary(
        action.as_str(),
        &view.rows(),
        &swept,
        clock,
        format,
    ))?;
    let sweep_failed = report_swept(&swept, format)?;
    let signal = *first_signal.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(a) = &audit {
        let what = crate::audit::message::What::Play(&subjects);
        if finished.ok() {
            rt.block_on(a.success(crate::audit::INFO, what, action.as_str()));
        } else {
            let message = play_failure(&view.rows(), signal.filter(|_| finished.interrupted));
            rt.block_on(a.error(crate::audit::INFO, what, action.as_str(), Some(&message)));
        }
        report_notes(a);
    }
    Ok(match signal {
        Some(signal) if finished.interrupted => signal.exit_code(),
        _ if finished.ok() && !sweep_failed => EXIT_OK,
        _ => EXIT_FAILURE,
    })
}

/// Prints what `clean --networks`/`--volumes` did after the text summary (the
/// JSON summary has it as `swept`); `true` when a network or volume could not
/// be swept.
fn report_swept(
    swept: &[execute::resources::Swept],
    format: cli::PlayFormat,
) -> Result<bool, Error> {
    if !swept.is_empty() {
        let text = output::swept::swept_text(swept);
        match format {
            cli::PlayFormat::Text => {
                emit(&text)?;
            }
            cli::PlayFormat::Json => {}
        }
    }
    Ok(swept
        .iter()
        .any(|s| matches!(s.outcome, execute::resources::SweptOutcome::Failed { .. })))
}

/// The play's summary of `rows` (and, in JSON, of what `clean --networks`/`--volumes`
/// swept), as `format` says.
fn summary(
    action: &str,
    rows: &[output::live::Row],
    swept: &[execute::resources::Swept],
    clock: Instant,
    format: cli::PlayFormat,
) -> String {
    let summary = output::summary::Summary::from_rows(action, rows, clock.elapsed());
    match format {
        cli::PlayFormat::Text => output::summary::summary_text(&summary, output::stdout_colour()),
        cli::PlayFormat::Json => output::summary::summary_json(&summary, swept),
    }
}

/// Takes SIGINT and SIGTERM for the play (needs the runtime): the first turns the
/// returned flag `true` (no new step begins) and is kept in `first_signal`; a second
/// does not wait for the running steps: the summary is printed with what they were
/// doing reported as unfinished, and the process ends.
fn watch_interrupts(
    first_signal: Arc<std::sync::Mutex<Option<Interrupt>>>,
    live: Arc<output::live::LiveView>,
    action: &'static str,
    format: cli::PlayFormat,
    clock: Instant,
) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    let mut interrupts = Interrupts::install();
    tokio::spawn(async move {
        let first = interrupts.next().await;
        *first_signal.lock().unwrap_or_else(|p| p.into_inner()) = Some(first);
        let _ = tx.send(true);
        let again = interrupts.next().await;
        live.finish();
        // A step still waiting has changed nothing: it is skipped, as after one signal.
        let rows: Vec<_> = live
            .rows()
            .into_iter()
            .map(|mut row| {
                if row.phase == Phase::Waiting {
                    row.phase = Phase::Skipped {
                        reason: "interrupted".into(),
                    };
                }
                row
            })
            .collect();
        let _ = output::emit(&summary(action, &rows, &[], clock, format));
        output::report(
            Level::Error,
            &format!(
                "{} again: exited without waiting for the running steps; \
                 an unfinished container may have been created or started",
                again.name()
            ),
        );
        std::process::exit(i32::from(first.exit_code()));
    });
    rx
}

/// Prints what the auditors had to say (failures passed over) as warnings.
fn report_notes(audit: &crate::audit::Audit) {
    for note in audit.take_notes() {
        output::report(Level::Warning, &note);
    }
}

/// The message of a failed play's `error` audit event: the first container
/// that failed and why, else the interruption, else the first skip.
fn play_failure(rows: &[output::live::Row], signal: Option<Interrupt>) -> String {
    if let Some((row, reason)) = rows.iter().find_map(|r| match &r.phase {
        Phase::Failed { reason, .. } => Some((r, reason)),
        _ => None,
    }) {
        return format!("{}: {reason}", row.container);
    }
    if let Some(signal) = signal {
        return format!("interrupted by {}", signal.name());
    }
    rows.iter()
        .find_map(|r| match &r.phase {
            Phase::Skipped { reason } => Some(format!("{}: skipped: {reason}", r.container)),
            _ => None,
        })
        .unwrap_or_else(|| "the play did not finish".into())
}

/// `maestro ships`: 0 when every ship answers, 1 otherwise.
fn ships(cli: &Cli, format: cli::ShipsFormat) -> Result<u8, Error> {
    let env = load(cli)?;
    let reports = runtime()?.block_on(crate::ships::survey(&env));
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

/// The compose file names compose looks for, in its order.
const COMPOSE_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// `import-compose`: writes the description, prints the notes as warnings,
/// then checks that the description loads.
fn import_compose(cli: &Cli, args: &cli::ImportComposeArgs) -> Result<u8, Error> {
    let compose_file = match &args.compose_file {
        Some(f) => f.clone(),
        None => COMPOSE_FILES
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "no compose file given and none of {} here",
                    COMPOSE_FILES.join(", ")
                ))
            })?,
    };
    // `-`: standard input (`docker compose config | maestro import-compose -`).
    let text = if compose_file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::Usage(format!("cannot read the compose file from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(&compose_file)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", compose_file.display())))?
    };
    let ships = args
        .ships
        .iter()
        .map(|s| compose::parse_ship(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    let dir_of = |p: &std::path::Path| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let dest = args.output.clone().unwrap_or_else(|| cli.file.clone());
    let to_stdout = dest == "-";
    let base_dir = dir_of(&compose_file);
    let out_dir = if to_stdout {
        std::path::PathBuf::from(".")
    } else {
        dir_of(std::path::Path::new(&dest))
    };
    if !to_stdout && !args.force && std::path::Path::new(&dest).exists() {
        return Err(Error::Usage(format!(
            "{dest} exists; give --force to overwrite it, or -o another file"
        )));
    }
    let options = compose::Options {
        file: compose_file.display().to_string(),
        vars: compose::Vars {
            environ: compose::environ(),
            dotenv: compose::dotenv(&base_dir),
        },
        base_dir,
        out_dir: out_dir.clone(),
        project: args.project.clone(),
        ships,
    };
    let imported = compose::import(&text, &options)?;
    for note in &imported.notes {
        output::report(Level::Warning, &note.to_string());
    }
    if cli.strict && !imported.notes.is_empty() {
        return Err(Error::Usage(format!(
            "--strict: {} thing(s) cannot be imported as they are (the warnings above); nothing was written",
            imported.notes.len()
        )));
    }
    if !to_stdout {
        std::fs::write(&dest, &imported.yaml).map_err(|source| Error::WriteFile {
            path: dest.clone().into(),
            source,
        })?;
    }
    // What was written must load; when it does not (an env file missing,
    // a key this maestro lacks), say so now rather than at the first play.
    let source = config::Source::Text {
        text: imported.yaml.clone(),
        name: if to_stdout { "-".into() } else { dest.clone() },
        base_dir: out_dir,
    };
    if let Err(e) = config::load(&source, Options { strict: false }) {
        output::report(
            Level::Warning,
            &format!("the imported description does not load yet: {e}"),
        );
    }
    match (args.format, to_stdout) {
        (cli::ImportFormat::Json, true) => emit(&output::import_json(&imported, None)),
        (cli::ImportFormat::Json, false) => emit(&output::import_json(&imported, Some(&dest))),
        (cli::ImportFormat::Text, true) => emit(&imported.yaml),
        (cli::ImportFormat::Text, false) => emit(&output::import_text(&imported, &dest)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    // A CLI waiting on a few daemons needs no thread pool.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// `status`: exit 0 only when every container asked for is running.
fn status(cli: &Cli, args: &cli::StatusArgs) -> Result<u8, Error> {
    let env = load(cli)?;
    let req = request(&args.things, &args.concurrent, None, &args.filters);
    let plan = plan::plan(&env, Action::Status, &req)?;
    let containers: Vec<String> = unique(plan.steps.iter().map(|s| s.container.clone()));
    let rows = runtime()?.block_on(crate::observe::status::status(&env, &containers, args.full));
    // Once per ship: the error names it.
    let mut told = std::collections::HashSet::new();
    for r in &rows {
        if let output::status::State::HostDown { error } = &r.state {
            if told.insert(r.ship.as_str()) {
                output::report(Level::Warning, error);
            }
        }
    }
    emit(&match args.format {
        StatusFormat::Text => {
            output::status::status_text(&rows, args.show_hosts, output::stdout_colour())
        }
        StatusFormat::Json => output::status::status_json(&rows),
    })?;
    Ok(if rows.iter().all(|r| r.running()) {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}

fn unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names.filter(|n| seen.insert(n.clone())).collect()
}

/// The terminal, as `logs` writes to it: each line prefixed as `format` says.
struct Terminal {
    format: output::logs::LogFormat,
}

impl crate::observe::logs::Sink for Terminal {
    fn line(&mut self, container: &str, text: &str) -> bool {
        output::emit_live(&self.format.line(container, text))
    }
    fn notice(&mut self, text: &str) {
        output::note(text);
    }
    fn error(&mut self, text: &str) {
        output::report(Level::Error, text);
    }
}

/// `logs`: one or several containers (services expand to their instances).
fn logs(cli: &Cli, args: &cli::LogsArgs) -> Result<u8, Error> {
    let env = load(cli)?;
    let req = Request {
        things: args.things.clone(),
        ignore_dependencies: true,
        ..Request::default()
    };
    let plan = plan::plan(&env, Action::Status, &req)?;
    let containers: Vec<String> = unique(plan.steps.iter().map(|s| s.container.clone()));
    let format = output::logs::LogFormat::for_containers(&containers, output::stdout_colour());
    let tail = match args.lines {
        Some(n) => crate::docker::LogTail::Last(n as u64),
        None => crate::docker::LogTail::All,
    };
    let mut terminal = Terminal { format };
    let ended = runtime()?.block_on(async {
        // SIGINT or SIGTERM ends the following as the end of the logs does. The
        // handlers are installed when following begins (the first poll): until
        // then a signal ends the process as usual.
        let shutdown = async {
            Interrupts::install().next().await;
        };
        crate::observe::logs::logs(
            &env,
            &containers,
            args.follow,
            tail,
            &mut terminal,
            shutdown,
        )
        .await
    });
    Ok(match ended {
        crate::observe::logs::Ended::Ok => EXIT_OK,
        crate::observe::logs::Ended::Failed => EXIT_FAILURE,
    })
}

/// MaestroNG's `complete`: the words typed so far (options dropped); the
/// second word completes a command, later words a service or container.
/// Choices print in a fixed order (MaestroNG's set order is random).
fn complete(cli: &Cli, tokens: &[String]) -> Result<u8, Error> {
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
