//! The `docker run` options of issue 16 (MaestroNG #131) end to end: one
//! container on the main daemon started by `maestro --strict start` with all of
//! them, each read back with `docker inspect`, a few also from inside the
//! container; the stop signal ends it through its trap; and `maestro env` is
//! the same as without the options.
//!
//! `--user` and `--cpu-shares` are MaestroNG 0.8.3's `username` and
//! `limits.cpu`, checked here beside the new keys, and again through docker
//! compose's spellings of them, `user` and `cpu_shares`.

mod support;

use std::time::{Duration, Instant};

use maestro_e2e::{Docker, Scope, Testbed};
use support::{Project, assert_status, stderr, stdout, text};

/// The options, as an instance's keys (indented for the instance's mapping).
const OPTIONS: &str = r#"        username: "1000:1000"
        limits: {cpu: 512, memory: 64m}
        stop_signal: usr1
        stop_timeout: 30
        hostname: opts-host
        domainname: example.test
        read_only: true
        tmpfs: ["/run:size=1m"]
        shm_size: 64m
        devices: ["/dev/null:/dev/maestro-null:r"]
        sysctls: {net.core.somaxconn: 1024}
        init: true
        pid: host
        ipc: shareable
        group_add: [123]
        entrypoint: [/bin/sh, -c]
        cpuset: "0"
        mem_reservation: 32m
        pids_limit: 100
        oom_kill_disable: true
        runtime: runc
"#;

/// One service `opts` with instance `name` on `main`, with `options` or none.
fn yaml(tb: &Testbed, scope: &Scope, name: &str, options: &str) -> String {
    format!(
        "name: {env}\n{ships}services:\n  opts:\n    image: {image}\n    env: {{GREETING: hi}}\n    instances:\n      {name}:\n        ship: main\n        command: [\"trap 'exit 0' USR1; sleep 300 & wait\"]\n{options}",
        env = scope.prefix(),
        ships = support::ships_yaml(tb),
        image = tb.test_image(),
    )
}

#[test]
fn every_run_option_reaches_the_engine() {
    let tb = Testbed::load();
    let scope = Scope::new("runopts");
    let name = scope.name("opts");
    let project = Project::new(&scope, &yaml(tb, &scope, &name, OPTIONS));

    let out = project.run(&["--strict", "start"]);
    assert_status(&out, 0);
    assert!(stderr(&out).is_empty(), "no warnings: {}", text(&out));

    let main = Docker::new(tb.main_host());
    let c = main.inspect(&name);
    let (config, host) = (&c["Config"], &c["HostConfig"]);
    assert_eq!(config["User"], "1000:1000", "username");
    assert_eq!(config["StopSignal"], "SIGUSR1", "stop_signal");
    assert_eq!(config["Hostname"], "opts-host", "hostname");
    assert_eq!(config["Domainname"], "example.test", "domainname");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/bin/sh", "-c"]),
        "entrypoint"
    );
    assert_eq!(host["CpuShares"], 512, "limits.cpu");
    assert_eq!(host["ReadonlyRootfs"], true, "read_only");
    assert_eq!(
        host["Tmpfs"],
        serde_json::json!({"/run": "size=1m"}),
        "tmpfs"
    );
    assert_eq!(host["ShmSize"], 64 << 20, "shm_size");
    assert_eq!(
        host["Devices"],
        serde_json::json!([{
            "PathOnHost": "/dev/null",
            "PathInContainer": "/dev/maestro-null",
            "CgroupPermissions": "r"
        }]),
        "devices"
    );
    assert_eq!(
        host["Sysctls"],
        serde_json::json!({"net.core.somaxconn": "1024"}),
        "sysctls"
    );
    assert_eq!(host["Init"], true, "init");
    assert_eq!(host["PidMode"], "host", "pid");
    assert_eq!(host["IpcMode"], "shareable", "ipc");
    assert_eq!(host["GroupAdd"], serde_json::json!(["123"]), "group_add");
    assert_eq!(host["CpusetCpus"], "0", "cpuset");
    assert_eq!(host["MemoryReservation"], 32 << 20, "mem_reservation");
    assert_eq!(host["PidsLimit"], 100, "pids_limit");
    assert_eq!(host["OomKillDisable"], true, "oom_kill_disable");
    assert_eq!(host["Runtime"], "runc", "runtime");

    // What the container itself sees of some of them.
    let inside = |script: &str| main.run(["exec", &name, "sh", "-c", script]);
    assert_eq!(inside("id -u; id -G"), "1000\n1000 123");
    assert_eq!(inside("hostname; hostname -d"), "opts-host\nexample.test");
    assert_eq!(inside("cat /proc/sys/net/core/somaxconn"), "1024");
    assert_eq!(
        inside(
            "touch /x 2>/dev/null && echo writable || echo read-only; touch /run/x && echo tmpfs-ok"
        ),
        "read-only\ntmpfs-ok"
    );
    assert_eq!(inside("test -c /dev/maestro-null && echo device"), "device");

    // The stop signal reaches the command's trap (through Docker's init):
    // the stop ends well before stop_timeout, with the trap's exit status.
    let began = Instant::now();
    assert_status(&project.run(&["stop", "-a"]), 0);
    assert!(
        began.elapsed() < Duration::from_secs(20),
        "stop took {:?}: USR1 did not end the container",
        began.elapsed()
    );
    assert_eq!(main.inspect(&name)["State"]["ExitCode"], 0);

    // The options change nothing a container observes of its environment
    // (both projects write the one scratch maestro.yaml: the env with the
    // options is read before the plain file replaces it).
    let with_options = project.run(&["env", &name]);
    let plain = Project::new(&scope, &yaml(tb, &scope, &name, ""));
    let without = plain.run(&["env", &name]);
    assert_status(&with_options, 0);
    assert_eq!(stdout(&with_options), stdout(&without));
    assert!(stdout(&with_options).contains("GREETING=hi"));
}

