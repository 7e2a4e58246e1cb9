//! What a play does to each container, given what its ship says about it: the
//! pure half of every step.
//!
//! A play runs observe → decide → execute. The executor (`execute`) observes
//! (inspects the container, and for some decisions the image, on its ship),
//! hands what it saw to the functions here, and performs the decision they
//! return, and nothing else. `maestro plan --observe` shows the same decisions
//! for a snapshot of every ship taken before any step runs. The rules are
//! MaestroNG 0.8.3's tasks (host/COMPAT.md § Plays lists where we differ):
//! `start` leaves a running container alone and replaces a stopped one (unless
//! `--reuse`), `stop` and `kill` leave what is not running, `clean` leaves what
//! runs, `restart --only-if-changed` leaves a running container whose image is
//! the one its tag names now, and an image is pulled when `-r` or when no image
//! on the ship is tagged exactly as configured.

use serde::Serialize;

use super::Action;

/// What the ship said about one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Seen {
    /// No container of that name.
    Absent,
    /// It exists and is not running.
    Stopped {
        /// The id of the image it was created from (`None`: seen in a listing,
        /// which does not say).
        image_id: Option<String>,
    },
    /// It runs.
    Running {
        /// The id of the image it was created from (`None`: seen in a listing).
        image_id: Option<String>,
        /// When it started (Docker's RFC 3339 text), for `up for 3m2s`.
        started_at: Option<String>,
    },
}

impl Seen {
    /// The state as a listing shows it: absent, stopped or running.
    pub fn running(&self) -> bool {
        matches!(self, Seen::Running { .. })
    }
}

/// What the ship said about the configured image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "image", rename_all = "snake_case")]
pub enum ImageSeen {
    /// The name names an image (`redis` names `redis:latest`).
    Present {
        /// The image's id: what `restart --only-if-changed` compares.
        id: String,
        /// Whether it is tagged exactly as configured: MaestroNG pulls when no
        /// image is (an image written without tag is pulled at every start).
        exact_tag: bool,
    },
    /// The name names no image.
    Absent,
    /// The ship was not asked, or did not answer.
    Unknown,
}

/// The command-line options that change a decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Choices {
    /// `-r`: pull images even when present.
    pub refresh_images: bool,
    /// `--reuse`: start an existing stopped container as it is.
    pub reuse: bool,
    /// `restart --only-if-changed`.
    pub only_if_changed: bool,
}

/// What `start` does to a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "start", rename_all = "snake_case")]
pub enum Start {
    /// It runs already: leave it (MaestroNG compares nothing else).
    LeaveRunning {
        /// When it started.
        started_at: Option<String>,
    },
    /// `--reuse` and it exists: start it as it was created.
    StartAsIs,
    /// Create it anew (removing the stopped one first when there is one), then start.
    Create {
        /// A stopped container of that name is removed first.
        remove_old: bool,
    },
}

/// What `start`, `restart` and `pull` do about a container's image before creating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pull {
    /// Pull it (`-r`, or absent by its exact tag).
    Pull,
    /// It is there: use it.
    Use,
    /// Not known yet (the ship did not answer): ask again when the container is created.
    AskLater,
}

/// What `stop` and `kill` do to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Halt {
    /// There is no such container.
    Absent,
    /// It is not running.
    AlreadyDown,
    /// Stop (or kill) it.
    Halt,
}

/// What `clean` does to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clean {
    /// There is no such container.
    Absent,
    /// It runs: MaestroNG's clean leaves it.
    LeaveRunning,
    /// Remove it.
    Remove,
}

/// What `restart` does to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Restart {
    /// `--only-if-changed`, it runs, and its image is the one its tag names now.
    UpToDate,
    /// Stop it, then start it (as `start` decides then).
    Restart,
}

/// `start`'s decision.
pub fn start(seen: &Seen, choices: Choices) -> Start {
    match seen {
        Seen::Running { started_at, .. } => Start::LeaveRunning {
            started_at: started_at.clone(),
        },
        Seen::Stopped { .. } if choices.reuse => Start::StartAsIs,
        Seen::Stopped { .. } => Start::Create { remove_old: true },
        Seen::Absent => Start::Create { remove_old: false },
    }
}

/// A daemon operation `start` performs on a container, for [`contended`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Create it under its instance name.
    Create,
    /// Remove the stopped one before creating anew.
    Remove,
    /// Start it.
    Start,
}

