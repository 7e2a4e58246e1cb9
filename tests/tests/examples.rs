//! The examples cannot rot: every `examples/*/maestro.yaml` loads (`deptree`,
//! `dump`, `env` of every container), and every template under
//! `examples/**/templates` and the repository's `templates/` renders
//! (`maestro-guest render --check`) with the exact environment `maestro env`
//! gives a container of the service that uses it.
//!
//! Which service uses a template: the first directory on its path (below the
//! example's directory, or below `templates/` for the shared ones) that is
//! named after a service: `examples/demo/store/templates/www/index.html.j2`
//! is store's, `templates/zookeeper/zoo.cfg.j2` zookeeper's in every example
//! that has a zookeeper service. A template that no service uses fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use maestro_e2e::{bin, repo_root};

fn show(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `maestro -f YAML ARGS...` and returns its standard output; panics
/// with the whole output on failure or on a warning.
fn maestro(yaml: &Path, args: &[&str]) -> String {
    // The example files are templates; their defaults are what is checked
    // (the shared command removes MAESTRO_DEMO_*).
    let output = maestro_e2e::maestro_cli(yaml, args)
        .output()
        .expect("running maestro");
    assert!(
        output.status.success(),
        "maestro -f {} {}: {}",
        yaml.display(),
        args.join(" "),
        show(&output)
    );
    assert!(
        output.stderr.is_empty(),
        "maestro -f {} {} warned (examples must load cleanly): {}",
        yaml.display(),
        args.join(" "),
        show(&output)
    );
    String::from_utf8(output.stdout).expect("maestro prints UTF-8")
}

/// Every `examples/*/maestro.yaml`, sorted.
fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("reading examples/")
        .map(|entry| {
            entry
                .expect("reading examples/")
                .path()
                .join("maestro.yaml")
        })
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// An example: its file, and its services with their containers.
struct Example {
    yaml: PathBuf,
    services: BTreeMap<String, Vec<String>>,
}

fn load(yaml: &Path) -> Example {
    let dump: serde_json::Value =
        serde_json::from_str(&maestro(yaml, &["dump"])).expect("maestro dump prints JSON");
    let services = dump["services"]
        .as_array()
        .expect("dump has a services list")
        .iter()
        .map(|service| {
            let name = service["name"].as_str().expect("a service name").to_owned();
            let instances = service["instances"]
                .as_array()
                .expect("a service's instances")
                .iter()
                .map(|i| i.as_str().expect("an instance name").to_owned())
                .collect();
            (name, instances)
        })
        .collect();
    Example {
        yaml: yaml.to_owned(),
        services,
    }
}

fn examples() -> Vec<Example> {
    let files = example_files();
    assert!(
        files.iter().any(|f| f.ends_with("demo/maestro.yaml"))
            && files
                .iter()
                .any(|f| f.ends_with("zookeeper-kafka/maestro.yaml")),
        "examples/demo and examples/zookeeper-kafka are missing from {files:?}"
    );
    files.iter().map(|f| load(f)).collect()
}

/// The environment `maestro env` gives CONTAINER, as (name, value) pairs.
fn container_env(yaml: &Path, container: &str) -> Vec<(String, String)> {
    let json: serde_json::Value =
        serde_json::from_str(&maestro(yaml, &["env", "--format", "json", container]))
            .expect("maestro env --format json prints JSON");
    json.as_object()
        .expect("maestro env prints an object")
        .iter()
        // A variable without a value is passed bare to Docker, which then
        // leaves it out of the container's environment.
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect()
}

#[test]
fn every_example_loads_and_every_container_has_its_environment() {
    for example in examples() {
        let tree = maestro(&example.yaml, &["deptree"]);
        let mut containers = 0;
        for (service, instances) in &example.services {
            assert!(
                tree.contains(service.as_str()),
                "deptree of {} does not show {service}:\n{tree}",
                example.yaml.display()
            );
            for container in instances {
                let env = container_env(&example.yaml, container);
                let get = |key: &str| {
                    env.iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or_else(|| panic!("{container}: no {key} in {env:?}"))
                };
                assert_eq!(get("SERVICE_NAME"), service);
                assert_eq!(get("CONTAINER_NAME"), container);
                containers += 1;
            }
        }
        assert!(
            containers > 0,
            "{} has no containers",
            example.yaml.display()
        );
        // The plans are computed without a daemon: every example can be planned.
        maestro(&example.yaml, &["plan", "start"]);
        maestro(&example.yaml, &["plan", "stop", "-a"]);
    }
}

/// Every file below a `templates` directory under `dir`, sorted.
fn templates_under(dir: &Path, inside_templates: bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()))
        .map(|entry| entry.expect("reading a directory").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let below = inside_templates || path.file_name().is_some_and(|n| n == "templates");
            templates_under(&path, below, out);
        } else if inside_templates {
            out.push(path);
        }
    }
}

