//! `maestro-guest run` with real processes: exit statuses, signal
//! forwarding, reaping, the caller's signal state, and the clean-up of
//! processes left behind.

mod common;

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{DEADLINE, Running, eventually, guest, output, proc_stat, scratch};

fn run(args: &[&str]) -> Command {
    let mut command = guest();
    command.arg("run").args(args);
    command
}

fn sh(script: &str) -> Vec<&str> {
    vec!["--", "sh", "-c", script]
}

#[test]
fn every_exit_code_passes_through() {
    // Batches keep the machine's two cores usable for others.
    for batch in (0..=255).collect::<Vec<i32>>().chunks(32) {
        let children: Vec<_> = batch
            .iter()
            .map(|code| {
                let mut command = run(&sh(&format!("exit {code}")));
                (code, command.spawn().unwrap())
            })
            .collect();
        for (code, mut child) in children {
            let status = common::wait_with_deadline(&mut child, DEADLINE);
            assert_eq!(status.code(), Some(*code), "exit {code}");
        }
    }
}

#[test]
fn a_child_killed_by_a_signal_gives_128_plus_n() {
    let out = output(run(&sh("kill -KILL $$")));
    assert_eq!(out.code, Some(137));
    let out = output(run(&sh("kill -TERM $$")));
    assert_eq!(out.code, Some(143));
}

#[test]
fn common_signals_reach_the_child() {
    for (name, number) in [
        ("TERM", libc::SIGTERM),
        ("INT", libc::SIGINT),
        ("HUP", libc::SIGHUP),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
    ] {
        let script =
            format!("trap 'echo got {name}; exit 42' {name}; echo ready; sleep 1000 & wait");
        let mut running = Running::start(run(&sh(&script)));
        running.expect_line("ready");
        // SAFETY: kill has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(running.pid(), number) }, 0);
        running.expect_line(&format!("got {name}"));
        let status = running.finish();
        assert_eq!(status.code(), Some(42), "{name}");
    }
}

#[test]
fn group_mode_signals_the_whole_process_group() {
    let script = "trap 'wait; exit 9' USR1; \
                  (trap 'echo grandchild got USR1; exit 0' USR1; echo ready; \
                  while :; do sleep 0.05; done) & wait";
    let mut running = Running::start(run(&["--group", "--", "sh", "-c", script]));
    running.expect_line("ready");
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(running.pid(), libc::SIGUSR1) }, 0);
    running.expect_line("grandchild got USR1");
    assert_eq!(running.finish().code(), Some(9));
}

#[test]
fn missing_and_non_executable_programs_give_127_and_126() {
    let out = output(run(&["--", "/nonexistent/program"]));
    assert_eq!(out.code, Some(127));
    assert!(
        out.stderr
            .contains("/nonexistent/program: command not found"),
        "{}",
        out.stderr
    );

    let dir = scratch("noexec");
    let file = dir.join("script");
    std::fs::write(&file, "#!/bin/sh\n").unwrap();
    let out = output(run(&["--", file.to_str().unwrap()]));
    assert_eq!(out.code, Some(126));
    assert!(out.stderr.contains("cannot execute"), "{}", out.stderr);
}

#[test]
fn orphans_are_reaped_when_not_pid1() {
    // The inner shell starts a short sleep and exits at once: the sleep is
    // orphaned, re-parented to maestro-guest (subreaper) and must be reaped.
    let script = "sh -c 'sleep 0.3 & echo orphan $!'; echo ready; exec sleep 1000";
    let mut running = Running::start(run(&sh(script)));
    let orphan: i32 = running.expect_line("orphan ")[7..].parse().unwrap();
    running.expect_line("ready");
    let guest_pid = running.pid();
    assert!(
        eventually(DEADLINE, || match proc_stat(orphan) {
            Some((ppid, _)) => ppid == guest_pid,
            None => true, // already reaped
        }),
        "the orphan was not re-parented to maestro-guest"
    );
    assert!(
        eventually(DEADLINE, || proc_stat(orphan).is_none()),
        "the orphan {orphan} was left as {:?}",
        proc_stat(orphan)
    );
}

/// Makes `command` start with SIGUSR1 and SIGTERM blocked and SIGUSR2,
/// SIGPIPE and SIGCHLD ignored, as a caller (a shell with `trap ''`, a
/// supervisor with a blocked mask) could.
fn with_signal_state(command: &mut Command) {
    with_signal_state_and(command, true);
}