/// What `start` makes of a daemon's refusal, when it may mean that another play
/// on the same environment (a second `maestro start` run at the same time) acted
/// on the container first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Contention {
    /// The other play did what this one meant to (the container it meant to
    /// remove is gone): go on.
    Done,
    /// The other play changed the container (created it, started it, removed
    /// it): observe it again and decide anew, as [`start`] does with
    /// [`Choices::reuse`] (a container just created by the other play is its
    /// to start, not ours to replace).
    Reobserve,
    /// A refusal of another kind: the step fails.
    Fail,
}

/// The rule for a refused `op` with the daemon's HTTP `status`: 409 on create
/// is a name in use, 404 on remove or start a container removed meanwhile, 409 on
/// remove a container running (or being removed) meanwhile, 409 on start a
/// container being removed. Docker answers 304
/// to starting a running container, which is a success already.
pub fn contended(op: Op, status: Option<u16>) -> Contention {
    match (op, status) {
        (Op::Remove, Some(404)) => Contention::Done,
        (Op::Create, Some(409))
        | (Op::Remove, Some(409))
        | (Op::Start, Some(404))
        | (Op::Start, Some(409)) => Contention::Reobserve,
        _ => Contention::Fail,
    }
}

/// The pull decision for a container about to be created from an image the ship
/// reported as `image`.
pub fn pull(image: &ImageSeen, choices: Choices) -> Pull {
    match (choices.refresh_images, image) {
        (true, _) => Pull::Pull,
        (
            false,
            ImageSeen::Present {
                exact_tag: true, ..
            },
        ) => Pull::Use,
        (
            false,
            ImageSeen::Present {
                exact_tag: false, ..
            }
            | ImageSeen::Absent,
        ) => Pull::Pull,
        (false, ImageSeen::Unknown) => Pull::AskLater,
    }
}

/// `stop`'s and `kill`'s decision.
pub fn halt(seen: &Seen) -> Halt {
    match seen {
        Seen::Absent => Halt::Absent,
        Seen::Stopped { .. } => Halt::AlreadyDown,
        Seen::Running { .. } => Halt::Halt,
    }
}

/// `clean`'s decision.
pub fn clean(seen: &Seen) -> Clean {
    match seen {
        Seen::Absent => Clean::Absent,
        Seen::Running { .. } => Clean::LeaveRunning,
        Seen::Stopped { .. } => Clean::Remove,
    }
}

/// `restart`'s decision; `image` is what the container's configured tag names
/// on its ship now.
pub fn restart(seen: &Seen, image: &ImageSeen, choices: Choices) -> Restart {
    match (seen, image) {
        (Seen::Running { image_id, .. }, ImageSeen::Present { id, .. })
            if choices.only_if_changed && image_id.as_deref() == Some(id.as_str()) =>
        {
            Restart::UpToDate
        }
        _ => Restart::Restart,
    }
}

/// Whether the step of a container seen as `seen` will create it (and so needs its
/// image) in `action`, as the step itself decides from the same observation.
pub fn creates(action: Action, seen: &Seen, choices: Choices) -> bool {
    match action {
        Action::Start => matches!(start(seen, choices), Start::Create { .. }),
        // `restart` stops the container first; then `start` sees it stopped (or absent).
        Action::Restart => match seen {
            Seen::Absent => true,
            Seen::Stopped { .. } | Seen::Running { .. } => !choices.reuse,
        },
        _ => false,
    }
}

/// One container's decision in a play, for `maestro plan --observe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// `start` (and what it does about the image when it creates).
    Start {
        /// What it does to the container.
        #[serde(flatten)]
        start: Start,
        /// What it does about the image, when it creates.
        pull: Option<Pull>,
    },
    /// `stop` or `kill`.
    Halt {
        /// What it does.
        halt: Halt,
    },
    /// `restart` (and what it does about the image when it creates again).
    Restart {
        /// Whether it restarts.
        restart: Restart,
        /// What it does about the image, when it creates.
        pull: Option<Pull>,
    },
    /// `clean`.
    Clean {
        /// What it does.
        clean: Clean,
    },
    /// `pull`: pulls, always.
    Pull,
    /// `status` and `logs` change nothing.
    Observe,
}

