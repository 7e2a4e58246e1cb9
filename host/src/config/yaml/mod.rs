//! YAML → a node tree with positions, read as PyYAML 6 (YAML 1.1, safe
//! loader) reads it.
//!
//! The events come from `saphyr-parser`, which reports every scalar's style
//! (so `yes` and `"yes"` stay different) and its position. Resolving plain
//! scalars to booleans, integers, floats, nulls and dates is done here with
//! PyYAML's YAML 1.1 rules, because the values containers observe must be
//! the ones MaestroNG computes. Merge keys (`<<`), which MaestroNG rejects,
//! are implemented here too.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

pub mod pyvalue;

pub use self::pyvalue::PyScalar;

/// A position in the rendered YAML text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

/// A YAML node with its position and, for scalars, how it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub mark: Mark,
    /// Its value.
    pub value: Value,
}

/// A node's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar, resolved as PyYAML would.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order, merge keys applied.
    Map(Vec<(Node, Node)>),
}

/// A resolved scalar and its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The Python value PyYAML constructs.
    pub value: PyScalar,
    /// The text as written (after quote/escape processing).
    pub raw: String,
    /// Whether it was a plain (unquoted, untagged) scalar, the only kind
    /// whose type YAML 1.1 guesses from its text.
    pub plain: bool,
}

impl Node {
    /// The scalar, if this node is one.
    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a null scalar (`~`, `null`, empty).
    pub fn is_null(&self) -> bool {
        matches!(
            &self.value,
            Value::Scalar(Scalar {
                value: PyScalar::None,
                ..
            })
        )
    }

    /// Python's type name of the value, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => s.value.type_name(),
            Value::Seq(_) => "list",
            Value::Map(_) => "dict",
        }
    }
}

/// A YAML syntax or construction error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where it happened.
    pub mark: Mark,
    /// What happened.
    pub message: String,
}

fn mark_of(span: &Span) -> Mark {
    Mark {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

enum Frame {
    Seq {
        mark: Mark,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        mark: Mark,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

/// Deepest nesting accepted: deeper documents would only exhaust the stack
/// of every recursive walk over the tree.
const MAX_DEPTH: usize = 256;

/// Most nodes aliases may copy in (against "billion laughs" documents).
const MAX_ALIAS_NODES: usize = 1_000_000;

fn size(node: &Node) -> usize {
    match &node.value {
        Value::Scalar(_) => 1,
        Value::Seq(items) => 1 + items.iter().map(size).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| size(k) + size(v))
                .sum::<usize>()
        }
    }
}

/// Parses one YAML document. An empty stream yields `None`.
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    let mut tree = Tree {
        anchors: HashMap::new(),
        alias_budget: MAX_ALIAS_NODES,
        stack: Vec::new(),
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            mark: Mark {
                line: e.marker().line(),
                col: e.marker().col() + 1,
            },
            message: e.info().to_owned(),
        })?;
        if let Some(node) = tree.event(event, mark_of(&span))? {
            tree.attach(node);
        }
    }
    Ok(tree.root)
}

/// The state of one parse: the open collections, the anchors seen, what
/// aliases may still copy in.
struct Tree {
    anchors: HashMap<usize, Node>,
    alias_budget: usize,
    stack: Vec<Frame>,
    root: Option<Node>,
    documents: usize,
}

