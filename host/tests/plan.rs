//! Planning and dependency trees, over descriptions built in memory.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use maestro::config::model::Environment;
use maestro::plan::{self, Action, PlanError, Request, deptree};

fn env(yaml: &str) -> Environment {
    common::load_text(yaml, Path::new("."), &BTreeMap::new(), false)
        .unwrap_or_else(|e| panic!("{e}"))
        .environment
}

const ZK_KAFKA: &str = "
name: t
ships: {vm1: {ip: 10.0.0.1}, vm2: {ip: 10.0.0.2}}
services:
  zookeeper:
    image: zk
    instances:
      zk-node-1: {ship: vm1}
      zk-node-2: {ship: vm1}
      zk-node-3: {ship: vm2}
  kafka:
    image: kafka
    requires: [zookeeper]
    instances:
      kafka-3: {ship: vm2}
      kafka-1: {ship: vm1}
      kafka-2: {ship: vm2}
  tools:
    image: tools
    omit: true
    requires: [kafka]
    instances:
      tools-1: {ship: vm1}
";

fn req(things: &[&str]) -> Request {
    Request {
        things: things.iter().map(|s| (*s).to_owned()).collect(),
        ..Request::default()
    }
}

fn order(plan: &plan::Plan) -> Vec<(usize, &str, usize)> {
    plan.steps
        .iter()
        .map(|s| (s.number, s.container.as_str(), s.wave))
        .collect()
}

#[test]
fn start_with_dependencies_orders_dependencies_first() {
    let env = env(ZK_KAFKA);
    let plan = plan::plan(
        &env,
        Action::Start,
        &Request {
            with_dependencies: true,
            ..req(&["kafka"])
        },
    )
    .unwrap();
    assert_eq!(
        order(&plan),
        [
            (1, "zk-node-1", 0),
            (2, "zk-node-2", 0),
            (3, "zk-node-3", 0),
            (4, "kafka-1", 1),
            (5, "kafka-2", 1),
            (6, "kafka-3", 1)
        ]
    );
    assert_eq!(plan.waves(), 2);
    assert_eq!(
        plan.steps[3].waits_for,
        ["zk-node-1", "zk-node-2", "zk-node-3"]
    );
}

#[test]
fn start_without_dependencies_acts_on_the_things_only() {
    let env = env(ZK_KAFKA);
    let plan = plan::plan(&env, Action::Start, &req(&["kafka"])).unwrap();
    assert_eq!(
        order(&plan),
        [(1, "kafka-1", 0), (2, "kafka-2", 0), (3, "kafka-3", 0)]
    );
    // Naming a container twice acts on it once.
    let plan = plan::plan(&env, Action::Start, &req(&["zk-node-1", "zookeeper"])).unwrap();
    assert_eq!(plan.steps.len(), 3);
}

#[test]
fn no_things_means_every_service_not_omitted_with_dependencies() {
    let env = env(ZK_KAFKA);
    let plan = plan::plan(&env, Action::Start, &req(&[])).unwrap();
    assert_eq!(plan.steps.len(), 6);
    assert!(plan.steps.iter().all(|s| s.service != "tools"));
    assert_eq!(plan.waves(), 2);
    let plan = plan::plan(
        &env,
        Action::Start,
        &Request {
            ignore_dependencies: true,
            ..req(&[])
        },
    )
    .unwrap();
    assert_eq!(plan.waves(), 1);
    assert!(plan.ignore_dependencies);
    assert_eq!(plan.steps[0].container, "kafka-1");
}

#[test]
fn stop_all_goes_backwards_with_descending_numbers() {
    let env = env(ZK_KAFKA);
    // The omitted `tools` is not named, but it depends on kafka: stopping
    // kafka with its dependents stops it first (as MaestroNG does).
    let plan = plan::plan(
        &env,
        Action::Stop,
        &Request {
            all: true,
            ..req(&[])
        },
    )
    .unwrap();
    assert_eq!(
        order(&plan),
        [
            (7, "tools-1", 0),
            (6, "kafka-1", 1),
            (5, "kafka-2", 1),
            (4, "kafka-3", 1),
            (3, "zk-node-1", 2),
            (2, "zk-node-2", 2),
            (1, "zk-node-3", 2)
        ]
    );
    let restart = plan::plan(
        &env,
        Action::Restart,
        &Request {
            all: true,
            ..req(&[])
        },
    )
    .unwrap();
    assert_eq!(restart.steps[0].number, 1);
    assert_eq!(restart.steps[0].container, "tools-1");
}

