//! The progress of a play while it runs: the [`Reporter`] the executor sends
//! its [`Event`]s to.
//!
//! On a terminal ([`Mode::Live`]) every container owns one line, redrawn in
//! place with ANSI cursor movement, at most every [`REFRESH`] (a ticker thread
//! keeps the elapsed times moving between events). Anywhere else
//! ([`Mode::Plain`]) each state change prints one line, without any escape
//! sequence. Colour needs both a terminal and no `NO_COLOR`.
//!
//! The text is made by pure functions ([`row_text`], [`progress_line`],
//! [`frame`]) so tests pin it without a terminal; [`LiveView::with_writer`]
//! renders into any writer, e.g. a buffer.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Paint, paint, short_duration};
use crate::progress::{Event, Phase, Reporter};

/// The shortest time between two redraws of the live view.
pub const REFRESH: Duration = Duration::from_millis(100);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One line per container, redrawn in place (a terminal).
    Live {
        /// Colour the states.
        colour: bool,
        /// Terminal width: lines are cut to fit, so that they never wrap
        /// (a wrapped line would break the cursor arithmetic).
        width: usize,
        /// Read the terminal's width again at every frame (it was resized),
        /// instead of keeping `width` (`COLUMNS` fixes it).
        follow: bool,
    },
    /// One line per state change, no escape sequences.
    Plain,
}

impl Mode {
    /// Live when standard output is a terminal that can redraw (colour by
    /// the terminal conventions: `NO_COLOR`, `CLICOLOR`...), plain otherwise.
    pub fn detect() -> Mode {
        Self::for_terminal(super::stdout_is_terminal(), super::stdout_colour())
    }

    /// Live when `terminal` (the stream written to is one that can redraw),
    /// with `colour` or not; else plain.
    pub fn for_terminal(terminal: bool, colour: bool) -> Mode {
        if terminal {
            Mode::Live {
                colour,
                width: super::terminal_width(),
                follow: super::columns_env().is_none(),
            }
        } else {
            Mode::Plain
        }
    }
}

/// One container's line.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Container name.
    pub container: String,
    /// Its service.
    pub service: String,
    /// Its ship.
    pub ship: String,
    /// Where it is (`Waiting` until its first event).
    pub phase: Phase,
    /// Play time of its first event that was not `Waiting`: the start of
    /// its own work.
    pub started: Option<Duration>,
    /// Play time of its final event (done, failed, skipped).
    pub finished: Option<Duration>,
}

impl Row {
    /// A container that has not reported anything yet.
    pub fn new(container: &str, service: &str, ship: &str) -> Row {
        Row {
            container: container.into(),
            service: service.into(),
            ship: ship.into(),
            phase: Phase::Waiting,
            started: None,
            finished: None,
        }
    }

    /// How long its work has taken so far (or took), at play time `now`.
    pub fn elapsed(&self, now: Duration) -> Duration {
        match self.started {
            None => Duration::ZERO,
            Some(s) => self.finished.unwrap_or(now).saturating_sub(s),
        }
    }

    fn apply(&mut self, event: &Event) {
        if self.started.is_none() && event.phase != Phase::Waiting {
            self.started = Some(event.elapsed);
        }
        if is_final(&event.phase) {
            self.finished = Some(event.elapsed);
        }
        self.phase = event.phase.clone();
    }
}

/// Whether a phase ends a container's part of the play.
pub fn is_final(phase: &Phase) -> bool {
    matches!(
        phase,
        Phase::Done { .. }
            | Phase::Failed { .. }
            | Phase::Skipped { .. }
            | Phase::RolledBack { .. }
    )
}