/// The service using TEMPLATE: the first component of REL (the template's
/// path below its example, or below the shared `templates/`) naming one.
fn using_service<'a>(example: &'a Example, rel: &Path) -> Option<&'a str> {
    rel.components().find_map(|c| {
        let name = c.as_os_str().to_str()?;
        example
            .services
            .keys()
            .find(|s| s.as_str() == name)
            .map(String::as_str)
    })
}

fn render_check(template: &Path, env: &[(String, String)]) -> Output {
    Command::new(bin("maestro-guest"))
        .args(["render", "--check"])
        .arg(format!("{}:/rendered", template.display()))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("running maestro-guest")
}

#[test]
fn every_template_renders_for_the_containers_that_use_it() {
    let root = repo_root();
    let examples = examples();
    // (template, example it belongs to, or None for the shared templates/)
    let mut templates: Vec<(PathBuf, Option<&Example>)> = Vec::new();
    for example in &examples {
        let dir = example.yaml.parent().expect("an example's directory");
        let mut found = Vec::new();
        templates_under(dir, false, &mut found);
        templates.extend(found.into_iter().map(|t| (t, Some(example))));
    }
    let mut shared = Vec::new();
    templates_under(&root.join("templates"), true, &mut shared);
    assert!(
        !shared.is_empty(),
        "no templates in {}",
        root.join("templates").display()
    );
    templates.extend(shared.into_iter().map(|t| (t, None)));

    let mut rendered = 0;
    let mut failures = Vec::new();
    for (template, owner) in &templates {
        let candidates: Vec<(&Example, PathBuf)> = match owner {
            Some(example) => {
                let dir = example.yaml.parent().expect("an example's directory");
                vec![(
                    *example,
                    template.strip_prefix(dir).expect("below").to_owned(),
                )]
            }
            None => examples
                .iter()
                .map(|e| {
                    let rel = template
                        .strip_prefix(root.join("templates"))
                        .expect("below");
                    (e, rel.to_owned())
                })
                .collect(),
        };
        let mut users = 0;
        for (example, rel) in candidates {
            let Some(service) = using_service(example, &rel) else {
                continue;
            };
            for container in &example.services[service] {
                users += 1;
                let env = container_env(&example.yaml, container);
                let output = render_check(template, &env);
                if output.status.success() {
                    rendered += 1;
                } else {
                    failures.push(format!(
                        "{} for {container} of {}: {}",
                        template.strip_prefix(&root).unwrap_or(template).display(),
                        example
                            .yaml
                            .strip_prefix(&root)
                            .unwrap_or(&example.yaml)
                            .display(),
                        show(&output)
                    ));
                }
            }
        }
        if users == 0 {
            failures.push(format!(
                "{}: no container of any example uses it (put it below a directory named after its service)",
                template.strip_prefix(&root).unwrap_or(template).display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // demo: 3 stores x 2 + 2 apis x 2 + 1 web x 2; zookeeper-kafka: 3 x 1 + 3 x 1,
    // the shared ones again: at least that many renderings.
    assert!(rendered >= 18, "only {rendered} renderings");
}

#[test]
fn the_demo_renders_its_topology() {
    let root = repo_root();
    let yaml = root.join("examples/demo/maestro.yaml");
    let env = container_env(&yaml, "demo-web-1");
    let page = root.join("examples/demo/web/templates/www/index.html.j2");
    let scratch = std::env::temp_dir().join(format!("maestro-examples-{}", std::process::id()));
    let dest = scratch.join("index.html");
    let output = Command::new(bin("maestro-guest"))
        .arg("render")
        .arg(format!("{}:{}", page.display(), dest.display()))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("running maestro-guest");
    assert!(output.status.success(), "{}", show(&output));
    let html = std::fs::read_to_string(&dest).expect("the rendered page");
    let _ = std::fs::remove_dir_all(&scratch);
    for (name, port) in [
        ("demo-web-1", 18080),
        ("demo-api-1", 18091),
        ("demo-api-2", 18092),
        ("demo-store-1", 18081),
        ("demo-store-2", 18082),
        ("demo-store-3", 18083),
    ] {
        assert!(html.contains(name), "the page lacks {name}:\n{html}");
        assert!(
            html.contains(&format!("http://127.0.0.1:{port}/")),
            "the page lacks {name}'s address 127.0.0.1:{port}:\n{html}"
        );
    }
    assert!(html.contains("Environment <b>demo</b>"), "{html}");
}
