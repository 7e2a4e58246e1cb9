//! SIGINT (Ctrl-C) and SIGTERM as one stream of interrupts, so that a play
//! stopped by a terminal and one stopped by a supervisor (`kill`, systemd,
//! `docker stop` of a CI container) end the same way. Each interrupt carries
//! the exit status a shell reports for its signal (128 + number).

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Which signal interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT, Ctrl-C.
    Int,
    /// SIGTERM.
    Term,
}

impl Interrupt {
    /// The exit status that reports it: 130 (SIGINT) or 143 (SIGTERM).
    pub fn exit_code(self) -> u8 {
        match self {
            Interrupt::Int => crate::exit::EXIT_INTERRUPTED,
            Interrupt::Term => crate::exit::EXIT_TERMINATED,
        }
    }

    /// The signal's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "SIGINT",
            Interrupt::Term => "SIGTERM",
        }
    }
}

/// Both handlers, installed at creation (from then on neither signal ends the
/// process by itself).
pub struct Interrupts {
    int: Option<Signal>,
    term: Option<Signal>,
}

impl Interrupts {
    /// Installs the handlers; one that cannot be installed is left to the default
    /// action (the process ends), which is what would happen without maestro's care.
    /// Needs a Tokio runtime with I/O enabled.
    pub fn install() -> Interrupts {
        Interrupts {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Waits for the next SIGINT or SIGTERM.
    pub async fn next(&mut self) -> Interrupt {
        async fn recv(s: &mut Option<Signal>) {
            let received = match s {
                Some(s) => s.recv().await.is_some(),
                None => false,
            };
            if !received {
                std::future::pending::<()>().await;
            }
        }
        tokio::select! {
            () = recv(&mut self.int) => Interrupt::Int,
            () = recv(&mut self.term) => Interrupt::Term,
        }
    }
}
