//! maestro: orchestrates Docker containers across many hosts from a `maestro.yaml`.

mod config;

fn main() {
    eprintln!("maestro: not implemented yet");
    std::process::exit(2);
}
