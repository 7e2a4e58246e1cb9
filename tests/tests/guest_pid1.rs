//! maestro-guest as PID 1 of a real container: an image `FROM scratch` with
//! the static maestro-guest and busybox, against the local Docker engine.
//!
//! Docker helpers are local to this file on purpose (the shared harness in
//! `src/lib.rs` evolves separately).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use maestro_e2e::repo_root;

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run docker ({e}): install docker.io, see tests/testbed/")
        })
}

fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn require_docker() {
    let out = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    match out {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "`docker info` does not answer: start dockerd, see tests/testbed/ or run scripts/test"
        ),
    }
}

/// A unique name for this run's images and containers.
fn name(what: &str) -> String {
    format!("maestro-guest-pid1-{}-{what}", std::process::id())
}

/// An image removed again when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = docker(&["rmi", "-f", &self.0]);
    }
}

/// A container removed again when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}

/// `FROM scratch` + busybox + the static maestro-guest of
/// `scripts/build-guest-static`.
fn build_image(what: &str) -> Image {
    require_docker();
    let busybox = Path::new("/usr/bin/busybox");
    assert!(
        busybox.exists(),
        "/usr/bin/busybox is missing: apt-get install busybox-static"
    );
    let build = Command::new(repo_root().join("scripts/build-guest-static"))
        .current_dir(repo_root())
        .output()
        .expect("run scripts/build-guest-static");
    assert!(
        build.status.success(),
        "scripts/build-guest-static failed: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let binary = PathBuf::from(String::from_utf8_lossy(&build.stdout).trim());

    let context = std::env::temp_dir().join(name(what));
    let _ = std::fs::remove_dir_all(&context);
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(busybox, context.join("busybox")).unwrap();
    std::fs::copy(&binary, context.join("maestro-guest")).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         COPY maestro-guest /bin/maestro-guest\n",
    )
    .unwrap();
    let tag = format!("{}:latest", name(what));
    docker_ok(&["build", "-q", "-t", &tag, context.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&context);
    Image(tag)
}

/// Starts a detached container running `command` and waits until `ready`
/// shows up in `docker top`.
fn start(image: &Image, what: &str, command: &[&str], ready: &str) -> Container {
    let container = Container(name(what));
    let mut args = vec!["run", "-d", "--name", &container.0, &image.0];
    args.extend_from_slice(command);
    docker_ok(&args);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let top = docker(&["top", &container.0]);
        if String::from_utf8_lossy(&top.stdout).contains(ready) {
            return container;
        }
        assert!(
            Instant::now() < deadline,
            "{ready:?} never started in {}",
            container.0
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Times `docker stop -t TIMEOUT` and returns it with the exit code.
fn stop(container: &Container, timeout: u32) -> (Duration, i32) {
    let started = Instant::now();
    docker_ok(&["stop", "-t", &timeout.to_string(), &container.0]);
    let took = started.elapsed();
    let code = docker_ok(&["inspect", "-f", "{{.State.ExitCode}}", &container.0]);
    (took, code.parse().unwrap())
}

#[test]
fn docker_stop_of_a_sleep_under_maestro_guest_is_quick_and_gives_143() {
    let image = build_image("stop");

    let supervised = start(
        &image,
        "supervised",
        &["/bin/maestro-guest", "run", "--", "sleep", "1000"],
        "sleep 1000",
    );
    let (took, code) = stop(&supervised, 10);
    eprintln!("docker stop with maestro-guest as PID 1: {took:?}, exit code {code}");
    assert_eq!(
        code, 143,
        "SIGTERM must reach sleep and come back as 128+15"
    );
    assert!(
        took < Duration::from_millis(2500),
        "docker stop took {took:?}: the signal was not forwarded"
    );

    // Without an init, sleep as PID 1 ignores SIGTERM: docker waits the
    // whole stop timeout and then kills it.
    let bare = start(&image, "bare", &["sleep", "1000"], "sleep 1000");
    let (bare_took, bare_code) = stop(&bare, 2);
    eprintln!("docker stop with sleep as PID 1: {bare_took:?}, exit code {bare_code}");
    assert_eq!(bare_code, 137);
    assert!(bare_took >= Duration::from_millis(1900));
    assert!(took < bare_took);
}

#[test]
fn as_pid1_orphans_are_reaped_and_exit_codes_pass_through() {
    let image = build_image("reap");
    // The inner shell leaves a short sleep behind; once it exits, it is a
    // zombie of PID 1 unless PID 1 reaps it.
    let script = "sh -c 'sleep 0.2 &'; sleep 1.5; cat /proc/[0-9]*/stat; exit 7";
    let out = docker(&[
        "run",
        "--rm",
        "--name",
        &name("reap-run"),
        &image.0,
        "/bin/maestro-guest",
        "run",
        "--",
        "sh",
        "-c",
        script,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("1 (maestro-guest) ")),
        "maestro-guest is not PID 1:\n{stdout}"
    );
    let zombies: Vec<&str> = stdout.lines().filter(|l| l.contains(") Z ")).collect();
    assert!(zombies.is_empty(), "zombies left: {zombies:?}");
}
