//! The demo of the README's quick start, end to end on the testbed's main
//! daemon: `scripts/demo images` builds its images (as `scripts/demo` does),
//! then maestro starts `examples/demo/maestro.yaml` under this test's own
//! names and ports (the file is a template: MAESTRO_DEMO_PREFIX,
//! MAESTRO_DEMO_PORT), the pages show the whole topology, a second start
//! changes nothing, and stop and clean take it down again.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use maestro_e2e::{Scope, Testbed, poll, repo_root};

fn show(output: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The demo's offsets from MAESTRO_DEMO_PORT: web, stores, apis.
const OFFSETS: [u16; 6] = [0, 1, 2, 3, 11, 12];

/// A port base whose six demo ports are all free on 127.0.0.1 right now.
fn free_port_base() -> u16 {
    let seed = std::process::id() as u32;
    for attempt in 0..200u32 {
        let base = 20000 + ((seed.wrapping_mul(7919) + attempt * 97) % 40000) as u16;
        let listeners: Vec<_> = OFFSETS
            .iter()
            .map_while(|o| TcpListener::bind(("0.0.0.0", base + o)).ok())
            .collect();
        if listeners.len() == OFFSETS.len() {
            return base;
        }
    }
    panic!("no free block of ports for the demo");
}

/// GET http://127.0.0.1:PORT/PATH; the status code and the body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    // The end of the head: CRLF CRLF, or LF LF as a lenient client takes it.
    let (head, body) = match (response.find("\r\n\r\n"), response.find("\n\n")) {
        (Some(crlf), Some(lf)) if lf < crlf => (&response[..lf], &response[lf + 2..]),
        (Some(crlf), _) => (&response[..crlf], &response[crlf + 4..]),
        (None, Some(lf)) => (&response[..lf], &response[lf + 2..]),
        (None, None) => return None,
    };
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_owned()))
}

struct Demo {
    yaml: PathBuf,
    prefix: String,
    port: u16,
}

