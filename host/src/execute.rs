//! The executor: walks a [`Plan`] against connected ships and decides nothing the plan
//! has not decided.
//!
//! A step starts once every step it `waits_for` is done, at most `concurrency` at a
//! time, independent containers in parallel. A step that fails (create, start, a
//! lifecycle check...) makes every step waiting on it — directly or not — skipped with
//! the reason; the others carry on. An interrupt stops the scheduling of new steps,
//! lets running ones finish, and skips the rest.
//!
//! What each step does follows MaestroNG 0.8.3's tasks (host/COMPAT.md § Plays): `start` leaves a
//! running container alone, runs `pre-start` checks, replaces a stopped container of
//! the same name (unless `--reuse`), has its image pulled when missing or `-r` (settled
//! once per ship and image at the start of the play: `images`), creates,
//! starts and waits for `running` checks; `stop` runs `pre-stop` checks, stops with the
//! container's `stop_timeout` and waits for `stopped` checks; `kill`, `restart`
//! (`--step-delay`, `--stop-start-delay`, `--only-if-changed`), `clean` and `pull`.
//!
//! Progress and outcomes go to the [`Reporter`] only: one final event (done, failed
//! with the last log lines, or skipped) per step.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::model::{Check, Environment, Instance};
use crate::connect::Ships;
use crate::docker::{DockerError, LogTail, PullEvent, Ship};
use crate::lifecycle::{self, Target};
use crate::observe::snapshot::{image_seen, seen};
use crate::plan::decide::{self, Choices, Halt, ImageSeen};
use crate::plan::{Action, Plan, Step};
use crate::progress::{Event, Phase, Reporter};
use crate::{credentials, resolve};

mod images;
pub mod resources;
mod swap;

use images::{Images, Settled};

/// How many log lines of a failed container are reported.
pub const FAILED_LOG_LINES: usize = 20;

/// How long a container may take to be seen running after its start (or down after
/// a kill) when it has no lifecycle checks for that state (MaestroNG: ~5 s).
const STATE_WAIT: Duration = Duration::from_secs(5);

/// How often the container's state is re-checked while lifecycle checks run.
const STATE_RECHECK: Duration = Duration::from_secs(1);

/// The command-line options that shape what a step does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-r`: pull images even when present.
    pub refresh_images: bool,
    /// `--reuse`: start an existing stopped container as it is.
    pub reuse: bool,
    /// `restart --step-delay`: wait before each restart but the first.
    pub step_delay: Duration,
    /// `restart --stop-start-delay`: wait between the stop and the start.
    pub stop_start_delay: Duration,
    /// `restart --only-if-changed`: leave running containers whose image is current.
    pub only_if_changed: bool,
    /// `upgrade`/`rollback --min-up`: how long a replacement without `running` checks
    /// must stay up to pass.
    pub min_up: Duration,
    /// The Docker client configuration (`~/.docker/config.json`) for registry
    /// credentials not given in the environment description.
    pub docker_config: Option<Arc<crate::credentials::DockerConfig>>,
    /// The auditors, told about each container's step (at `debug` level).
    pub audit: Option<Arc<crate::audit::Audit>>,
    /// `clean --networks`, `--volumes`: what to sweep once the containers are gone.
    pub sweep: resources::SweepKinds,
}

impl Options {
    /// The options that change what `decide` decides.
    pub fn choices(&self) -> Choices {
        Choices {
            refresh_images: self.refresh_images,
            reuse: self.reuse,
            only_if_changed: self.only_if_changed,
        }
    }
}

/// How a play ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Steps that ended done.
    pub done: usize,
    /// Steps that failed.
    pub failed: usize,
    /// Steps skipped (a dependency failed, or the play was interrupted).
    pub skipped: usize,
    /// Whether an interrupt stopped the scheduling.
    pub interrupted: bool,
}

impl Finished {
    /// Whether every step ended done.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.skipped == 0 && !self.interrupted
    }
}

/// A step's end.
#[derive(Debug, Clone)]
enum End {
    Done(String),
    Failed(String, Vec<String>),
    /// `upgrade`/`rollback`: the replacement failed (why, its last log lines) and the
    /// old container is back.
    RolledBack(String, Vec<String>),
}

/// What every step task shares.
struct Ctx {
    env: Arc<Environment>,
    ships: Arc<Ships>,
    options: Options,
    reporter: Arc<dyn Reporter>,
    action: Action,
    clock: Instant,
    /// The images settled early, per (ship, image).
    images: Images,
    /// The TLS configurations of `http` checks, built once per play.
    tls: lifecycle::TlsConfigs,
    /// The networks and named volumes made ready, per (ship, name).
    resources: resources::Ensured,
}

