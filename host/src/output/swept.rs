//! What `clean --networks` / `--volumes` did: one line per network or volume.

use crate::execute::resources::{Swept, SweptOutcome};

/// `network app-net on ship1: removed`, one line each.
pub fn swept_text(swept: &[Swept]) -> String {
    swept
        .iter()
        .map(|s| {
            let what = if s.name.is_empty() {
                format!("{}s on {}", s.kind, s.ship)
            } else {
                format!("{} {} on {}", s.kind, s.name, s.ship)
            };
            match &s.outcome {
                SweptOutcome::Removed => format!("{what}: removed\n"),
                SweptOutcome::InUse { users } => {
                    format!("{what}: in use by {}, left\n", users.join(", "))
                }
                SweptOutcome::Failed { reason } => format!("{what}: failed: {reason}\n"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_outcome() {
        let s = |name: &str, outcome| Swept {
            ship: "s1".into(),
            kind: "network",
            name: name.into(),
            outcome,
        };
        let text = swept_text(&[
            s("a", SweptOutcome::Removed),
            s(
                "b",
                SweptOutcome::InUse {
                    users: vec!["web-1".into(), "web-2".into()],
                },
            ),
            s(
                "",
                SweptOutcome::Failed {
                    reason: "down".into(),
                },
            ),
        ]);
        assert_eq!(
            text,
            "network a on s1: removed\nnetwork b on s1: in use by web-1, web-2, left\n\
             networks on s1: failed: down\n"
        );
    }
}
