//! `upgrade` and `rollback`: the pure half of replacing a container without losing
//! it. The executor observes, asks the functions here, and performs.
//!
//! # One instance's swap, and what an interrupt leaves
//!
//! The old container is kept, stopped and renamed `NAME.previous`, until its
//! replacement has passed its gate (its `running` checks, or `--min-up` seconds of
//! staying up). The steps, in order, with the state each one leaves on the ship if
//! maestro dies right after it (the first signal lets a running swap finish; only a
//! second signal, a `kill -9` or a lost ship can stop one half-way):
//!
//! | step | then on the ship | the next `upgrade` ([`leftover`]) |
//! |---|---|---|
//! | 1. stop `NAME` | `NAME` (old, stopped) | not running, so not current: swapped again |
//! | 2. rename `NAME` → `NAME.previous` | `NAME.previous` only | [`Leftover::Restore`]: renamed back, then swapped |
//! | 3. create `NAME` (new) | `NAME` (new, created), `NAME.previous` | [`Leftover::DiscardNew`]: the new one removed, the old renamed back |
//! | 4. start `NAME`, gate | `NAME` (new, running), `NAME.previous` | [`Leftover::Verify`]: the new one gated again, then kept or rolled back |
//! | 5. remove `NAME.previous` | `NAME` (new) | nothing left over |
//!
//! A lost ship (its daemon killed, then restarted) leaves the state of the step it
//! was at, except that nothing runs any more: during step 4 that is `NAME` (new,
//! exited) and `NAME.previous`, which resolves as row 3 does ([`Leftover::DiscardNew`]:
//! the replacement was never confirmed), after which the old one, stopped, is
//! swapped again.
//!
//! A replacement that fails (create, start, gate) is rolled back: removed, the old
//! one renamed back to `NAME`, started and gated again ([`on_failure`]). The states
//! a rollback passes through are the rows above read backwards, and resolve the same
//! way. So at every point each instance name has exactly one container, old or new,
//! or a `NAME.previous` that the next `upgrade` (or `start`: [`leftover_on_start`])
//! resolves. `NAME.previous` is a name only: the container keeps its environment,
//! labels and volumes, so what it observes does not change.

use serde::Serialize;

use super::decide::Seen;

/// The name an old container waits under while its replacement is gated.
pub fn previous_name(name: &str) -> String {
    format!("{name}.previous")
}

/// Where one container stands among its service's batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Its batch (0 first).
    pub index: usize,
    /// The positions (in the list given) of the previous batch of its service.
    pub after: Vec<usize>,
}

/// The batches of `containers` (name, service), in plan order: each service's
/// instances in groups of `size` (at least 1), a group waiting for the one before.
/// So at most `size` instances of one service are ever replaced at once.
pub fn batches(containers: &[(&str, &str)], size: usize) -> Vec<Batch> {
    let size = size.max(1);
    let mut seen: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    containers
        .iter()
        .enumerate()
        .map(|(i, (_, service))| {
            let members = seen.entry(service).or_default();
            let k = members.len();
            let index = k / size;
            let after = if index == 0 {
                Vec::new()
            } else {
                members[(index - 1) * size..index * size].to_vec()
            };
            members.push(i);
            Batch { index, after }
        })
        .collect()
}

/// What a container is, as far as a swap cares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Current {
    /// Whether it runs.
    pub running: bool,
    /// The id of the image it runs.
    pub image_id: Option<String>,
    /// Its `maestro.spec` label: the digest of its creation configuration (absent on
    /// containers created by MaestroNG or an older maestro).
    pub spec: Option<String>,
    /// Its `maestro.previous-image` label: the image it ran before its last upgrade.
    pub previous_image: Option<String>,
}

/// What `upgrade` or `rollback` does to one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "swap", rename_all = "snake_case")]
pub enum Replace {
    /// It runs the image and configuration asked for: leave it.
    UpToDate,
    /// `rollback`: no earlier image is recorded on it: leave it.
    NothingToRollBack,
    /// There is no container: create and start it (nothing to keep aside).
    Create {
        /// The image to create it from (a tag, or an image id for `rollback`).
        image: String,
    },
    /// Keep the old one aside, create the new one from `image`, gate it.
    Swap {
        /// The image to create it from.
        image: String,
        /// The old one runs (it is stopped first).
        stop_old: bool,
    },
}