impl Tree {
    /// Takes one event; returns the node it completes, if any.
    fn event(&mut self, event: Event<'_>, mark: Mark) -> Result<Option<Node>, YamlError> {
        Ok(match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        mark,
                        message:
                            "expected a single document in the stream, but found another document"
                                .into(),
                    });
                }
                None
            }
            Event::Alias(id) => Some(self.alias(id, mark)?),
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    mark,
                    value: Value::Scalar(scalar(&text, style, tag.as_deref(), mark)?),
                };
                Some(self.anchored(anchor, node))
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", mark)?;
                check_depth(self.stack.len(), mark)?;
                self.stack.push(Frame::Seq {
                    mark,
                    anchor,
                    items: Vec::new(),
                });
                None
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", mark)?;
                check_depth(self.stack.len(), mark)?;
                self.stack.push(Frame::Map {
                    mark,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
                None
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    mark,
                    anchor,
                    items,
                }) => {
                    let node = Node {
                        mark,
                        value: Value::Seq(items),
                    };
                    Some(self.anchored(anchor, node))
                }
                _ => return Err(internal(mark)),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    mark,
                    anchor,
                    entries,
                    ..
                }) => {
                    let node = Node {
                        mark,
                        value: Value::Map(merge_and_check(entries)?),
                    };
                    Some(self.anchored(anchor, node))
                }
                _ => return Err(internal(mark)),
            },
        })
    }

    /// A copy of the anchored node, within the alias budget.
    fn alias(&mut self, id: usize, mark: Mark) -> Result<Node, YamlError> {
        match self.anchors.get(&id) {
            Some(node) => {
                self.alias_budget =
                    self.alias_budget
                        .checked_sub(size(node))
                        .ok_or_else(|| YamlError {
                            mark,
                            message: "aliases expand to too many nodes".into(),
                        })?;
                Ok(node.clone())
            }
            None => Err(YamlError {
                mark,
                message: "found undefined alias".into(),
            }),
        }
    }

    /// Records `node` under its anchor (0: none).
    fn anchored(&mut self, anchor: usize, node: Node) -> Node {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        node
    }

    /// Puts a completed node into its parent (or makes it the root).
    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                Some(key) => entries.push((key, node)),
                None => *pending_key = Some(node),
            },
            None => self.root = Some(node),
        }
    }
}

fn check_depth(depth: usize, mark: Mark) -> Result<(), YamlError> {
    if depth >= MAX_DEPTH {
        return Err(YamlError {
            mark,
            message: format!("nesting deeper than {MAX_DEPTH} levels"),
        });
    }
    Ok(())
}

fn internal(mark: Mark) -> YamlError {
    YamlError {
        mark,
        message: "unbalanced YAML events".into(),
    }
}

/// The core-schema suffix of a tag (`!!str` → `str`), or `None` for other tags.
fn core_suffix(tag: &Tag) -> Option<&str> {
    if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        Some(&tag.suffix)
    } else if tag.handle.is_empty() {
        tag.suffix.strip_prefix("tag:yaml.org,2002:")
    } else {
        None
    }
}

fn tag_text(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str, mark: Mark) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(t) if t.handle == "!" && t.suffix.is_empty() => Ok(()),
        Some(t) if core_suffix(t) == Some(expected) => Ok(()),
        Some(t) => Err(YamlError {
            mark,
            message: format!("unsupported tag {} on a {expected}", tag_text(t)),
        }),
    }
}

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    mark: Mark,
) -> Result<Scalar, YamlError> {
    let err = |message: String| YamlError { mark, message };
    let value = match tag {
        None if style == ScalarStyle::Plain => {
            pyvalue::resolve_plain(text).map_err(|e| err(e.0))?
        }
        None => PyScalar::Str(text.to_owned()),
        Some(t) if t.handle == "!" && t.suffix.is_empty() => PyScalar::Str(text.to_owned()),
        Some(t) => match core_suffix(t) {
            Some(kind) => pyvalue::construct_tagged(kind, text).map_err(|e| err(e.0))?,
            None => {
                return Err(err(format!(
                    "could not determine a constructor for the tag '{}'",
                    tag_text(t)
                )));
            }
        },
    };
    Ok(Scalar {
        value,
        raw: text.to_owned(),
        plain: style == ScalarStyle::Plain && tag.is_none(),
    })
}

/// Python dict-key identity of a scalar (`1`, `1.0` and `true` are one key).
fn key_identity(node: &Node) -> Result<String, YamlError> {
    match &node.value {
        Value::Scalar(s) => Ok(s.value.key_identity()),
        _ => Err(YamlError {
            mark: node.mark,
            message: format!("found unhashable key ({})", node.type_name()),
        }),
    }
}

fn is_merge_key(node: &Node) -> bool {
    matches!(
        &node.value,
        Value::Scalar(Scalar {
            value: PyScalar::Merge,
            ..
        })
    )
}

