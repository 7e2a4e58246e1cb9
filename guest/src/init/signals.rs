//! Signal plumbing for the init loop: which signals are forwarded, blocking
//! them so they queue for [`wait`], and the caller's original signal state
//! that the child must start with.
//!
//! Signal numbers stay plain `c_int` (not nix's `Signal`) because the
//! real-time signals `SIGRTMIN..=SIGRTMAX` are forwarded too.

use std::io;
use std::mem::MaybeUninit;
use std::time::Duration;

use libc::c_int;

/// Signals the kernel raises synchronously for a faulting thread: forwarding
/// them would be meaningless, and blocking them would hide real crashes.
const SYNCHRONOUS: [c_int; 7] = [
    libc::SIGSEGV,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGBUS,
    libc::SIGABRT,
    libc::SIGTRAP,
    libc::SIGSYS,
];

/// Whether `signal`'s disposition is currently `SIG_IGN`.
fn is_ignored(signal: c_int) -> bool {
    let mut old = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only queries; `old` is valid for writing.
    let rc = unsafe { libc::sigaction(signal, std::ptr::null(), old.as_mut_ptr()) };
    // SAFETY: zero-initialised and, on success, filled by the kernel.
    rc == 0 && unsafe { old.assume_init() }.sa_sigaction == libc::SIG_IGN
}

/// A `sigset_t` with safe constructors.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// The empty set.
    pub fn empty() -> SigSet {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            SigSet(set.assume_init())
        }
    }

    /// Adds `signal`; numbers the C library refuses are skipped.
    pub fn add(&mut self, signal: c_int) {
        // SAFETY: `self.0` is an initialised set.
        unsafe { libc::sigaddset(&mut self.0, signal) };
    }

    /// The C set, for `posix_spawnattr_*`.
    pub fn raw(&self) -> &libc::sigset_t {
        &self.0
    }
}

/// Every signal the supervisor waits for: each one that can be caught
/// (not SIGKILL/SIGSTOP) and is not synchronous, real-time ones included.
/// SIGCHLD is in the set (it means "reap"), everything else is forwarded.
pub fn watched() -> SigSet {
    let mut set = SigSet::empty();
    for signal in 1..=libc::SIGRTMAX() {
        let uncatchable = signal == libc::SIGKILL || signal == libc::SIGSTOP;
        if !uncatchable && !SYNCHRONOUS.contains(&signal) {
            set.add(signal);
        }
    }
    set
}

/// The signal state maestro-guest was started with, which the child gets back.
///
/// Dispositions pass to the child by themselves (fork keeps them, exec
/// keeps `SIG_IGN`), except SIGCHLD, which maestro-guest sets to default so
/// that children are not auto-reaped, and SIGPIPE, which std's `Command`
/// resets in every child it forks.
#[derive(Clone, Copy)]
pub struct Original {
    /// The caller's signal mask.
    pub mask: SigSet,
    /// Whether the caller ignored SIGPIPE.
    pub pipe_ignored: bool,
    /// Whether the caller ignored SIGCHLD.
    pub chld_ignored: bool,
}

impl Original {
    /// Reads the state before anything changed it (maestro-guest has no
    /// Rust runtime start-up that would; see `main.rs`).
    pub fn capture() -> io::Result<Original> {
        let mut mask = SigSet::empty();
        // SAFETY: a null new set only queries the current mask into `mask`.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask.0) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(Original {
            mask,
            pipe_ignored: is_ignored(libc::SIGPIPE),
            chld_ignored: is_ignored(libc::SIGCHLD),
        })
    }

    /// Puts this state back in a freshly forked child, after std's spawn has
    /// reset the mask and SIGPIPE. Only async-signal-safe calls.
    pub fn restore_in_child(&self) -> io::Result<()> {
        for (ignored, signal) in [
            (self.pipe_ignored, libc::SIGPIPE),
            (self.chld_ignored, libc::SIGCHLD),
        ] {
            if ignored {
                // SAFETY: setting SIG_IGN installs no handler code; async-signal-safe.
                unsafe { libc::signal(signal, libc::SIG_IGN) };
            }
        }
        set_mask(&self.mask)
    }
}

/// Replaces the calling thread's signal mask.
pub fn set_mask(mask: &SigSet) -> io::Result<()> {
    // SAFETY: `mask` is an initialised set; the old mask is not wanted.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &mask.0, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Blocks `set` so its signals queue until [`wait`] takes them.
pub fn block(set: &SigSet) -> io::Result<()> {
    // SAFETY: `set` is an initialised set; the old mask is not wanted.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set.0, std::ptr::null_mut()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// SIGCHLD must not be ignored in the supervisor, or the kernel would reap
/// children itself and their exit status would be lost. The child gets the
/// caller's setting back through [`Original::restore_in_child`].
pub fn reset_sigchld() {
    // SAFETY: setting the default disposition installs no handler code.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
}

/// Takes the next pending signal of `set`, waiting at most `timeout`
/// (forever when `None`). `None` when the time ran out.
pub fn wait(set: &SigSet, timeout: Option<Duration>) -> Option<c_int> {
    loop {
        let signal = match timeout {
            // SAFETY: `set` is initialised; no siginfo is wanted.
            None => unsafe { libc::sigwaitinfo(&set.0, std::ptr::null_mut()) },
            Some(timeout) => {
                // The fields' own types (musl deprecates naming `time_t`).
                let spec = libc::timespec {
                    tv_sec: timeout.as_secs().try_into().unwrap_or(i32::MAX.into()),
                    tv_nsec: timeout.subsec_nanos().into(),
                };
                // SAFETY: `set` and `spec` are initialised; no siginfo is wanted.
                unsafe { libc::sigtimedwait(&set.0, std::ptr::null_mut(), &spec) }
            }
        };
        if signal > 0 {
            return Some(signal);
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue,
            _ => return None,
        }
    }
}

/// Sends `signal` to `pid` (a process group when negative); the target
/// having gone already is not an error worth reporting.
pub fn send(pid: libc::pid_t, signal: c_int) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    if unsafe { libc::kill(pid, signal) } == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::ESRCH) => Ok(()),
        _ => Err(error),
    }
}