#[test]
fn stop_with_dependencies_includes_dependents() {
    let env = env(ZK_KAFKA);
    let plan = plan::plan(
        &env,
        Action::Kill,
        &Request {
            with_dependencies: true,
            ..req(&["zk-node-1"])
        },
    )
    .unwrap();
    let names: Vec<&str> = plan.steps.iter().map(|s| s.container.as_str()).collect();
    assert_eq!(
        names,
        ["tools-1", "kafka-1", "kafka-2", "kafka-3", "zk-node-1"]
    );
    assert_eq!(plan.waves(), 3);
}

#[test]
fn filters_use_shell_patterns_and_concurrency_is_kept() {
    let env = env(ZK_KAFKA);
    let r = Request {
        container_filter: Some("*-[12]".into()),
        ship_filter: Some("vm1".into()),
        concurrency: Some(2),
        ..req(&["kafka", "zookeeper"])
    };
    let plan = plan::plan(&env, Action::Start, &r).unwrap();
    let names: Vec<&str> = plan.steps.iter().map(|s| s.container.as_str()).collect();
    assert_eq!(names, ["kafka-1", "zk-node-1", "zk-node-2"]);
    assert_eq!(plan.concurrency, Some(2));
    // Without -d, kafka-1 still waits for the listed zookeeper nodes.
    assert_eq!(plan.steps[0].waits_for, ["zk-node-1", "zk-node-2"]);
    let unlimited = plan::plan(
        &env,
        Action::Start,
        &Request {
            concurrency: Some(0),
            ..req(&["kafka"])
        },
    )
    .unwrap();
    assert_eq!(unlimited.concurrency, None);
}

#[test]
fn usage_errors_match_maestro_ng() {
    let env = env(ZK_KAFKA);
    let err = plan::plan(&env, Action::Stop, &req(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "No services or containers specified for stop, and --all not set."
    );
    let err = plan::plan(&env, Action::Stop, &req(&["kafka"])).unwrap_err();
    assert_eq!(err, PlanError::ServiceNotExpanded("kafka".into()));
    assert_eq!(
        err.to_string(),
        "kafka is a service but --expand-services was not specified"
    );
    let err = plan::plan(&env, Action::Start, &req(&["nope"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "nope is neither a service nor a container!"
    );
    let ok = plan::plan(
        &env,
        Action::Stop,
        &Request {
            expand_services: true,
            ..req(&["kafka"])
        },
    )
    .unwrap();
    assert_eq!(ok.steps.len(), 3);
}

#[test]
fn deptree_text_matches_maestro_ng() {
    let env = env(ZK_KAFKA);
    let roots = deptree::roots(&env, &[]).unwrap();
    assert_eq!(
        deptree::text(&env, &roots, false),
        "kafka\n \\- zookeeper\n\nzookeeper\n"
    );
    let roots = deptree::roots(&env, &["tools-1".to_owned()]).unwrap();
    assert_eq!(
        deptree::text(&env, &roots, false),
        "tools\n \\- kafka\n   \\- zookeeper\n"
    );
}

#[test]
fn deptree_hides_repeats_unless_recursive() {
    let env = env("
name: t
ships: {s: {ip: 1.2.3.4}}
services:
  a: {image: i, requires: [b, c], instances: {a1: {ship: s}}}
  b: {image: i, requires: [d], instances: {b1: {ship: s}}}
  c: {image: i, requires: [d], instances: {c1: {ship: s, volumes_from: [e1]}}}
  d: {image: i, instances: {d1: {ship: s}}}
  e: {image: i, instances: {e1: {ship: s}}}
");
    let roots = vec!["a".to_owned()];
    assert_eq!(
        deptree::text(&env, &roots, false),
        "a\n +- b\n |  \\- d\n \\- c\n   \\- e\n"
    );
    assert_eq!(
        deptree::text(&env, &roots, true),
        "a\n +- b\n |  \\- d\n \\- c\n   +- d\n   \\- e\n"
    );
    let (nodes, edges) = deptree::graph(&env, &roots);
    assert_eq!(nodes, ["a", "b", "c", "d", "e"]);
    assert_eq!(edges.len(), 5);
    // volumes_from orders like requires.
    let plan = plan::plan(
        &env,
        Action::Start,
        &Request {
            with_dependencies: true,
            ..req(&["c1"])
        },
    )
    .unwrap();
    let names: Vec<&str> = plan.steps.iter().map(|s| s.container.as_str()).collect();
    assert_eq!(names, ["d1", "e1", "c1"]);
}
