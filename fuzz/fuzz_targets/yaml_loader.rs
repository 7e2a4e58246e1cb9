//! Bytes → a whole `maestro.yaml` load: Jinja rendering, YAML 1.1 reading
//! (merge keys, aliases, tags), the model build, every container's
//! environment; then the model's derived views.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use maestro::config::{self, Options, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source::Text {
        text: text.to_owned(),
        name: "fuzz.yaml".into(),
        // Envfiles and `{% include %}` resolve among the fuzz crate's own
        // files, never the caller's working directory.
        base_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/files")),
    };
    let Ok(loaded) = config::load(&source, Options::default()) else {
        return;
    };
    // Strict mode only turns warnings into errors.
    let strict = config::load(&source, Options { strict: true });
    if loaded.warnings.is_empty() {
        assert!(strict.is_ok(), "strict failed without warnings: {strict:?}");
    }
    let environment = &loaded.environment;
    for ship in &environment.ships {
        let _ = ship.connection();
        let _ = ship.backend_url();
    }
    for registry in &environment.registries {
        let _ = registry.netloc();
        let _ = registry.is_insecure();
    }
    for instance in &environment.instances {
        assert!(environment.ship(&instance.ship).is_some());
        assert!(environment.service(&instance.service).is_some());
        let _ = environment.registry_for_image(&instance.image);
        let _ = instance.hostname();
        let _ = instance.binds();
        let _ = instance.volume_targets();
        for var in environment.container_env(instance) {
            let _ = var.to_docker();
        }
        for port in &instance.ports {
            assert!(port.exposed.start <= 65535 && port.external.start <= 65535);
            let _ = port.exposed_spec();
            let _ = port.host_port();
            assert!(instance.port(&port.name).is_some());
        }
    }
    let _ = serde_json_len(environment);
});

fn serde_json_len(environment: &config::model::Environment) -> usize {
    format!("{environment:?}").len()
}
