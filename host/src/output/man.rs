//! Man pages (roff) from a clap command tree: one page for the program and
//! one per subcommand, as `git` has them (`maestro-start(1)`). The sections
//! clap_mangen renders (name, synopsis, description, options, commands,
//! version), then the `--help` epilogue (examples, exit status) kept as laid
//! out, then SEE ALSO. Pure: the pages are returned, `run` writes them.

use clap::Command;

/// One man page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Its file name: `maestro.1`, `maestro-start.1`.
    pub file: String,
    /// Its roff source.
    pub roff: String,
}

/// The pages of `cmd` and of every visible subcommand, the program's first;
/// `see_also` names other programs' main pages (`maestro-guest`).
pub fn pages(cmd: Command, see_also: &[&str]) -> Vec<Page> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let program = cmd.get_name().to_owned();
    // Every page's footer names the program and its version (`maestro 0.1.0`).
    let source = format!("{program} {}", cmd.get_version().unwrap_or_default());
    let subs: Vec<Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let names: Vec<String> = subs.iter().map(display_name).collect();
    let mut related: Vec<String> = names.clone();
    related.extend(see_also.iter().map(|s| s.to_string()));
    let mut out = vec![page(cmd, &source, &related)];
    for sub in subs {
        // A subcommand's page points back at the program's.
        let mut back = vec![program.clone()];
        back.extend(see_also.iter().map(|s| s.to_string()));
        out.push(page(sub, &source, &back));
    }
    out
}

fn display_name(cmd: &Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned()
}

fn page(cmd: Command, source: &str, see_also: &[String]) -> Page {
    let after = cmd
        .get_after_long_help()
        .or_else(|| cmd.get_after_help())
        .map(|s| s.to_string());
    let has_args = cmd.get_arguments().any(|a| !a.is_hide_set());
    let has_subs = cmd.has_subcommands();
    let has_version = cmd.get_version().is_some() || cmd.get_long_version().is_some();
    let man = clap_mangen::Man::new(cmd).source(source);
    let file = man.get_filename();
    let mut buf: Vec<u8> = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut buf);
    let _ = man.render_name_section(&mut buf);
    let _ = man.render_synopsis_section(&mut buf);
    let _ = man.render_description_section(&mut buf);
    if has_args {
        let _ = man.render_options_section(&mut buf);
    }
    if has_subs {
        let _ = man.render_subcommands_section(&mut buf);
    }
    let mut roff = String::from_utf8_lossy(&buf).into_owned();
    if let Some(after) = after {
        roff.push_str(&epilogue(&after));
    }
    if !see_also.is_empty() {
        // Names are not hyphenated across lines, and the list is not justified.
        roff.push_str(".SH \"SEE ALSO\"\n.nh\n.ad l\n");
        let refs: Vec<String> = see_also
            .iter()
            .map(|name| format!("\\fB{}\\fR(1)", escape(name)))
            .collect();
        roff.push_str(&refs.join(", "));
        roff.push('\n');
    }
    if has_version {
        let mut version = Vec::new();
        let _ = man.render_version_section(&mut version);
        roff.push_str(&String::from_utf8_lossy(&version));
    }
    // Each render_* call repeats the same two-line preamble: keep the first.
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    if let Some((head, rest)) = roff.split_once(preamble) {
        roff = format!("{head}{preamble}{}", rest.replace(preamble, ""));
    }
    Page { file, roff }
}

/// The `--help` epilogue: a line `Heading:` starts a section (`EXIT STATUS`),
/// shown as laid out (no filling: the columns stay); text before any heading
/// is a NOTES paragraph.
fn epilogue(text: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    let mut notes = false;
    for line in text.lines() {
        let heading = !line.starts_with(' ') && line.ends_with(':') && !line.contains(". ");
        if heading {
            if open {
                out.push_str(".fi\n");
            }
            let title = line.trim_end_matches(':').to_uppercase();
            out.push_str(&format!(".SH \"{}\"\n.nf\n", escape(&title)));
            open = true;
        } else if open {
            out.push_str(&escape_line(line));
            out.push('\n');
        } else if line.trim().is_empty() {
            if notes {
                out.push_str(".PP\n");
            }
        } else {
            if !notes {
                out.push_str(".SH NOTES\n");
                notes = true;
            }
            out.push_str(&escape_line(line));
            out.push('\n');
        }
    }
    if open {
        out.push_str(".fi\n");
    }
    // The blank line that separated two sections in `--help` is not kept.
    out.replace("\n\n.fi\n", "\n.fi\n")
}

/// Text for roff: backslashes and hyphens as roff wants them.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// A text line: also a leading `.` or `'` (a request otherwise) neutralised,
/// and an empty line kept as one (a blank line in no-fill mode).
fn escape_line(line: &str) -> String {
    let text = escape(line);
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Command {
        Command::new("tool")
            .version("1.2.3")
            .about("Does things")
            .after_help("Examples:\n  tool go --fast   # quickly\n\nExit status:\n  0  ok\n  2  usage error")
            .arg(clap::Arg::new("quiet").long("quiet").action(clap::ArgAction::SetTrue).help("Say less"))
            .subcommand(
                Command::new("go")
                    .about("Go somewhere")
                    .after_help("A note that\nwraps.\n\nExit status:\n  1  failed"),
            )
            .subcommand(Command::new("secret").hide(true))
    }

    #[test]
    fn one_page_per_visible_command_with_the_epilogue_as_sections() {
        let pages = pages(demo(), &["other"]);
        let files: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, ["tool.1", "tool-go.1"]);
        let main = &pages[0].roff;
        assert_eq!(main.matches(".ds Aq").count(), 2, "{main}");
        assert!(main.contains("\n.TH tool 1"), "{main}");
        assert!(main.contains("\\-\\-quiet"), "{main}");
        assert!(main.contains("Say less"), "{main}");
        assert!(
            main.contains(".SH \"EXAMPLES\"\n.nf\n  tool go \\-\\-fast   # quickly\n.fi\n"),
            "{main}"
        );
        assert!(
            main.contains(".SH \"EXIT STATUS\"\n.nf\n  0  ok\n  2  usage error\n.fi\n"),
            "{main}"
        );
        assert!(
            main.contains(".SH \"SEE ALSO\"\n.nh\n.ad l\n\\fBtool\\-go\\fR(1), \\fBother\\fR(1)\n"),
            "{main}"
        );
        assert!(main.contains("v1.2.3"), "{main}");
        let go = &pages[1].roff;
        assert!(go.contains(".TH tool-go 1  \"tool 1.2.3\""), "{go}");
        assert!(go.contains(".SH NOTES\nA note that\nwraps.\n"), "{go}");
        assert!(go.contains("\\fBtool\\fR(1), \\fBother\\fR(1)"), "{go}");
    }

    #[test]
    fn roff_requests_in_text_are_neutralised() {
        assert_eq!(escape_line(".rm x"), "\\&.rm x");
        assert_eq!(escape_line("'x"), "\\&'x");
        assert_eq!(escape_line("a\\b-c"), "a\\eb\\-c");
    }
}
