//! The images of a play, settled early: once per (ship, image), all at once.
//!
//! MaestroNG pulls inside each container's start, so a container of the last
//! dependency layer begins pulling only once every layer before it is up. Here a play
//! that may pull (`start`, `restart`) first lists, per ship, the containers it acts on
//! (one listing per ship) and inspects each distinct image once per ship; every image
//! that MaestroNG's rule says must be pulled (absent by its exact tag, or `-r`) for a
//! container that will be created is pulled right away, all ships concurrently. On
//! one ship the images of the first dependency wave are pulled together first, then
//! those first needed by the next wave, and so on: a later wave's image does not take
//! bandwidth from one needed sooner (its pull still runs while the earlier waves
//! start). A container's step then awaits its image instead of checking and
//! pulling it itself; when the early answer does not apply (the container was running
//! at the listing, a ship did not answer), the step decides alone, as before.
//!
//! While an image is pulled, the containers needing it that have not started their
//! step yet are shown pulling too; a step shows it while it awaits the pull.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use tokio::sync::watch;

use super::Ctx;
use crate::credentials;
use crate::docker::{ContainerSelector, PullEvent};
use crate::plan::decide::{self, ImageSeen, Seen};
use crate::plan::{Action, Step};
use crate::progress::{Event, Phase};

/// Where the early settling of one (ship, image) stands.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Settled {
    /// The image and the containers are being inspected.
    Checking,
    /// The image is being pulled (mean percent of its layers, once known).
    Pulling(Option<f64>),
    /// The image is there (present, or pulled): nothing left to do.
    Ready,
    /// The pull failed: every step needing the image fails with this reason.
    Failed(String),
    /// No early answer (no container needed it then, or the ship did not answer):
    /// the step checks and pulls itself.
    Yours,
}

/// A pull's progress: the mean of its layers' percentages (a layer counts 100% once
/// downloaded), reported when its whole-percent value changes.
#[derive(Debug, Default)]
pub(super) struct PullProgress {
    layers: HashMap<String, f64>,
    shown: Option<u32>,
}

impl PullProgress {
    /// Takes one pull message; the phase to show when there is news: a retry of the
    /// pull (which starts the count again), or a change of the shown percentage.
    pub(super) fn update(&mut self, e: &PullEvent) -> Option<Phase> {
        if let Some((status, attempt, of)) = e.retry {
            *self = PullProgress::default();
            return Some(Phase::PullRetry {
                status,
                attempt,
                of,
            });
        }
        let layer = e.layer.as_ref()?;
        let percent = match e.status.as_str() {
            "Download complete" | "Pull complete" | "Already exists" => 100.0,
            _ => match (e.current, e.total) {
                (Some(c), Some(t)) if t > 0 => (c as f64 / t as f64 * 100.0).min(100.0),
                _ => return None,
            },
        };
        self.layers.insert(layer.clone(), percent);
        let mean = self.layers.values().sum::<f64>() / self.layers.len() as f64;
        let whole = mean as u32;
        (self.shown != Some(whole)).then(|| {
            self.shown = Some(whole);
            Phase::Pulling {
                percent: Some(mean),
            }
        })
    }
}

/// One (ship, image) of the play: its state, and the containers needing it that are
/// shown pulling while they have not started (step indices).
pub(super) struct Entry {
    state: watch::Receiver<Settled>,
    audience: Mutex<Vec<usize>>,
}

impl Entry {
    /// The current state, to be followed with `changed()`.
    pub(super) fn follow(&self) -> watch::Receiver<Settled> {
        self.state.clone()
    }
}

/// The early settling of every (ship, image) of a play.
#[derive(Default)]
pub(super) struct Images {
    entries: HashMap<(String, String), Arc<Entry>>,
    /// The step index's (ship, image).
    of_step: HashMap<usize, (String, String)>,
}

impl Images {
    /// The entry of `ship`'s `image`, when the play settles it early.
    pub(super) fn get(&self, ship: &str, image: &str) -> Option<&Arc<Entry>> {
        self.entries.get(&(ship.to_owned(), image.to_owned()))
    }

