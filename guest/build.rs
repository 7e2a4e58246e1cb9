//! Compiles the TLS client of `wait https://...` (BearSSL and the thin C
//! layer over it, csrc/tls.c) for the binary. The library alone (the host's
//! contract dependency, without the `runtime` feature) needs no C compiler.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=bearssl");
    if std::env::var_os("CARGO_FEATURE_RUNTIME").is_none() {
        return;
    }
    let mut sources = vec![Path::new("csrc/tls.c").to_path_buf()];
    collect(Path::new("bearssl/src"), &mut sources);
    sources.sort();
    let mut build = cc::Build::new();
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-musl") {
        musl_compiler(&mut build, &target);
    }
    build
        .files(&sources)
        .include("bearssl/inc")
        .include("bearssl/src")
        // Size over speed (a wait makes a handful of handshakes); the
        // binary must stay under 1.25 MiB.
        .opt_level_str("s")
        .flag_if_supported("-Oz")
        // The TLS layer seeds BearSSL from getrandom(2) itself: no
        // /dev/urandom or RDRAND code.
        .define("BR_USE_URANDOM", "0")
        .define("BR_RDRAND", "0")
        .warnings(false)
        .compile("guesttls");
}

/// The static musl guest without a musl cross compiler (cc looks for
/// `x86_64-linux-musl-gcc`): `musl-gcc` if there is one, else the system's
/// `cc`. BearSSL includes only freestanding headers and `<string.h>`,
/// `<stdlib.h>`, `<time.h>`, `<unistd.h>`, `<fcntl.h>`, `<errno.h>`, whose
/// x86-64 ABI glibc and musl share; the glibc-only hardening wrappers
/// (`__*_chk`, the stack protector's guard) are turned off.
fn musl_compiler(build: &mut cc::Build, target: &str) {
    let env_key = format!("CC_{}", target.replace('-', "_"));
    if std::env::var_os(&env_key).is_some() || std::env::var_os("CC").is_some() {
        return;
    }
    let arch = target.split('-').next().unwrap_or("x86_64");
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(name).is_file()))
    };
    if on_path(&format!("{arch}-linux-musl-gcc")) {
        return;
    }
    build.compiler(if on_path("musl-gcc") {
        "musl-gcc"
    } else {
        "cc"
    });
    build
        .flag("-fno-stack-protector")
        .flag("-U_FORTIFY_SOURCE")
        .define("_FORTIFY_SOURCE", "0");
}

/// Every `.c` file under `dir`.
fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "c") {
            out.push(path);
        }
    }
}