/// A phase in words: `waiting`, `pulling 42%`, `checking tcp broker`,
/// `failed: <reason>`, ... (done shows its detail: `started`, `up for 3m2s`).
pub fn phase_text(phase: &Phase) -> String {
    match phase {
        Phase::Waiting => "waiting".into(),
        Phase::PreChecks => "running pre-checks".into(),
        Phase::Pulling { percent: None } => "pulling".into(),
        Phase::Pulling { percent: Some(p) } => format!("pulling {:.0}%", p.clamp(0.0, 100.0)),
        Phase::PullRetry {
            status,
            attempt,
            of,
        } => format!("pull refused (HTTP {status}), retrying: attempt {attempt} of {of}"),
        Phase::Removing => "removing old container".into(),
        Phase::DiscardingReplacement => "removing the replacement an interrupted run left".into(),
        Phase::Creating => "creating".into(),
        Phase::Starting => "starting".into(),
        Phase::Checking { check } if check.is_empty() => "checking".into(),
        Phase::Checking { check } => format!("checking {check}"),
        Phase::Stopping => "stopping".into(),
        Phase::Killing => "killing".into(),
        Phase::Renaming { to } => format!("renaming to {to}"),
        Phase::StayingUp { secs } => format!("staying up {secs}s"),
        Phase::RollingBack => "rolling back".into(),
        Phase::RolledBack { reason, .. } => format!("rolled back: {reason}"),
        Phase::Done { detail } => detail.clone(),
        Phase::Failed { reason, .. } => format!("failed: {reason}"),
        Phase::Skipped { reason } => format!("skipped: {reason}"),
    }
}

fn phase_paint(phase: &Phase) -> Paint {
    match phase {
        Phase::Done { .. } => Paint::Green,
        Phase::Failed { .. } | Phase::RolledBack { .. } => Paint::Red,
        Phase::Skipped { .. } => Paint::Yellow,
        Phase::Waiting => Paint::Dim,
        _ => Paint::Cyan,
    }
}

/// Column widths of the live view (the longest name, service and ship).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Widths {
    /// Container column.
    pub container: usize,
    /// Service column.
    pub service: usize,
    /// Ship column.
    pub ship: usize,
}

impl Widths {
    /// Widths fitting every row.
    pub fn of(rows: &[Row]) -> Widths {
        let mut w = Widths::default();
        for r in rows {
            w.container = w.container.max(super::display_width(&r.container));
            w.service = w.service.max(super::display_width(&r.service));
            w.ship = w.ship.max(super::display_width(&r.ship));
        }
        w
    }
}

