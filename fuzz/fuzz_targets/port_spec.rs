//! The port-spec parser on arbitrary values: the input is the YAML text of
//! one `ports.NAME` value (a plain or quoted scalar, a base-60 `22:22`, a
//! `{exposed, external}` mapping, a list...), read by maestro's own YAML
//! reader and handed to the parser as a description's port would be.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro::config::model::Protocol;
use maestro::config::{port_spec, yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Some(node)) = yaml::parse(text) else {
        return;
    };
    let Ok((port, _warnings)) = port_spec("p", &node, "ports.p") else {
        return;
    };
    // What the parser accepts is what Docker can be handed.
    for range in [port.exposed, port.external] {
        assert!(range.start <= 65535, "{port:?}");
        if let Some(end) = range.end {
            assert!(range.start <= end && end <= 65535, "{port:?}");
        }
    }
    let spec = port.exposed_spec();
    assert!(spec.ends_with(match port.protocol {
        Protocol::Tcp => "/tcp",
        Protocol::Udp => "/udp",
    }));
    let host_port = port.host_port();
    assert!(host_port.bytes().all(|b| b.is_ascii_digit() || b == b'-'), "{host_port}");
});
