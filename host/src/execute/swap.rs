//! The steps of `upgrade` and `rollback`: every image made sure of before anything is
//! touched ([`prepare`]), then per container the swap that `plan::swap` describes
//! (its module documentation has the state machine and what an interrupt leaves):
//! keep the old container aside as `NAME.previous`, create and gate the new one,
//! and put the old one back when the new one fails.

use futures_util::future::join_all;

use super::{Ctx, End, Failure, fail, last_logs, pull_image, start_gated, stop};
use crate::config::model::Instance;
use crate::docker::{ContainerInfo, Ship};
use crate::observe::snapshot::{current, seen};
use crate::plan::Step;
use crate::plan::swap::{self, Leftover, OnFailure, Replace};
use crate::progress::Phase;
use crate::resolve;
use crate::spec::labels;

/// The short form of an image id (`sha256:` and 12 hex digits).
fn short(id: &str) -> &str {
    let end = id.len().min("sha256:".len() + 12);
    &id[..end]
}

/// Makes sure of every image before any container is touched: `upgrade` pulls each
/// (ship, image) of the plan, all at once; `rollback` checks that each container's
/// earlier image is still on its ship. Returns the steps that cannot go ahead, with
/// why (empty: go ahead).
pub(super) async fn prepare(ctx: &Ctx, steps: &[Step]) -> Vec<(usize, String)> {
    if ctx.action == crate::plan::Action::Rollback {
        return join_all(steps.iter().enumerate().map(|(i, step)| async move {
            earlier_image_missing(ctx, step).await.map(|why| (i, why))
        }))
        .await
        .into_iter()
        .flatten()
        .collect();
    }
    // Each distinct (ship, image) once, with the steps that need it.
    let mut pairs: Vec<((String, String), Vec<usize>)> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let Some(inst) = ctx.env.instance(&step.container) else {
            continue;
        };
        let key = (step.ship.clone(), inst.image.clone());
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => pairs.push((key, vec![i])),
        }
    }
    let results = join_all(pairs.iter().map(|((ship, image), members)| async move {
        let insts: Vec<&Instance> = members
            .iter()
            .filter_map(|&i| ctx.env.instance(&steps[i].container))
            .collect();
        pull_for(ctx, ship, image, &insts).await
    }))
    .await;
    pairs
        .into_iter()
        .zip(results)
        .filter_map(|((_, members), r)| r.err().map(|why| (members, why)))
        .flat_map(|(members, why)| members.into_iter().map(move |i| (i, why.clone())))
        .collect()
}

/// Pulls `image` on `ship` for `insts` (each shown pulling).
async fn pull_for(ctx: &Ctx, ship: &str, image: &str, insts: &[&Instance]) -> Result<(), String> {
    let ship = ctx.ships.get(ship).map_err(|e| e.to_string())?;
    pull_image(ctx, ship, image, insts).await
}

/// `rollback`: why the step's earlier image cannot be put back, if it cannot.
async fn earlier_image_missing(ctx: &Ctx, step: &Step) -> Option<String> {
    let ship = match ctx.ships.get(&step.ship) {
        Ok(ship) => ship,
        Err(e) => return Some(e.to_string()),
    };
    let info = match ship.inspect(&step.container).await {
        Ok(info) => info,
        Err(e) => return Some(e.to_string()),
    };
    let earlier = info.as_ref().map(current).and_then(|c| c.previous_image)?;
    match ship.image_info(&earlier).await {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!(
            "the earlier image {} is no longer on ship {}",
            short(&earlier),
            step.ship
        )),
        Err(e) => Some(e.to_string()),
    }
}

/// How a swap went wrong.
enum SwapError {
    /// Nothing to roll back to, or rolling back failed too.
    Failed(Failure),
    /// The replacement failed; the old container is back.
    RolledBack(String, Vec<String>),
}

impl From<Failure> for SwapError {
    fn from(f: Failure) -> SwapError {
        SwapError::Failed(f)
    }
}

/// One container's `upgrade` or `rollback` step (`batch`: its batch within its service).
pub(super) async fn swap_step(ctx: &Ctx, inst: &Instance, ship: &Ship, batch: usize) -> End {
    match swap(ctx, inst, ship, batch).await {
        Ok(detail) => End::Done(detail),
        Err(SwapError::RolledBack(reason, logs)) => End::RolledBack(reason, logs),
        Err(SwapError::Failed(Failure { reason, logs: true })) => {
            End::Failed(reason, last_logs(ship, inst).await)
        }
        Err(SwapError::Failed(Failure { reason, .. })) => End::Failed(reason, Vec::new()),
    }
}

