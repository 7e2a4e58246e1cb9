//! The built `maestro` binary: env, deptree, plan, dump, schema, complete,
//! completions, exit statuses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MAESTRO: &str = env!("CARGO_BIN_EXE_maestro");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/zookeeper-kafka/maestro.yaml")
}

fn run(args: &[&str]) -> Output {
    run_with_stdin(args, None)
}

fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(MAESTRO)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run maestro");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("maestro output")
}

fn on_example(args: &[&str]) -> Output {
    let file = example();
    let mut all = vec!["-f", file.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    run(&all)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_status(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

#[test]
fn env_prints_the_injected_environment_in_order() {
    let out = on_example(&["env", "kafka-2"]);
    assert_status(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..9],
        [
            "KAFKA_HEAP_OPTS=-Xmx1G -Xms1G",
            "LOG_RETENTION_HOURS=168",
            "MAESTRO_ENVIRONMENT_NAME=zk-kafka",
            "SERVICE_NAME=kafka",
            "BROKER_ID=1",
            "CONTAINER_NAME=kafka-2",
            "CONTAINER_HOST_ADDRESS=192.168.10.2",
            "DOCKER_IMAGE=kafka:latest",
            "DOCKER_TAG=latest",
        ]
    );
    assert!(lines.contains(&"KAFKA_KAFKA_2_BROKER_INTERNAL_PORT=9092"));
    assert!(lines.contains(&"KAFKA_KAFKA_2_BROKER_PORT=9093"));
    assert!(lines.contains(&"ZOOKEEPER_ZK_NODE_2_CLIENT_PORT=2182"));
    assert!(!text.contains("ZOOKEEPER_ZK_NODE_2_CLIENT_INTERNAL_PORT"));
    assert_eq!(
        lines.last(),
        Some(&"ZOOKEEPER_INSTANCES=zk-node-1,zk-node-2,zk-node-3")
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn env_json_is_an_object() {
    let out = on_example(&["env", "zk-node-1", "--format", "json"]);
    assert_status(&out, 0);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["ZOOKEEPER_ZK_NODE_3_PEER_INTERNAL_PORT"], "2888");
    assert_eq!(value["ZOOKEEPER_ZK_NODE_3_PEER_PORT"], "2890");
    assert_eq!(value["SERVICE_NAME"], "zookeeper");
}

#[test]
fn env_of_an_unknown_container_is_a_usage_error() {
    let out = on_example(&["env", "nope"]);
    assert_status(&out, 2);
    assert_eq!(stderr(&out), "error: unknown container \"nope\"\n");
}

#[test]
fn deptree_in_three_formats() {
    let out = on_example(&["deptree"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "kafka\n \\- zookeeper\n\nzookeeper\n");
    let out = on_example(&["deptree", "-r", "kafka-1"]);
    assert_eq!(stdout(&out), "kafka\n \\- zookeeper\n");
    let out = on_example(&["deptree", "--format", "dot"]);
    assert_eq!(
        stdout(&out),
        "digraph maestro {\n  \"kafka\";\n  \"zookeeper\";\n  \"kafka\" -> \"zookeeper\";\n}\n"
    );
    let out = on_example(&["deptree", "--format", "mermaid"]);
    assert_eq!(
        stdout(&out),
        "flowchart TD\n  n0[\"kafka\"]\n  n1[\"zookeeper\"]\n  n0 --> n1\n"
    );
    let out = on_example(&["deptree", "ghost"]);
    assert_status(&out, 2);
    assert_eq!(
        stderr(&out),
        "error: ghost is neither a service nor a container!\n"
    );
}

#[test]
fn plan_prints_ordered_waves() {
    let out = on_example(&["plan", "start", "-d", "-c", "2", "kafka"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "\
start: 6 containers on 1 ship, 2 waves, concurrency 2
 #  WAVE  CONTAINER  SERVICE    SHIP  AFTER
1.     1  zk-node-1  zookeeper  vm1   -
2.     1  zk-node-2  zookeeper  vm1   -
3.     1  zk-node-3  zookeeper  vm1   -
4.     2  kafka-1    kafka      vm1   zk-node-1,zk-node-2,zk-node-3
5.     2  kafka-2    kafka      vm1   zk-node-1,zk-node-2,zk-node-3
6.     2  kafka-3    kafka      vm1   zk-node-1,zk-node-2,zk-node-3
"
    );
    let out = on_example(&["plan", "stop", "-i", "-s", "zookeeper"]);
    assert_eq!(
        stdout(&out),
        "\
stop: 3 containers on 1 ship, 1 wave, concurrency unlimited, dependencies ignored
 #  WAVE  CONTAINER  SERVICE    SHIP  AFTER
3.     1  zk-node-1  zookeeper  vm1   -
2.     1  zk-node-2  zookeeper  vm1   -
1.     1  zk-node-3  zookeeper  vm1   -
"
    );
}

#[test]
fn plan_json_and_usage_errors() {
    let out = on_example(&["plan", "kill", "-a", "--format", "json"]);
    assert_status(&out, 0);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["action"], "kill");
    assert_eq!(value["steps"][0]["container"], "kafka-1");
    assert_eq!(value["steps"][0]["number"], 6);
    assert_eq!(value["steps"][5]["wave"], 1);
    let out = on_example(&["plan", "restart"]);
    assert_status(&out, 2);
    assert_eq!(
        stderr(&out),
        "error: No services or containers specified for restart, and --all not set.\n"
    );
    let out = on_example(&["plan", "stop", "kafka"]);
    assert_status(&out, 2);
    assert_eq!(
        stderr(&out),
        "error: kafka is a service but --expand-services was not specified\n"
    );
}

#[test]
fn dump_redacts_secrets() {
    let yaml = "name: s\nregistries:\n  r: {registry: 'https://r.example/v1/', username: u, password: hunter2}\nships:\n  a: {ip: 10.0.0.1, tls: true, tls_key: /secret/key.pem, tls_cert: c.pem}\nservices:\n  s: {image: r/app, instances: {s1: {ship: a}}}\n";
    let out = run_with_stdin(&["-f", "-", "dump"], Some(yaml));
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(
        !text.contains("hunter2") && !text.contains("/secret/key.pem"),
        "{text}"
    );
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(value["registries"][0]["password"], "<redacted>");
    assert_eq!(value["ships"][0]["tls"]["key"], "<redacted>");
    assert_eq!(value["ships"][0]["tls"]["cert"], "c.pem");
    assert_eq!(value["ships"][0]["docker_port"], 2376);
    assert_eq!(
        value["instances"][0]["env"][0]["name"],
        "MAESTRO_ENVIRONMENT_NAME"
    );
}

#[test]
fn configuration_errors_exit_2_with_position() {
    let out = run_with_stdin(
        &["-f", "-", "env", "x"],
        Some(
            "name: t\nships: {a: {ip: 1.2.3.4}}\nservices:\n  s:\n    image: i\n    instances:\n      x: {ship: b}\n",
        ),
    );
    assert_status(&out, 2);
    assert_eq!(
        stderr(&out),
        "error: -:7:17: services.s.instances.x.ship: unknown ship \"b\"\n"
    );
    let out = run(&["-f", "/nonexistent/maestro.yaml", "deptree"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out)
            .starts_with("error: cannot read environment description /nonexistent/maestro.yaml: "),
        "{}",
        stderr(&out)
    );
    // Warnings go to stderr; --strict turns unknown keys into errors.
    let yaml = "name: t\nshipz: 1\nships: {}\n";
    let out = run_with_stdin(&["-f", "-", "dump"], Some(yaml));
    assert_status(&out, 0);
    assert_eq!(
        stderr(&out),
        "warning: -:2:1: shipz: unknown top-level key \"shipz\" (ignored)\n"
    );
    let out = run_with_stdin(&["--strict", "-f", "-", "dump"], Some(yaml));
    assert_status(&out, 2);
    assert_eq!(
        stderr(&out),
        "error: -:2:1: shipz: unknown top-level key \"shipz\"\n"
    );
}

#[test]
fn daemon_commands_accept_maestro_ng_flags_and_report_unreachable_ships() {
    // The example's ships, moved to sockets that do not exist: every play fails fast,
    // naming the ship, and exits 1.
    let yaml = std::fs::read_to_string(example())
        .expect("example")
        .replace(
            "{ip: 192.168.10.2, docker_port: 2375}",
            "{ip: 192.168.10.2, socket_path: /nonexistent/maestro-vm1.sock}",
        )
        .replace(
            "{ip: 192.168.10.3, docker_port: 2375}",
            "{ip: 192.168.10.3, socket_path: /nonexistent/maestro-vm2.sock}",
        );
    assert!(
        yaml.contains("maestro-vm1.sock"),
        "the example's ships changed"
    );
    let dir = std::env::temp_dir().join(format!("maestro-cli-unreachable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("maestro.yaml");
    std::fs::write(&file, &yaml).expect("write yaml");
    std::fs::copy(example().with_file_name("kafka.env"), dir.join("kafka.env")).expect("envfile");
    let file = file.to_str().expect("utf-8 path").to_owned();
    for args in [
        &["start", "-r", "-c", "2", "kafka"][..],
        &["stop", "-a"],
        &["kill", "-s", "kafka"],
        &[
            "restart",
            "-a",
            "--step-delay",
            "1",
            "--stop-start-delay",
            "2",
            "--only-if-changed",
            "--reuse",
        ],
        &["pull", "-C", "zk-*"],
        &["clean", "-S", "vm1"],
        &["clean", "--networks", "--volumes"],
    ] {
        let mut all = vec!["-f", file.as_str()];
        all.extend_from_slice(args);
        let out = run(&all);
        assert_status(&out, 1);
        assert!(
            stderr(&out)
                .contains("cannot reach the Docker daemon at unix:///nonexistent/maestro-vm"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("FAILED"),
            "{args:?}: {}",
            stdout(&out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Usage errors from the parser exit 2.
    let out = on_example(&["start", "-r", "--reuse"]);
    assert_status(&out, 2);
}

#[test]
fn complete_like_maestro_ng_but_deterministic() {
    let out = on_example(&["complete", "maestro sta"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "status start\n");
    let out = on_example(&["complete", "maestro", "start", "-d", "zk"]);
    assert_eq!(stdout(&out), "zk-node-1 zk-node-2 zk-node-3\n");
    let out = on_example(&["complete", "maestro start k"]);
    assert_eq!(stdout(&out), "kafka kafka-1 kafka-2 kafka-3\n");
}

#[test]
fn completions_for_three_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert_status(&out, 0);
        let text = stdout(&out);
        assert!(
            text.contains("maestro") && text.contains("deptree"),
            "{shell}"
        );
    }
}

#[test]
fn help_documents_exit_codes_and_version_uses_dash_v() {
    let out = run(&["--help"]);
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("Exit status:") && text.contains("2  configuration or usage error"),
        "{text}"
    );
    let out = run(&["-v"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("maestro {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&[]);
    assert_status(&out, 2);
}

#[test]
fn no_colour_when_not_a_terminal() {
    let out = on_example(&["env", "nope"]);
    assert!(!stderr(&out).contains('\x1b'));
}

/// The README's JSON shapes, checked like `jq` (shared with the testbed scenarios).
#[path = "../../tests/src/json_shape.rs"]
mod json_shape;

fn readme_shape(title: &str) -> json_shape::Shape {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    json_shape::Shape::from_readme(&readme, title)
}

#[test]
fn deptree_json_lists_roots_and_each_services_dependencies() {
    let mut shape = readme_shape("`maestro deptree --format json`");
    let out = on_example(&["deptree", "--format", "json"]);
    assert_status(&out, 0);
    let v = shape.check_text(&stdout(&out));
    shape.assert_covered(&[]);
    assert_eq!(v["roots"], serde_json::json!(["kafka", "zookeeper"]));
    assert_eq!(v["services"][0]["name"], "kafka");
    assert_eq!(
        v["services"][0]["dependencies"],
        serde_json::json!(["zookeeper"])
    );
    assert_eq!(
        v["services"][0]["instances"],
        serde_json::json!(["kafka-1", "kafka-2", "kafka-3"])
    );
    assert_eq!(v["services"][1]["name"], "zookeeper");
    assert_eq!(v["services"][1]["dependencies"], serde_json::json!([]));
    // A container stands for its service; only what it reaches is listed.
    let out = on_example(&["deptree", "--format", "json", "zk-node-2"]);
    let v = shape.check_text(&stdout(&out));
    assert_eq!(v["roots"], serde_json::json!(["zookeeper"]));
    assert_eq!(v["services"].as_array().map(Vec::len), Some(1));
}

#[test]
fn env_json_has_the_documented_shape() {
    let mut shape = readme_shape("`maestro env CONTAINER --format json`");
    let yaml = "name: e\nships: {a: {ip: 10.0.0.1}}\nservices:\n  s:\n    image: i\n    env: {SET: 'x', UNSET: null}\n    instances: {s1: {ship: a}}\n";
    let out = run_with_stdin(&["-f", "-", "env", "s1", "--format", "json"], Some(yaml));
    assert_status(&out, 0);
    let v = shape.check_text(&stdout(&out));
    shape.assert_covered(&[]);
    assert_eq!(v["SET"], "x");
    assert_eq!(v["UNSET"], serde_json::Value::Null);
    assert_eq!(v["CONTAINER_NAME"], "s1");
    // Every variable of the text output is a key, none more.
    let text = stdout(&run_with_stdin(&["-f", "-", "env", "s1"], Some(yaml)));
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('=').next().unwrap_or_default())
        .collect();
    assert_eq!(v.as_object().map(|o| o.len()), Some(names.len()), "{text}");
    assert!(names.iter().all(|n| v.get(n).is_some()), "{text}");
}

#[test]
fn plan_json_has_the_documented_shape() {
    let mut shape = readme_shape("`maestro plan ACTION --format json`");
    let out = on_example(&["plan", "start", "-c", "2", "--format", "json"]);
    assert_status(&out, 0);
    let v = shape.check_text(&stdout(&out));
    assert_eq!(v["concurrency"], 2);
    assert_eq!(v["ignore_dependencies"], false);
    assert_eq!(v["steps"][3]["container"], "kafka-1");
    assert_eq!(v["steps"][3]["wave"], 1);
    assert_eq!(
        v["steps"][3]["waits_for"],
        serde_json::json!(["zk-node-1", "zk-node-2", "zk-node-3"])
    );
    let v = shape.check_text(&stdout(&on_example(&[
        "plan", "stop", "-a", "-i", "--format", "json",
    ])));
    assert_eq!(v["concurrency"], serde_json::Value::Null);
    assert_eq!(v["ignore_dependencies"], true);
    // What only `--observe` adds is covered by tests/tests/json_output.rs.
    shape.assert_covered(&[
        ".steps[].observed",
        ".steps[].observed.container",
        ".steps[].observed.container.state",
        ".steps[].observed.container.image_id",
        ".steps[].observed.container.started_at",
        ".steps[].observed.image",
        ".steps[].observed.image.image",
        ".steps[].observed.image.id",
        ".steps[].observed.image.exact_tag",
        ".steps[].decision",
        ".steps[].decision.decision",
        ".steps[].decision.text",
        ".steps[].decision.start",
        ".steps[].decision.started_at",
        ".steps[].decision.remove_old",
        ".steps[].decision.pull",
        ".steps[].decision.halt",
        ".steps[].decision.restart",
        ".steps[].error",
        // `upgrade`/`rollback`: plan_upgrade_shows_batches_without_a_daemon checks
        // `batch`, tests/tests/upgrade.rs the rest.
        ".steps[].batch",
        ".steps[].observed.leftover",
        ".steps[].decision.swap",
        ".steps[].decision.image",
        ".steps[].decision.stop_old",
    ]);
}

#[test]
fn every_state_printing_command_offers_json() {
    use clap::CommandFactory;
    let cli = maestro::cli::Cli::command();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("JSON output"))
        .expect("README: no section JSON output");
    for name in [
        "status",
        "ships",
        "plan",
        "deptree",
        "env",
        "start",
        "stop",
        "kill",
        "restart",
        "pull",
        "clean",
        "upgrade",
        "rollback",
        "import-compose",
    ] {
        let sub = cli
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("no command {name}"));
        let format = sub
            .get_arguments()
            .find(|a| a.get_id() == "format")
            .unwrap_or_else(|| panic!("{name} has no --format"));
        assert!(
            format
                .get_possible_values()
                .iter()
                .any(|v| v.get_name() == "json"),
            "{name} --format has no json"
        );
        // ... and the README documents its shape.
        assert!(
            section.lines().any(|l| l.starts_with("### ")
                && (l.contains(&format!("`maestro {name} ")) || l.contains(&format!("`{name}`")))),
            "README § JSON output has no heading for {name}"
        );
    }
}

/// `man -l FILE` as a terminal would show it (plain text), or a failure saying
/// how to get `man`.
fn render_man(file: &Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(file)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "0")
        .env_remove("MANPAGER")
        .env("PAGER", "cat")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run man ({e}): install it (Debian: apt-get install man-db)")
        });
    assert!(
        out.status.success(),
        "man -l {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Without a terminal man prints no bold or underline, but groff may still
    // backspace-overstrike: drop those.
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "man -l {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    plain
}

/// The commands `--help` lists (the words after "Commands:"), `help` aside.
fn help_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn man_writes_one_page_per_command_of_both_programs() {
    let dir = std::env::temp_dir().join(format!("maestro-cli-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = run(&["man", "--dir", dir.to_str().expect("utf-8 path")]);
    assert_status(&out, 0);
    let listed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected = vec!["maestro.1".to_owned(), "maestro-guest.1".to_owned()];
    let help = stdout(&run(&["--help"]));
    let commands = help_commands(&help);
    assert!(commands.contains(&"start".to_owned()), "{help}");
    expected.extend(commands.iter().map(|c| format!("maestro-{c}.1")));
    // The guest's commands, from its clap definition (its binary is not built
    // by this package's tests; tests/tests/man_pages.rs compares the two).
    use clap::CommandFactory;
    let guest = maestro_guest::cli::Cli::command();
    let guest_commands: Vec<String> = guest
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    assert!(guest_commands.contains(&"node-list".to_owned()));
    expected.extend(
        guest_commands
            .iter()
            .map(|c| format!("maestro-guest-{c}.1")),
    );
    expected.sort();
    assert_eq!(files, expected);
    assert_eq!(listed.len(), files.len(), "{listed:?}");
    assert!(listed[0].ends_with("/maestro.1"), "{listed:?}");

    let main = render_man(&dir.join("maestro.1"));
    for c in &commands {
        assert!(main.contains(&format!("maestro-{c}(1)")), "{c}: {main}");
    }
    for part in [
        "SYNOPSIS",
        "OPTIONS",
        "EXAMPLES",
        "EXIT STATUS",
        "maestro-guest(1)",
    ] {
        assert!(main.contains(part), "{part}: {main}");
    }
    assert!(
        main.contains("2  configuration or usage error"),
        "the exit statuses keep their columns: {main}"
    );
    let start = render_man(&dir.join("maestro-start.1"));
    assert!(
        start.contains("--with-dependencies")
            && start.contains("--file")
            && start.contains("maestro(1)"),
        "{start}"
    );
    let status = render_man(&dir.join("maestro-status.1"));
    assert!(
        status.contains("EXIT STATUS") && status.contains("every container asked for is running"),
        "{status}"
    );
    let guest_main = render_man(&dir.join("maestro-guest.1"));
    assert!(
        guest_main.contains("EXAMPLES") && guest_main.contains("127  the program was not found"),
        "{guest_main}"
    );
    let run_page = render_man(&dir.join("maestro-guest-run.1"));
    assert!(
        run_page.contains("--stop-delay") && run_page.contains("maestro-guest(1)"),
        "{run_page}"
    );

    // One program's pages only.
    let only = dir.join("only");
    std::fs::create_dir_all(&only).expect("dir");
    let out = run(&[
        "man",
        "--dir",
        only.to_str().expect("utf-8"),
        "maestro-guest",
    ]);
    assert_status(&out, 0);
    assert!(!only.join("maestro.1").exists() && only.join("maestro-guest-wait.1").exists());
    // A missing directory is made; one that cannot be is a failure naming it.
    let fresh = dir.join("share/man/man1");
    let out = run(&["man", "--dir", fresh.to_str().expect("utf-8"), "maestro"]);
    assert_status(&out, 0);
    assert!(fresh.join("maestro-plan.1").is_file());
    let file = dir.join("share/man/man1/maestro.1/man1");
    let out = run(&["man", "--dir", file.to_str().expect("utf-8")]);
    assert_status(&out, 1);
    assert_eq!(
        stderr(&out).lines().next(),
        Some(format!("error: cannot write {}", file.display()).as_str()),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("  caused by: "), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn man_prints_the_main_page_of_either_program() {
    let out = run(&["man"]);
    assert_status(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("\n.TH maestro 1 "), "{text}");
    assert!(text.contains(".SH \"EXIT STATUS\""), "{text}");
    let out = run(&["man", "maestro-guest"]);
    assert_status(&out, 0);
    assert!(
        stdout(&out).contains("\n.TH maestro-guest 1 "),
        "{}",
        stdout(&out)
    );
    let out = run(&["man", "nope"]);
    assert_status(&out, 2);
}

#[test]
fn a_usage_error_prints_no_json_document() {
    for args in [
        &["stop", "--format", "json"][..],
        &["plan", "stop", "kafka", "--format", "json"],
        &["deptree", "ghost", "--format", "json"],
        &["env", "ghost", "--format", "json"],
        &["status", "ghost", "--format", "json"],
    ] {
        let out = on_example(args);
        assert_status(&out, 2);
        assert_eq!(stdout(&out), "", "{args:?}");
        assert!(
            stderr(&out).starts_with("error: "),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn schema_prints_a_json_schema_that_editors_can_use() {
    // No description is read: the command works anywhere.
    let out = run(&["-f", "/nonexistent/maestro.yaml", "schema"]);
    assert_status(&out, 0);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema, maestro::config::schema::schema());
    jsonschema::draft202012::meta::validate(&schema).expect("a valid 2020-12 schema");
    let validator = jsonschema::draft202012::new(&schema).expect("compiles");
    let good = serde_json::json!({
        "name": "t",
        "ships": {"box": {"ip": "10.0.0.1"}},
        "services": {"web": {"image": "busybox", "instances": {"web-1": {"ship": "box", "ports": {"http": "8080:80"}}}}},
    });
    assert!(validator.is_valid(&good));
    let mut typo = good.clone();
    typo["services"]["web"]["instances"]["web-1"]["prots"] = serde_json::json!({"http": 80});
    let errors: Vec<String> = validator
        .iter_errors(&typo)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.iter().any(|e| e.contains("prots")), "{errors:?}");

    let help = run(&["schema", "--help"]);
    assert_status(&help, 0);
    let text = stdout(&help);
    assert!(
        text.contains("maestro schema > maestro.schema.json")
            && text.contains("# yaml-language-server: $schema=")
            && text.contains("Exit status:"),
        "{text}"
    );
    let out = run(&["complete", "maestro sch"]);
    assert_eq!(stdout(&out), "schema\n");
    let out = run(&["completions", "bash"]);
    assert!(stdout(&out).contains("schema"));
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maestro-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch dir");
    dir
}

#[test]
fn import_compose_writes_reports_and_refuses_to_overwrite() {
    let dir = scratch("import");
    let compose = dir.join("docker-compose.yml");
    std::fs::write(
        &compose,
        "services:\n  web:\n    image: busybox\n    ports: ['8080:80']\n    tty: true\n    deploy: {replicas: 2}\n",
    )
    .unwrap();
    let out_file = dir.join("maestro.yaml");
    let (c, o) = (compose.to_str().unwrap(), out_file.to_str().unwrap());
    let ships = [
        "--ship",
        "a=unix:///var/run/docker.sock",
        "--ship",
        "b=10.0.0.2",
    ];

    let mut args = vec![
        "-f",
        o,
        "import-compose",
        c,
        "-p",
        "shop",
        "--format",
        "json",
    ];
    args.extend(ships);
    let out = run(&args);
    assert_status(&out, 0);
    let mut shape = readme_shape("`maestro import-compose --format json`");
    let report = shape.check_text(&stdout(&out));
    assert_eq!(report["project"], "shop");
    assert_eq!(report["instances"], 2);
    assert_eq!(report["output"], o);
    assert_eq!(report["not_imported"][0]["path"], "services.web.tty");
    assert_eq!(report["not_imported"][0]["line"], 5);
    assert!(
        stderr(&out).contains(&format!(
            "warning: {c}:5:5: services.web.tty: maestro has no equivalent"
        )),
        "{}",
        stderr(&out)
    );
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.contains("shop-web-2: {ship: b}"), "{written}");
    // The written description is maestro's: plan reads it.
    let plan = run(&["-f", o, "plan", "start"]);
    assert_status(&plan, 0);
    assert!(stdout(&plan).contains("shop-web-2"), "{}", stdout(&plan));

    // --strict: the tty, and two replicas publishing a port on one ship, are
    // errors, and nothing is written.
    let strict_out = dir.join("strict.yaml");
    let out = run(&[
        "--strict",
        "import-compose",
        c,
        "-o",
        strict_out.to_str().unwrap(),
    ]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("error: --strict: 2 thing(s) cannot be imported as they are"),
        "{}",
        stderr(&out)
    );
    assert!(!strict_out.exists());

    // Again: the output exists.
    let out = run(&["-f", o, "import-compose", c]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("exists; give --force"),
        "{}",
        stderr(&out)
    );
    // To stdout: the YAML itself, or in the JSON report.
    let out = run(&["import-compose", c, "-p", "shop", "-o", "-"]);
    assert_status(&out, 0);
    assert!(
        stdout(&out).starts_with("# Imported from "),
        "{}",
        stdout(&out)
    );
    let out = run(&[
        "import-compose",
        c,
        "-p",
        "shop",
        "-o",
        "-",
        "--format",
        "json",
    ]);
    assert_status(&out, 0);
    let report = shape.check_text(&stdout(&out));
    assert!(
        report["yaml"]
            .as_str()
            .unwrap()
            .starts_with("# Imported from "),
        "{report}"
    );
    shape.assert_covered(&[]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn import_compose_errors_are_usage_errors() {
    let dir = scratch("import-bad");
    let compose = dir.join("compose.yaml");
    std::fs::write(&compose, "services:\n  web:\n    image: [busybox\n").unwrap();
    let c = compose.to_str().unwrap();
    let out = run(&["import-compose", c, "-o", "-"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).starts_with(&format!("error: {c}:4:1: ")),
        "{}",
        stderr(&out)
    );
    std::fs::write(&compose, "services:\n  web: {image: busybox}\n").unwrap();
    let out = run(&["import-compose", c, "-o", "-", "--ship", "nameless"]);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("expected NAME=ADDRESS"),
        "{}",
        stderr(&out)
    );
    // From standard input (`docker compose config | maestro import-compose -`).
    let out = run_with_stdin(
        &["import-compose", "-", "-p", "piped", "-o", "-"],
        Some("services:\n  web: {image: busybox}\n"),
    );
    assert_status(&out, 0);
    assert!(
        stdout(&out).contains("piped-web-1: {ship: local}"),
        "{}",
        stdout(&out)
    );
    let out = run(&["import-compose", dir.join("missing.yml").to_str().unwrap()]);
    assert_status(&out, 2);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plan_upgrade_shows_batches_without_a_daemon() {
    let out = on_example(&["plan", "upgrade", "-a", "--batch", "2"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "\
upgrade: 6 containers on 1 ship, 4 waves, concurrency unlimited
 #  WAVE  CONTAINER  SERVICE    SHIP  AFTER
1.     1  zk-node-1  zookeeper  vm1   -
2.     1  zk-node-2  zookeeper  vm1   -
3.     2  zk-node-3  zookeeper  vm1   zk-node-1,zk-node-2
4.     3  kafka-1    kafka      vm1   zk-node-1,zk-node-2,zk-node-3
5.     3  kafka-2    kafka      vm1   zk-node-1,zk-node-2,zk-node-3
6.     4  kafka-3    kafka      vm1   zk-node-1,zk-node-2,zk-node-3,kafka-1,kafka-2

batches (each waits for the one before it to pass its checks):
  zookeeper: [zk-node-1 zk-node-2] then [zk-node-3]
  kafka: [kafka-1 kafka-2] then [kafka-3]
"
    );
    let out = on_example(&["plan", "upgrade", "-s", "kafka", "--format", "json"]);
    assert_status(&out, 0);
    let value = readme_shape("`maestro plan ACTION --format json`").check_text(&stdout(&out));
    assert_eq!(value["action"], "upgrade");
    assert_eq!(value["steps"][2]["batch"], 2);
    assert_eq!(value["steps"][2]["waits_for"][0], "kafka-2");
    // Like restart: a service needs -s, nothing needs -a.
    let out = on_example(&["plan", "upgrade", "kafka"]);
    assert_status(&out, 2);
    let out = on_example(&["plan", "rollback"]);
    assert_status(&out, 2);
    assert_eq!(
        stderr(&out),
        "error: No services or containers specified for rollback, and --all not set.\n"
    );
    let out = on_example(&["plan", "upgrade", "-a", "--batch", "0"]);
    assert_status(&out, 2);
}

#[test]
fn upgrade_and_rollback_have_help_with_examples_and_completions() {
    for command in ["upgrade", "rollback"] {
        let out = run(&[command, "--help"]);
        assert_status(&out, 0);
        let text = stdout(&out);
        for want in [
            "--batch <N>",
            "--min-up <SECONDS>",
            "--step-delay <SECONDS>",
            "Examples:",
            "maestro upgrade -s web --batch 2",
            "Exit status:",
        ] {
            assert!(
                text.contains(want),
                "{command} --help lacks {want:?}:\n{text}"
            );
        }
    }
    let out = run(&["completions", "bash"]);
    let text = stdout(&out);
    assert!(text.contains("upgrade") && text.contains("rollback") && text.contains("--min-up"));
    let out = on_example(&["complete", "maestro up"]);
    assert_eq!(stdout(&out), "upgrade\n");
}