impl Demo {
    fn maestro(&self, args: &[&str]) -> Output {
        maestro_e2e::maestro_cli(&self.yaml, args)
            .env("MAESTRO_DEMO_PREFIX", &self.prefix)
            .env("MAESTRO_DEMO_PORT", self.port.to_string())
            .output()
            .expect("running maestro")
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.maestro(args);
        assert!(
            output.status.success(),
            "maestro {}: {}",
            args.join(" "),
            show(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn containers(&self) -> Vec<String> {
        let mut names = Vec::new();
        for n in 1..=3 {
            names.push(format!("{}-store-{n}", self.prefix));
        }
        for n in 1..=2 {
            names.push(format!("{}-api-{n}", self.prefix));
        }
        names.push(format!("{}-web-1", self.prefix));
        names
    }
}

#[test]
fn the_demo_starts_shows_its_topology_and_goes_away() {
    let tb = Testbed::load();
    let docker = tb.main();
    let root = repo_root();

    let build = Command::new(root.join("scripts/demo"))
        .arg("images")
        .current_dir(&root)
        .output()
        .expect("running scripts/demo images");
    assert!(
        build.status.success(),
        "scripts/demo images: {}",
        show(&build)
    );
    for image in [
        "maestro-demo/store:latest",
        "maestro-demo/api:latest",
        "maestro-demo/web:latest",
    ] {
        let labels = &docker.inspect(image)["Config"]["Labels"];
        assert!(
            labels["maestro.demo.hash"].is_string(),
            "{image} lacks its input hash label: {labels}"
        );
    }
    // A second build changes nothing.
    let again = Command::new(root.join("scripts/demo"))
        .arg("images")
        .current_dir(&root)
        .output()
        .expect("running scripts/demo images");
    assert!(
        again.status.success(),
        "scripts/demo images: {}",
        show(&again)
    );
    let said = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        said.matches("is up to date").count(),
        4,
        "a second build rebuilt something: {}",
        show(&again)
    );

    let scope = Scope::new("demo");
    let demo = Demo {
        yaml: root.join("examples/demo/maestro.yaml"),
        prefix: scope.name("demo"),
        port: free_port_base(),
    };

    demo.ok(&["start"]);
    for name in demo.containers() {
        assert_eq!(
            docker.inspect(&name)["State"]["Running"],
            true,
            "{name} does not run after start"
        );
    }
    let ids: Vec<String> = demo
        .containers()
        .iter()
        .map(|name| {
            docker.inspect(name)["Id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();

    // start returned after the lifecycle checks: the page answers at once.
    let (code, page) = get(demo.port, "/").expect("the web page answers");
    assert_eq!(code, 200, "{page}");
    for (name, offset) in demo.containers().iter().zip([1, 2, 3, 11, 12, 0]) {
        assert!(
            page.contains(name.as_str()),
            "the page lacks {name}:\n{page}"
        );
        let url = format!("http://127.0.0.1:{}/", demo.port + offset);
        assert!(
            page.contains(&url),
            "the page lacks {name}'s {url}:\n{page}"
        );
    }
    assert!(
        page.contains(&format!("Environment <b>{}</b>", demo.prefix)),
        "{page}"
    );

    // Each store lists its peers; each api its backends.
    for offset in [1, 2, 3] {
        let (code, peers) = get(demo.port + offset, "/peers.json").expect("a store answers");
        assert_eq!(code, 200, "{peers}");
        for o in [1, 2, 3] {
            let peer = format!("\"127.0.0.1:{}\"", demo.port + o);
            assert!(
                peers.contains(&peer),
                "store on {}: no {peer} in {peers}",
                demo.port + offset
            );
        }
    }
    for offset in [11, 12] {
        let (code, backends) = get(demo.port + offset, "/backends.json").expect("an api answers");
        assert_eq!(code, 200, "{backends}");
        let json: serde_json::Value = serde_json::from_str(&backends)
            .unwrap_or_else(|err| panic!("backends.json is not JSON ({err}): {backends}"));
        assert_eq!(json["backends"].as_array().map(Vec::len), Some(3), "{json}");
        // The CGI asks every store, live, from inside the api container.
        let live = poll(Duration::from_secs(20), || {
            let (_, body) = get(demo.port + offset, "/cgi-bin/backends")?;
            let json: serde_json::Value = serde_json::from_str(&body).ok()?;
            let up = json["backends"]
                .as_array()?
                .iter()
                .filter(|b| b["up"] == true)
                .count();
            (up == 3).then_some(json)
        });
        assert!(
            live.is_some(),
            "the api on {} does not see its 3 stores up: {:?}",
            demo.port + offset,
            get(demo.port + offset, "/cgi-bin/backends")
        );
    }
    // The web container's own view, from maestro-guest info.
    let (code, topology) = get(demo.port, "/cgi-bin/topology").expect("the topology CGI answers");
    assert_eq!(code, 200, "{topology}");
    let topology: serde_json::Value = serde_json::from_str(&topology)
        .unwrap_or_else(|err| panic!("/cgi-bin/topology is not JSON ({err}): {topology}"));
    assert_eq!(topology["container_name"], format!("{}-web-1", demo.prefix));
    assert_eq!(
        topology["services"]["store"]["instances"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // Starting again converges: nothing is re-created.
    demo.ok(&["start"]);
    for (name, id) in demo.containers().iter().zip(&ids) {
        assert_eq!(
            docker.inspect(name)["Id"].as_str().unwrap_or_default(),
            id,
            "a second start re-created {name}"
        );
    }

    demo.ok(&["stop", "-a"]);
    for name in demo.containers() {
        assert_eq!(
            docker.inspect(&name)["State"]["Running"],
            false,
            "{name} still runs after stop"
        );
    }
    assert!(
        get(demo.port, "/").is_none(),
        "the page still answers after stop"
    );
    demo.ok(&["clean"]);
    for name in demo.containers() {
        assert!(
            docker.try_run(["inspect", &name]).is_err(),
            "{name} is still there after clean"
        );
    }
}