/// [`with_signal_state`], SIGCHLD left alone unless `ignore_chld`.
/// maestro-guest starts the child with posix_spawn unless the caller
/// ignored SIGCHLD, and forks otherwise: both paths are covered.
fn with_signal_state_and(command: &mut Command, ignore_chld: bool) {
    let hook = move || {
        // SAFETY: only async-signal-safe calls on initialised local sets.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGUSR2, libc::SIG_IGN);
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            if ignore_chld {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            }
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe calls.
    unsafe { command.pre_exec(hook) };
}

/// The blocked and ignored masks of a `/proc/PID/status`, limited to the
/// standard signals 1..=31: glibc reserves 32 and 33 for itself and
/// installs its own handlers there, in maestro-guest as in any C program.
fn signal_lines(status: &str) -> Vec<String> {
    status
        .lines()
        .filter_map(|l| {
            let (name, hex) = l.split_once(":\t")?;
            if name != "SigBlk" && name != "SigIgn" {
                return None;
            }
            let mask = u64::from_str_radix(hex, 16).ok()? & 0x7fff_ffff;
            Some(format!("{name}:\t{mask:016x}"))
        })
        .collect()
}

fn bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

#[test]
fn the_child_starts_with_the_callers_ignored_and_blocked_signals() {
    for ignore_chld in [true, false] {
        let mut direct = Command::new("cat");
        direct.arg("/proc/self/status");
        with_signal_state_and(&mut direct, ignore_chld);
        let direct = output(direct);

        let mut through = run(&["--", "cat", "/proc/self/status"]);
        with_signal_state_and(&mut through, ignore_chld);
        let through = output(through);
        assert_eq!(through.code, Some(0), "{}", through.stderr);

        let chld = if ignore_chld { bit(libc::SIGCHLD) } else { 0 };
        let expected = vec![
            format!("SigBlk:\t{:016x}", bit(libc::SIGUSR1) | bit(libc::SIGTERM)),
            format!(
                "SigIgn:\t{:016x}",
                bit(libc::SIGUSR2) | bit(libc::SIGPIPE) | chld
            ),
        ];
        assert_eq!(signal_lines(&direct.stdout), expected);
        assert_eq!(
            signal_lines(&through.stdout),
            expected,
            "ignore_chld={ignore_chld}"
        );
    }

    // And with nothing set up, nothing is blocked or ignored.
    let plain = output(run(&["--", "cat", "/proc/self/status"]));
    assert_eq!(
        signal_lines(&plain.stdout),
        ["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]
    );
}

#[test]
fn a_signal_the_caller_blocked_is_forwarded_and_stays_pending_in_the_child() {
    // The caller blocked SIGUSR1: maestro-guest still forwards it, and the
    // child, which starts with it blocked too, holds it pending instead of
    // dying of it (USR1's default action).
    let mut command = run(&sh("echo child $$; read _; exit 0"));
    command.stdin(std::process::Stdio::piped());
    with_signal_state(&mut command);
    let mut running = Running::start(command);
    let child: i32 = running.expect_line("child ")[6..].parse().unwrap();
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(running.pid(), libc::SIGUSR1) }, 0);
    let pending = || {
        let status = std::fs::read_to_string(format!("/proc/{child}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("ShdPnd:\t"))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .is_some_and(|mask| mask & bit(libc::SIGUSR1) != 0)
    };
    assert!(
        eventually(DEADLINE, pending),
        "SIGUSR1 never became pending in the child"
    );
    drop(running.child.stdin.take());
    assert_eq!(running.finish().code(), Some(0));
}

#[test]
fn the_working_directory_is_kept() {
    let dir = scratch("cwd");
    let mut command = run(&["--", "pwd"]);
    command.current_dir(&dir);
    let out = output(command);
    assert_eq!(
        out.stdout.trim(),
        dir.canonicalize().unwrap().to_str().unwrap()
    );
}

#[test]
fn exec_mode_replaces_maestro_guest() {
    let mut running = Running::start(run(&["--exec", "--", "sh", "-c", "echo pid $$"]));
    let pid: i32 = running.expect_line("pid ")[4..].parse().unwrap();
    assert_eq!(pid, running.pid());
    assert_eq!(running.finish().code(), Some(0));
    let out = output(run(&["--exec", "--", "/nonexistent/x"]));
    assert_eq!(out.code, Some(127));
}

#[test]
fn leftovers_get_sigterm_and_their_grace_period() {
    let dir = scratch("grace");
    let log = dir.join("log");
    let script = format!(
        "(trap 'echo term >> {log}; sleep 0.3; echo done >> {log}; exit 0' TERM; \
          echo ready; while :; do sleep 0.05; done) & \
         read _; exit 3",
        log = log.display()
    );
    let mut command = run(&["--grace", "10", "--", "sh", "-c", &script]);
    command.stdin(std::process::Stdio::piped());
    let mut running = Running::start(command);
    running.expect_line("ready");
    let started = Instant::now();
    drop(running.child.stdin.take()); // EOF: the main child exits with 3
    let status = running.finish();
    let took = started.elapsed();
    assert_eq!(status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "term\ndone\n");
    assert!(
        took >= Duration::from_millis(300),
        "maestro-guest did not wait for the grace period: {took:?}"
    );
}

#[test]
fn leftovers_ignoring_sigterm_are_killed_after_the_grace_period() {
    // "ready" only once the straggler ignores SIGTERM.
    let script = "(trap '' TERM; echo ready; exec sleep 1000) & read _; exit 0";
    let mut command = run(&["--grace", "0.5", "--", "sh", "-c", script]);
    command.stdin(std::process::Stdio::piped());
    let mut running = Running::start(command);
    running.expect_line("ready");
    let started = Instant::now();
    drop(running.child.stdin.take());
    let status = running.finish();
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(
        took >= Duration::from_millis(450),
        "killed too early: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "not killed: {took:?}");
}

#[test]
fn the_child_gets_the_terminals_foreground() {
    // `script` (bsdutils) runs maestro-guest on a fresh pseudo-terminal,
    // in its own session, as a terminal's foreground job would be.
    let guest = env!("CARGO_BIN_EXE_maestro-guest");
    let inner = format!("{guest} run -- sh -c 'cat /proc/self/stat'");
    let mut command = Command::new("script");
    command.args(["-qec", &inner, "/dev/null"]);
    let out = match std::process::Command::new("script")
        .arg("--version")
        .output()
    {
        Ok(_) => output(command),
        Err(_) => panic!("`script` is missing: apt-get install bsdutils"),
    };
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // "pid (comm) state ppid pgrp session tty_nr tpgid ..."
    let stat = out.stdout.trim();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let (pgrp, session, tpgid) = (fields[2], fields[3], fields[5]);
    assert_eq!(
        tpgid, pgrp,
        "the child's group is not the foreground: {stat}"
    );
    assert_ne!(pgrp, session, "the child did not get its own group: {stat}");
}

/// A child that prints a line for every signal of `names` it gets, and
/// "ready" once its traps are set; it exits on USR2.
fn signal_logger(names: &[&str]) -> String {
    let mut script = String::new();
    for name in names {
        script.push_str(&format!("trap 'echo got {name}' {name}; "));
    }
    script.push_str("trap 'exit 0' USR2; echo ready; while :; do sleep 0.02; done");
    script
}

fn kill(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

#[test]
fn rewrite_turns_one_signal_into_another_or_drops_it() {
    let script = signal_logger(&["TERM", "INT", "QUIT", "HUP", "WINCH"]);
    let mut running = Running::start(run(&[
        "--rewrite",
        "TERM:QUIT",
        "--rewrite",
        "2:0",
        "--rewrite",
        "sighup:winch",
        "--",
        "sh",
        "-c",
        &script,
    ]));
    running.expect_line("ready");
    kill(running.pid(), libc::SIGTERM);
    assert_eq!(running.expect_line("got "), "got QUIT");
    kill(running.pid(), libc::SIGINT); // dropped
    kill(running.pid(), libc::SIGHUP);
    assert_eq!(running.expect_line("got "), "got WINCH");
    kill(running.pid(), libc::SIGUSR2); // not rewritten: ends the child
    assert_eq!(running.finish().code(), Some(0));
    assert!(
        !running
            .seen
            .iter()
            .any(|l| l == "got INT" || l == "got TERM"),
        "{:?}",
        running.seen
    );
}

#[test]
fn stop_delay_holds_the_first_term_and_a_second_goes_at_once() {
    let script = signal_logger(&["TERM", "INT"]);
    let mut running = Running::start(run(&["--stop-delay", "800ms", "--", "sh", "-c", &script]));
    running.expect_line("ready");
    let sent = Instant::now();
    kill(running.pid(), libc::SIGTERM);
    running.expect_line("got TERM");
    let held = sent.elapsed();
    assert!(held >= Duration::from_millis(780), "held only {held:?}");
    assert!(held < Duration::from_secs(10), "held {held:?}");
    // Only the first one is held.
    let sent = Instant::now();
    kill(running.pid(), libc::SIGTERM);
    running.expect_line("got TERM");
    assert!(
        sent.elapsed() < Duration::from_millis(700),
        "{:?}",
        sent.elapsed()
    );
    kill(running.pid(), libc::SIGUSR2);
    assert_eq!(running.finish().code(), Some(0));

    // A long delay, cut short by a second signal: both arrive at once.
    let mut running = Running::start(run(&["--stop-delay", "60s", "--", "sh", "-c", &script]));
    running.expect_line("ready");
    let sent = Instant::now();
    kill(running.pid(), libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    kill(running.pid(), libc::SIGTERM);
    assert_eq!(running.expect_line("got "), "got INT");
    assert_eq!(running.expect_line("got "), "got TERM");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    kill(running.pid(), libc::SIGUSR2);
    assert_eq!(running.finish().code(), Some(0));
}

#[test]
fn stop_delay_and_rewrite_combine() {
    // The delay is about the signal received; what goes out is rewritten.
    let script = signal_logger(&["TERM", "QUIT"]);
    let mut running = Running::start(run(&[
        "--stop-delay",
        "0.3",
        "--rewrite",
        "TERM:QUIT",
        "--",
        "sh",
        "-c",
        &script,
    ]));
    running.expect_line("ready");
    let sent = Instant::now();
    kill(running.pid(), libc::SIGTERM);
    assert_eq!(running.expect_line("got "), "got QUIT");
    assert!(sent.elapsed() >= Duration::from_millis(280));
    kill(running.pid(), libc::SIGUSR2);
    assert_eq!(running.finish().code(), Some(0));
}

#[test]
fn bad_rewrites_and_delays_are_usage_errors() {
    for args in [
        &["--rewrite", "TERM", "--", "true"][..],
        &["--rewrite", "KILL:TERM", "--", "true"],
        &["--rewrite", "TERM:NOPE", "--", "true"],
        &["--stop-delay", "soon", "--", "true"],
        &["--exec", "--stop-delay", "1", "--", "true"],
    ] {
        let out = output(run(args));
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn file_env_turns_file_variables_into_values_for_the_child() {
    let dir = scratch("file-env");
    let secret = dir.join("db");
    std::fs::write(&secret, "s3cr3t-v4lue\n").unwrap();
    // The child prints its own variables and maestro-guest's initial environment.
    let script = "echo \"pw=$DB_PASSWORD\"; echo \"file=${DB_PASSWORD_FILE-unset}\"; \
                  echo \"other=$OTHER\"; tr '\\0' '\\n' < /proc/$PPID/environ";
    let mut command = run(&["--file-env", "--", "sh", "-c", script]);
    // Every NAME_FILE is converted: keep cargo's CARGO_PKG_LICENSE_FILE out.
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("DB_PASSWORD_FILE", &secret)
        .env("OTHER", "plain");
    let out = output(command);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..3], ["pw=s3cr3t-v4lue", "file=unset", "other=plain"]);
    // maestro-guest's /proc/PID/environ shows what it was started with: the path only.
    assert!(
        lines[3..].contains(&format!("DB_PASSWORD_FILE={}", secret.display()).as_str())
            && !out.stdout[20..].contains("s3cr3t"),
        "{}",
        out.stdout
    );

    // Without --file-env nothing changes.
    let mut command = run(&["--", "sh", "-c", "echo \"pw=${DB_PASSWORD-unset}\""]);
    command.env("DB_PASSWORD_FILE", &secret);
    assert_eq!(output(command).stdout, "pw=unset\n");
}

#[test]
fn file_env_errors_name_the_variable_never_the_content() {
    let dir = scratch("file-env-errors");
    let marker = dir.join("ran");
    let script = format!("touch {}", marker.display());
    let mut command = run(&["--file-env", "--", "sh", "-c", &script]);
    command.env_remove("CARGO_PKG_LICENSE_FILE");
    command.env("API_TOKEN_FILE", dir.join("missing"));
    let out = output(command);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(&format!(
            "API_TOKEN_FILE: cannot read {}",
            dir.join("missing").display()
        )),
        "{}",
        out.stderr
    );
    assert!(!marker.exists(), "the program ran");

    let secret = dir.join("token");
    std::fs::write(&secret, "t0ken-content").unwrap();
    let mut command = run(&["--file-env", "--", "sh", "-c", &script]);
    command
        .env_remove("CARGO_PKG_LICENSE_FILE")
        .env("API_TOKEN_FILE", &secret)
        .env("API_TOKEN", "also-set");
    let out = output(command);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("API_TOKEN and API_TOKEN_FILE are both set")
            && !out.stderr.contains("t0ken-content")
            && !out.stderr.contains("also-set"),
        "{}",
        out.stderr
    );
    assert!(!marker.exists(), "the program ran");
}
