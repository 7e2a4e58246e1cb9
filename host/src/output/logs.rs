//! `maestro logs`: container output lines, prefixed by the container's name
//! when several containers are shown (like `docker compose logs`), each name
//! in a colour of its own that stays the same from run to run.

use super::{Paint, paint};

/// 256-colour palette indices for name prefixes, readable on dark and light
/// backgrounds.
const PALETTE: [u8; 10] = [39, 208, 70, 170, 33, 178, 37, 161, 106, 99];

/// The colour of a container's prefix: a hash of its name (FNV-1a), so a
/// container keeps its colour across runs and whatever else is shown.
pub fn prefix_colour(container: &str) -> Paint {
    let mut h: u32 = 0x811c_9dc5;
    for b in container.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    Paint::Indexed(PALETTE[(h % PALETTE.len() as u32) as usize])
}

/// How log lines are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    /// Width of the name column; `None`: no prefix (a single container).
    pub prefix_width: Option<usize>,
    /// Colour the prefixes.
    pub colour: bool,
}

impl LogFormat {
    /// The format for these containers: a single one prints its lines as
    /// they are (as MaestroNG and `docker logs` do); several get a
    /// `name | ` prefix padded to the longest name.
    pub fn for_containers(names: &[String], colour: bool) -> LogFormat {
        LogFormat {
            prefix_width: (names.len() > 1).then(|| {
                names
                    .iter()
                    .map(|n| super::display_width(n))
                    .max()
                    .unwrap_or(0)
            }),
            colour,
        }
    }

    /// One output line (with its newline).
    pub fn line(&self, container: &str, text: &str) -> String {
        match self.prefix_width {
            None => format!("{text}\n"),
            Some(w) => {
                let pad = " ".repeat(w.saturating_sub(super::display_width(container)));
                let prefix = format!("{container}{pad} |");
                format!(
                    "{} {text}\n",
                    paint(&prefix, prefix_colour(container), self.colour)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_container_is_not_prefixed() {
        let f = LogFormat::for_containers(&["web-1".into()], true);
        assert_eq!(f.line("web-1", "hello"), "hello\n");
    }

    #[test]
    fn several_containers_are_prefixed_and_aligned() {
        let names = ["db-1".to_owned(), "web-12".to_owned()];
        let f = LogFormat::for_containers(&names, false);
        assert_eq!(f.line("db-1", "ready"), "db-1   | ready\n");
        assert_eq!(f.line("web-12", ""), "web-12 | \n");
        let coloured = LogFormat::for_containers(&names, true).line("db-1", "x");
        let Paint::Indexed(n) = prefix_colour("db-1") else {
            panic!("indexed colour expected")
        };
        assert_eq!(coloured, format!("\x1b[38;5;{n}mdb-1   |\x1b[0m x\n"));
    }

    #[test]
    fn colours_are_stable_and_spread() {
        assert_eq!(prefix_colour("web-1"), prefix_colour("web-1"));
        let distinct: std::collections::BTreeSet<_> = (1..=10)
            .map(|i| format!("{:?}", prefix_colour(&format!("web-{i}"))))
            .collect();
        assert!(distinct.len() >= 4, "{distinct:?}");
    }
}
