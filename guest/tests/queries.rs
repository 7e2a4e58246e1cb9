//! The query subcommands as a real process: the seed documentation's
//! ZooKeeper+Kafka example (examples/zookeeper-kafka), seen from the
//! `kafka-2` container, with every documented value, every error path and
//! exit status, `--json`, `--separator` and `--minimum`.

use std::process::Command;

const GUEST: &str = env!("CARGO_BIN_EXE_maestro-guest");

/// What MaestroNG injects into `kafka-2` of the `zk-kafka` environment
/// (README § The environment contract): its identity, its own service's instances with internal ports,
/// and its dependency `zookeeper` without them. All on ship 192.168.10.2.
const KAFKA_2: &[(&str, &str)] = &[
    ("MAESTRO_ENVIRONMENT_NAME", "zk-kafka"),
    ("SERVICE_NAME", "kafka"),
    ("CONTAINER_NAME", "kafka-2"),
    ("CONTAINER_HOST_ADDRESS", "192.168.10.2"),
    ("DOCKER_IMAGE", "kafka:latest"),
    ("DOCKER_TAG", "latest"),
    ("KAFKA_KAFKA_1_HOST", "192.168.10.2"),
    ("KAFKA_KAFKA_1_BROKER_PORT", "9092"),
    ("KAFKA_KAFKA_1_BROKER_INTERNAL_PORT", "9092"),
    ("KAFKA_KAFKA_2_HOST", "192.168.10.2"),
    ("KAFKA_KAFKA_2_BROKER_PORT", "9093"),
    ("KAFKA_KAFKA_2_BROKER_INTERNAL_PORT", "9092"),
    ("KAFKA_KAFKA_3_HOST", "192.168.10.2"),
    ("KAFKA_KAFKA_3_BROKER_PORT", "9094"),
    ("KAFKA_KAFKA_3_BROKER_INTERNAL_PORT", "9092"),
    ("KAFKA_INSTANCES", "kafka-1,kafka-2,kafka-3"),
    ("ZOOKEEPER_ZK_NODE_1_HOST", "192.168.10.2"),
    ("ZOOKEEPER_ZK_NODE_1_CLIENT_PORT", "2181"),
    ("ZOOKEEPER_ZK_NODE_1_PEER_PORT", "2888"),
    ("ZOOKEEPER_ZK_NODE_2_HOST", "192.168.10.2"),
    ("ZOOKEEPER_ZK_NODE_2_CLIENT_PORT", "2182"),
    ("ZOOKEEPER_ZK_NODE_2_PEER_PORT", "2889"),
    ("ZOOKEEPER_ZK_NODE_3_HOST", "192.168.10.2"),
    ("ZOOKEEPER_ZK_NODE_3_CLIENT_PORT", "2183"),
    ("ZOOKEEPER_ZK_NODE_3_PEER_PORT", "2890"),
    ("ZOOKEEPER_INSTANCES", "zk-node-1,zk-node-2,zk-node-3"),
];

