//! The static `maestro-guest` that images ship (the binary
//! `scripts/build-guest-static` prints, baked into the testbed's image) reads
//! its command line: queries, `run` and `render` with arguments, on the host
//! and as a container's entrypoint in a `FROM scratch` image.
//!
//! The musl build once ignored its arguments (with `#![no_main]`, std fills
//! `args_os()` on glibc only): every query printed the help and exited 2.
//! These tests run exactly that binary so that this cannot come back.

use std::process::{Command, Output};

use maestro_e2e::Testbed;

fn guest(args: &[&str], env: &[(&str, &str)]) -> Output {
    let binary = Testbed::load().static_guest();
    Command::new(binary)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The environment a zookeeper container gets from maestro.
const ZK_ENV: &[(&str, &str)] = &[
    ("SERVICE_NAME", "zookeeper"),
    ("CONTAINER_NAME", "zk-node-2"),
    ("CONTAINER_HOST_ADDRESS", "192.168.10.2"),
    ("ZOOKEEPER_INSTANCES", "zk-node-1,zk-node-2"),
    ("ZOOKEEPER_ZK_NODE_1_HOST", "192.168.10.2"),
    ("ZOOKEEPER_ZK_NODE_1_CLIENT_PORT", "2181"),
    ("ZOOKEEPER_ZK_NODE_2_HOST", "192.168.10.2"),
    ("ZOOKEEPER_ZK_NODE_2_CLIENT_PORT", "2182"),
    ("ZOOKEEPER_ZK_NODE_2_CLIENT_INTERNAL_PORT", "2181"),
];

#[test]
fn is_statically_linked_and_musl_when_the_musl_target_is_installed() {
    let binary = Testbed::load().static_guest();
    let bytes = std::fs::read(binary).unwrap();
    // A dynamically linked ELF names its interpreter (PT_INTERP: "/lib64/ld-linux...").
    assert!(
        !bytes.windows(10).any(|w| w == b"/lib64/ld-"),
        "{} asks for a dynamic loader: it would not run FROM scratch",
        binary.display()
    );
    let musl_installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| {
            stdout(&out)
                .lines()
                .any(|l| l == "x86_64-unknown-linux-musl")
        })
        .unwrap_or(false);
    if musl_installed {
        assert!(
            binary
                .to_string_lossy()
                .contains("x86_64-unknown-linux-musl"),
            "the musl target is installed, yet the testbed's guest is {}",
            binary.display()
        );
    }
}

#[test]
fn stays_within_its_size_budget() {
    // BENCHMARKS.md (guest): 1.25 MiB for the musl build with every feature
    // of issue 17; the glibc fallback (no musl target) had 2 MiB.
    let binary = Testbed::load().static_guest();
    let size = std::fs::metadata(binary).unwrap().len();
    let musl = binary
        .to_string_lossy()
        .contains("x86_64-unknown-linux-musl");
    let budget = if musl { 1_310_720 } else { 2 << 20 };
    assert!(
        size <= budget,
        "{} is {size} bytes, over its budget of {budget}",
        binary.display()
    );
}

#[test]
fn queries_read_their_arguments() {
    let out = guest(&["service-name"], ZK_ENV);
    assert_eq!(stdout(&out), "zookeeper\n", "{out:?}");
    let out = guest(&["node-list", "zookeeper", "client"], ZK_ENV);
    assert_eq!(
        stdout(&out),
        "192.168.10.2:2181,192.168.10.2:2182\n",
        "{out:?}"
    );
    let out = guest(&["port", "client"], ZK_ENV);
    assert_eq!(stdout(&out), "2181\n", "{out:?}");
    let out = guest(&["port", "nope", "--default", "7"], ZK_ENV);
    assert_eq!(stdout(&out), "7\n", "{out:?}");
    // A wrong command line is still a usage error, not a silent success.
    let out = guest(&["no-such-query"], ZK_ENV);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn run_passes_the_command_and_its_status() {
    let out = guest(
        &[
            "run",
            "--",
            "/bin/sh",
            "-c",
            "echo hi \"$1\"; exit 7",
            "sh",
            "there",
        ],
        &[],
    );
    assert_eq!(stdout(&out), "hi there\n", "{out:?}");
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    let out = guest(&["run", "--grace", "1", "--", "/bin/echo", "a", "--b"], &[]);
    assert_eq!(stdout(&out), "a --b\n", "{out:?}");
}

#[test]
fn render_reads_source_destination_and_command() {
    let dir = tempdir("render");
    let source = dir.join("tpl");
    let dest = dir.join("out");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(
        source.join("zoo.cfg"),
        "{% for n in get_node_list('zookeeper', ports=['client']) %}server={{ n }}\n{% endfor %}",
    )
    .unwrap();
    let out = guest(
        &[
            "render",
            "--to",
            dest.to_str().unwrap(),
            source.to_str().unwrap(),
            "--",
            "/bin/cat",
            dest.join("zoo.cfg").to_str().unwrap(),
        ],
        ZK_ENV,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "server=192.168.10.2:2181\nserver=192.168.10.2:2182\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn as_the_entrypoint_of_a_scratch_image_it_reads_its_arguments() {
    let tb = Testbed::load();
    let out = Command::new("docker")
        .args(["-H", tb.main_host(), "run", "--rm"])
        .args([
            "-e",
            "SERVICE_NAME=zookeeper",
            "-e",
            "CONTAINER_NAME=zk-node-2",
        ])
        .args([tb.test_image(), "/bin/maestro-guest", "container-name"])
        .output()
        .expect("run docker (apt-get install docker.io; scripts/test starts the testbed)");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "zk-node-2\n");
    let out = Command::new("docker")
        .args(["-H", tb.main_host(), "run", "--rm", tb.test_image()])
        .args(["/bin/maestro-guest", "run", "--", "/bin/sh", "-c", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("static-guest-{}-{what}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