impl Ctx {
    fn emit(&self, inst: &Instance, phase: Phase) {
        self.reporter.event(Event {
            container: inst.name.clone(),
            service: inst.service.clone(),
            ship: inst.ship.clone(),
            phase,
            elapsed: self.clock.elapsed(),
        });
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Pending,
    Running,
    Done,
    /// Failed or skipped; the text is the root failure's name for dependents.
    NotDone(String),
}

/// Runs `plan` on `ships`, reporting to `reporter`; `interrupt` turning `true` stops
/// the scheduling of new steps.
pub async fn execute(
    env: Arc<Environment>,
    plan: &Plan,
    ships: Arc<Ships>,
    options: Options,
    reporter: Arc<dyn Reporter>,
    mut interrupt: watch::Receiver<bool>,
) -> Finished {
    let (images, jobs) = images::prepare(plan.action, &plan.steps, |c| {
        env.instance(c).map(|i| i.image.clone())
    });
    let ctx = Arc::new(Ctx {
        env,
        ships,
        options,
        reporter,
        action: plan.action,
        clock: Instant::now(),
        images,
        tls: lifecycle::TlsConfigs::new(),
        resources: resources::Ensured::default(),
    });
    // Dropped at the end of the play: a pull no step awaits any more is abandoned.
    let mut settling = JoinSet::new();
    for job in jobs {
        settling.spawn(images::settle(ctx.clone(), job));
    }
    let mut board = Board::new(&plan.steps);
    if plan.action.swaps() {
        // Every image is there (pulled, or the earlier one kept) before anything is
        // touched; else nothing is.
        let refused = swap::prepare(&ctx, &plan.steps).await;
        if !refused.is_empty() {
            return board.refuse(&ctx, refused);
        }
    }
    // The step whose failure stopped the play (`upgrade` stops at its first rollback).
    let mut halted: Option<String> = None;
    let limit = plan.concurrency.filter(|c| *c > 0).unwrap_or(usize::MAX);
    let mut running = 0usize;
    let mut tasks: JoinSet<(usize, End)> = JoinSet::new();
    let mut interrupted = false;
    loop {
        interrupted |= *interrupt.borrow();
        if !interrupted && halted.is_none() {
            board.skip_after_failures(&ctx);
            while running < limit {
                let Some(i) = board.next_ready() else { break };
                running += 1;
                ctx.images.leave(i);
                let ctx = ctx.clone();
                let step = plan.steps[i].clone();
                tasks.spawn(async move {
                    let end = AssertUnwindSafe(audited_step(&ctx, &step, i))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|_| {
                            End::Failed("internal error: the step panicked".into(), Vec::new())
                        });
                    (i, end)
                });
            }
        }
        if running == 0 {
            break;
        }
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            changed = interrupt.changed(), if !interrupted => {
                if changed.is_err() {
                    // The sender is gone: no interrupt can come any more.
                    tasks.join_next().await
                } else {
                    continue;
                }
            }
        };
        let Some(joined) = joined else { break };
        running -= 1;
        // Step tasks catch their panics and are never aborted, so a join error cannot
        // name its step; such a step is reported below as unfinished.
        let Ok((i, end)) = joined else { continue };
        if !matches!(end, End::Done(_))
            && crate::plan::swap::stops_on_failure(plan.action)
            && halted.is_none()
        {
            halted = Some(plan.steps[i].container.clone());
        }
        board.end(&ctx, i, end);
    }
    board.finish(&ctx, interrupted, halted.as_deref())
}

/// Where every step of a play stands, and which may start: a completion touches
/// only its dependents (a 1000-step play would else rescan every step and its
/// dependencies at each completion).
struct Board<'p> {
    steps: &'p [Step],
    state: Vec<State>,
    /// Per step: the positions of the steps it waits for.
    deps: Vec<Vec<usize>>,
    /// Per step: the steps waiting for it.
    dependents: Vec<Vec<usize>>,
    /// Per step: how many of the steps it waits for are not done.
    not_done: Vec<usize>,
    /// The steps free to start, in plan order.
    ready: std::collections::BTreeSet<usize>,
    /// A step failed since the last look for steps to skip.
    failures: bool,
    finished: Finished,
}