impl Decision {
    /// The decision in a few words, for the plan's table.
    pub fn text(&self) -> String {
        let pull_text = |pull: &Option<Pull>| match pull {
            Some(Pull::Pull) => ", pull the image",
            Some(Pull::AskLater) => ", pull if the image is absent then",
            Some(Pull::Use) | None => "",
        };
        match self {
            Decision::Start { start, pull } => match start {
                Start::LeaveRunning { .. } => "leave (running)".into(),
                Start::StartAsIs => "start the stopped container as it is (--reuse)".into(),
                Start::Create { remove_old: true } => {
                    format!(
                        "remove the stopped container, create{}, start",
                        pull_text(pull)
                    )
                }
                Start::Create { remove_old: false } => {
                    format!("create{}, start", pull_text(pull))
                }
            },
            Decision::Halt { halt } => match halt {
                Halt::Absent => "nothing (absent)".into(),
                Halt::AlreadyDown => "nothing (down)".into(),
                Halt::Halt => "stop".into(),
            },
            Decision::Restart { restart, pull } => match restart {
                Restart::UpToDate => "leave (up to date)".into(),
                Restart::Restart => format!("stop, create again{}, start", pull_text(pull)),
            },
            Decision::Clean { clean } => match clean {
                Clean::Absent => "nothing (absent)".into(),
                Clean::LeaveRunning => "leave (running)".into(),
                Clean::Remove => "remove".into(),
            },
            Decision::Pull => "pull the image".into(),
            Decision::Observe => "nothing".into(),
        }
    }
}