fn pad(s: &str, width: usize) -> String {
    let n = super::display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

/// One line of the live view: container, service, ship, the time its work
/// has taken, its state; cut to one less than `width` characters (0: no
/// limit; the last column is left free so no terminal wraps early),
/// coloured state when `colour`.
pub fn row_text(row: &Row, now: Duration, widths: Widths, width: usize, colour: bool) -> String {
    let width = width.saturating_sub(1);
    let head = format!(
        "{}  {}  {}  {:>6}  ",
        pad(&row.container, widths.container),
        pad(&row.service, widths.service),
        pad(&row.ship, widths.ship),
        short_duration(row.elapsed(now)),
    );
    let mut state = phase_text(&row.phase);
    // A failure's reason can span lines; the live view has one per container.
    if let Some(first) = state.lines().next() {
        state = first.to_owned();
    }
    let head_len = super::display_width(&head);
    let (head, state) = if width == 0 {
        (head, state)
    } else if head_len >= width {
        (super::cut_to_width(&head, width).to_owned(), String::new())
    } else {
        let cut = super::cut_to_width(&state, width - head_len).to_owned();
        (head, cut)
    };
    let line = format!("{head}{}", paint(&state, phase_paint(&row.phase), colour));
    line.trim_end().to_owned()
}

/// The escape sequences and text that redraw the whole view in place, when
/// `drawn` lines of an earlier frame are above the cursor.
pub fn frame(rows: &[Row], now: Duration, drawn: usize, width: usize, colour: bool) -> String {
    let widths = Widths::of(rows);
    let mut out = String::new();
    if drawn > 0 {
        out.push_str(&format!("\x1b[{drawn}A"));
    }
    for r in rows {
        out.push('\r');
        out.push_str(&row_text(r, now, widths, width, colour));
        out.push_str("\x1b[K\n");
    }
    out
}

/// Whether plain mode prints a line for `next` after `last`: every change
/// of state, but a pull's progress only by quarters (a pull reports often).
pub fn worth_a_line(last: Option<&Phase>, next: &Phase) -> bool {
    let quarter = |p: &Option<f64>| p.map(|p| (p.clamp(0.0, 100.0) / 25.0).floor() as u8);
    match (last, next) {
        (Some(Phase::Pulling { percent: a }), Phase::Pulling { percent: b }) => {
            quarter(a) != quarter(b)
        }
        (Some(a), b) => a != b,
        (None, _) => true,
    }
}

/// The plain-mode line for one event:
/// `[  1.2s] web-1 (web on ship2): pulling 42%`; a failure's log lines follow,
/// indented.
pub fn progress_line(event: &Event) -> String {
    let mut out = format!(
        "[{:>6}] {} ({} on {}): {}\n",
        short_duration(event.elapsed),
        event.container,
        event.service,
        event.ship,
        phase_text(&event.phase)
    );
    if let Phase::Failed { logs, .. } | Phase::RolledBack { logs, .. } = &event.phase {
        for l in logs {
            out.push_str(&format!("    | {l}\n"));
        }
    }
    out
}

struct State {
    rows: Vec<Row>,
    /// Lines the last live frame drew (the cursor sits below them).
    drawn: usize,
    last_draw: Option<Instant>,
    dirty: bool,
    /// `finish` was called: nothing more is drawn.
    finished: bool,
    /// Plain mode: the last phase printed per container.
    printed: std::collections::HashMap<String, Phase>,
    out: Box<dyn Write + Send>,
}

/// The progress [`Reporter`]: a live view on a terminal, progress lines
/// otherwise. It also remembers every container's final state for the
/// summary ([`LiveView::rows`]).
pub struct LiveView {
    mode: Mode,
    clock: Instant,
    state: Mutex<State>,
}

impl LiveView {
    /// A view of `rows` (the play's containers in plan order) on standard
    /// output, in the mode [`Mode::detect`] picks.
    pub fn stdout(rows: Vec<Row>) -> Arc<LiveView> {
        Self::with_writer(rows, Mode::detect(), Box::new(std::io::stdout()))
    }

    /// A view of `rows` on standard error (when standard output carries
    /// something else, such as `--format json`).
    pub fn stderr(rows: Vec<Row>) -> Arc<LiveView> {
        let mode = Mode::for_terminal(super::stderr_is_terminal(), super::stderr_colour());
        Self::with_writer(rows, mode, Box::new(std::io::stderr()))
    }

    /// A view writing to `out` in `mode`.
    pub fn with_writer(rows: Vec<Row>, mode: Mode, out: Box<dyn Write + Send>) -> Arc<LiveView> {
        Arc::new(LiveView {
            mode,
            clock: Instant::now(),
            state: Mutex::new(State {
                rows,
                drawn: 0,
                last_draw: None,
                dirty: true,
                finished: false,
                printed: std::collections::HashMap::new(),
                out,
            }),
        })
    }

    /// The mode in use.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while drawing leaves nothing half-updated that matters.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every container's line as it stands.
    pub fn rows(&self) -> Vec<Row> {
        self.lock().rows.clone()
    }

    /// Starts a thread that redraws the live view every [`REFRESH`] so the
    /// elapsed times move; it ends after [`LiveView::finish`]. Does nothing
    /// in plain mode.
    pub fn spawn_ticker(self: &Arc<Self>) {
        if !matches!(self.mode, Mode::Live { .. }) {
            return;
        }
        self.draw(true);
        let weak = Arc::downgrade(self);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(REFRESH);
                let Some(view) = weak.upgrade() else { return };
                if view.lock().finished {
                    return;
                }
                view.tick();
            }
        });
    }

    /// Redraws the live view if it is due (the ticker calls this).
    pub fn tick(&self) {
        self.draw(true);
    }

    /// Draws the final frame (live mode); call once the play has ended,
    /// before printing anything else.
    pub fn finish(&self) {
        if matches!(self.mode, Mode::Live { .. }) {
            let mut st = self.lock();
            if !st.finished {
                self.redraw(&mut st);
            }
            st.finished = true;
        } else {
            self.lock().finished = true;
        }
    }

    fn draw(&self, force: bool) {
        let mut st = self.lock();
        if st.finished {
            return;
        }
        let due = st.last_draw.is_none_or(|t| t.elapsed() >= REFRESH);
        if due && (force || st.dirty) {
            self.redraw(&mut st);
        }
    }

    fn redraw(&self, st: &mut State) {
        let Mode::Live {
            colour,
            width,
            follow,
        } = self.mode
        else {
            return;
        };
        // A resized terminal: the lines are cut to its width now.
        let width = if follow {
            super::terminal_width()
        } else {
            width
        };
        let text = frame(&st.rows, self.clock.elapsed(), st.drawn, width, colour);
        st.drawn = st.rows.len();
        st.last_draw = Some(Instant::now());
        st.dirty = false;
        let _ = st.out.write_all(text.as_bytes());
        let _ = st.out.flush();
    }
}

