//! A snapshot of what a plan's containers are on their ships, for the decisions
//! of `maestro plan --observe` (the executor observes the same way, step by step,
//! at the moment each step runs).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use crate::config::model::Environment;
use crate::connect::connect_all;
use crate::docker::{ContainerInfo, ImageInfo};
use crate::plan::decide::{ImageSeen, Seen};
use crate::plan::swap::{self, Current, Leftover, Replace};
use crate::plan::{Action, Plan};
use crate::spec::labels;

/// What an inspection says of a container.
pub fn seen(info: Option<&ContainerInfo>) -> Seen {
    match info {
        None => Seen::Absent,
        Some(info) if info.state.running => Seen::Running {
            image_id: Some(info.image_id.clone()),
            started_at: info.state.started_at.clone(),
        },
        Some(info) => Seen::Stopped {
            image_id: Some(info.image_id.clone()),
        },
    }
}

/// What an image inspection of `image` (as configured) says.
pub fn image_seen(image: &str, info: Option<&ImageInfo>) -> ImageSeen {
    match info {
        None => ImageSeen::Absent,
        Some(info) => ImageSeen::Present {
            id: info.id.clone(),
            exact_tag: info.repo_tags.iter().any(|t| t == image),
        },
    }
}

/// One step's container and image as its ship reported them, or why it could not.
pub type Observed = Result<(Seen, ImageSeen), String>;

/// Every step of `plan`, observed: all ships at once, each container and each
/// distinct (ship, image) inspected once. In the plan's step order.
pub async fn snapshot(env: &Environment, plan: &Plan) -> Vec<Observed> {
    let ships = connect_all(env, plan.steps.iter().map(|s| s.ship.as_str())).await;
    let mut images: BTreeMap<(String, String), ImageSeen> = BTreeMap::new();
    // Each distinct (ship, image) once, however many containers share it.
    let wanted: BTreeSet<(String, String)> = plan
        .steps
        .iter()
        .filter_map(|s| {
            env.instance(&s.container)
                .map(|i| (s.ship.clone(), i.image.clone()))
        })
        .collect();
    let answers = join_all(wanted.iter().map(|(ship, image)| {
        let ships = &ships;
        async move {
            match ships.get(ship) {
                Ok(s) => match s.image_info(image).await {
                    Ok(info) => image_seen(image, info.as_ref()),
                    Err(_) => ImageSeen::Unknown,
                },
                Err(_) => ImageSeen::Unknown,
            }
        }
    }))
    .await;
    for (key, answer) in wanted.into_iter().zip(answers) {
        images.insert(key, answer);
    }
    join_all(plan.steps.iter().map(|step| {
        let ships = &ships;
        let images = &images;
        async move {
            let ship = ships.get(&step.ship).map_err(|e| e.to_string())?;
            let info = ship
                .inspect(&step.container)
                .await
                .map_err(|e| e.to_string())?;
            let image = env
                .instance(&step.container)
                .and_then(|i| images.get(&(step.ship.clone(), i.image.clone())))
                .cloned()
                .unwrap_or(ImageSeen::Unknown);
            Ok((seen(info.as_ref()), image))
        }
    }))
    .await
}

/// What an inspection says of a container, as `upgrade` and `rollback` compare it.
pub fn current(info: &ContainerInfo) -> Current {
    Current {
        running: info.state.running,
        image_id: Some(info.image_id.clone()),
        spec: info.labels.get(labels::SPEC).cloned(),
        previous_image: info.labels.get(labels::PREVIOUS_IMAGE).cloned(),
    }
}

/// One step of `plan upgrade|rollback --observe`: the container, whether a
/// `NAME.previous` was left next to it, and the swap decided from what the ship has
/// now (`None`: the image its tag names is not on the ship yet; the upgrade pulls
/// it first, so the container will be replaced unless the pull brings the very image
/// it runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapSeen {
    /// The container as seen.
    pub seen: Seen,
    /// What would be done first about a leftover `NAME.previous`.
    pub leftover: Leftover,
    /// The decision, when the ship has the image to decide with.
    pub replace: Option<Replace>,
}

/// Every step of a swap plan observed (without pulling anything), in step order.
pub async fn swaps(env: &Environment, plan: &Plan) -> Vec<Result<SwapSeen, String>> {
    let ships = connect_all(env, plan.steps.iter().map(|s| s.ship.as_str())).await;
    join_all(plan.steps.iter().map(|step| {
        let ships = &ships;
        async move {
            let ship = ships.get(&step.ship).map_err(|e| e.to_string())?;
            let inst = env
                .instance(&step.container)
                .ok_or_else(|| format!("unknown container {}", step.container))?;
            let previous = swap::previous_name(&inst.name);
            let (info, aside) =
                futures_util::join!(ship.inspect(&inst.name), ship.inspect(&previous));
            let info = info.map_err(|e| e.to_string())?;
            let aside = aside.map_err(|e| e.to_string())?.is_some();
            let now = info.as_ref().map(current);
            let replace = if plan.action == Action::Rollback {
                Some(swap::rollback(now.as_ref()))
            } else {
                let spec = crate::resolve::container_spec(env, inst).map_err(|e| e.to_string())?;
                let wanted = spec.labels.get(labels::SPEC).cloned().unwrap_or_default();
                let tag = ship
                    .image_info(&inst.image)
                    .await
                    .map_err(|e| e.to_string())?;
                tag.map(|t| swap::upgrade(now.as_ref(), &inst.image, &t.id, &wanted))
            };
            Ok(SwapSeen {
                seen: seen(info.as_ref()),
                leftover: swap::leftover(&seen(info.as_ref()), aside),
                replace,
            })
        }
    }))
    .await
}