/// What the process printed and how it ended.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs the guest with exactly `env` as its environment.
fn guest_with(env: &[(&str, &str)], args: &[&str]) -> Outcome {
    let output = Command::new(GUEST)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run maestro-guest");
    Outcome {
        status: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs the guest inside `kafka-2`.
fn guest(args: &[&str]) -> Outcome {
    guest_with(KAFKA_2, args)
}

/// `kafka-2`'s environment without `name` and with the given overrides.
fn kafka_2_but(
    without: &str,
    with: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut env: Vec<_> = KAFKA_2
        .iter()
        .copied()
        .filter(|(k, _)| *k != without)
        .collect();
    env.extend_from_slice(with);
    env
}

/// Asserts a successful query printing `line`.
#[track_caller]
fn assert_prints(outcome: Outcome, line: &str) {
    assert_eq!(
        outcome,
        Outcome {
            status: 0,
            stdout: format!("{line}\n"),
            stderr: String::new(),
        }
    );
}

/// Asserts guestutils' `MaestroEnvironmentError(message)`: exit 1, nothing on
/// stdout, one `error:` line on stderr.
#[track_caller]
fn assert_fails(outcome: Outcome, message: &str) {
    assert_eq!(
        outcome,
        Outcome {
            status: 1,
            stdout: String::new(),
            stderr: format!("error: {message}\n"),
        }
    );
}

/// Asserts a command-line error: exit 2, a message on stderr, no answer.
#[track_caller]
fn assert_usage_error(outcome: Outcome, mentions: &str) {
    assert_eq!(outcome.status, 2, "{outcome:?}");
    assert_eq!(outcome.stdout, "", "{outcome:?}");
    assert!(outcome.stderr.contains(mentions), "{outcome:?}");
}

#[test]
fn identity_values_of_the_seed_example() {
    assert_prints(guest(&["environment-name"]), "zk-kafka");
    assert_prints(guest(&["service-name"]), "kafka");
    assert_prints(guest(&["container-name"]), "kafka-2");
    assert_prints(guest(&["host-address"]), "192.168.10.2");
}

#[test]
fn identity_values_as_json() {
    assert_prints(guest(&["environment-name", "--json"]), r#""zk-kafka""#);
    assert_prints(guest(&["service-name", "--json"]), r#""kafka""#);
    assert_prints(guest(&["container-name", "--json"]), r#""kafka-2""#);
    assert_prints(guest(&["host-address", "--json"]), r#""192.168.10.2""#);
}

#[test]
fn environment_name_defaults_to_local() {
    assert_prints(guest_with(&[], &["environment-name"]), "local");
    assert_prints(
        guest_with(&[], &["environment-name", "--json"]),
        r#""local""#,
    );
    // Present but empty is returned as is, like os.environ.get.
    assert_prints(
        guest_with(&[("MAESTRO_ENVIRONMENT_NAME", "")], &["environment-name"]),
        "",
    );
}

#[test]
fn missing_or_empty_identity_fails_like_guestutils() {
    assert_fails(
        guest_with(&kafka_2_but("SERVICE_NAME", &[]), &["service-name"]),
        "Service name was not defined",
    );
    assert_fails(
        guest_with(
            &kafka_2_but("SERVICE_NAME", &[("SERVICE_NAME", "")]),
            &["service-name"],
        ),
        "Service name was not defined",
    );
    assert_fails(
        guest_with(
            &kafka_2_but("CONTAINER_NAME", &[]),
            &["container-name", "--json"],
        ),
        "Container name was not defined",
    );
    assert_fails(
        guest_with(
            &kafka_2_but("CONTAINER_HOST_ADDRESS", &[("CONTAINER_HOST_ADDRESS", "")]),
            &["host-address"],
        ),
        "Container host address was not defined",
    );
}

#[test]
fn port_of_the_seed_example() {
    assert_prints(guest(&["port", "broker"]), "9092");
    assert_prints(guest(&["port", "broker", "--json"]), "9092");
    assert_prints(guest(&["port", "unknown", "--default", "42"]), "42");
    assert_prints(guest(&["port", "unknown", "--default=42", "--json"]), "42");
    // The variable wins over the default; the default goes through int().
    assert_prints(guest(&["port", "broker", "--default", "1"]), "9092");
    assert_prints(guest(&["port", "unknown", "--default", " 007 "]), "7");
    assert_prints(guest(&["port", "BROKER"]), "9092");
    // Any Unicode decimal digit, as Python's int() reads them.
    assert_prints(
        guest(&["port", "unknown", "--default", "\u{661}\u{662}"]),
        "12",
    );
}

#[test]
fn port_errors() {
    let message = "No internal port unknown defined for container kafka-2 of service kafka";
    assert_fails(guest(&["port", "unknown"]), message);
    assert_fails(guest(&["port", "unknown", "--json"]), message);
    assert_fails(guest(&["port", "unknown", "--default", "x"]), message);
    assert_fails(guest(&["port", "unknown", "--default="]), message);
    assert_fails(
        guest_with(&kafka_2_but("SERVICE_NAME", &[]), &["port", "broker"]),
        "Service name was not defined",
    );
    assert_fails(
        guest_with(
            &kafka_2_but("CONTAINER_NAME", &[]),
            &["port", "broker", "--default", "1"],
        ),
        "Container name was not defined",
    );
    // A range is not an int.
    assert_fails(
        guest_with(
            &kafka_2_but(
                "KAFKA_KAFKA_2_BROKER_INTERNAL_PORT",
                &[("KAFKA_KAFKA_2_BROKER_INTERNAL_PORT", "9092-9093")],
            ),
            &["port", "broker"],
        ),
        "No internal port broker defined for container kafka-2 of service kafka",
    );
}

#[test]
fn node_lists_of_the_seed_example() {
    assert_prints(
        guest(&["node-list", "zookeeper", "client"]),
        "192.168.10.2:2181,192.168.10.2:2182,192.168.10.2:2183",
    );
    assert_prints(
        guest(&["node-list", "zookeeper", "client", "peer"]),
        "192.168.10.2:2181:2888,192.168.10.2:2182:2889,192.168.10.2:2183:2890",
    );
    // get_node_list(get_service_name(), ports=['broker'])
    let service = guest(&["service-name"]).stdout;
    assert_prints(
        guest(&["node-list", service.trim_end(), "broker"]),
        "192.168.10.2:9092,192.168.10.2:9093,192.168.10.2:9094",
    );
    assert_prints(
        guest(&["node-list", "zookeeper"]),
        "192.168.10.2,192.168.10.2,192.168.10.2",
    );
}

#[test]
fn node_lists_as_json_and_with_separators() {
    assert_prints(
        guest(&["node-list", "zookeeper", "client", "--json"]),
        r#"["192.168.10.2:2181", "192.168.10.2:2182", "192.168.10.2:2183"]"#,
    );
    assert_prints(
        guest(&["node-list", "--json", "zookeeper", "client", "peer"]),
        r#"["192.168.10.2:2181:2888", "192.168.10.2:2182:2889", "192.168.10.2:2183:2890"]"#,
    );
    assert_prints(
        guest(&["node-list", "kafka", "broker", "--separator", " "]),
        "192.168.10.2:9092 192.168.10.2:9093 192.168.10.2:9094",
    );
    assert_prints(
        guest(&["node-list", "kafka", "broker", "--separator=;"]),
        "192.168.10.2:9092;192.168.10.2:9093;192.168.10.2:9094",
    );
    assert_prints(
        guest(&["node-list", "kafka", "broker", "--separator", ""]),
        "192.168.10.2:9092192.168.10.2:9093192.168.10.2:9094",
    );
    // JSON is a list whatever the separator.
    assert_prints(
        guest(&["node-list", "kafka", "--separator", ";", "--json"]),
        r#"["192.168.10.2", "192.168.10.2", "192.168.10.2"]"#,
    );
}

#[test]
fn node_list_minimum() {
    assert_prints(
        guest(&["node-list", "zookeeper", "client", "--minimum", "3"]),
        "192.168.10.2:2181,192.168.10.2:2182,192.168.10.2:2183",
    );
    assert_fails(
        guest(&["node-list", "zookeeper", "client", "--minimum", "4"]),
        "No or not enough zookeeper nodes configured",
    );
    // An unknown service has no nodes: an error unless nothing is required.
    assert_fails(
        guest(&["node-list", "nothing"]),
        "No or not enough nothing nodes configured",
    );
    assert_fails(
        guest(&["node-list", "nothing", "--json"]),
        "No or not enough nothing nodes configured",
    );
    assert_prints(guest(&["node-list", "nothing", "--minimum", "0"]), "");
    assert_prints(
        guest(&["node-list", "nothing", "--minimum=-1", "--json"]),
        "[]",
    );
}

#[test]
fn node_list_errors() {
    assert_fails(
        guest(&["node-list", "zookeeper", "broker"]),
        "No port broker defined for container zk-node-1 of service zookeeper",
    );
    assert_fails(
        guest_with(
            &kafka_2_but("ZOOKEEPER_ZK_NODE_2_HOST", &[]),
            &["node-list", "zookeeper"],
        ),
        "No host defined for container zk-node-2 of service zookeeper",
    );
    assert_fails(
        guest_with(
            &kafka_2_but(
                "ZOOKEEPER_ZK_NODE_3_PEER_PORT",
                &[("ZOOKEEPER_ZK_NODE_3_PEER_PORT", "")],
            ),
            &["node-list", "zookeeper", "client", "peer"],
        ),
        "No port peer defined for container zk-node-3 of service zookeeper",
    );
}

#[test]
fn specific_values_of_the_seed_example() {
    assert_prints(
        guest(&["specific-host", "zookeeper", "zk-node-2"]),
        "192.168.10.2",
    );
    assert_prints(
        guest(&["specific-host", "zookeeper", "zk-node-2", "--json"]),
        r#""192.168.10.2""#,
    );
    assert_prints(
        guest(&["specific-port", "zookeeper", "zk-node-2", "client"]),
        "2182",
    );
    assert_prints(
        guest(&[
            "specific-port",
            "zookeeper",
            "zk-node-2",
            "client",
            "--json",
        ]),
        "2182",
    );
    assert_prints(
        guest(&["specific-exposed-port", "kafka", "kafka-3", "broker"]),
        "9092",
    );
    // Sanitised lookups: case and punctuation do not matter.
    assert_prints(
        guest(&["specific-port", "ZooKeeper", "ZK.NODE.3", "Client"]),
        "2183",
    );
}

/// The documentation prints `get_specific_exposed_port('zookeeper',
/// 'zk-node-2', 'client')` → 2181 "from kafka-2", but MaestroNG only gives
/// internal ports of a container's own service: from kafka-2 guestutils
/// raises. The documented value is what a ZooKeeper peer sees.
#[test]
fn specific_exposed_port_of_the_seed_example() {
    assert_fails(
        guest(&["specific-exposed-port", "zookeeper", "zk-node-2", "client"]),
        "No internal port client defined for container zk-node-2 of service zookeeper",
    );
    assert_prints(
        guest(&[
            "specific-exposed-port",
            "zookeeper",
            "zk-node-2",
            "client",
            "--default",
            "2181",
        ]),
        "2181",
    );
    let zk_node_1 = [
        ("SERVICE_NAME", "zookeeper"),
        ("CONTAINER_NAME", "zk-node-1"),
        ("ZOOKEEPER_ZK_NODE_2_HOST", "192.168.10.2"),
        ("ZOOKEEPER_ZK_NODE_2_CLIENT_PORT", "2182"),
        ("ZOOKEEPER_ZK_NODE_2_CLIENT_INTERNAL_PORT", "2181"),
    ];
    assert_prints(
        guest_with(
            &zk_node_1,
            &["specific-exposed-port", "zookeeper", "zk-node-2", "client"],
        ),
        "2181",
    );
}

#[test]
fn specific_errors() {
    assert_fails(
        guest(&["specific-host", "zookeeper", "zk-node-9"]),
        "No host defined for container zk-node-9 of service zookeeper",
    );
    assert_fails(
        guest(&["specific-port", "zookeeper", "zk-node-2", "nope", "--json"]),
        "No port nope defined for container zk-node-2 of service zookeeper",
    );
    assert_fails(
        guest(&[
            "specific-port",
            "zookeeper",
            "zk-node-2",
            "nope",
            "--default",
            "1-3",
        ]),
        "No port nope defined for container zk-node-2 of service zookeeper",
    );
    assert_prints(
        guest(&[
            "specific-port",
            "zookeeper",
            "zk-node-2",
            "nope",
            "--default",
            "1_0",
        ]),
        "10",
    );
    assert_fails(
        guest(&["specific-exposed-port", "kafka", "kafka-2", "nope"]),
        "No internal port nope defined for container kafka-2 of service kafka",
    );
    // Names are echoed verbatim in messages, on one line.
    assert_fails(
        guest(&["specific-host", "café", "é-1"]),
        "No host defined for container é-1 of service café",
    );
}

#[test]
fn json_escapes_like_python() {
    let env = [("SERVICE_NAME", "café \"quoted\"\\ 🦀")];
    assert_prints(
        guest_with(&env, &["service-name", "--json"]),
        r#""caf\u00e9 \"quoted\"\\ \ud83e\udd80""#,
    );
    assert_prints(guest_with(&env, &["service-name"]), "café \"quoted\"\\ 🦀");
}

#[test]
fn info_prints_the_whole_topology() {
    let zk = |n: u32| {
        format!(
            r#"{{"name": "zk-node-{n}", "host": "192.168.10.2", "ports": {{"client": {{"external": "{}", "internal": null}}, "peer": {{"external": "{}", "internal": null}}}}}}"#,
            2180 + n,
            2887 + n
        )
    };
    let kafka = |n: u32| {
        format!(
            r#"{{"name": "kafka-{n}", "host": "192.168.10.2", "ports": {{"broker": {{"external": "{}", "internal": "9092"}}}}}}"#,
            9091 + n
        )
    };
    let expected = format!(
        concat!(
            r#"{{"environment_name": "zk-kafka", "service_name": "kafka", "container_name": "kafka-2", "#,
            r#""host_address": "192.168.10.2", "image": "kafka:latest", "tag": "latest", "services": {{"#,
            r#""kafka": {{"instances": [{}, {}, {}]}}, "zookeeper": {{"instances": [{}, {}, {}]}}}}}}"#
        ),
        kafka(1),
        kafka(2),
        kafka(3),
        zk(1),
        zk(2),
        zk(3)
    );
    assert_prints(guest(&["info"]), &expected);
    assert_prints(guest(&["info", "--json"]), &expected);
    assert_prints(
        guest_with(&[], &["info"]),
        r#"{"environment_name": "local", "service_name": null, "container_name": null, "host_address": null, "image": null, "tag": null, "services": {}}"#,
    );
}

/// The IPv4 addresses the kernel considers local, from /proc/net/fib_trie.
fn local_ipv4_addresses() -> Vec<String> {
    let trie =
        std::fs::read_to_string("/proc/net/fib_trie").expect("read /proc/net/fib_trie (Linux)");
    let lines: Vec<&str> = trie.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[1].trim() == "/32 host LOCAL")
        .filter_map(|pair| pair[0].trim().strip_prefix("|-- ").map(str::to_owned))
        .collect()
}

#[test]
fn internal_address_is_eth0s_ipv4_or_a_clear_error() {
    let outcome = guest_with(&[], &["internal-address"]);
    if std::path::Path::new("/sys/class/net/eth0").exists() {
        assert_eq!(outcome.status, 0, "{outcome:?}");
        let address = outcome.stdout.trim_end();
        assert!(
            local_ipv4_addresses().iter().any(|a| a == address),
            "{address} is not a local IPv4 address: {outcome:?}"
        );
        assert_prints(
            guest_with(&[], &["internal-address", "--json"]),
            &format!("\"{address}\""),
        );
    } else {
        assert_fails(outcome, "no network interface eth0");
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_usage_error(guest(&[]), "Usage");
    assert_usage_error(guest(&["node-list"]), "SERVICE");
    assert_usage_error(guest(&["node-list", "kafka", "--minimum", "many"]), "many");
    assert_usage_error(guest(&["specific-port", "zookeeper", "zk-node-1"]), "PORT");
    assert_usage_error(guest(&["port"]), "NAME");
    assert_usage_error(guest(&["service-name", "--bogus"]), "--bogus");
    assert_usage_error(guest(&["info", "extra"]), "extra");
}