impl Reporter for LiveView {
    fn event(&self, event: Event) {
        let mut st = self.lock();
        match st.rows.iter_mut().find(|r| r.container == event.container) {
            Some(row) => row.apply(&event),
            None => {
                let mut row = Row::new(&event.container, &event.service, &event.ship);
                row.apply(&event);
                st.rows.push(row);
            }
        }
        st.dirty = true;
        match self.mode {
            Mode::Plain => {
                let last = st.printed.get(&event.container);
                if !st.finished && worth_a_line(last, &event.phase) {
                    st.printed
                        .insert(event.container.clone(), event.phase.clone());
                    let text = progress_line(&event);
                    let _ = st.out.write_all(text.as_bytes());
                    let _ = st.out.flush();
                }
            }
            Mode::Live { .. } => {
                let due = st.last_draw.is_none_or(|t| t.elapsed() >= REFRESH);
                // Final states are drawn at once, the rest at the refresh rate.
                if !st.finished && (due || is_final(&event.phase)) {
                    self.redraw(&mut st);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(container: &str, phase: Phase, ms: u64) -> Event {
        Event {
            container: container.into(),
            service: "web".into(),
            ship: "ship2".into(),
            phase,
            elapsed: Duration::from_millis(ms),
        }
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn phases_in_words() {
        let cases = [
            (Phase::Waiting, "waiting"),
            (
                Phase::Pulling {
                    percent: Some(41.6),
                },
                "pulling 42%",
            ),
            (Phase::Pulling { percent: None }, "pulling"),
            (
                Phase::Checking {
                    check: "tcp broker".into(),
                },
                "checking tcp broker",
            ),
            (
                Phase::Done {
                    detail: "up for 3m2s".into(),
                },
                "up for 3m2s",
            ),
            (
                Phase::Failed {
                    reason: "check http timed out".into(),
                    logs: vec![],
                },
                "failed: check http timed out",
            ),
            (
                Phase::Skipped {
                    reason: "db-1 failed".into(),
                },
                "skipped: db-1 failed",
            ),
        ];
        for (phase, text) in cases {
            assert_eq!(phase_text(&phase), text);
        }
    }

    #[test]
    fn plain_lines_have_no_escapes() {
        let buf = Buf::default();
        let view = LiveView::with_writer(
            vec![Row::new("web-1", "web", "ship2")],
            Mode::Plain,
            Box::new(buf.clone()),
        );
        view.event(ev("web-1", Phase::Creating, 1200));
        view.event(ev(
            "web-1",
            Phase::Failed {
                reason: "container did not start".into(),
                logs: vec!["boom".into()],
            },
            61_500,
        ));
        view.finish();
        assert_eq!(
            buf.text(),
            "[  1.2s] web-1 (web on ship2): creating\n\
             [1m01.5s] web-1 (web on ship2): failed: container did not start\n    | boom\n"
        );
    }

    #[test]
    fn live_frame_redraws_in_place() {
        let mut a = Row::new("db-1", "db", "main");
        a.phase = Phase::Done {
            detail: "started".into(),
        };
        a.started = Some(Duration::from_millis(100));
        a.finished = Some(Duration::from_millis(2100));
        let mut b = Row::new("web-1", "web", "ship2");
        b.phase = Phase::Pulling {
            percent: Some(50.0),
        };
        b.started = Some(Duration::from_secs(2));
        let rows = vec![a, b];
        let now = Duration::from_millis(3500);
        assert_eq!(
            frame(&rows, now, 0, 0, false),
            "\rdb-1   db   main     2.0s  started\x1b[K\n\
             \rweb-1  web  ship2    1.5s  pulling 50%\x1b[K\n"
        );
        assert_eq!(
            frame(&rows, now, 2, 32, true),
            "\x1b[2A\rdb-1   db   main     2.0s  \x1b[32mstar\x1b[0m\x1b[K\n\
             \rweb-1  web  ship2    1.5s  \x1b[36mpull\x1b[0m\x1b[K\n"
        );
    }

    #[test]
    fn live_view_draws_first_frame_and_final_states_at_once() {
        let buf = Buf::default();
        let view = LiveView::with_writer(
            vec![Row::new("web-1", "web", "ship2")],
            Mode::Live {
                colour: false,
                width: 80,
                follow: false,
            },
            Box::new(buf.clone()),
        );
        view.event(ev("web-1", Phase::Starting, 10));
        view.event(ev(
            "web-1",
            Phase::Done {
                detail: "started".into(),
            },
            20,
        ));
        view.finish();
        let text = buf.text();
        assert!(
            text.starts_with("\rweb-1  web  ship2    0.0s  starting\x1b[K\n"),
            "{text:?}"
        );
        assert!(
            text.ends_with("\x1b[1A\rweb-1  web  ship2    0.0s  started\x1b[K\n"),
            "{text:?}"
        );
        let rows = view.rows();
        assert_eq!(rows[0].finished, Some(Duration::from_millis(20)));
    }

    #[test]
    fn plain_mode_prints_pull_progress_by_quarters() {
        let buf = Buf::default();
        let view = LiveView::with_writer(Vec::new(), Mode::Plain, Box::new(buf.clone()));
        for p in [
            None,
            Some(3.0),
            Some(10.0),
            Some(26.0),
            Some(30.0),
            Some(100.0),
        ] {
            view.event(ev("web-1", Phase::Pulling { percent: p }, 0));
        }
        view.event(ev("web-1", Phase::Creating, 0));
        view.event(ev("web-1", Phase::Creating, 0));
        let text = buf.text();
        let states: Vec<&str> = text
            .lines()
            .map(|l| l.rsplit(": ").next().unwrap())
            .collect();
        assert_eq!(
            states,
            [
                "pulling",
                "pulling 3%",
                "pulling 26%",
                "pulling 100%",
                "creating"
            ]
        );
    }

    #[test]
    fn unknown_containers_get_a_line() {
        let view = LiveView::with_writer(Vec::new(), Mode::Plain, Box::new(Buf::default()));
        view.event(ev("x-1", Phase::Waiting, 0));
        assert_eq!(view.rows().len(), 1);
        assert_eq!(view.rows()[0].started, None);
    }
}
