//! maestro: the orchestrator CLI (placeholder until the host configuration issue lands).

fn main() {
    eprintln!("maestro: not implemented yet");
    std::process::exit(2);
}