impl<'p> Board<'p> {
    fn new(steps: &'p [Step]) -> Board<'p> {
        let index: HashMap<&str, usize> = steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.container.as_str(), i))
            .collect();
        let deps: Vec<Vec<usize>> = steps
            .iter()
            .map(|s| {
                s.waits_for
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            })
            .collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        let not_done: Vec<usize> = deps.iter().map(Vec::len).collect();
        let ready = (0..steps.len()).filter(|&i| not_done[i] == 0).collect();
        Board {
            steps,
            state: vec![State::Pending; steps.len()],
            deps,
            dependents,
            not_done,
            ready,
            failures: false,
            finished: Finished {
                done: 0,
                failed: 0,
                skipped: 0,
                interrupted: false,
            },
        }
    }

    fn event(&self, ctx: &Ctx, i: usize, phase: Phase) -> Event {
        let s = &self.steps[i];
        Event {
            container: s.container.clone(),
            service: s.service.clone(),
            ship: s.ship.clone(),
            phase,
            elapsed: ctx.clock.elapsed(),
        }
    }

    /// Skips every pending step that waits, directly or not, on a failed one.
    fn skip_after_failures(&mut self, ctx: &Ctx) {
        // Repeat while something changed: a skip can make further steps skip.
        let mut changed = std::mem::take(&mut self.failures);
        while changed {
            changed = false;
            for i in 0..self.steps.len() {
                if self.state[i] != State::Pending {
                    continue;
                }
                let failed = self.deps[i].iter().find_map(|&j| match &self.state[j] {
                    State::NotDone(root) => Some(root.clone()),
                    _ => None,
                });
                if let Some(root) = failed {
                    ctx.images.leave(i);
                    let reason = format!("{root} failed");
                    ctx.reporter
                        .event(self.event(ctx, i, Phase::Skipped { reason }));
                    self.state[i] = State::NotDone(root);
                    self.ready.remove(&i);
                    self.finished.skipped += 1;
                    changed = true;
                }
            }
        }
    }

    /// The next step free to start, marked running.
    fn next_ready(&mut self) -> Option<usize> {
        while let Some(i) = self.ready.pop_first() {
            if self.state[i] == State::Pending {
                self.state[i] = State::Running;
                return Some(i);
            }
        }
        None
    }

    /// Records how step `i` ended and frees what waited only on it.
    fn end(&mut self, ctx: &Ctx, i: usize, end: End) {
        match end {
            End::Done(detail) => {
                self.state[i] = State::Done;
                self.finished.done += 1;
                for &j in &self.dependents[i] {
                    self.not_done[j] -= 1;
                    if self.not_done[j] == 0 {
                        self.ready.insert(j);
                    }
                }
                ctx.reporter
                    .event(self.event(ctx, i, Phase::Done { detail }));
            }
            End::Failed(reason, logs) => {
                self.state[i] = State::NotDone(self.steps[i].container.clone());
                self.finished.failed += 1;
                self.failures = true;
                ctx.reporter
                    .event(self.event(ctx, i, Phase::Failed { reason, logs }));
            }
            End::RolledBack(reason, logs) => {
                self.state[i] = State::NotDone(self.steps[i].container.clone());
                self.finished.failed += 1;
                self.failures = true;
                ctx.reporter
                    .event(self.event(ctx, i, Phase::RolledBack { reason, logs }));
            }
        }
    }

    /// Ends a play refused before any step began: the steps with a reason fail with
    /// it, the others are not touched.
    fn refuse(mut self, ctx: &Ctx, refused: Vec<(usize, String)>) -> Finished {
        let mut reasons: HashMap<usize, String> = refused.into_iter().collect();
        for i in 0..self.steps.len() {
            ctx.images.leave(i);
            let phase = match reasons.remove(&i) {
                Some(reason) => {
                    self.finished.failed += 1;
                    Phase::Failed {
                        reason: format!("{reason}; nothing was stopped"),
                        logs: Vec::new(),
                    }
                }
                None => {
                    self.finished.skipped += 1;
                    Phase::Skipped {
                        reason: "not touched: an image is missing (see above); nothing was \
                                 stopped"
                            .into(),
                    }
                }
            };
            ctx.reporter.event(self.event(ctx, i, phase));
        }
        self.finished
    }

    /// Reports what never ended (an internal error) or never began (interrupted).
    fn finish(mut self, ctx: &Ctx, interrupted: bool, halted: Option<&str>) -> Finished {
        self.finished.interrupted = interrupted;
        for i in 0..self.steps.len() {
            if self.state[i] == State::Running {
                self.finished.failed += 1;
                let phase = Phase::Failed {
                    reason: "internal error: the step ended without a result".into(),
                    logs: Vec::new(),
                };
                ctx.reporter.event(self.event(ctx, i, phase));
            } else if self.state[i] == State::Pending {
                ctx.images.leave(i);
                self.finished.skipped += 1;
                let reason = match halted {
                    Some(root) if !interrupted => format!(
                        "not touched: the {} stopped after {root} failed",
                        ctx.action.as_str()
                    ),
                    _ => {
                        self.finished.interrupted = true;
                        "interrupted".into()
                    }
                };
                let phase = Phase::Skipped { reason };
                ctx.reporter.event(self.event(ctx, i, phase));
            }
        }
        self.finished
    }
}

