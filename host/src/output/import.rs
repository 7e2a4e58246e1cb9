//! What `import-compose` reports: one line, or JSON for scripts. The notes
//! themselves are warnings on standard error (`report`), printed by the runner.

use serde_json::{Value, json};

use crate::compose::Imported;

/// One line: where the description went and what it holds.
pub fn import_text(imported: &Imported, dest: &str) -> String {
    let notes = match imported.notes.len() {
        0 => "everything imported".to_owned(),
        1 => "1 thing not imported as it was (the warning above, and a comment in the file)"
            .to_owned(),
        n => format!(
            "{n} things not imported as they were (the warnings above, and comments in the file)"
        ),
    };
    format!(
        "wrote {dest}: project {}, {} service(s), {} instance(s); {notes}\n",
        imported.project, imported.services, imported.instances
    )
}

/// The report as a JSON object; with `yaml` when the description itself
/// went to standard output.
pub fn import_json(imported: &Imported, dest: Option<&str>) -> String {
    let notes: Vec<Value> = imported
        .notes
        .iter()
        .map(|n| {
            json!({
                "file": n.file,
                "line": n.mark.map(|m| m.line),
                "column": n.mark.map(|m| m.col),
                "path": n.path,
                "message": n.message,
            })
        })
        .collect();
    let mut out = json!({
        "project": imported.project,
        "services": imported.services,
        "instances": imported.instances,
        "not_imported": notes,
    });
    match dest {
        Some(d) => out["output"] = json!(d),
        None => out["yaml"] = json!(imported.yaml),
    }
    format!("{out:#}\n")
}