async fn swap(ctx: &Ctx, inst: &Instance, ship: &Ship, batch: usize) -> Result<String, SwapError> {
    let name = &inst.name;
    let previous = swap::previous_name(name);
    let (found, resolved) = resolve_leftover(ctx, inst, ship).await?;
    let now = found.as_ref().map(current);
    let spec = resolve::container_spec(&ctx.env, inst).map_err(fail)?;
    // The id of the image the replacement is created from, for the summary: a
    // rollback's is the recorded one, an upgrade's the one its tag names now.
    let (replace, tag_id) = match ctx.action {
        crate::plan::Action::Rollback => (swap::rollback(now.as_ref()), None),
        _ => {
            let tag = ship
                .image_info(&inst.image)
                .await
                .map_err(fail)?
                .ok_or_else(|| fail(format!("image {} is not on the ship", inst.image)))?;
            let wanted = spec.labels.get(labels::SPEC).cloned().unwrap_or_default();
            let replace = swap::upgrade(now.as_ref(), &inst.image, &tag.id, &wanted);
            (replace, Some(tag.id))
        }
    };
    let (image, stop_old) = match replace {
        Replace::UpToDate => return Ok(format!("up to date{resolved}")),
        Replace::NothingToRollBack => {
            return Ok(format!("left: no earlier image recorded{resolved}"));
        }
        Replace::Create { image } => (image, None),
        Replace::Swap { image, stop_old } => (image, Some(stop_old)),
    };
    if batch > 0 && !ctx.options.step_delay.is_zero() {
        tokio::time::sleep(ctx.options.step_delay).await;
    }
    // Its networks and named volumes exist before anything is stopped (the file may
    // name a new one).
    super::resources::ready(ctx, inst, ship)
        .await
        .map_err(fail)?;
    let old_image = now.as_ref().and_then(|c| c.image_id.clone());
    if let Some(true) = stop_old {
        stop(ctx, inst, ship, false).await?;
    }
    if stop_old.is_some() {
        if let Err(f) = rename(ctx, inst, ship, name, &previous).await {
            // Still under its name: put it back into service before failing.
            if stop_old == Some(true) {
                let _ = start_gated(ctx, inst, ship, None).await;
            }
            return Err(f.into());
        }
    }
    let created_id = tag_id.unwrap_or_else(|| image.clone());
    let mut spec = spec;
    spec.image = image;
    if let Some(old) = &old_image {
        spec.labels
            .insert(labels::PREVIOUS_IMAGE.to_owned(), old.clone());
    }
    let replaced = async {
        ctx.emit(inst, Phase::Creating);
        ship.create(&spec).await.map_err(fail)?;
        gate(ctx, inst, ship).await
    }
    .await;
    let failure = match replaced {
        Ok(()) => {
            if stop_old.is_some() {
                ctx.emit(inst, Phase::Removing);
                ship.discard(&previous).await.map_err(fail)?;
            }
            let id = short(&created_id);
            let verb = match (ctx.action, stop_old) {
                (_, None) => "created from",
                (crate::plan::Action::Rollback, _) => "rolled back to",
                _ => "upgraded to",
            };
            return Ok(format!("{verb} {id}{resolved}"));
        }
        Err(failure) => failure,
    };
    let logs = if failure.logs {
        last_logs(ship, inst).await
    } else {
        Vec::new()
    };
    match swap::on_failure(stop_old.is_some(), stop_old == Some(true)) {
        OnFailure::Nothing => Err(SwapError::Failed(Failure {
            reason: failure.reason,
            logs: failure.logs,
        })),
        OnFailure::RollBack { start_old } => {
            roll_back(ctx, inst, ship, start_old)
                .await
                .map_err(|e| match e {
                    SwapError::Failed(f) => SwapError::Failed(Failure {
                        reason: format!(
                            "{}; then rolling back failed: {}",
                            failure.reason, f.reason
                        ),
                        logs: f.logs,
                    }),
                    other => other,
                })?;
            Err(SwapError::RolledBack(failure.reason, logs))
        }
    }
}

