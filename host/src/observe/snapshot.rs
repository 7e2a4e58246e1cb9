//! A snapshot of what a plan's containers are on their ships, for the decisions
//! of `maestro plan --observe` (the executor observes the same way, step by step,
//! at the moment each step runs).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;

use crate::config::model::Environment;
use crate::connect::connect_all;
use crate::docker::{ContainerInfo, ImageInfo};
use crate::plan::Plan;
use crate::plan::decide::{ImageSeen, Seen};

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
