//! `maestro-guest run`: the program's init (PID 1 in a container).
//!
//! [`supervise`] reads top to bottom like tini's and catatonit's `main`:
//! configure signals, spawn, then loop { wait for a signal; reap on
//! SIGCHLD, re-render on SIGHUP when reloading, forward anything else
//! (rewritten or held as asked) } until the main child is gone, clean up
//! what it left behind, and exit with its status.

mod child;
mod reap;
mod relay;
pub mod signals;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use libc::c_int;

use crate::cli::{RunArgs, Supervise, exit};

/// Entry point of `maestro-guest run`.
pub fn run(args: RunArgs) -> ExitCode {
    if args.supervise.file_env {
        if let Err(error) = crate::fileenv::apply() {
            return fatal(&error.to_string());
        }
    }
    if let Err(code) = crate::wait::before_start(&args.supervise) {
        return code;
    }
    supervise(&args.command, &args.supervise, None)
}

/// `render --reload-signal`: on SIGHUP, `render` runs again; when it
/// reports a changed file, `signal` goes to the program.
pub struct Reload<'a> {
    /// What the program gets after a change.
    pub signal: c_int,
    /// Renders again; true when an output changed. It reports its own errors.
    pub render: &'a mut dyn FnMut() -> bool,
}

/// Runs `command` as `run` does: replaced by it with `--exec`, supervised
/// otherwise. Also used by `render -- CMD`, with `reload` for `--reload-signal`.
pub fn supervise(
    command: &[OsString],
    options: &Supervise,
    mut reload: Option<Reload>,
) -> ExitCode {
    let original = match signals::Original::capture() {
        Ok(original) => original,
        Err(error) => return fatal(&format!("cannot read the signal mask: {error}")),
    };
    if options.exec {
        let error = child::exec(command, &original);
        eprintln!("maestro-guest: {error}");
        return error.exit_code();
    }

    let watched = signals::watched();
    if let Err(error) = configure_signals(&watched) {
        return fatal(&format!("cannot block signals: {error}"));
    }
    become_subreaper();
    let main = match child::spawn(command, &original) {
        Ok(pid) => pid,
        Err(error) => {
            eprintln!("maestro-guest: {error}");
            return error.exit_code();
        }
    };
    release_startup_memory();
    // From here on maestro-guest must not bail out: if it is PID 1, its
    // exit takes the whole container down. Errors are warnings.
    let mut relay = relay::Relay::new(main, options);
    let status = loop {
        match (signals::wait(&watched, relay.next_due()), reload.as_mut()) {
            (Some(libc::SIGCHLD), _) => {
                if let Some(status) = reap::zombies(main).main {
                    break status;
                }
            }
            (Some(libc::SIGHUP), Some(reload)) => {
                if (reload.render)() {
                    relay.send(reload.signal);
                }
            }
            (Some(signal), _) => relay.receive(signal),
            // A held stop signal (--stop-delay) is due.
            (None, _) => relay.release_due(),
        }
    };
    reap::leftovers(main, &watched, grace(options.grace));
    ExitCode::from(status.0)
}

/// Blocks every watched signal so that each one queues for
/// [`signals::wait`] instead of running a handler, and makes sure the
/// kernel does not auto-reap children.
fn configure_signals(watched: &signals::SigSet) -> std::io::Result<()> {
    signals::reset_sigchld();
    signals::block(watched)
}

/// Orphans are re-parented to the nearest subreaper; as PID 1 we are the
/// reaper of last resort anyway, otherwise we ask to be one.
fn become_subreaper() {
    if std::process::id() == 1 {
        return;
    }
    // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) } != 0 {
        let error = std::io::Error::last_os_error();
        eprintln!(
            "maestro-guest: warning: cannot become a subreaper ({error}); orphans will not be reaped"
        );
    }
}

/// PID 1 lives as long as the container: what start-up (argument parsing
/// above all) left resident goes back to the kernel. The free heap is
/// trimmed, and so are the stack pages below this frame: start-up's deeper
/// call chains are over, and a page touched again later comes back zeroed.
#[inline(never)]
fn release_startup_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    const PAGE: usize = 4096;
    // Well below this frame and the madvise call's own frames.
    const MARGIN: usize = 4 * PAGE;
    const SPAN: usize = 1024 * 1024;
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    let top = (here - MARGIN) & !(PAGE - 1);
    let bottom = top.saturating_sub(SPAN);
    // SAFETY: [bottom, top) lies below the current stack pointer (by
    // MARGIN), so no live frame is in it and no signal handler runs on this
    // stack (all handled signals are blocked); MADV_DONTNEED on private
    // anonymous memory just drops the pages. Unmapped parts of the range
    // only make the call return ENOMEM, which is ignored.
    unsafe {
        libc::madvise(
            bottom as *mut libc::c_void,
            top - bottom,
            libc::MADV_DONTNEED,
        );
    }
}

/// `--grace` as a duration; negative or NaN means none.
fn grace(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::ZERO)
}

/// Reports an error that stops maestro-guest before the program starts.
pub fn fatal(message: &str) -> ExitCode {
    eprintln!("maestro-guest: {message}");
    ExitCode::from(exit::FAILURE)
}
