//! What happens to a signal the supervisor receives before the child gets
//! it: `--stop-delay` may hold the first SIGTERM/SIGINT for a while, and
//! `--rewrite` may turn it into another signal or drop it.

use std::time::{Duration, Instant};

use libc::c_int;

use super::signals;
use crate::cli::Supervise;

/// Forwards signals to the main child (or its group) by the options' rules.
pub struct Relay {
    /// The main child's pid, negated to address its process group.
    target: libc::pid_t,
    rewrites: Vec<(c_int, c_int)>,
    stop_delay: Duration,
    /// The first stop signal, held until the instant given.
    held: Option<(c_int, Instant)>,
    /// Whether a stop signal was held already (only the first one is).
    delayed_once: bool,
}

impl Relay {
    /// The rules of `options` for the child `main`.
    pub fn new(main: libc::pid_t, options: &Supervise) -> Relay {
        Relay {
            target: if options.group { -main } else { main },
            rewrites: options.rewrite.iter().map(|r| (r.from, r.to)).collect(),
            stop_delay: options.stop_delay.unwrap_or_default(),
            held: None,
            delayed_once: false,
        }
    }

    /// Handles a received signal: hold it (the first SIGTERM/SIGINT with
    /// `--stop-delay`), or forward it. A second stop signal while one is
    /// held sends both at once, in the order they came.
    pub fn receive(&mut self, signal: c_int) {
        let is_stop = signal == libc::SIGTERM || signal == libc::SIGINT;
        if is_stop && !self.stop_delay.is_zero() {
            if let Some((first, _)) = self.held.take() {
                self.forward(first);
            } else if !self.delayed_once {
                self.delayed_once = true;
                self.held = Some((signal, Instant::now() + self.stop_delay));
                eprintln!(
                    "maestro-guest: holding {} for {}s (--stop-delay)",
                    signals::name(signal),
                    self.stop_delay.as_secs_f64()
                );
                return;
            }
        }
        self.forward(signal);
    }

    /// How long the supervisor may sleep before a held signal is due
    /// (`None`: nothing held, sleep until the next signal).
    pub fn next_due(&self) -> Option<Duration> {
        self.held
            .map(|(_, due)| due.saturating_duration_since(Instant::now()))
    }

    /// Forwards the held signal once its delay has passed.
    pub fn release_due(&mut self) {
        if let Some((signal, due)) = self.held {
            if Instant::now() >= due {
                self.held = None;
                self.forward(signal);
            }
        }
    }

    /// Forwards `signal` after `--rewrite` (the last rule for it wins).
    fn forward(&self, signal: c_int) {
        let rewritten = self
            .rewrites
            .iter()
            .rev()
            .find(|(from, _)| *from == signal)
            .map_or(signal, |(_, to)| *to);
        if rewritten != 0 {
            self.send(rewritten);
        }
    }

    /// Sends `signal` as it is (no rewrite, no delay): the reload signal.
    pub fn send(&self, signal: c_int) {
        if let Err(error) = signals::send(self.target, signal) {
            eprintln!(
                "maestro-guest: warning: cannot send {} to the program: {error}",
                signals::name(signal)
            );
        }
    }
}
