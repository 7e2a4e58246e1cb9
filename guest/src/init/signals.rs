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

/// The standard signals by name (without `SIG`), in number order.
const NAMES: [(&str, c_int); 31] = [
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// A signal given on the command line: a number (`15`), a name with or
/// without `SIG` in any case (`TERM`, `sigterm`), or `RTMIN+N`/`RTMAX-N`.
/// `0` is accepted only when `allow_zero` (a rewrite target: "drop it").
pub fn parse(text: &str, allow_zero: bool) -> Result<c_int, String> {
    let invalid =
        || format!("{text:?} is not a signal (a number, or a name such as TERM or SIGUSR1)");
    if let Ok(number) = text.parse::<c_int>() {
        return match number {
            0 if allow_zero => Ok(0),
            n if (1..=libc::SIGRTMAX()).contains(&n) => Ok(n),
            _ => Err(invalid()),
        };
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, number)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(*number);
    }
    let realtime = |base: c_int, rest: &str, sign: c_int| -> Option<c_int> {
        let offset: c_int = match rest {
            "" => 0,
            _ => {
                let digits = rest.strip_prefix(if sign > 0 { '+' } else { '-' })?;
                digits.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
                digits.parse().ok()?
            }
        };
        let number = base + sign * offset;
        (libc::SIGRTMIN()..=libc::SIGRTMAX())
            .contains(&number)
            .then_some(number)
    };
    let number = if let Some(rest) = name.strip_prefix("RTMIN") {
        realtime(libc::SIGRTMIN(), rest, 1)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        realtime(libc::SIGRTMAX(), rest, -1)
    } else {
        None
    };
    number.ok_or_else(invalid)
}

/// `SIGTERM` for 15, `SIG34` for numbers without a standard name (messages).
pub fn name(signal: c_int) -> String {
    match NAMES.iter().find(|(_, n)| *n == signal) {
        Some((name, _)) => format!("SIG{name}"),
        None => format!("SIG{signal}"),
    }
}

/// Whether the supervisor can receive `signal` to forward it (catchable,
/// not synchronous, not SIGCHLD): the signals `--rewrite` may rewrite.
pub fn is_forwardable(signal: c_int) -> bool {
    signal != libc::SIGCHLD
        && signal != libc::SIGKILL
        && signal != libc::SIGSTOP
        && !SYNCHRONOUS.contains(&signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_number_and_by_name() {
        assert_eq!(parse("15", false), Ok(libc::SIGTERM));
        assert_eq!(parse("TERM", false), Ok(libc::SIGTERM));
        assert_eq!(parse("sigusr1", false), Ok(libc::SIGUSR1));
        assert_eq!(parse("SIGQUIT", false), Ok(libc::SIGQUIT));
        assert_eq!(parse("RTMIN", false), Ok(libc::SIGRTMIN()));
        assert_eq!(parse("RTMIN+2", false), Ok(libc::SIGRTMIN() + 2));
        assert_eq!(parse("RTMAX-1", false), Ok(libc::SIGRTMAX() - 1));
        assert_eq!(parse("0", true), Ok(0));
        assert!(parse("0", false).is_err());
        assert!(parse("65", false).is_err());
        assert!(parse("RTMAX+1", false).is_err());
        assert!(
            parse("NOPE", false)
                .unwrap_err()
                .contains("\"NOPE\" is not a signal")
        );
        assert_eq!(name(libc::SIGTERM), "SIGTERM");
        assert!(!is_forwardable(libc::SIGCHLD) && !is_forwardable(libc::SIGKILL));
        assert!(is_forwardable(libc::SIGTERM));
    }
}