/// A bad value stops the play before any container is made, at its line.
#[test]
fn a_bad_option_is_a_configuration_error_at_its_line() {
    let tb = Testbed::load();
    let scope = Scope::new("runopts-bad");
    let name = scope.name("opts");
    let project = Project::new(&scope, &yaml(tb, &scope, &name, "        shm_size: lots\n"));
    let out = project.run(&["start"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "maestro.yaml:13:19: services.opts.instances.{name}.shm_size: expected a size such as 64m, 1g or 1048576 (bytes), found \"lots\""
        )),
        "{}",
        text(&out)
    );
    assert!(scope.containers(&Docker::new(tb.main_host())).is_empty());
}

/// `user` and `cpu_shares`, docker compose's spellings of `username` and
/// `limits.cpu`, reach the engine as those do, and change nothing of the
/// container's environment; both spellings at once start nothing.
#[test]
fn user_and_cpu_shares_reach_the_engine_as_username_and_limits_cpu() {
    let tb = Testbed::load();
    let scope = Scope::new("runopts-alias");
    let name = scope.name("opts");
    // The command is one string for sh -c, as with every option above.
    let shell = "        entrypoint: [/bin/sh, -c]\n";
    let spelt = format!("{shell}        user: \"1000:1000\"\n        cpu_shares: 768\n");
    let project = Project::new(&scope, &yaml(tb, &scope, &name, &spelt));

    let out = project.run(&["--strict", "start"]);
    assert_status(&out, 0);
    assert!(stderr(&out).is_empty(), "no warnings: {}", text(&out));
    let main = Docker::new(tb.main_host());
    let c = main.inspect(&name);
    assert_eq!(c["Config"]["User"], "1000:1000", "user");
    assert_eq!(c["HostConfig"]["CpuShares"], 768, "cpu_shares");
    assert_eq!(
        main.run(["exec", &name, "sh", "-c", "id -u; id -g"]),
        "1000\n1000"
    );

    // The same environment as with 0.8.3's spellings, and as with neither
    // (each project replaces the scope's one scratch maestro.yaml).
    let env = stdout(&project.run(&["env", &name]));
    assert!(env.contains("GREETING=hi"), "{env}");
    assert_status(&project.run(&["kill", "-a"]), 0);
    for options in [
        format!("{shell}        username: \"1000:1000\"\n        limits: {{cpu: 768}}\n"),
        String::new(),
    ] {
        let other = Project::new(&scope, &yaml(tb, &scope, &name, &options));
        assert_eq!(stdout(&other.run(&["env", &name])), env, "{options}");
    }

    // Both spellings: a configuration error naming both, nothing started.
    let both = Scope::new("runopts-both");
    let other = both.name("opts");
    let project = Project::new(
        &both,
        &yaml(
            tb,
            &both,
            &other,
            &format!("{spelt}        limits: {{cpu: 512}}\n"),
        ),
    );
    let out = project.run(&["start"]);
    assert_status(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("maestro.yaml:15:21: services.opts.instances.{other}.cpu_shares: `cpu_shares` and `limits.cpu` both set"))
            && err.contains(&format!("`limits.cpu` is services.opts.instances.{other}.limits.cpu at ")),
        "{}",
        text(&out)
    );
    assert!(both.containers(&main).is_empty());
}
