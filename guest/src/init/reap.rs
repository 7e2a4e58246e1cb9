//! Reaping: the one `waitpid(-1)` loop in the process, and the clean-up of
//! whatever the main child left behind.

use std::time::{Duration, Instant};

use libc::{c_int, pid_t};

use super::signals::{self, SigSet};

/// How the main child ended, as an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u8);

impl Status {
    /// The status of a `waitpid` status word, if it says the process ended.
    fn of(status: c_int) -> Option<Status> {
        if libc::WIFEXITED(status) {
            Some(Status(libc::WEXITSTATUS(status) as u8))
        } else if libc::WIFSIGNALED(status) {
            Some(Status(128 + libc::WTERMSIG(status) as u8))
        } else {
            None
        }
    }
}

/// What one pass over the zombies found.
pub struct Reaped {
    /// The main child's status, if it was among them.
    pub main: Option<Status>,
    /// No children are left at all (ECHILD).
    pub none_left: bool,
}

/// Reaps every zombie child without blocking.
///
/// `libc::waitpid` itself, not a wrapper: this runs on every container's
/// exit path, where each further page of code touched is a page fault.
pub fn zombies(main: pid_t) -> Reaped {
    let mut reaped = Reaped {
        main: None,
        none_left: false,
    };
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a valid place for the status word.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match pid {
            0 => return reaped,
            pid if pid > 0 => {
                if pid == main {
                    reaped.main = Status::of(status);
                }
            }
            // SAFETY: errno is this thread's, read right after the call.
            _ if unsafe { *libc::__errno_location() } == libc::EINTR => continue,
            // ECHILD: no child is left.
            _ => {
                reaped.none_left = true;
                return reaped;
            }
        }
    }
}

/// Processes the main child left behind get SIGTERM, then `grace` to exit,
/// then SIGKILL; returns once none of them is left to reap.
///
/// As PID 1 every other process in the namespace is ours (`kill(-1)`).
/// Otherwise the targets are the main child's process group and every
/// direct child (orphans re-parented to us as subreaper), re-scanned as
/// more orphans arrive.
pub fn leftovers(main: pid_t, watched: &SigSet, grace: Duration) {
    let mut targets = Targets::new(main);
    if zombies(main).none_left {
        return;
    }
    targets.signal(libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        // Other signals arriving now (a second `docker stop`) have no one
        // left to go to but the leftovers, which are already terminating.
        signals::wait(watched, Some(left.min(Duration::from_millis(100))));
        if zombies(main).none_left {
            return;
        }
        targets.signal(libc::SIGTERM);
    }
    loop {
        targets.signal_all_again(libc::SIGKILL);
        signals::wait(watched, Some(Duration::from_millis(100)));
        if zombies(main).none_left {
            return;
        }
    }
}

/// Who the clean-up signals go to, remembering who already got SIGTERM.
struct Targets {
    group: pid_t,
    signalled: Vec<pid_t>,
    sent_group: bool,
}

impl Targets {
    fn new(main: pid_t) -> Targets {
        Targets {
            group: main,
            signalled: Vec::new(),
            sent_group: false,
        }
    }

    /// Sends `signal` to targets that have not had it yet.
    fn signal(&mut self, signal: i32) {
        if is_pid1() {
            if !self.sent_group {
                let _ = signals::send(-1, signal);
                self.sent_group = true;
            }
            return;
        }
        if !self.sent_group {
            let _ = signals::send(-self.group, signal);
            self.sent_group = true;
        }
        for pid in direct_children() {
            // Members of the group had the group's signal already.
            // SAFETY: getpgid has no memory-safety preconditions.
            let in_group = unsafe { libc::getpgid(pid) } == self.group;
            if !in_group && !self.signalled.contains(&pid) {
                self.signalled.push(pid);
                let _ = signals::send(pid, signal);
            }
        }
    }

    /// Sends `signal` to every target, whether or not it had one before.
    fn signal_all_again(&mut self, signal: i32) {
        self.signalled.clear();
        self.sent_group = false;
        self.signal(signal);
    }
}

fn is_pid1() -> bool {
    std::process::id() == 1
}

/// Pids whose parent is this process, from `/proc/*/stat`.
fn direct_children() -> Vec<pid_t> {
    let me = std::process::id() as pid_t;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: pid_t = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid ...": comm may contain spaces and ')'.
            let after_comm = &stat[stat.rfind(')')? + 1..];
            let ppid: pid_t = after_comm.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == me).then_some(pid)
        })
        .collect()
}