/// Resolves what an interrupted run left (`plan::swap::leftover`); returns `NAME` as
/// inspected after, and a note for the summary.
async fn resolve_leftover(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
) -> Result<(Option<ContainerInfo>, &'static str), SwapError> {
    let name = &inst.name;
    let previous = swap::previous_name(name);
    let (found, aside) = futures_util::join!(ship.inspect(name), ship.inspect(&previous));
    let found = found.map_err(fail)?;
    let aside = aside.map_err(fail)?;
    let note = match swap::leftover(&seen(found.as_ref()), aside.is_some()) {
        Leftover::None | Leftover::DropPrevious => return Ok((found, "")),
        Leftover::Restore => {
            rename(ctx, inst, ship, &previous, name).await?;
            " (restored an interrupted run's old container first)"
        }
        Leftover::DiscardNew => {
            ctx.emit(inst, Phase::DiscardingReplacement);
            ship.discard(name).await.map_err(fail)?;
            rename(ctx, inst, ship, &previous, name).await?;
            " (discarded the replacement an interrupted run left stopped first)"
        }
        Leftover::Verify => {
            // An interrupted run's replacement runs, not yet confirmed: gate it.
            if let Err(f) = gate(ctx, inst, ship).await {
                let logs = last_logs(ship, inst).await;
                roll_back(ctx, inst, ship, true).await?;
                return Err(SwapError::RolledBack(
                    format!(
                        "the replacement an interrupted run left failed: {}",
                        f.reason
                    ),
                    logs,
                ));
            }
            ctx.emit(inst, Phase::Removing);
            ship.discard(&previous).await.map_err(fail)?;
            " (confirmed an interrupted run's replacement first)"
        }
    };
    Ok((ship.inspect(name).await.map_err(fail)?, note))
}

async fn rename(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
    from: &str,
    to: &str,
) -> Result<(), Failure> {
    ctx.emit(inst, Phase::Renaming { to: to.to_owned() });
    ship.rename(from, to).await.map_err(fail)
}

/// Puts the old container back: removes the replacement (if any), renames
/// `NAME.previous` back, and starts and gates it when it ran before.
async fn roll_back(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
    start_old: bool,
) -> Result<(), SwapError> {
    let name = &inst.name;
    let previous = swap::previous_name(name);
    ctx.emit(inst, Phase::RollingBack);
    // Until the rename back, the old container waits aside (a lost ship, say): the
    // summary says where it is and what resolves it.
    let aside = |f: Failure| {
        SwapError::Failed(Failure {
            reason: format!(
                "{}; the old container stays aside as {previous} (the next upgrade or start \
                 resolves it)",
                f.reason
            ),
            logs: f.logs,
        })
    };
    let put_back = async {
        if ship.inspect(name).await.map_err(fail)?.is_some() {
            ship.discard(name).await.map_err(fail)?;
        }
        rename(ctx, inst, ship, &previous, name).await
    };
    put_back.await.map_err(aside)?;
    if start_old {
        start_gated(ctx, inst, ship, Some(ctx.options.min_up))
            .await
            .map_err(|f| {
                SwapError::Failed(Failure {
                    reason: format!("the old container failed to start again: {}", f.reason),
                    logs: f.logs,
                })
            })?;
    }
    Ok(())
}

/// The gate of a replacement: started, then its `running` checks, or `--min-up`.
async fn gate(ctx: &Ctx, inst: &Instance, ship: &Ship) -> Result<(), Failure> {
    start_gated(ctx, inst, ship, Some(ctx.options.min_up)).await
}

/// `start` finding a `NAME.previous` an interrupted `upgrade` left: puts it back
/// when `NAME` is gone, else removes it (`plan::swap::leftover_on_start`). Returns
/// `NAME` as inspected after.
pub(super) async fn resolve_on_start(
    ctx: &Ctx,
    inst: &Instance,
    ship: &Ship,
) -> Result<Option<ContainerInfo>, Failure> {
    let name = &inst.name;
    let previous = swap::previous_name(name);
    let (found, aside) = futures_util::join!(ship.inspect(name), ship.inspect(&previous));
    let found = found.map_err(fail)?;
    // The leftover is looked after only when the ship says so clearly.
    let aside = aside.ok().flatten().is_some();
    match swap::leftover_on_start(&seen(found.as_ref()), aside) {
        Leftover::Restore => {
            rename(ctx, inst, ship, &previous, name).await?;
            ship.inspect(name).await.map_err(fail)
        }
        Leftover::DropPrevious | Leftover::DiscardNew | Leftover::Verify => {
            ctx.emit(inst, Phase::Removing);
            match ship.discard(&previous).await {
                // Another play (a second `start`) removed it first: as good.
                Err(e) if e.status() == Some(404) => {}
                other => other.map_err(fail)?,
            }
            Ok(found)
        }
        Leftover::None => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn short_ids_keep_the_algorithm_and_twelve_digits() {
        assert_eq!(short("sha256:0123456789abcdef0123"), "sha256:0123456789ab");
        assert_eq!(short("abc"), "abc");
    }
}