/// Applies merge keys and rejects duplicate keys, as MaestroNG's loader
/// rejects them. Explicit keys win over merged ones; among merged mappings
/// the first listed wins (PyYAML's rule).
fn merge_and_check(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut explicit: Vec<(Node, Node)> = Vec::new();
    let mut merged: Vec<(Node, Node)> = Vec::new();
    let mut seen: HashMap<String, Mark> = HashMap::new();
    for (key, value) in entries {
        if is_merge_key(&key) {
            let sources: Vec<&Node> = match &value.value {
                Value::Map(_) => vec![&value],
                Value::Seq(items) => items.iter().collect(),
                _ => {
                    return Err(YamlError {
                        mark: value.mark,
                        message: format!(
                            "expected a mapping or list of mappings for merging, but found {}",
                            value.type_name()
                        ),
                    });
                }
            };
            for source in sources {
                match &source.value {
                    Value::Map(pairs) => merged.extend(pairs.iter().cloned()),
                    _ => {
                        return Err(YamlError {
                            mark: source.mark,
                            message: format!(
                                "expected a mapping for merging, but found {}",
                                source.type_name()
                            ),
                        });
                    }
                }
            }
            continue;
        }
        let id = key_identity(&key)?;
        if seen.insert(id, key.mark).is_some() {
            return Err(YamlError {
                mark: key.mark,
                message: format!("found duplicate key ({})", key_display(&key)),
            });
        }
        explicit.push((key, value));
    }
    // Merged entries the explicit ones do not override, first source first.
    let mut result: Vec<(Node, Node)> = Vec::new();
    for (key, value) in merged {
        let id = key_identity(&key)?;
        if seen.contains_key(&id) {
            continue;
        }
        seen.insert(id, key.mark);
        result.push((key, value));
    }
    // Explicit keys keep document order; merged keys come first, as in PyYAML.
    result.extend(explicit);
    Ok(result)
}

fn key_display(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => s.value.py_str(),
        _ => node.type_name().to_owned(),
    }
}

/// Python's `str()` of a whole node: scalars as above, lists and dicts as
/// Python prints containers (elements in `repr()`).
pub fn node_str(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => s.value.py_str(),
        _ => node_repr(node),
    }
}

/// Python's `repr()` of a node.
pub fn node_repr(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => s.value.py_repr(),
        Value::Seq(items) => {
            let inner: Vec<String> = items.iter().map(node_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", node_repr(k), node_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).unwrap().unwrap()
    }

    fn map_keys(node: &Node) -> Vec<String> {
        match &node.value {
            Value::Map(entries) => entries.iter().map(|(k, _)| key_display(k)).collect(),
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn plain_and_quoted_scalars_differ() {
        let node = root("a: yes\nb: 'yes'\nc: 0755\nd: \"0755\"\n");
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        assert_eq!(entries[0].1.scalar().unwrap().value, PyScalar::Bool(true));
        assert_eq!(
            entries[1].1.scalar().unwrap().value,
            PyScalar::Str("yes".into())
        );
        assert_eq!(entries[2].1.scalar().unwrap().value.py_str(), "493");
        assert_eq!(entries[3].1.scalar().unwrap().value.py_str(), "0755");
    }

    #[test]
    fn merge_keys_explicit_wins_first_source_wins() {
        let node = root("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n");
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        let c = &entries[2].1;
        assert_eq!(map_keys(c), ["y", "z", "x"]);
        let Value::Map(pairs) = &c.value else {
            panic!()
        };
        assert_eq!(pairs[0].1.scalar().unwrap().raw, "1");
        assert_eq!(pairs[2].1.scalar().unwrap().raw, "3");
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.mark, Mark { line: 3, col: 1 });
        assert_eq!(err.message, "found duplicate key (a)");
        // 1 and true are the same Python key.
        assert!(parse("1: a\ntrue: b\n").is_err());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.mark.line >= 1, "{err:?}");
    }

    #[test]
    fn hostile_documents_are_refused() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            laughs.push_str(&format!(
                "b{i}: &b{i} [{}]\n",
                vec![
                    if i == 0 {
                        "*a".to_owned()
                    } else {
                        format!("*b{}", i - 1)
                    };
                    10
                ]
                .join(", ")
            ));
        }
        let err = parse(&laughs).unwrap_err();
        assert_eq!(err.message, "aliases expand to too many nodes");
    }

    #[test]
    fn empty_stream_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn tags_construct_values() {
        let node = root("a: !!str 0755\nb: !!int '10'\nc: !!float 1\n");
        let Value::Map(e) = &node.value else { panic!() };
        assert_eq!(e[0].1.scalar().unwrap().value.py_str(), "0755");
        assert_eq!(e[1].1.scalar().unwrap().value.py_str(), "10");
        assert_eq!(e[2].1.scalar().unwrap().value.py_str(), "1.0");
        assert!(parse("a: !custom x\n").is_err());
    }
}