/// Runs one step between the auditors' `action` and `success`/`error` (0.8.3's
/// `Task.run`): an auditor failing in `action` fails the step before it does anything.
async fn audited_step(ctx: &Ctx, step: &Step, index: usize) -> End {
    let Some(audit) = ctx.options.audit.clone() else {
        return run_step(ctx, step, index).await;
    };
    let subjects = crate::audit::subjects(&ctx.env, std::iter::once(step.container.clone()));
    let Some(subject) = subjects.first() else {
        return run_step(ctx, step, index).await;
    };
    let what = crate::audit::message::What::Container(subject);
    let action = ctx.action.as_str();
    if let Err(e) = audit.action(crate::audit::DEBUG, what, action).await {
        return End::Failed(format!("audit: {e}"), Vec::new());
    }
    let end = run_step(ctx, step, index).await;
    match &end {
        End::Done(_) => audit.success(crate::audit::DEBUG, what, action).await,
        End::Failed(reason, _) | End::RolledBack(reason, _) => {
            audit
                .error(crate::audit::DEBUG, what, action, Some(reason))
                .await
        }
    }
    end
}

/// Runs one step and, when it fails on an existing container, fetches its last logs.
async fn run_step(ctx: &Ctx, step: &Step, index: usize) -> End {
    let Some(inst) = ctx.env.instance(&step.container) else {
        return End::Failed(format!("unknown container {}", step.container), Vec::new());
    };
    let ship = match ctx.ships.get(&inst.ship) {
        Ok(ship) => ship.clone(),
        Err(e) => return End::Failed(e.to_string(), Vec::new()),
    };
    let result = match ctx.action {
        Action::Start => start(ctx, inst, &ship, ctx.options.refresh_images).await,
        Action::Stop => stop(ctx, inst, &ship, false).await,
        Action::Kill => stop(ctx, inst, &ship, true).await,
        Action::Restart => restart(ctx, inst, &ship, index).await,
        Action::Clean => clean(ctx, inst, &ship).await,
        Action::Pull => pull(ctx, inst, &ship).await.map(|()| "pulled".to_owned()),
        Action::Status => Ok(String::new()),
        Action::Upgrade | Action::Rollback => {
            return swap::swap_step(ctx, inst, &ship, step.batch.unwrap_or(0)).await;
        }
    };
    match result {
        Ok(detail) => End::Done(detail),
        Err(Failure { reason, logs: true }) => End::Failed(reason, last_logs(&ship, inst).await),
        Err(Failure {
            reason,
            logs: false,
        }) => End::Failed(reason, Vec::new()),
    }
}

/// The container's last [`FAILED_LOG_LINES`] log lines (none when they cannot be had).
async fn last_logs(ship: &Ship, inst: &Instance) -> Vec<String> {
    match ship
        .logs(&inst.name, LogTail::Last(FAILED_LOG_LINES as u64))
        .await
    {
        Ok(lines) => lines.into_iter().map(|l| l.text).collect(),
        Err(_) => Vec::new(),
    }
}

/// Why a step failed, and whether the container's logs tell more.
struct Failure {
    reason: String,
    logs: bool,
}

fn fail(reason: impl std::fmt::Display) -> Failure {
    Failure {
        reason: reason.to_string(),
        logs: false,
    }
}

fn fail_with_logs(reason: impl std::fmt::Display) -> Failure {
    Failure {
        reason: reason.to_string(),
        logs: true,
    }
}

fn target<'a>(ctx: &'a Ctx, inst: &'a Instance, ship: &'a Ship) -> Target<'a> {
    Target {
        instance: inst,
        env: ctx.env.container_env(inst),
        ship_ip: ctx.env.ship(&inst.ship).map_or("", |s| s.ip.as_str()),
        ship: Some(ship),
        tls: &ctx.tls,
    }
}