impl Replace {
    /// The decision in a few words, for `plan upgrade --observe`.
    pub fn text(&self) -> String {
        match self {
            Replace::UpToDate => "leave (up to date)".into(),
            Replace::NothingToRollBack => "leave (no earlier image recorded)".into(),
            Replace::Create { image } => format!("create from {image}, start, gate"),
            Replace::Swap { image, stop_old } => format!(
                "{}keep aside as .previous, create from {image}, start, gate",
                if *stop_old { "stop, " } else { "" }
            ),
        }
    }
}

/// `upgrade`'s decision: `current` is the container (`None`: absent), `tag_id` the id
/// of the image its tag names now (after the pull), `spec` the digest of the
/// configuration the file asks for. A container is current when it runs, runs
/// that image (as `restart --only-if-changed` compares), and, when it carries a
/// digest, was created from the same configuration.
pub fn upgrade(current: Option<&Current>, image: &str, tag_id: &str, spec: &str) -> Replace {
    match current {
        None => Replace::Create {
            image: image.to_owned(),
        },
        Some(c) => {
            let same_image = c.image_id.as_deref() == Some(tag_id);
            let same_spec = c.spec.as_deref().is_none_or(|s| s == spec);
            if c.running && same_image && same_spec {
                Replace::UpToDate
            } else {
                Replace::Swap {
                    image: image.to_owned(),
                    stop_old: c.running,
                }
            }
        }
    }
}

/// `rollback`'s decision: back to the image recorded at the last upgrade, by id (a
/// moved tag does not matter).
pub fn rollback(current: Option<&Current>) -> Replace {
    match current.and_then(|c| c.previous_image.clone().map(|p| (c, p))) {
        None => Replace::NothingToRollBack,
        Some((c, previous)) if c.running && c.image_id.as_deref() == Some(previous.as_str()) => {
            Replace::UpToDate
        }
        Some((c, previous)) => Replace::Swap {
            image: previous,
            stop_old: c.running,
        },
    }
}

/// What to do about a `NAME.previous` found next to `NAME` (seen as `name`) before
/// an `upgrade` or `rollback` touches the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leftover {
    /// No `NAME.previous`: nothing to resolve.
    None,
    /// `NAME` is absent: rename `NAME.previous` back.
    Restore,
    /// `NAME` exists but does not run: a replacement never started, or stopped
    /// before it was confirmed (its ship's daemon restarted); remove it, and rename
    /// `NAME.previous` back.
    DiscardNew,
    /// `NAME` runs: a replacement not yet confirmed; gate it, then remove
    /// `NAME.previous` (passed) or roll back to it (failed).
    Verify,
    /// `start`: `NAME` is there and `start` decides about it as always; the old
    /// container is not needed any more: remove it.
    DropPrevious,
}

/// The resolution of a leftover `NAME.previous` (see the module's table).
pub fn leftover(name: &Seen, previous_exists: bool) -> Leftover {
    match (previous_exists, name) {
        (false, _) => Leftover::None,
        (true, Seen::Absent) => Leftover::Restore,
        (true, Seen::Stopped { .. }) => Leftover::DiscardNew,
        (true, Seen::Running { .. }) => Leftover::Verify,
    }
}

/// `start`'s resolution of a leftover `NAME.previous`: `start` leaves a running
/// container alone and replaces a stopped one from its tag, so the old container
/// only matters when `NAME` is gone (renamed back: `start` then treats it as any
/// stopped container); otherwise it is dropped.
pub fn leftover_on_start(name: &Seen, previous_exists: bool) -> Leftover {
    match leftover(name, previous_exists) {
        Leftover::None => Leftover::None,
        Leftover::Restore => Leftover::Restore,
        // `start` keeps what runs and replaces what does not: the old one goes.
        Leftover::DiscardNew | Leftover::Verify | Leftover::DropPrevious => Leftover::DropPrevious,
    }
}

/// How a swap whose replacement failed goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Remove the replacement (if created), rename the old one back, start and gate it
    /// (when it ran before).
    RollBack {
        /// The old one ran before the swap: start it again.
        start_old: bool,
    },
    /// No old container was kept: nothing to roll back to.
    Nothing,
}

/// What to do when the replacement of a container fails: roll back to the old one
/// when one was kept aside.
pub fn on_failure(kept_old: bool, old_was_running: bool) -> OnFailure {
    if kept_old {
        OnFailure::RollBack {
            start_old: old_was_running,
        }
    } else {
        OnFailure::Nothing
    }
}

