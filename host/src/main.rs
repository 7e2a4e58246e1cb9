//! maestro: the orchestrator CLI (placeholder until the host configuration issue lands).

mod docker;
mod spec;

fn main() {
    eprintln!("maestro: not implemented yet");
    std::process::exit(2);
}
