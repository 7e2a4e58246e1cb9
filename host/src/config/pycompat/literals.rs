//! The template's list and dict literals, rewritten into calls of the
//! builders of [`PyList`](super::PyList) and [`PyDict`](super::PyDict).

use minijinja::machinery::{Token, tokenize};
use minijinja::syntax::SyntaxConfig;

/// Rewrites the list and dict literals of a template into calls of the
/// builders [`install`](super::install) registers: `[a, b]` → `__maestro_list(a, b)`,
/// `{k: v}` → `__maestro_dict(k, v)`.
///
/// Why: minijinja builds literals as immutable values, and offers no hook to
/// build them otherwise; Jinja2's are Python lists and dicts that
/// `append`/`update` change in place. Only text on the literal's own lines
/// changes, so error line numbers stay right. Returns `None` when the
/// template does not tokenize (minijinja then reports the error on the
/// original text) or has no literal.
pub fn rewrite_literals(source: &str) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        /// `(`, a subscript `[`, or a literal left alone.
        Other,
        List,
        Dict,
    }
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    // The previous token inside the current `{{ }}` / `{% %}`, if any;
    // `Some(None)` right after the opening delimiter.
    let mut prev: Option<Option<Token<'_>>> = None;
    for item in tokenize(source, false, SyntaxConfig::default()) {
        let (token, span) = item.ok()?;
        let start = span.start_offset as usize;
        let end = span.end_offset as usize;
        match token {
            Token::VariableStart | Token::BlockStart => {
                prev = Some(None);
                stack.clear();
                continue;
            }
            Token::VariableEnd | Token::BlockEnd | Token::TemplateData(_) => {
                prev = None;
                stack.clear();
                continue;
            }
            _ => {}
        }
        let Some(before) = prev.take() else {
            continue;
        };
        match token {
            Token::BracketOpen => {
                if starts_literal(before.as_ref()) {
                    edits.push((start, end, "__maestro_list("));
                    stack.push(Open::List);
                } else {
                    stack.push(Open::Other);
                }
            }
            Token::BraceOpen => {
                edits.push((start, end, "__maestro_dict("));
                stack.push(Open::Dict);
            }
            Token::ParenOpen => stack.push(Open::Other),
            Token::BracketClose | Token::BraceClose | Token::ParenClose => {
                match (stack.pop()?, &token) {
                    (Open::List, Token::BracketClose) | (Open::Dict, Token::BraceClose) => {
                        edits.push((start, end, ")"));
                    }
                    (Open::Other, _) => {}
                    // `[1}`: not a template; minijinja says why.
                    _ => return None,
                }
            }
            Token::Colon if stack.last() == Some(&Open::Dict) => {
                edits.push((start, end, ","));
            }
            _ => {}
        }
        prev = Some(Some(token));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len() + edits.len() * 16);
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(source.get(at..start)?);
        out.push_str(text);
        at = end;
    }
    out.push_str(source.get(at..)?);
    // Belt and braces: a rewrite minijinja cannot parse is dropped, so that
    // its error message is about the text the user wrote.
    minijinja::machinery::parse(&out, "<rewrite>", SyntaxConfig::default()).ok()?;
    Some(out)
}

/// Whether a `[` after `prev` opens a list literal (rather than a
/// subscript such as `x[0]`, `f()[0]`, `'ab'[0]`).
pub(super) fn starts_literal(prev: Option<&Token<'_>>) -> bool {
    match prev {
        None => true,
        Some(Token::Ident(word)) => matches!(
            *word,
            "in" | "and" | "or" | "not" | "if" | "else" | "elif" | "is"
        ),
        Some(
            Token::Str(_)
            | Token::String(_)
            | Token::Int(_)
            | Token::Int128(_)
            | Token::Float(_)
            | Token::BracketClose
            | Token::ParenClose
            | Token::BraceClose,
        ) => false,
        Some(_) => true,
    }
}