/// Whether a failed step stops the whole play (no further step begins): an upgrade
/// stops at its first rollback, so that a bad image reaches one batch only.
pub fn stops_on_failure(action: super::Action) -> bool {
    action.swaps()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(running: bool, image: &str, spec: Option<&str>, previous: Option<&str>) -> Current {
        Current {
            running,
            image_id: Some(image.into()),
            spec: spec.map(Into::into),
            previous_image: previous.map(Into::into),
        }
    }

    #[test]
    fn batches_split_each_service_and_chain_them() {
        let list = [
            ("db-1", "db"),
            ("web-1", "web"),
            ("web-2", "web"),
            ("web-3", "web"),
            ("web-4", "web"),
            ("web-5", "web"),
        ];
        let b = batches(&list, 2);
        let got: Vec<(usize, Vec<usize>)> = b.into_iter().map(|b| (b.index, b.after)).collect();
        assert_eq!(
            got,
            vec![
                (0, vec![]),
                (0, vec![]),
                (0, vec![]),
                (1, vec![1, 2]),
                (1, vec![1, 2]),
                (2, vec![3, 4]),
            ]
        );
        // A size of 0 means 1: every instance after the one before.
        let b = batches(&list[1..4], 0);
        assert_eq!(
            b[2],
            Batch {
                index: 2,
                after: vec![1]
            }
        );
    }

    #[test]
    fn upgrade_decisions() {
        let swap = |stop_old| Replace::Swap {
            image: "app:2".into(),
            stop_old,
        };
        let cases: &[(Option<Current>, Replace)] = &[
            (
                None,
                Replace::Create {
                    image: "app:2".into(),
                },
            ),
            (Some(cur(true, "new", Some("s1"), None)), Replace::UpToDate),
            // No digest recorded (MaestroNG's containers): the image alone decides.
            (Some(cur(true, "new", None, None)), Replace::UpToDate),
            (Some(cur(true, "old", Some("s1"), None)), swap(true)),
            // Same image, configuration changed.
            (Some(cur(true, "new", Some("s0"), None)), swap(true)),
            // Not running: never current.
            (Some(cur(false, "new", Some("s1"), None)), swap(false)),
        ];
        for (current, want) in cases {
            assert_eq!(
                &upgrade(current.as_ref(), "app:2", "new", "s1"),
                want,
                "{current:?}"
            );
        }
    }

    #[test]
    fn rollback_decisions() {
        let cases: &[(Option<Current>, Replace)] = &[
            (None, Replace::NothingToRollBack),
            (
                Some(cur(true, "new", None, None)),
                Replace::NothingToRollBack,
            ),
            (
                Some(cur(true, "new", None, Some("old"))),
                Replace::Swap {
                    image: "old".into(),
                    stop_old: true,
                },
            ),
            (
                Some(cur(false, "new", None, Some("old"))),
                Replace::Swap {
                    image: "old".into(),
                    stop_old: false,
                },
            ),
            (Some(cur(true, "old", None, Some("old"))), Replace::UpToDate),
        ];
        for (current, want) in cases {
            assert_eq!(&rollback(current.as_ref()), want, "{current:?}");
        }
    }

    #[test]
    fn leftovers_resolve_every_interrupted_state() {
        let running = Seen::Running {
            image_id: None,
            started_at: None,
        };
        let stopped = Seen::Stopped { image_id: None };
        let cases = [
            (Seen::Absent, false, Leftover::None, Leftover::None),
            (running.clone(), false, Leftover::None, Leftover::None),
            (Seen::Absent, true, Leftover::Restore, Leftover::Restore),
            // Created and never started, or started and stopped by a lost ship
            // before its gate passed: neither was confirmed.
            (
                stopped.clone(),
                true,
                Leftover::DiscardNew,
                Leftover::DropPrevious,
            ),
            (running, true, Leftover::Verify, Leftover::DropPrevious),
        ];
        for (name, previous, upgrade, start) in cases {
            assert_eq!(leftover(&name, previous), upgrade, "{name:?} {previous}");
            assert_eq!(
                leftover_on_start(&name, previous),
                start,
                "{name:?} {previous}"
            );
        }
    }

    #[test]
    fn a_failure_rolls_back_only_to_a_kept_container() {
        assert_eq!(
            on_failure(true, true),
            OnFailure::RollBack { start_old: true }
        );
        assert_eq!(
            on_failure(true, false),
            OnFailure::RollBack { start_old: false }
        );
        assert_eq!(on_failure(false, false), OnFailure::Nothing);
        assert!(stops_on_failure(super::super::Action::Upgrade));
        assert!(!stops_on_failure(super::super::Action::Start));
    }

    #[test]
    fn the_previous_name_is_a_valid_docker_name() {
        assert_eq!(previous_name("web-1"), "web-1.previous");
    }
}
