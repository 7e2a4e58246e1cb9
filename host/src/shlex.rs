//! Splitting a command line into words as Python's `shlex.split` (POSIX mode, no
//! comments) does: MaestroNG passes string commands and lifecycle `exec`/`rexec`
//! commands through it, so the same string must give the same argv here.

/// Why a command line cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A quote is opened and never closed.
    #[error("no closing quotation")]
    NoClosingQuotation,
    /// The line ends with a lone backslash.
    #[error("no escaped character")]
    NoEscapedCharacter,
}

/// Splits `line` into words: whitespace separates words; `'...'` is literal;
/// inside `"..."` a backslash escapes only `"` and `\`; elsewhere a backslash escapes
/// any character; quotes may be glued to other text (`a"b c"` is one word) and an
/// empty quoted word (`""`) is kept.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if is_space(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                let next = chars.next().ok_or(SplitError::NoEscapedCharacter)?;
                word.push(next);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err(SplitError::NoClosingQuotation),
                        Some('\'') => break,
                        Some(q) => word.push(q),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => return Err(SplitError::NoClosingQuotation),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            None => return Err(SplitError::NoClosingQuotation),
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                        },
                        Some(q) => word.push(q),
                    }
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Python shlex's whitespace: space, tab, CR, LF (no form feed or vertical tab).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn words_and_quotes_split_like_python_shlex() {
        assert_eq!(s("  a  b\tc\n"), ["a", "b", "c"]);
        assert_eq!(
            s(r#"sh -c "echo hi; exit 1""#),
            ["sh", "-c", "echo hi; exit 1"]
        );
        assert_eq!(s(r#"a"b c"d 'e f'"#), ["ab cd", "e f"]);
        assert_eq!(s(r#"x "" ''"#), ["x", "", ""]);
        assert_eq!(s(r#"a\ b \$x"#), ["a b", "$x"]);
        assert_eq!(s(r#""\$HOME \" \\""#), [r#"\$HOME " \"#]);
        assert_eq!(s(r"'it\'s"), [r"it\s"]);
        assert_eq!(s("# not a comment"), ["#", "not", "a", "comment"]);
        assert!(s("").is_empty());
    }

    #[test]
    fn unbalanced_input_is_an_error() {
        assert_eq!(split("a 'b"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("a \"b\\"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("a \\"), Err(SplitError::NoEscapedCharacter));
    }
}
