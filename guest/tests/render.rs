//! `maestro-guest render` end to end: the real templates against the
//! seed's ZooKeeper+Kafka environment, atomicity, modes, `--check`, strict
//! undefined errors, guest functions and `env` in templates, `-- CMD`.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use maestro_guest::contract::{
    InstanceLinks, PortLink, ServiceLinks, identity_vars, service_identity_vars,
};

use common::{Output, guest, output, scratch};

const SHIP: &str = "192.168.10.2";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// One service of the seed's `zookeeper+kafka` example (examples/zookeeper-kafka): three
/// instances on the ship 192.168.10.2, instance `i` publishing each named
/// port at `first_external + i - 1`.
fn service(name: &str, prefix: &str, ports: &[(&str, u32, u32)]) -> ServiceLinks {
    ServiceLinks {
        name: name.into(),
        instances: (1..=3)
            .map(|i| InstanceLinks {
                name: format!("{prefix}-{i}"),
                host: SHIP.into(),
                ports: ports
                    .iter()
                    .map(|(port, internal, first_external)| PortLink {
                        name: (*port).into(),
                        external: (first_external + i - 1).to_string(),
                        internal: Some(internal.to_string()),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn zookeeper() -> ServiceLinks {
    service(
        "zookeeper",
        "zk-node",
        &[
            ("client", 2181, 2181),
            ("peer", 2888, 2888),
            ("leader_election", 3888, 3888),
        ],
    )
}

fn kafka() -> ServiceLinks {
    service("kafka", "kafka", &[("broker", 9092, 9092)])
}

/// The variables maestro gives `container` of `own`, which requires `deps`.
fn seed_vars(own: &ServiceLinks, container: &str, deps: &[ServiceLinks]) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    vars.extend(service_identity_vars("zk-kafka", &own.name));
    vars.extend(identity_vars(
        container,
        SHIP,
        &format!("{}:latest", own.name),
    ));
    vars.extend(own.variables(true));
    for dep in deps {
        vars.extend(dep.variables(false));
    }
    vars
}

fn render(vars: &[(String, String)], args: &[&str]) -> Output {
    let mut command = guest();
    command
        .arg("render")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars.iter().cloned());
    output(command)
}

fn kafka_2() -> Vec<(String, String)> {
    seed_vars(&kafka(), "kafka-2", &[zookeeper()])
}

fn golden(name: &str) -> String {
    fs::read_to_string(repo_root().join("guest/tests/golden").join(name)).unwrap()
}

#[test]
fn kafka_server_properties_match_the_golden_file() {
    let out_dir = scratch("kafka");
    let templates = repo_root().join("templates/kafka");
    let out = render(
        &kafka_2(),
        &[
            "--to",
            out_dir.to_str().unwrap(),
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rendered = fs::read_to_string(out_dir.join("server.properties")).unwrap();
    assert_eq!(rendered, golden("server.properties"));
}

#[test]
fn zookeeper_zoo_cfg_matches_the_golden_file() {
    let out_dir = scratch("zk");
    let vars = seed_vars(&zookeeper(), "zk-node-2", &[]);
    let template = repo_root().join("templates/zookeeper/zoo.cfg.j2");
    let dest = out_dir.join("conf/zoo.cfg");
    let pair = format!("{}:{}", template.display(), dest.display());
    let out = render(&vars, &[&pair]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(fs::read_to_string(&dest).unwrap(), golden("zoo.cfg"));
}

fn write_template(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_directory_renders_recursively_keeping_modes_and_dropping_j2() {
    let root = scratch("tree");
    let templates = root.join("templates");
    write_template(
        &templates,
        "etc/app.conf.j2",
        "port={{ get_port('broker') }}\n",
        0o640,
    );
    write_template(
        &templates,
        "bin/start.sh",
        "#!/bin/sh\necho {{ get_container_name() }}\n",
        0o755,
    );
    let to = root.join("out");
    let out = render(
        &kafka_2(),
        &["--to", to.to_str().unwrap(), templates.to_str().unwrap()],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let conf = to.join("etc/app.conf");
    assert_eq!(fs::read_to_string(&conf).unwrap(), "port=9092\n");
    assert_eq!(
        fs::metadata(&conf).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    let script = to.join("bin/start.sh");
    assert_eq!(
        fs::read_to_string(&script).unwrap(),
        "#!/bin/sh\necho kafka-2\n"
    );
    assert_eq!(
        fs::metadata(&script).unwrap().permissions().mode() & 0o7777,
        0o755
    );
    assert_eq!(
        listing(&to.join("etc")),
        ["app.conf"],
        "no temporary files left"
    );
}

#[test]
fn a_failing_template_changes_no_file() {
    let root = scratch("atomic");
    let templates = root.join("templates");
    write_template(
        &templates,
        "a.conf",
        "new a {{ get_port('broker') }}\n",
        0o644,
    );
    write_template(&templates, "b.conf", "new b\n", 0o644);
    write_template(
        &templates,
        "c.conf",
        "line 1\n{{ get_port('nope') }}\n",
        0o644,
    );
    let to = root.join("out");
    fs::create_dir_all(&to).unwrap();
    fs::write(to.join("a.conf"), "old a\n").unwrap();
    fs::write(to.join("c.conf"), "old c\n").unwrap();
    let out = render(
        &kafka_2(),
        &["--to", to.to_str().unwrap(), templates.to_str().unwrap()],
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("No internal port nope defined for container kafka-2 of service kafka")
            && out.stderr.contains("c.conf:2"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(to.join("a.conf")).unwrap(), "old a\n");
    assert_eq!(fs::read_to_string(to.join("c.conf")).unwrap(), "old c\n");
    assert_eq!(listing(&to), ["a.conf", "c.conf"], "b.conf must not appear");
}

#[test]
fn check_renders_and_reports_without_writing() {
    let root = scratch("check");
    let template = write_template(&root, "t.j2", "{{ get_service_name() }}\n", 0o644);
    let dest = root.join("out/t");
    let pair = format!("{}:{}", template.display(), dest.display());
    let out = render(&kafka_2(), &["--check", &pair]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(&dest.display().to_string()),
        "{}",
        out.stdout
    );
    assert!(!dest.exists() && !root.join("out").exists());

    let bad = write_template(&root, "bad.j2", "{{ nope }}\n", 0o644);
    let out = render(
        &kafka_2(),
        &["--check", &format!("{}:{}", bad.display(), dest.display())],
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn undefined_variables_name_the_template_the_line_and_the_name() {
    let root = scratch("undefined");
    let template = write_template(&root, "app.conf", "a=1\nb={{ heap_size }}\n", 0o644);
    let out = render(
        &kafka_2(),
        &["--check", &format!("{}:/x", template.display())],
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("`heap_size` is undefined")
            && out.stderr.contains(&format!("{}:2", template.display())),
        "{}",
        out.stderr
    );
    // Truthiness of an undefined name is an error too (strict).
    let template = write_template(&root, "if.conf", "{% if typo %}x{% endif %}\n", 0o644);
    let out = render(
        &kafka_2(),
        &["--check", &format!("{}:/x", template.display())],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("`typo` is undefined"), "{}", out.stderr);
}

/// Renders `text` with `vars` to a file and returns the output or stderr.
fn render_text(vars: &[(String, String)], text: &str) -> Result<String, String> {
    let root = scratch("text");
    let template = write_template(&root, "t", text, 0o644);
    let dest = root.join("out");
    let out = render(
        vars,
        &[&format!("{}:{}", template.display(), dest.display())],
    );
    match out.code {
        Some(0) => Ok(fs::read_to_string(dest).unwrap()),
        _ => Err(out.stderr),
    }
}

#[test]
fn env_is_every_variable_and_missing_keys_take_defaults() {
    let mut vars = kafka_2();
    vars.push(("HEAP".into(), "2G".into()));
    let text = "{{ env.HEAP }} {{ env.HEAP or '1G' }} {{ env.NO_HEAP or '1G' }} \
                {{ env.NO_HEAP | default('1G') }} {{ env.HEAP | default('1G') }} \
                {{ env['HEAP'] }} {{ env.NO_HEAP is defined }} {{ env.HEAP is defined }} \
                {{ env.SERVICE_NAME | upper }}";
    assert_eq!(
        render_text(&vars, text).unwrap(),
        "2G 2G 1G 1G 2G 2G False True KAFKA"
    );
    let error = render_text(&vars, "x\n{{ env.NO_HEAP }}").unwrap_err();
    assert!(
        error.contains("`env.NO_HEAP` is undefined") && error.contains(":2"),
        "{error}"
    );
}

#[test]
fn guest_functions_take_python_arguments_and_return_python_types() {
    let vars = kafka_2();
    let cases = [
        ("{{ get_port('broker') + 1 }}", "9093"),
        ("{{ get_port('unknown', 42) }}", "42"),
        ("{{ get_port('unknown', default='43') + 0 }}", "43"),
        ("{{ get_port(name='broker') }}", "9092"),
        (
            "{{ get_node_list('zookeeper', ports=['client']) | join(',') }}",
            "192.168.10.2:2181,192.168.10.2:2182,192.168.10.2:2183",
        ),
        (
            "{{ get_node_list('zookeeper', ['client', 'peer'])[0] }}",
            "192.168.10.2:2181:2888",
        ),
        (
            "{{ get_node_list('zookeeper', ports=['client'], minimum=3) | length }}",
            "3",
        ),
        (
            "{{ get_node_list(get_service_name(), ports=['broker']) | last }}",
            "192.168.10.2:9094",
        ),
        ("{{ get_node_list('zookeeper') | first }}", "192.168.10.2"),
        (
            "{{ get_specific_host('zookeeper', 'zk-node-2') }}",
            "192.168.10.2",
        ),
        (
            "{{ get_specific_port('zookeeper', 'zk-node-2', 'client') * 2 }}",
            "4364",
        ),
        (
            "{{ get_specific_exposed_port('kafka', 'kafka-3', 'broker') }}",
            "9092",
        ),
        (
            "{{ get_environment_name() }}/{{ get_service_name() }}/{{ get_container_name() }}",
            "zk-kafka/kafka/kafka-2",
        ),
        ("{{ get_container_host_address() }}", "192.168.10.2"),
        (
            "{{ get_container_host_address(as_ip_address=True) }}",
            "192.168.10.2",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(render_text(&vars, text).as_deref(), Ok(expected), "{text}");
    }
    let errors = [
        (
            "{{ get_node_list('zookeeper', minimum=4) }}",
            "No or not enough zookeeper nodes configured",
        ),
        (
            "{{ get_specific_exposed_port('zookeeper', 'zk-node-2', 'client') }}",
            "No internal port client defined for container zk-node-2 of service zookeeper",
        ),
        (
            "{{ get_specific_host('zookeeper', 'zk-node-9') }}",
            "No host defined for container zk-node-9 of service zookeeper",
        ),
        (
            "{{ get_port('broker', 1, default=2) }}",
            "got multiple values for argument 'default'",
        ),
        (
            "{{ get_port(nme='broker') }}",
            "got an unexpected keyword argument 'nme'",
        ),
        (
            "{{ get_specific_host('zookeeper') }}",
            "missing required argument: 'container'",
        ),
    ];
    for (text, message) in errors {
        let error = render_text(&vars, text).unwrap_err();
        assert!(error.contains(message), "{text}: {error}");
    }
    let error = render_text(&[], "{{ get_service_name() }}").unwrap_err();
    assert!(error.contains("Service name was not defined"), "{error}");
}

#[test]
fn render_then_runs_the_command_as_run_does() {
    let root = scratch("then-run");
    let template = write_template(&root, "t", "{{ get_container_name() }}", 0o644);
    let dest = root.join("out");
    let pair = format!("{}:{}", template.display(), dest.display());
    let script = format!("cat {}; exit 5", dest.display());
    let out = render(&kafka_2(), &[&pair, "--", "sh", "-c", &script]);
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert_eq!(out.stdout, "kafka-2");

    // A failed render never starts the program.
    let bad = write_template(&root, "bad", "{{ nope }}", 0o644);
    let marker = root.join("ran");
    let script = format!("touch {}", marker.display());
    let out = render(
        &kafka_2(),
        &[
            &format!("{}:{}", bad.display(), dest.display()),
            "--",
            "sh",
            "-c",
            &script,
        ],
    );
    assert_eq!(out.code, Some(1));
    assert!(!marker.exists());
}

#[test]
fn a_single_file_without_destination_is_a_usage_error() {
    let root = scratch("nodest");
    let template = write_template(&root, "t", "x", 0o644);
    let out = render(&[], &[template.to_str().unwrap()]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("FILE:DEST"), "{}", out.stderr);
}

fn mtime(path: &Path) -> std::time::SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

/// Sets `path`'s mtime to 2001-09-09, so that a rewrite is visible.
fn age(path: &Path) -> std::time::SystemTime {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000))
        .unwrap();
    mtime(path)
}

#[test]
fn an_unchanged_output_is_not_rewritten() {
    let root = scratch("unchanged");
    let templates = root.join("templates");
    write_template(
        &templates,
        "same.conf",
        "name={{ get_container_name() }}\n",
        0o644,
    );
    write_template(&templates, "mode.conf", "x\n", 0o644);
    let to = root.join("out");
    let args = ["--to", to.to_str().unwrap(), templates.to_str().unwrap()];
    assert_eq!(render(&kafka_2(), &args).code, Some(0));
    let (same, mode) = (to.join("same.conf"), to.join("mode.conf"));
    let (old_same, old_mode) = (age(&same), age(&mode));

    // Same text, same mode: untouched. A new mode: written.
    fs::set_permissions(
        templates.join("mode.conf"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_eq!(render(&kafka_2(), &args).code, Some(0));
    assert_eq!(mtime(&same), old_same);
    assert_ne!(mtime(&mode), old_mode);
    assert_eq!(
        fs::metadata(&mode).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // New text: written.
    let mut other = kafka_2();
    other.retain(|(k, _)| k != "CONTAINER_NAME");
    other.push(("CONTAINER_NAME".into(), "kafka-9".into()));
    assert_eq!(render(&other, &args).code, Some(0));
    assert_ne!(mtime(&same), old_same);
    assert_eq!(fs::read_to_string(&same).unwrap(), "name=kafka-9\n");
}

#[test]
fn file_reads_a_file_into_a_template() {
    let root = scratch("file-fn");
    let secret = root.join("secret");
    fs::write(&secret, "hunter2\n").unwrap();
    let text = format!("password={{{{ file('{}') }}}}\n", secret.display());
    assert_eq!(render_text(&[], &text).unwrap(), "password=hunter2\n");
    let missing = root.join("missing");
    let error = render_text(&[], &format!("{{{{ file('{}') }}}}", missing.display())).unwrap_err();
    assert!(
        error.contains(&format!("file(\"{}\")", missing.display())),
        "{error}"
    );
}

#[test]
fn file_env_secrets_reach_templates_and_not_the_file_variable() {
    let root = scratch("file-env-render");
    let secret = root.join("db");
    fs::write(&secret, "pa55\n").unwrap();
    let template = write_template(&root, "t", "pw={{ env.DB_PASSWORD }}\n", 0o644);
    let dest = root.join("out");
    let mut vars = kafka_2();
    vars.push(("DB_PASSWORD_FILE".into(), secret.display().to_string()));
    let pair = format!("{}:{}", template.display(), dest.display());
    let script = "echo \"${DB_PASSWORD_FILE-no file var} $DB_PASSWORD\"";
    let out = render(&vars, &["--file-env", &pair, "--", "sh", "-c", script]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(fs::read_to_string(&dest).unwrap(), "pw=pa55\n");
    assert_eq!(out.stdout, "no file var pa55\n");
}

#[test]
fn reload_renders_again_on_sighup_and_signals_the_program_when_a_file_changed() {
    use common::Running;
    let root = scratch("reload");
    let templates = root.join("templates");
    let template = write_template(
        &templates,
        "app.conf",
        "v1 {{ get_container_name() }}\n",
        0o644,
    );
    let to = root.join("out");
    let conf = to.join("app.conf");
    let script = "trap 'echo got USR1' USR1; trap 'exit 0' USR2; echo ready; \
                  while :; do sleep 0.02; done";
    let mut command = guest();
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(kafka_2())
        .args(["render", "--reload-signal", "USR1", "--to"])
        .args([to.to_str().unwrap(), templates.to_str().unwrap()])
        .args(["--", "sh", "-c", script]);
    let log = root.join("stderr");
    command.stderr(fs::File::create(&log).unwrap());
    let logged = |what: &str, times: usize| {
        common::eventually(common::DEADLINE, || {
            fs::read_to_string(&log).unwrap().matches(what).count() == times
        })
    };
    let mut running = Running::start(command);
    running.expect_line("ready");
    assert_eq!(fs::read_to_string(&conf).unwrap(), "v1 kafka-2\n");
    let hup = |running: &Running| {
        // SAFETY: kill has no memory-safety preconditions.
        assert_eq!(unsafe { libc::kill(running.pid(), libc::SIGHUP) }, 0);
    };

    // A change: rendered again, then the program gets USR1.
    fs::write(&template, "v2 {{ get_container_name() }}\n").unwrap();
    hup(&running);
    running.expect_line("got USR1");
    assert_eq!(fs::read_to_string(&conf).unwrap(), "v2 kafka-2\n");

    // No change: the file keeps its mtime and the program gets nothing.
    let old = age(&conf);
    hup(&running);
    assert!(logged("reload: no file changed", 1));
    // A failing template: the old file stays, the program keeps running.
    fs::write(&template, "v3 {{ nope }}\n").unwrap();
    hup(&running);
    assert!(logged(
        "reload failed; the files and the program are left as they were",
        1
    ));
    assert!(logged("`nope` is undefined", 1));
    // Then a good change again: exactly one more USR1 (none from the two above).
    fs::write(&template, "v4\n").unwrap();
    assert_eq!(
        mtime(&conf),
        old,
        "an unchanged or failed render rewrote the file"
    );
    assert_eq!(fs::read_to_string(&conf).unwrap(), "v2 kafka-2\n");
    hup(&running);
    running.expect_line("got USR1");
    assert_eq!(fs::read_to_string(&conf).unwrap(), "v4\n");
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(running.pid(), libc::SIGUSR2) }, 0);
    assert_eq!(running.finish().code(), Some(0));
    let usr1 = running.seen.iter().filter(|l| *l == "got USR1").count();
    assert_eq!(usr1, 2, "{:?}", running.seen);
}

#[test]
fn reload_needs_a_command() {
    let root = scratch("reload-usage");
    let template = write_template(&root, "t", "x", 0o644);
    let pair = format!("{}:{}", template.display(), root.join("o").display());
    let out = render(&[], &["--reload-signal", "HUP", &pair]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let out = render(
        &[],
        &["--reload-signal", "HUP", "--check", &pair, "--", "true"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}
