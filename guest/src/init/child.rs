//! Starting the supervised program so that it looks as if the caller had
//! started it directly: same signal mask and ignored signals, same working
//! directory, and the terminal's foreground when the caller had it.

use std::ffi::{CString, OsString};
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use super::signals::{self, Original, SigSet};
use crate::cli::exit;

/// Why the program could not be started, with the exit status the shell
/// convention gives it.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// ENOENT: the program (or its interpreter) does not exist.
    #[error("{program}: command not found")]
    NotFound { program: String },
    /// EACCES, ENOEXEC, ...: it exists but cannot be executed.
    #[error("{program}: cannot execute: {source}")]
    NotExecutable { program: String, source: io::Error },
}

impl SpawnError {
    fn from_io(program: &OsString, error: io::Error) -> SpawnError {
        let program = program.to_string_lossy().into_owned();
        match error.kind() {
            io::ErrorKind::NotFound => SpawnError::NotFound { program },
            _ => SpawnError::NotExecutable {
                program,
                source: error,
            },
        }
    }

    /// 127 for "not found", 126 otherwise (as shells do).
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            SpawnError::NotFound { .. } => exit::NOT_FOUND,
            SpawnError::NotExecutable { .. } => exit::NOT_EXECUTABLE,
        })
    }
}

/// Starts `argv` in its own process group (so a terminal's Ctrl-C reaches
/// it once, not again through the supervisor) and returns its pid.
///
/// The common case (no terminal to hand over, SIGCHLD not ignored by the
/// caller) uses `posix_spawn`, which glibc implements with a vfork-style
/// clone: no page tables copied, about a third less start-up cost than a
/// fork. Otherwise a fork with a `pre_exec` hook does what spawn attributes
/// cannot: take the terminal, and set signals to `SIG_IGN`.
pub fn spawn(argv: &[OsString], original: &Original) -> Result<libc::pid_t, SpawnError> {
    if original.chld_ignored || owns_terminal() {
        return spawn_forked(argv, original);
    }
    spawn_posix(argv, original).map_err(|error| SpawnError::from_io(&argv[0], error))
}

fn spawn_forked(argv: &[OsString], original: &Original) -> Result<libc::pid_t, SpawnError> {
    let mut command = command(argv, original, true);
    command.process_group(0);
    match command.spawn() {
        // The `Child` handle is dropped on purpose: the init loop's
        // `waitpid(-1)` is the only waiter.
        Ok(child) => Ok(child.id() as libc::pid_t),
        Err(error) => Err(SpawnError::from_io(&argv[0], error)),
    }
}

unsafe extern "C" {
    /// The process environment, handed to the child unchanged.
    static environ: *const *mut libc::c_char;
}

/// `posix_spawnp` with the caller's mask and a new process group; every
/// disposition is the caller's already.
fn spawn_posix(argv: &[OsString], original: &Original) -> io::Result<libc::pid_t> {
    let args = argv
        .iter()
        .map(|arg| CString::new(arg.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "an argument contains NUL"))?;
    let mut pointers: Vec<*mut libc::c_char> =
        args.iter().map(|arg| arg.as_ptr().cast_mut()).collect();
    pointers.push(std::ptr::null_mut());
    let flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETPGROUP;
    let mut attr = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
    let mut pid: libc::pid_t = 0;
    // SAFETY: `attr` is initialised by posix_spawnattr_init before use and
    // destroyed after; the sets, argv (NUL-terminated C strings ending in a
    // null pointer) and `environ` outlive the call.
    let rc = unsafe {
        libc::posix_spawnattr_init(attr.as_mut_ptr());
        libc::posix_spawnattr_setsigmask(attr.as_mut_ptr(), original.mask.raw());
        libc::posix_spawnattr_setpgroup(attr.as_mut_ptr(), 0);
        libc::posix_spawnattr_setflags(attr.as_mut_ptr(), flags as libc::c_short);
        let rc = libc::posix_spawnp(
            &mut pid,
            args[0].as_ptr(),
            std::ptr::null(),
            attr.as_ptr(),
            pointers.as_ptr(),
            environ,
        );
        libc::posix_spawnattr_destroy(attr.as_mut_ptr());
        rc
    };
    if rc == 0 {
        Ok(pid)
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

/// Whether stdin is a terminal whose foreground is our process group.
fn owns_terminal() -> bool {
    // SAFETY: isatty, tcgetpgrp and getpgrp only inspect fd 0 and ourselves.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// Replaces the current process with `argv` (`--exec`); returns only on failure.
pub fn exec(argv: &[OsString], original: &Original) -> SpawnError {
    let error = command(argv, original, false).exec();
    SpawnError::from_io(&argv[0], error)
}

/// The command with a `pre_exec` hook that undoes std's signal reset:
/// std empties the mask and sets SIGPIPE to default in every child, while
/// the program must see what the caller set up.
fn command(argv: &[OsString], original: &Original, take_terminal: bool) -> Command {
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    let original = *original;
    // SAFETY: getpgrp has no preconditions.
    let caller_group = unsafe { libc::getpgrp() };
    let hook = move || {
        if take_terminal {
            take_foreground(caller_group);
        }
        original.restore_in_child()
    };
    // SAFETY: the hook only makes async-signal-safe calls (sigprocmask,
    // signal, isatty, tcgetpgrp, tcsetpgrp, getpid) and allocates nothing.
    unsafe { command.pre_exec(hook) };
    command
}

/// Hands the terminal on stdin to the child's new process group, when the
/// caller's group held it. Best effort: a program without the terminal
/// still runs. SIGTTOU is blocked meanwhile (the mask is restored right
/// after), or a background group calling tcsetpgrp would be stopped.
fn take_foreground(caller_group: libc::pid_t) {
    // SAFETY: isatty and tcgetpgrp only inspect fd 0.
    let ours = unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == caller_group };
    if !ours {
        return;
    }
    let mut ttou = SigSet::empty();
    ttou.add(libc::SIGTTOU);
    if signals::block(&ttou).is_ok() {
        // SAFETY: getpid and tcsetpgrp have no memory-safety preconditions.
        unsafe { libc::tcsetpgrp(0, libc::getpid()) };
    }
}