    /// Step `index` started (or was skipped): it shows its own progress from now on.
    pub(super) fn leave(&self, index: usize) {
        if let Some(entry) = self.of_step.get(&index).and_then(|k| self.entries.get(k)) {
            lock(&entry.audience).retain(|&i| i != index);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The work of one ship: its containers (step index, name, image), the first wave
/// needing each image and the sender of each image.
pub(super) struct ShipJob {
    ship: String,
    members: Vec<(usize, String, String)>,
    waves: HashMap<String, usize>,
    images: BTreeMap<String, (watch::Sender<Settled>, Arc<Entry>)>,
}

/// The entries and per-ship jobs of a play's `steps` (`instance_image` gives a
/// container's image); nothing when `action` never pulls in its steps' start.
pub(super) fn prepare(
    action: Action,
    steps: &[Step],
    instance_image: impl Fn(&str) -> Option<String>,
) -> (Images, Vec<ShipJob>) {
    let mut images = Images::default();
    if !matches!(action, Action::Start | Action::Restart) {
        return (images, Vec::new());
    }
    let mut jobs: BTreeMap<String, ShipJob> = BTreeMap::new();
    for (index, step) in steps.iter().enumerate() {
        let Some(image) = instance_image(&step.container) else {
            continue;
        };
        let job = jobs.entry(step.ship.clone()).or_insert_with(|| ShipJob {
            ship: step.ship.clone(),
            members: Vec::new(),
            waves: HashMap::new(),
            images: BTreeMap::new(),
        });
        job.members
            .push((index, step.container.clone(), image.clone()));
        let wave = job.waves.entry(image.clone()).or_insert(step.wave);
        *wave = (*wave).min(step.wave);
        let (_, entry) = job.images.entry(image.clone()).or_insert_with(|| {
            let (tx, rx) = watch::channel(Settled::Checking);
            let entry = Arc::new(Entry {
                state: rx,
                audience: Mutex::new(Vec::new()),
            });
            images
                .entries
                .insert((step.ship.clone(), image.clone()), entry.clone());
            (tx, entry)
        });
        lock(&entry.audience).push(index);
        images.of_step.insert(index, (step.ship.clone(), image));
    }
    (images, jobs.into_values().collect())
}

/// Settles one ship's images: one listing and one inspection per image, at once, then
/// the pulls needed, wave after wave (those of one wave at once).
pub(super) async fn settle(ctx: Arc<Ctx>, job: ShipJob) {
    let ship = match ctx.ships.get(&job.ship) {
        Ok(ship) => ship.clone(),
        Err(_) => {
            // The steps fail on the ship themselves, with its error.
            for (tx, _) in job.images.values() {
                tx.send_replace(Settled::Yours);
            }
            return;
        }
    };
    let names: Vec<String> = job.members.iter().map(|(_, n, _)| n.clone()).collect();
    let selector = ContainerSelector::Names(names);
    let (listed, present) = futures_util::join!(
        ship.list(&selector),
        join_all(job.images.keys().map(|image| ship.image_info(image)))
    );
    // A listing says whether each container exists and runs, not its image.
    let listed: Option<HashMap<String, Seen>> = listed.ok().map(|found| {
        found
            .into_iter()
            .map(|c| {
                let seen = if c.state == "running" {
                    Seen::Running {
                        image_id: None,
                        started_at: None,
                    }
                } else {
                    Seen::Stopped { image_id: None }
                };
                (c.name, seen)
            })
            .collect()
    });
    let choices = ctx.options.choices();
    let mut pulls: BTreeMap<usize, Vec<_>> = BTreeMap::new();
    for ((image, (tx, entry)), info) in job.images.iter().zip(present) {
        let needed = listed.as_ref().is_some_and(|found| {
            job.members.iter().any(|(_, name, img)| {
                img == image
                    && decide::creates(
                        ctx.action,
                        found.get(name).unwrap_or(&Seen::Absent),
                        choices,
                    )
            })
        });
        let seen = match &info {
            Ok(info) => crate::observe::snapshot::image_seen(image, info.as_ref()),
            Err(_) => ImageSeen::Unknown,
        };
        // Settled here only for an image some container will be created from now;
        // a step whose container was running at the listing decides alone.
        let decision = needed.then(|| decide::pull(&seen, choices));
        match decision {
            Some(decide::Pull::Use) => {
                tx.send_replace(Settled::Ready);
            }
            None | Some(decide::Pull::AskLater) => {
                tx.send_replace(Settled::Yours);
            }
            Some(decide::Pull::Pull) => pulls
                .entry(job.waves.get(image).copied().unwrap_or(0))
                .or_default()
                .push(pull(&ctx, &ship, &job, image, tx, entry)),
        }
    }
    for (_, wave) in pulls {
        join_all(wave).await;
    }
}

/// Pulls `image` on `ship`, publishing its progress to the waiting steps and showing it
/// on the containers that have not started.
async fn pull(
    ctx: &Ctx,
    ship: &crate::docker::Ship,
    job: &ShipJob,
    image: &str,
    tx: &watch::Sender<Settled>,
    entry: &Entry,
) {
    let show = |phase: Phase| {
        let audience = lock(&entry.audience);
        for &i in audience.iter() {
            if let Some((_, name, _)) = job.members.iter().find(|(j, _, _)| *j == i) {
                ctx.reporter.event(Event {
                    container: name.clone(),
                    service: ctx
                        .env
                        .instance(name)
                        .map(|inst| inst.service.clone())
                        .unwrap_or_default(),
                    ship: job.ship.clone(),
                    phase: phase.clone(),
                    elapsed: ctx.clock.elapsed(),
                });
            }
        }
    };
    tx.send_replace(Settled::Pulling(None));
    show(Phase::Pulling { percent: None });
    let auth =
        credentials::registry_auth(&ctx.env, image, ctx.options.docker_config.as_deref()).await;
    let mut progress = PullProgress::default();
    let result = match auth {
        Ok(auth) => ship
            .pull(image, auth.as_ref(), &mut |e: &PullEvent| {
                if let Some(phase) = progress.update(e) {
                    if let Phase::Pulling { percent } = phase {
                        tx.send_replace(Settled::Pulling(percent));
                    }
                    show(phase);
                }
            })
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("pull image {image}: {e}")),
    };
    // Those not started go back to waiting for their turn.
    show(Phase::Waiting);
    tx.send_replace(match result {
        Ok(()) => Settled::Ready,
        Err(e) => Settled::Failed(e),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(layer: &str, status: &str, current: Option<i64>, total: Option<i64>) -> PullEvent {
        PullEvent {
            layer: Some(layer.into()),
            status: status.into(),
            current,
            total,
            retry: None,
        }
    }

    fn pct(percent: f64) -> Option<Phase> {
        Some(Phase::Pulling {
            percent: Some(percent),
        })
    }

    #[test]
    fn progress_is_the_mean_of_the_layers_shown_per_whole_percent() {
        let mut p = PullProgress::default();
        assert_eq!(
            p.update(&PullEvent {
                layer: None,
                status: "Pulling from x".into(),
                ..Default::default()
            }),
            None
        );
        assert_eq!(p.update(&ev("a", "Pulling fs layer", None, None)), None);
        assert_eq!(
            p.update(&ev("a", "Downloading", Some(50), Some(100))),
            pct(50.0)
        );
        assert_eq!(
            p.update(&ev("a", "Downloading", Some(502), Some(1000))),
            None
        );
        assert_eq!(
            p.update(&ev("b", "Downloading", Some(0), Some(10))),
            pct(25.1)
        );
        assert_eq!(
            p.update(&ev("a", "Download complete", None, None)),
            pct(50.0)
        );
        assert_eq!(p.update(&ev("b", "Already exists", None, None)), pct(100.0));
        // A retry starts the count again.
        assert_eq!(
            p.update(&PullEvent {
                retry: Some((500, 2, 3)),
                ..Default::default()
            }),
            Some(Phase::PullRetry {
                status: 500,
                attempt: 2,
                of: 3
            })
        );
        assert_eq!(
            p.update(&ev("a", "Downloading", Some(10), Some(100))),
            pct(10.0)
        );
    }

    #[test]
    fn one_entry_per_ship_and_image() {
        let step = |c: &str, ship: &str| Step {
            number: 1,
            container: c.into(),
            service: "s".into(),
            ship: ship.into(),
            wave: 0,
            waits_for: Vec::new(),
            batch: None,
        };
        let mut steps = [step("a", "one"), step("b", "one"), step("c", "two")];
        steps[0].wave = 2;
        steps[1].wave = 1;
        let (images, jobs) = prepare(Action::Start, &steps, |_| Some("img:1".into()));
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].waves["img:1"], 1);
        assert_eq!(images.entries.len(), 2);
        let one = images.get("one", "img:1").unwrap();
        assert_eq!(*lock(&one.audience), vec![0, 1]);
        images.leave(0);
        assert_eq!(*lock(&one.audience), vec![1]);
        assert_eq!(*one.follow().borrow(), Settled::Checking);
        let (images, jobs) = prepare(Action::Stop, &steps, |_| Some("img:1".into()));
        assert!(images.entries.is_empty() && jobs.is_empty());
    }
}
