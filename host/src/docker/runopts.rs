//! The create body's fields for what maestro adds to MaestroNG 0.8.3's create
//! call: the engine's health check and the `docker run` options of
//! [`RunSpec`], each mapped one to one.

use std::time::Duration;

use bollard::models::{ContainerCreateBody, DeviceMapping, HealthConfig, HostConfig};

use crate::spec::{ContainerSpec, HealthSpec, RunSpec};

/// Sets the health check and the run options of `spec` on `body`; what is
/// unset stays unset (the engine's or the image's default).
pub(super) fn apply(spec: &ContainerSpec, body: &mut ContainerCreateBody) {
    body.healthcheck = spec.healthcheck.as_ref().map(health_config);
    let run = &spec.run;
    body.stop_signal = run.stop_signal.clone();
    body.domainname = run.domainname.clone();
    body.entrypoint = run.entrypoint.clone();
    host_config(
        run,
        body.host_config.get_or_insert_with(HostConfig::default),
    );
}

fn host_config(run: &RunSpec, hc: &mut HostConfig) {
    let nonempty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    hc.readonly_rootfs = run.read_only.then_some(true);
    hc.tmpfs = (!run.tmpfs.is_empty()).then(|| run.tmpfs.clone().into_iter().collect());
    hc.shm_size = run.shm_size;
    hc.devices = (!run.devices.is_empty()).then(|| {
        run.devices
            .iter()
            .map(|d| DeviceMapping {
                path_on_host: Some(d.path_on_host.clone()),
                path_in_container: Some(d.path_in_container.clone()),
                cgroup_permissions: Some(d.cgroup_permissions.clone()),
            })
            .collect()
    });
    hc.sysctls = (!run.sysctls.is_empty()).then(|| run.sysctls.clone().into_iter().collect());
    hc.init = run.init;
    hc.pid_mode = run.pid_mode.clone();
    hc.ipc_mode = run.ipc_mode.clone();
    hc.group_add = nonempty(&run.group_add);
    hc.cpuset_cpus = run.cpuset_cpus.clone();
    hc.memory_reservation = run.memory_reservation;
    hc.pids_limit = run.pids_limit;
    hc.oom_kill_disable = run.oom_kill_disable;
    hc.runtime = run.runtime.clone();
}

/// `Config.Healthcheck`: durations in nanoseconds, 0 (sent as absent) for the image's.
fn health_config(h: &HealthSpec) -> HealthConfig {
    let nanos = |d: Option<Duration>| d.map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    HealthConfig {
        test: (!h.test.is_empty()).then(|| h.test.clone()),
        interval: nanos(h.interval),
        timeout: nanos(h.timeout),
        retries: h.retries.map(i64::from),
        start_period: nanos(h.start_period),
        start_interval: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::DeviceMapping as Device;

    #[test]
    fn every_run_option_reaches_its_field_and_unset_ones_stay_unset() {
        let mut spec = ContainerSpec::default();
        let mut body = ContainerCreateBody::default();
        apply(&spec, &mut body);
        let hc = body.host_config.clone().unwrap();
        assert_eq!(body.healthcheck, None);
        assert_eq!((hc.readonly_rootfs, hc.tmpfs, hc.init), (None, None, None));
        assert_eq!(body.entrypoint, None);

        spec.healthcheck = Some(HealthSpec {
            test: vec!["CMD-SHELL".into(), "true".into()],
            interval: Some(Duration::from_millis(1500)),
            timeout: None,
            retries: Some(2),
            start_period: Some(Duration::from_secs(1)),
        });
        spec.run = RunSpec {
            stop_signal: Some("SIGUSR1".into()),
            domainname: Some("example.test".into()),
            entrypoint: Some(vec!["/bin/sh".into()]),
            read_only: true,
            tmpfs: [("/run".to_owned(), "size=1m".to_owned())].into(),
            shm_size: Some(64 << 20),
            devices: vec![Device {
                path_on_host: "/dev/null".into(),
                path_in_container: "/dev/n".into(),
                cgroup_permissions: "r".into(),
            }],
            sysctls: [("net.core.somaxconn".to_owned(), "1024".to_owned())].into(),
            init: Some(true),
            pid_mode: Some("host".into()),
            ipc_mode: Some("shareable".into()),
            group_add: vec!["123".into()],
            cpuset_cpus: Some("0".into()),
            memory_reservation: Some(32 << 20),
            pids_limit: Some(100),
            oom_kill_disable: Some(true),
            runtime: Some("runc".into()),
        };
        let mut body = ContainerCreateBody::default();
        apply(&spec, &mut body);
        let h = body.healthcheck.clone().unwrap();
        assert_eq!(h.test.unwrap(), ["CMD-SHELL", "true"]);
        assert_eq!(h.interval, Some(1_500_000_000));
        assert_eq!(h.timeout, None);
        assert_eq!(h.retries, Some(2));
        assert_eq!(h.start_period, Some(1_000_000_000));
        assert_eq!(body.stop_signal.as_deref(), Some("SIGUSR1"));
        assert_eq!(body.domainname.as_deref(), Some("example.test"));
        assert_eq!(
            body.entrypoint.as_deref(),
            Some(&["/bin/sh".to_owned()][..])
        );
        let hc = body.host_config.unwrap();
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.tmpfs.unwrap()["/run"], "size=1m");
        assert_eq!(hc.shm_size, Some(64 << 20));
        let dev = &hc.devices.unwrap()[0];
        assert_eq!(dev.path_in_container.as_deref(), Some("/dev/n"));
        assert_eq!(dev.cgroup_permissions.as_deref(), Some("r"));
        assert_eq!(hc.sysctls.unwrap()["net.core.somaxconn"], "1024");
        assert_eq!(hc.init, Some(true));
        assert_eq!(hc.pid_mode.as_deref(), Some("host"));
        assert_eq!(hc.ipc_mode.as_deref(), Some("shareable"));
        assert_eq!(hc.group_add.unwrap(), ["123"]);
        assert_eq!(hc.cpuset_cpus.as_deref(), Some("0"));
        assert_eq!(hc.memory_reservation, Some(32 << 20));
        assert_eq!(hc.pids_limit, Some(100));
        assert_eq!(hc.oom_kill_disable, Some(true));
        assert_eq!(hc.runtime.as_deref(), Some("runc"));
    }
}
