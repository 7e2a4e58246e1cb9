//! The images of the `upgrade` scenarios and the projects that deploy them, for
//! every test file that upgrades (`upgrade.rs`, `ship_outage.rs`).
//!
//! The images are `FROM scratch` + busybox + the static guest (PID 1), serving
//! `/www/index.html` with busybox httpd: `ok v1`, `ok v2`, and a bad one serving
//! `error: bad build`. Each test builds them under its own names and moves one
//! registry tag of its own between them, as a release does.

use std::path::{Path, PathBuf};

use maestro_e2e::{Docker, Scope, Testbed};

/// The three versions' pages.
pub const VERSIONS: [(&str, &str); 3] = [
    ("v1", "ok v1"),
    ("v2", "ok v2"),
    ("bad", "error: bad build"),
];

/// The test's images: built locally as `<prefix>-app:VERSION`, and one registry tag
/// (`REGISTRY/<prefix>/app:live`) moved between them. Removed when dropped.
pub struct Images {
    local: Vec<String>,
    /// The registry tag as the main daemon names it.
    pub live: String,
    /// The same tag as ship2 names it.
    pub live_ship2: String,
    pusher: Docker,
}

impl Images {
    pub fn build(tb: &Testbed, scope: &Scope) -> Images {
        let main = tb.main();
        let busybox = Path::new("/usr/bin/busybox");
        assert!(
            busybox.exists(),
            "/usr/bin/busybox is missing: apt-get install busybox-static"
        );
        let guest = tb.static_guest();
        assert!(
            guest.is_file(),
            "{} is missing: run scripts/build-guest-static",
            guest.display()
        );
        let mut local = Vec::new();
        for (version, page) in VERSIONS {
            let context = scope.scratch_dir(&format!("image-{version}"));
            std::fs::copy(busybox, context.join("busybox")).expect("copy busybox");
            std::fs::copy(guest, context.join("maestro-guest")).expect("copy the guest");
            std::fs::create_dir_all(context.join("www")).unwrap();
            std::fs::write(context.join("www/index.html"), format!("{page}\n")).unwrap();
            // The scope's label makes its images its own (same content would give
            // every test the same image ids, which one test's cleanup would remove).
            std::fs::write(
                context.join("Dockerfile"),
                format!(
                    "FROM scratch\n\
                 LABEL maestro.e2e.scope={}\n\
                 COPY busybox /bin/busybox\n\
                 RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
                 COPY maestro-guest /bin/maestro-guest\n\
                 COPY www /www\n\
                 ENTRYPOINT [\"/bin/maestro-guest\", \"run\", \"--\"]\n\
                 CMD [\"sh\", \"-c\", \"echo serving $(cat /www/index.html); exec httpd -f -p 8080 -h /www\"]\n",
                    scope.prefix()
                ),
            )
            .unwrap();
            let tag = format!("{}-app:{version}", scope.prefix());
            main.run(["build", "-q", "-t", &tag, context.to_str().unwrap()]);
            local.push(tag);
        }
        let config = super::logged_in_config(tb, scope, "dockercfg");
        let repo = format!("{}/app:live", scope.prefix());
        Images {
            local,
            live: format!("{}/{repo}", tb.registry()),
            live_ship2: format!("{}/{repo}", tb.registry_from_ship2()),
            pusher: Docker::new(tb.main_host()).config_dir(&config),
        }
    }

    /// Moves the registry tag to `version` (and drops the local registry tag, so that
    /// only a pull brings it to a daemon).
    pub fn release(&self, version: &str) {
        let i = VERSIONS.iter().position(|(v, _)| *v == version).unwrap();
        self.pusher.run(["tag", &self.local[i], &self.live]);
        self.pusher.run(["push", &self.live]);
        self.pusher.run(["rmi", &self.live]);
    }

    /// The image id of `version`.
    pub fn id(&self, version: &str) -> String {
        let i = VERSIONS.iter().position(|(v, _)| *v == version).unwrap();
        self.pusher.inspect(&self.local[i])["Id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        let tb = Testbed::load();
        // Every image of the registry repository (a pull that moved the tag leaves
        // the earlier one untagged), on both daemons, then the local builds.
        for (docker, live) in [(tb.main(), &self.live), (tb.ship2(), &self.live_ship2)] {
            let repo = live.trim_end_matches(":live");
            let refs = docker
                .try_run([
                    "images",
                    "--digests",
                    "--filter",
                    &format!("reference={repo}"),
                    "--format",
                    "{{.Repository}}@{{.Digest}}",
                ])
                .unwrap_or_default();
            // By reference, not by id: only this repository's names go.
            let mut args = vec!["rmi", "-f", live.as_str()];
            args.extend(refs.split_whitespace().filter(|r| !r.ends_with("@<none>")));
            let _ = docker.try_run(args);
        }
        let main = tb.main();
        for tag in &self.local {
            let _ = main.try_run(["rmi", "-f", tag]);
        }
    }
}

/// The `registries:` section for the testbed registry under both its addresses.
pub fn registries(tb: &Testbed) -> String {
    let entry = |address: &str| {
        format!(
            "  \"{address}\":\n    registry: http://{address}\n    username: {}\n    password: \"{}\"\n",
            tb.registry_user(),
            tb.registry_password()
        )
    };
    format!(
        "registries:\n{}{}",
        entry(tb.registry()),
        entry(tb.registry_from_ship2())
    )
}

/// Writes `maestro.yaml` (name, ships, registries, then `services`); returns its path.
pub fn project(scope: &Scope, tb: &Testbed, services: &str) -> PathBuf {
    let rest = format!("{}services:\n{services}", registries(tb));
    super::project_file::project_file(scope, &super::ships_yaml(tb), &rest)
}

/// The image id a container runs.
pub fn image_of(docker: &Docker, name: &str) -> String {
    docker.inspect(name)["Image"].as_str().unwrap().to_owned()
}

/// Names of the scope's containers on `docker`, sorted.
pub fn containers(scope: &Scope, docker: &Docker) -> Vec<String> {
    let mut names = scope.containers(docker);
    names.sort();
    names
}