fn check_names(checks: &[Check]) -> String {
    checks
        .iter()
        .map(lifecycle::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `checks` while re-checking every second that the container is (`running`)
/// or is not (`!running`) running; the checks fail as soon as it is not so.
async fn checks_while(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
    checks: &[Check],
    running: bool,
) -> Result<(), String> {
    let watch = async {
        loop {
            tokio::time::sleep(STATE_RECHECK).await;
            match ship.inspect(&inst.name).await {
                Ok(Some(info)) if info.state.running == running => {}
                Ok(Some(info)) if running => {
                    return format!(
                        "the container stopped (exit status {})",
                        info.state.exit_code.unwrap_or(-1)
                    );
                }
                Ok(Some(_)) => return "the container is running again".to_owned(),
                Ok(None) if running => return "the container disappeared".to_owned(),
                Ok(None) => {}
                // A daemon hiccup is not the container's state: keep checking.
                Err(_) => {}
            }
        }
    };
    tokio::select! {
        r = lifecycle::run_all(checks, target(ctx, inst, ship)) => r.map_err(|e| e.to_string()),
        reason = watch => Err(reason),
    }
}

/// Waits until the container is (or is not) running, polling fast then slower.
async fn wait_state(
    ship: &Ship,
    name: &str,
    running: bool,
    within: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(20);
    loop {
        let last = match ship.inspect(name).await {
            Ok(Some(info)) if info.state.running == running => return Ok(()),
            Ok(Some(info)) if running => {
                let why = format!(
                    "the container is not running (status {}, exit status {})",
                    info.state.status,
                    info.state.exit_code.unwrap_or(-1)
                );
                // Exited for good (no restart under way): no point in waiting.
                if matches!(info.state.status.as_str(), "exited" | "dead") {
                    return Err(why);
                }
                why
            }
            Ok(Some(_)) => "the container is still running".to_owned(),
            Ok(None) if !running => return Ok(()),
            Ok(None) => "the container does not exist".to_owned(),
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

fn up_for(started_at: Option<&str>) -> String {
    match started_at.and_then(|s| crate::observe::time::since(s, crate::observe::time::now_secs()))
    {
        Some(d) => format!("up for {}", crate::observe::time::uptime(d)),
        None => "up".to_owned(),
    }
}

/// How many times `start` observes and decides again when another play (a second
/// `maestro start` on the same environment) changes the container meanwhile: each
/// round, one of the plays gets its way, so a few rounds converge. Rounds are
/// 50 ms apart, doubling: a daemon reserves a name before the container can be
/// inspected, and a round in that window would see it neither absent nor there.
const CONTENTION_ROUNDS: u32 = 6;

/// Why creating or starting a container did not happen.
enum Refused {
    /// Another play acted on the container first: observe it again. The
    /// daemon's refusal, for the message if the plays never converge.
    Contended(DockerError),
    /// The step fails.
    Failed(Failure),
}

/// A daemon's refusal of `op`, classified by `decide::contended`; `Ok` when the
/// other play already did what `op` meant to.
fn refused(op: decide::Op, error: DockerError, with_logs: bool) -> Result<(), Refused> {
    match decide::contended(op, error.status()) {
        decide::Contention::Done => Ok(()),
        decide::Contention::Reobserve => Err(Refused::Contended(error)),
        decide::Contention::Fail if with_logs => Err(Refused::Failed(fail_with_logs(error))),
        decide::Contention::Fail => Err(Refused::Failed(fail(error))),
    }
}

async fn start(ctx: &Ctx, inst: &Instance, ship: &Ship, refresh: bool) -> Result<String, Failure> {
    let name = &inst.name;
    let mut choices = ctx.options.choices();
    let mut contended = false;
    let mut last_refusal = None;
    let mut pre_checked = false;
    for round in 0..CONTENTION_ROUNDS {
        if contended {
            tokio::time::sleep(Duration::from_millis(50 << round)).await;
        }
        let observed = if round == 0 {
            swap::resolve_on_start(ctx, inst, ship).await?
        } else {
            ship.inspect(name).await.map_err(fail)?
        };
        let decision = decide::start(&seen(observed.as_ref()), choices);
        if let decide::Start::LeaveRunning { started_at } = &decision {
            if !contended {
                return Ok(up_for(started_at.as_deref()));
            }
            // The other play started it a moment ago: it counts as started once
            // it passes its checks, as if this play had started it.
            confirm_started(ctx, inst, ship).await?;
            return Ok("started (by another play)".to_owned());
        }
        let pre = &inst.lifecycle.pre_start;
        if !pre.is_empty() && !pre_checked {
            ctx.emit(inst, Phase::PreChecks);
            lifecycle::run_all(pre, target(ctx, inst, ship))
                .await
                .map_err(|e| fail(format!("pre-start checks failed: {e}")))?;
            pre_checked = true;
        }
        match create_and_start(ctx, inst, ship, refresh, &decision).await {
            Ok(()) => {
                confirm_started(ctx, inst, ship).await?;
                let reuse = decision == decide::Start::StartAsIs;
                return Ok(match (reuse, contended) {
                    (_, true) => "started (after another play)",
                    (true, false) => "started (reused)",
                    (false, false) => "started",
                }
                .to_owned());
            }
            Err(Refused::Contended(refusal)) => {
                // A container the other play has just created is its to start,
                // not ours to replace.
                contended = true;
                last_refusal = Some(refusal);
                choices.reuse = true;
            }
            Err(Refused::Failed(failure)) => return Err(failure),
        }
    }
    let last = last_refusal.map_or_else(String::new, |e| format!(" (last: {e})"));
    Err(fail(format!(
        "another play kept changing container {name}: gave up after {CONTENTION_ROUNDS} \
         rounds{last}"
    )))
}

/// Performs `start`'s decision up to the daemon's start: removes the stopped
/// container, makes sure of the image, creates, starts.
async fn create_and_start(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
    refresh: bool,
    decision: &decide::Start,
) -> Result<(), Refused> {
    let name = &inst.name;
    if let decide::Start::Create { remove_old } = *decision {
        let spec = resolve::container_spec(&ctx.env, inst).map_err(|e| Refused::Failed(fail(e)))?;
        if remove_old {
            ctx.emit(inst, Phase::Removing);
            if let Err(e) = ship.remove(name).await {
                refused(decide::Op::Remove, e, false)?;
            }
        }
        image_ready(ctx, inst, ship, refresh)
            .await
            .map_err(Refused::Failed)?;
        // Its networks and named volumes exist before it does.
        resources::ready(ctx, inst, ship)
            .await
            .map_err(|e| Refused::Failed(fail(e)))?;
        ctx.emit(inst, Phase::Creating);
        if let Err(e) = ship.create(&spec).await {
            return refused(decide::Op::Create, e, false);
        }
    }
    ctx.emit(inst, Phase::Starting);
    match ship.start(name).await {
        Ok(()) => Ok(()),
        Err(e) => refused(decide::Op::Start, e, true),
    }
}

/// Waits until a started container is up and has passed its `running` checks.
async fn confirm_started(ctx: &Ctx, inst: &Instance, ship: &Ship) -> Result<(), Failure> {
    let name = &inst.name;
    let up = async {
        wait_state(ship, name, true, STATE_WAIT)
            .await
            .map_err(|e| format!("container did not start: {e}"))
    };
    let running = &inst.lifecycle.running;
    if running.is_empty() {
        up.await.map_err(fail_with_logs)?;
    } else {
        // The checks begin at once; the container being up is confirmed meanwhile
        // (a round trip less before a service is seen ready).
        ctx.emit(
            inst,
            Phase::Checking {
                check: check_names(running),
            },
        );
        let checks = async {
            checks_while(ctx, inst, ship, running, true)
                .await
                .map_err(|e| format!("running checks failed: {e}"))
        };
        futures_util::future::try_join(up, checks)
            .await
            .map_err(fail_with_logs)?;
        // The watch above lets daemon errors pass (a hiccup is not the container's
        // state), and checks such as `sleep` do not contact the ship: confirm the
        // container runs before calling it started.
        match ship.inspect(name).await {
            Ok(Some(info)) if info.state.running => {}
            Ok(Some(info)) => {
                return Err(fail_with_logs(format!(
                    "the container stopped during its running checks (exit status {})",
                    info.state.exit_code.unwrap_or(-1)
                )));
            }
            Ok(None) => {
                return Err(fail("the container disappeared during its running checks"));
            }
            Err(e) => {
                return Err(fail(format!(
                    "running checks passed, but the container's state could not be \
                     confirmed: {e}"
                )));
            }
        }
    }
    Ok(())
}

/// Starts a created (or stopped) container and waits until it passes its `running`
/// checks, or, without checks, until it is seen running and then, with `min_up`,
/// stays up that long (the gate of an `upgrade`'s replacement).
async fn start_gated(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
    min_up: Option<Duration>,
) -> Result<(), Failure> {
    ctx.emit(inst, Phase::Starting);
    ship.start(&inst.name).await.map_err(fail_with_logs)?;
    confirm_started(ctx, inst, ship).await?;
    if let Some(min_up) = min_up.filter(|d| !d.is_zero() && inst.lifecycle.running.is_empty()) {
        ctx.emit(
            inst,
            Phase::StayingUp {
                secs: min_up.as_secs(),
            },
        );
        stays_up(ship, &inst.name, min_up)
            .await
            .map_err(fail_with_logs)?;
    }
    Ok(())
}

/// Watches a running container for `within`: fails as soon as it is seen not running.
async fn stays_up(ship: &Ship, name: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        match ship.inspect(name).await {
            Ok(Some(info)) if info.state.running => {}
            Ok(Some(info)) => {
                return Err(format!(
                    "the container exited within {}s of its start (exit status {})",
                    within.as_secs(),
                    info.state.exit_code.unwrap_or(-1)
                ));
            }
            Ok(None) => return Err("the container disappeared".to_owned()),
            // A daemon hiccup is not the container's state.
            Err(_) => {}
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        tokio::time::sleep(left.min(Duration::from_millis(250))).await;
    }
}

async fn stop(ctx: &Ctx, inst: &Instance, ship: &Ship, kill: bool) -> Result<String, Failure> {
    let name = &inst.name;
    let observed = ship.inspect(name).await.map_err(fail)?;
    match decide::halt(&seen(observed.as_ref())) {
        Halt::Absent => return Ok("absent".to_owned()),
        Halt::AlreadyDown => return Ok("down".to_owned()),
        Halt::Halt => {}
    }
    let pre = &inst.lifecycle.pre_stop;
    if !kill && !pre.is_empty() {
        ctx.emit(inst, Phase::PreChecks);
        lifecycle::run_all(pre, target(ctx, inst, ship))
            .await
            .map_err(|e| fail(format!("pre-stop checks failed: {e}")))?;
    }
    if kill {
        ctx.emit(inst, Phase::Killing);
        ship.kill(name).await.map_err(fail_with_logs)?;
    } else {
        ctx.emit(inst, Phase::Stopping);
        let secs = u32::try_from(inst.stop_timeout).unwrap_or(u32::MAX);
        ship.stop(name, secs).await.map_err(fail_with_logs)?;
    }
    let stopped = &inst.lifecycle.stopped;
    if stopped.is_empty() {
        wait_state(ship, name, false, STATE_WAIT)
            .await
            .map_err(|e| fail_with_logs(format!("container did not stop: {e}")))?;
    } else {
        ctx.emit(
            inst,
            Phase::Checking {
                check: check_names(stopped),
            },
        );
        checks_while(ctx, inst, ship, stopped, false)
            .await
            .map_err(|e| fail_with_logs(format!("stopped checks failed: {e}")))?;
    }
    Ok(if kill { "killed" } else { "stopped" }.to_owned())
}

async fn restart(ctx: &Ctx, inst: &Instance, ship: &Ship, index: usize) -> Result<String, Failure> {
    if ctx.options.refresh_images {
        image_ready(ctx, inst, ship, true).await?;
    }
    if ctx.options.only_if_changed {
        // Observed only when it can matter: the image only for a running container.
        let observed = seen(ship.inspect(&inst.name).await.map_err(fail)?.as_ref());
        let image = if observed.running() {
            let info = ship.image_info(&inst.image).await.map_err(fail)?;
            image_seen(&inst.image, info.as_ref())
        } else {
            ImageSeen::Unknown
        };
        if decide::restart(&observed, &image, ctx.options.choices()) == decide::Restart::UpToDate {
            return Ok("up to date".to_owned());
        }
    }
    if index > 0 && !ctx.options.step_delay.is_zero() {
        tokio::time::sleep(ctx.options.step_delay).await;
    }
    stop(ctx, inst, ship, false).await?;
    if !ctx.options.stop_start_delay.is_zero() {
        tokio::time::sleep(ctx.options.stop_start_delay).await;
    }
    start(ctx, inst, ship, false).await?;
    Ok("restarted".to_owned())
}

async fn clean(ctx: &Ctx, inst: &Instance, ship: &Ship) -> Result<String, Failure> {
    let observed = ship.inspect(&inst.name).await.map_err(fail)?;
    match decide::clean(&seen(observed.as_ref())) {
        decide::Clean::Absent => Ok("absent".to_owned()),
        decide::Clean::LeaveRunning => Ok("running, left alone".to_owned()),
        decide::Clean::Remove => {
            ctx.emit(inst, Phase::Removing);
            ship.remove(&inst.name).await.map_err(fail)?;
            Ok("removed".to_owned())
        }
    }
}

/// Makes sure the instance's image is there before its container is created: awaits
/// the play's early settling of its (ship, image) when there is one, else checks and
/// pulls (when absent by exact tag, or `refresh`) here.
async fn image_ready(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
    refresh: bool,
) -> Result<(), Failure> {
    if let Some(entry) = ctx.images.get(&inst.ship, &inst.image) {
        let mut state = entry.follow();
        loop {
            let now = state.borrow_and_update().clone();
            match now {
                Settled::Checking => {}
                Settled::Pulling(percent) => ctx.emit(inst, Phase::Pulling { percent }),
                Settled::Ready => return Ok(()),
                Settled::Failed(reason) => return Err(fail(reason)),
                Settled::Yours => break,
            }
            if state.changed().await.is_err() {
                break;
            }
        }
    }
    let choices = Choices {
        refresh_images: refresh,
        ..ctx.options.choices()
    };
    let image = if refresh {
        // Pulled whatever the ship has: no need to ask it.
        ImageSeen::Unknown
    } else {
        let info = ship.image_info(&inst.image).await.map_err(fail)?;
        image_seen(&inst.image, info.as_ref())
    };
    if decide::pull(&image, choices) != decide::Pull::Use {
        pull(ctx, inst, ship).await?;
    }
    Ok(())
}

/// Pulls the instance's image (see [`pull_image`]).
async fn pull(ctx: &Ctx, inst: &Instance, ship: &Ship) -> Result<(), Failure> {
    pull_image(ctx, ship, &inst.image, &[inst])
        .await
        .map_err(fail)
}

/// Pulls `image` on `ship` with the registry credentials that apply, showing each of
/// `insts` the mean progress of its layers (a layer counts 100% once downloaded).
async fn pull_image(
    ctx: &Ctx,
    ship: &Ship,
    image: &str,
    insts: &[&Instance],
) -> Result<(), String> {
    for inst in insts {
        ctx.emit(inst, Phase::Pulling { percent: None });
    }
    let auth = credentials::registry_auth(&ctx.env, image, ctx.options.docker_config.as_deref())
        .await
        .map_err(|e| format!("pull image {image}: {e}"))?;
    let mut progress = images::PullProgress::default();
    let mut on_event = |e: &PullEvent| {
        if let Some(phase) = progress.update(e) {
            for inst in insts {
                ctx.emit(inst, phase.clone());
            }
        }
    };
    ship.pull(image, auth.as_ref(), &mut on_event)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::config;
    use crate::connect::ConnectError;
    use crate::plan::Request;

    #[derive(Default)]
    struct Record(Mutex<Vec<Event>>);

    impl Reporter for Record {
        fn event(&self, event: Event) {
            self.0.lock().unwrap().push(event);
        }
    }

    impl Record {
        /// The final phase of every container.
        fn finals(&self) -> HashMap<String, Phase> {
            self.0
                .lock()
                .unwrap()
                .iter()
                .map(|e| (e.container.clone(), e.phase.clone()))
                .collect()
        }
    }

    fn env() -> Environment {
        config::load_for_tests(
            r#"
name: t
ships:
  down: {ip: 10.0.0.1, socket_path: /nonexistent/maestro-down.sock}
services:
  a: {image: busybox, instances: {a-1: {ship: down}}}
  b: {image: busybox, requires: [a], instances: {b-1: {ship: down}}}
  c: {image: busybox, requires: [b], instances: {c-1: {ship: down}}}
  d: {image: busybox, instances: {d-1: {ship: down}}}
"#,
        )
    }

    fn run(interrupted: bool) -> (Finished, HashMap<String, Phase>) {
        let env = Arc::new(env());
        let plan = crate::plan::plan(&env, Action::Start, &Request::default()).unwrap();
        let ships = Ships::from_results([(
            "down".to_owned(),
            Err(ConnectError::from(
                crate::docker::DockerError::Unreachable {
                    ship: "down".into(),
                    endpoint: "unix:///nonexistent/maestro-down.sock".into(),
                    reason: "no such socket".into(),
                },
            )),
        )]);
        let record = Arc::new(Record::default());
        let (_tx, rx) = watch::channel(interrupted);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let finished = rt.block_on(execute(
            env,
            &plan,
            Arc::new(ships),
            Options::default(),
            record.clone(),
            rx,
        ));
        (finished, record.finals())
    }

    #[test]
    fn a_failure_skips_its_dependents_transitively_and_nothing_else() {
        let (finished, finals) = run(false);
        assert_eq!(
            finished,
            Finished {
                done: 0,
                failed: 2,
                skipped: 2,
                interrupted: false
            }
        );
        let reason = "ship down: cannot reach the Docker daemon at \
                      unix:///nonexistent/maestro-down.sock: no such socket"
            .to_owned();
        assert_eq!(
            finals["a-1"],
            Phase::Failed {
                reason: reason.clone(),
                logs: vec![]
            }
        );
        assert_eq!(
            finals["d-1"],
            Phase::Failed {
                reason,
                logs: vec![]
            }
        );
        for c in ["b-1", "c-1"] {
            assert_eq!(
                finals[c],
                Phase::Skipped {
                    reason: "a-1 failed".into()
                }
            );
        }
    }

    #[test]
    fn an_interrupt_before_the_first_step_skips_everything() {
        let (finished, finals) = run(true);
        assert!(finished.interrupted && !finished.ok());
        assert_eq!(finished.skipped, 4);
        assert!(finals.values().all(|p| *p
            == Phase::Skipped {
                reason: "interrupted".into()
            }));
    }
}
