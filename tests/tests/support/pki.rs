//! Throwaway certificates made with the `openssl` command: the TLS scenarios need a CA
//! and leaves of several key types, and `openssl` is a testbed prerequisite anyway.

use std::path::Path;
use std::process::Command;

/// `genpkey` options for a P-256 key.
pub const EC_P256: [&str; 4] = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// Runs `openssl ARGS` in `dir`; panics with its stderr if it fails.
#[track_caller]
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("running openssl (a testbed prerequisite: apt-get install openssl): {e}")
        });
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private key `file` in `dir`, made with `genpkey` options `algorithm`.
#[track_caller]
pub fn make_key(dir: &Path, file: &str, algorithm: &[&str]) {
    let mut args = vec!["genpkey", "-out", file];
    args.extend_from_slice(algorithm);
    openssl(dir, &args);
}

/// A throwaway CA in `dir`: `NAME.pem` (subject `CN=NAME`) and its P-256 key
/// `NAME-key.pem`.
#[track_caller]
pub fn make_ca(dir: &Path, name: &str) {
    let key = format!("{name}-key.pem");
    make_key(dir, &key, &EC_P256);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A certificate `NAME-cert.pem` for the subject `CN=cn` with the X.509 extensions
/// `ext` (an `openssl x509 -extfile` text), its key `NAME-key.pem` made with `genpkey`
/// options `algorithm`, signed by the CA `ca` of [`make_ca`].
#[track_caller]
pub fn make_leaf(dir: &Path, name: &str, algorithm: &[&str], cn: &str, ext: &str, ca: &str) {
    let key = format!("{name}-key.pem");
    make_key(dir, &key, algorithm);
    let csr = format!("{name}.csr");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
    let ext_file = format!("{name}.ext");
    std::fs::write(dir.join(&ext_file), ext).expect("writing the extensions file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}-key.pem"),
            "-set_serial",
            "0x4242",
            "-days",
            "2",
            "-extfile",
            &ext_file,
            "-out",
            &format!("{name}-cert.pem"),
        ],
    );
}