/// The decision of `action` for a container seen as `seen` whose image is `image`
/// on its ship, all from one snapshot taken before the play.
pub fn decide(action: Action, seen: &Seen, image: &ImageSeen, choices: Choices) -> Decision {
    let pull_if = |creates: bool| creates.then(|| pull(image, choices));
    match action {
        Action::Start => {
            let start = start(seen, choices);
            let creates = matches!(start, Start::Create { .. });
            Decision::Start {
                start,
                pull: pull_if(creates),
            }
        }
        Action::Stop | Action::Kill => Decision::Halt { halt: halt(seen) },
        Action::Restart => {
            let restart = restart(seen, image, choices);
            let creates = restart == Restart::Restart && creates(action, seen, choices);
            Decision::Restart {
                restart,
                pull: pull_if(creates),
            }
        }
        Action::Clean => Decision::Clean { clean: clean(seen) },
        Action::Pull => Decision::Pull,
        // `plan upgrade --observe` decides with `plan::swap` (labels and digests).
        Action::Status | Action::Upgrade | Action::Rollback => Decision::Observe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(image: &str) -> Seen {
        Seen::Running {
            image_id: Some(image.into()),
            started_at: Some("2026-12-06T10:00:00Z".into()),
        }
    }
    fn stopped(image: &str) -> Seen {
        Seen::Stopped {
            image_id: Some(image.into()),
        }
    }
    fn present(id: &str) -> ImageSeen {
        ImageSeen::Present {
            id: id.into(),
            exact_tag: true,
        }
    }
    const PLAIN: Choices = Choices {
        refresh_images: false,
        reuse: false,
        only_if_changed: false,
    };
    const REFRESH: Choices = Choices {
        refresh_images: true,
        ..PLAIN
    };
    const REUSE: Choices = Choices {
        reuse: true,
        ..PLAIN
    };
    const CHANGED: Choices = Choices {
        only_if_changed: true,
        ..PLAIN
    };

    #[test]
    fn every_action_for_every_state() {
        use Action::*;
        let cases: &[(Action, Seen, ImageSeen, Choices, &str)] = &[
            (Start, Seen::Absent, present("i1"), PLAIN, "create, start"),
            (
                Start,
                Seen::Absent,
                ImageSeen::Absent,
                PLAIN,
                "create, pull the image, start",
            ),
            (
                Start,
                Seen::Absent,
                present("i1"),
                REFRESH,
                "create, pull the image, start",
            ),
            (
                Start,
                Seen::Absent,
                ImageSeen::Unknown,
                PLAIN,
                "create, pull if the image is absent then, start",
            ),
            (
                Start,
                stopped("i1"),
                present("i1"),
                PLAIN,
                "remove the stopped container, create, start",
            ),
            (
                Start,
                stopped("i1"),
                ImageSeen::Absent,
                REUSE,
                "start the stopped container as it is (--reuse)",
            ),
            (Start, Seen::Absent, present("i1"), REUSE, "create, start"),
            // A running container is left, whatever its image (MaestroNG compares nothing).
            (
                Start,
                running("old"),
                present("new"),
                REFRESH,
                "leave (running)",
            ),
            (Stop, running("i1"), present("i1"), PLAIN, "stop"),
            (Stop, stopped("i1"), present("i1"), PLAIN, "nothing (down)"),
            (Kill, Seen::Absent, present("i1"), PLAIN, "nothing (absent)"),
            (
                Clean,
                running("i1"),
                present("i1"),
                PLAIN,
                "leave (running)",
            ),
            (Clean, stopped("i1"), present("i1"), PLAIN, "remove"),
            (
                Clean,
                Seen::Absent,
                present("i1"),
                PLAIN,
                "nothing (absent)",
            ),
            (
                Restart,
                running("i1"),
                present("i1"),
                CHANGED,
                "leave (up to date)",
            ),
            (
                Restart,
                running("old"),
                present("new"),
                CHANGED,
                "stop, create again, start",
            ),
            // Without --only-if-changed a current container restarts too.
            (
                Restart,
                running("i1"),
                present("i1"),
                PLAIN,
                "stop, create again, start",
            ),
            // A stopped one restarts even with --only-if-changed (as MaestroNG).
            (
                Restart,
                stopped("i1"),
                present("i1"),
                CHANGED,
                "stop, create again, start",
            ),
            (
                Restart,
                running("i1"),
                ImageSeen::Unknown,
                CHANGED,
                "stop, create again, pull if the image is absent then, start",
            ),
            (Pull, Seen::Absent, present("i1"), PLAIN, "pull the image"),
            (Status, running("i1"), present("i1"), PLAIN, "nothing"),
        ];
        for (action, seen, image, choices, text) in cases {
            let decision = decide(*action, seen, image, *choices);
            assert_eq!(
                decision.text(),
                *text,
                "{action:?} {seen:?} {image:?} {choices:?}"
            );
        }
    }

    #[test]
    fn only_containers_to_be_created_need_their_image() {
        use Action::*;
        let cases = [
            (Start, Seen::Absent, PLAIN, true),
            (Start, stopped("i"), PLAIN, true),
            (Start, stopped("i"), REUSE, false),
            (Start, running("i"), PLAIN, false),
            (Restart, running("i"), PLAIN, true),
            (Restart, running("i"), REUSE, false),
            (Restart, Seen::Absent, REUSE, true),
            (Stop, Seen::Absent, PLAIN, false),
            (Pull, Seen::Absent, PLAIN, false),
        ];
        for (action, seen, choices, creates_it) in cases {
            assert_eq!(
                creates(action, &seen, choices),
                creates_it,
                "{action:?} {seen:?} {choices:?}"
            );
        }
    }

    #[test]
    fn the_pull_rule() {
        assert_eq!(pull(&ImageSeen::Absent, PLAIN), Pull::Pull);
        assert_eq!(pull(&present("i"), PLAIN), Pull::Use);
        assert_eq!(pull(&present("i"), REFRESH), Pull::Pull);
        assert_eq!(pull(&ImageSeen::Unknown, PLAIN), Pull::AskLater);
        assert_eq!(pull(&ImageSeen::Unknown, REFRESH), Pull::Pull);
        // `redis` names `redis:latest`, but no image is tagged `redis`: pulled.
        let untagged = ImageSeen::Present {
            id: "i".into(),
            exact_tag: false,
        };
        assert_eq!(pull(&untagged, PLAIN), Pull::Pull);
        // ... while --only-if-changed compares the id it names.
        assert_eq!(
            restart(&running("i"), &untagged, CHANGED),
            Restart::UpToDate
        );
    }

    #[test]
    fn refusals_that_mean_another_play_got_there_first() {
        use Contention::*;
        let cases = [
            (Op::Create, Some(409), Reobserve),
            (Op::Create, Some(404), Fail),
            (Op::Create, Some(500), Fail),
            (Op::Create, None, Fail),
            (Op::Remove, Some(404), Done),
            (Op::Remove, Some(409), Reobserve),
            (Op::Remove, Some(500), Fail),
            (Op::Start, Some(404), Reobserve),
            (Op::Start, Some(409), Reobserve),
            (Op::Start, Some(500), Fail),
            (Op::Start, None, Fail),
        ];
        for (op, status, rule) in cases {
            assert_eq!(contended(op, status), rule, "{op:?} {status:?}");
        }
    }
}
