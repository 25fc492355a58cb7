//! A YAML document tree that remembers where every node came from.
//!
//! Falco reports rule-loading problems with `file:line:col` for the item and
//! for the key inside it; serde-based YAML crates drop positions, so the rules
//! loader builds this small tree from `yaml-rust2`'s marked event stream.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A position in a source text: 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl Pos {
    fn from_marker(m: &Marker) -> Pos {
        Pos {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

/// A YAML node with its position.
#[derive(Clone, Debug)]
pub struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// What it holds.
    pub value: NodeValue,
}

/// The content of a [`Node`].
#[derive(Clone, Debug)]
pub enum NodeValue {
    /// A scalar: its text and whether it was quoted (a quoted `true` is a string).
    Scalar { text: String, quoted: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order. Keys are scalars' text.
    Map(Vec<(Node, Node)>),
    /// An explicit null (`~`, `null` or an empty value).
    Null,
}

/// A YAML syntax error with its position.
#[derive(Clone, Debug)]
pub struct YamlError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// The parser's message.
    pub message: String,
}

impl Node {
    /// The scalar text, if this is a non-null scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A boolean scalar (`true`/`false`, YAML 1.2 core schema, plus the
    /// capitalised forms YAML 1.1 users write).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            NodeValue::Scalar {
                text,
                quoted: false,
            } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The sequence's items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The mapping's entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Looks a key up in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Whether this node is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, NodeValue::Null)
    }

    /// A short name for the node's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            NodeValue::Scalar { .. } => "a scalar",
            NodeValue::Seq(_) => "a sequence",
            NodeValue::Map(_) => "a mapping",
            NodeValue::Null => "null",
        }
    }

    /// Converts the node to JSON (scalars typed as the YAML core schema
    /// would: integers, floats, booleans, null; quoted scalars stay strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Scalar { text, quoted } => {
                if !quoted {
                    if let Some(b) = self.as_bool() {
                        return Value::Bool(b);
                    }
                    if let Ok(i) = text.parse::<i64>() {
                        return Value::from(i);
                    }
                    if let Ok(f) = text.parse::<f64>()
                        && f.is_finite()
                        && text.chars().any(|c| c.is_ascii_digit())
                    {
                        return Value::from(f);
                    }
                }
                Value::String(text.clone())
            }
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses a multi-document YAML stream into one [`Node`] per document.
///
/// yaml-rust2 rejects a flow collection whose closing `]`/`}` sits at the
/// enclosing key's indentation after a quoted last item; yaml-cpp (Falco's
/// parser) accepts it and Falco's own rules files rely on it. Such a line is
/// re-indented and the text parsed again (line numbers are unchanged).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    // YAML forbids C0 control characters other than tab and line breaks;
    // the parser would silently stop at a NUL.
    if let Some((i, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (*c as u32) < 0x20)
    {
        let before = &text[..i];
        return Err(YamlError {
            pos: Pos {
                line: before.matches('\n').count() + 1,
                col: before
                    .rfind('\n')
                    .map_or(before.chars().count(), |n| before[n + 1..].chars().count())
                    + 1,
            },
            message: format!("invalid control character U+{:04X}", c as u32),
        });
    }
    let mut owned: Option<String> = None;
    for _ in 0..10_000 {
        let current = owned.as_deref().unwrap_or(text);
        match parse_once(current) {
            Err(e) if e.message == "invalid indentation" => {
                let lines: Vec<&str> = current.split('\n').collect();
                let Some(line) = lines.get(e.pos.line.wrapping_sub(1)) else {
                    return Err(e);
                };
                let trimmed = line.trim_start();
                if !(trimmed.starts_with(']') || trimmed.starts_with('}')) {
                    return Err(e);
                }
                let prev_indent = lines[..e.pos.line - 1]
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map_or(0, |l| l.len() - l.trim_start().len());
                let current_indent = line.len() - trimmed.len();
                if prev_indent <= current_indent {
                    return Err(e);
                }
                let mut fixed = lines.clone();
                let replacement = format!("{}{}", " ".repeat(prev_indent), trimmed);
                fixed[e.pos.line - 1] = &replacement;
                owned = Some(fixed.join("\n"));
            }
            other => return other,
        }
    }
    parse_once(owned.as_deref().unwrap_or(text))
}

fn parse_once(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // Drive the parser's state machine directly: its `load` recurses once
    // per nesting level, which a hostile document turns into a stack overflow.
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| YamlError {
            pos: Pos::from_marker(e.marker()),
            message: e.info().to_string(),
        })?;
        if ev == Event::StreamEnd {
            break;
        }
        builder.on_event(ev, mark);
        if builder.error.is_some() && builder.skipping == 0 {
            break;
        }
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.docs)
}

/// Maximum number of nodes in a stream, aliases counted expanded (a
/// "billion laughs" document must not exhaust memory).
const MAX_NODES: usize = 4_000_000;

fn node_size(n: &Node) -> usize {
    1 + match &n.value {
        NodeValue::Seq(items) => items.iter().map(node_size).sum(),
        NodeValue::Map(entries) => entries
            .iter()
            .map(|(k, v)| node_size(k) + node_size(v))
            .sum(),
        _ => 0,
    }
}

/// Maximum nesting depth accepted (a hostile file must not overflow the stack
/// of later recursive passes).
const MAX_DEPTH: usize = 256;

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<(Node, Option<Node>)>,
    anchors: HashMap<usize, Node>,
    anchor_of: Vec<usize>,
    error: Option<YamlError>,
    nodes: usize,
    /// Nesting depth inside an ignored too-deep container.
    skipping: usize,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some((parent, pending_key)) => match &mut parent.value {
                NodeValue::Seq(items) => items.push(node),
                NodeValue::Map(entries) => match pending_key.take() {
                    None => {
                        // A block mapping's start mark is at its first ':';
                        // its first key's position is what users expect.
                        if entries.is_empty() {
                            parent.pos = node.pos;
                        }
                        *pending_key = Some(node)
                    }
                    Some(key) => entries.push((key, node)),
                },
                _ => unreachable!("only containers are pushed on the stack"),
            },
        }
    }

    fn open(&mut self, value: NodeValue, anchor: usize, mark: Marker) {
        if self.stack.len() >= MAX_DEPTH {
            // Too deep: remember the error and ignore everything inside, so
            // no deep tree is ever built (or recursively dropped).
            if self.error.is_none() {
                self.error = Some(YamlError {
                    pos: Pos::from_marker(&mark),
                    message: format!("document nested deeper than {MAX_DEPTH} levels"),
                });
            }
            self.skipping = 1;
            return;
        }
        self.stack.push((
            Node {
                pos: Pos::from_marker(&mark),
                value,
            },
            None,
        ));
        self.anchor_of.push(anchor);
    }

    fn close(&mut self) {
        if let (Some((mut node, _)), Some(anchor)) = (self.stack.pop(), self.anchor_of.pop()) {
            merge_keys(&mut node);
            if anchor > 0 {
                self.anchors.insert(anchor, node.clone());
            }
            self.push_value(node);
        }
    }
}

/// YAML 1.1 merge keys: `<<: *anchor` (or a list of them) adds the merged
/// mappings' entries that the mapping does not set itself.
fn merge_keys(node: &mut Node) {
    let NodeValue::Map(entries) = &mut node.value else {
        return;
    };
    let is_merge =
        |k: &Node| matches!(&k.value, NodeValue::Scalar { text, quoted: false } if text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return;
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = std::mem::take(entries)
        .into_iter()
        .partition(|(k, _)| is_merge(k));
    for (_, v) in merges {
        let sources = match v.value {
            NodeValue::Seq(items) => items,
            other => vec![Node {
                pos: v.pos,
                value: other,
            }],
        };
        for src in sources {
            if let NodeValue::Map(src_entries) = src.value {
                for (k, v) in src_entries {
                    if !own.iter().any(|(o, _)| o.as_str() == k.as_str()) {
                        own.push((k, v));
                    }
                }
            }
        }
    }
    *entries = own;
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.nodes += 1;
        if self.skipping > 0 {
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skipping += 1,
                Event::SequenceEnd | Event::MappingEnd => self.skipping -= 1,
                _ => {}
            }
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                let value =
                    if !quoted && matches!(text.as_str(), "~" | "null" | "Null" | "NULL" | "") {
                        NodeValue::Null
                    } else {
                        NodeValue::Scalar { text, quoted }
                    };
                let node = Node {
                    pos: Pos::from_marker(&mark),
                    value,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_value(node);
            }
            Event::SequenceStart(anchor, _) => self.open(NodeValue::Seq(Vec::new()), anchor, mark),
            Event::MappingStart(anchor, _) => self.open(NodeValue::Map(Vec::new()), anchor, mark),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => {
                let size = self.anchors.get(&id).map_or(1, node_size);
                self.nodes += size;
                if self.nodes > MAX_NODES {
                    if self.error.is_none() {
                        self.error = Some(YamlError {
                            pos: Pos::from_marker(&mark),
                            message: format!(
                                "document too large: more than {MAX_NODES} nodes once aliases are expanded"
                            ),
                        });
                    }
                    return;
                }
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    pos: Pos::from_marker(&mark),
                    value: NodeValue::Null,
                });
                self.push_value(node);
            }
            Event::DocumentEnd => {
                // An empty document yields nothing; keep the count of real ones.
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let docs = parse_documents("- rule: a\n  condition: x\n").unwrap();
        let item = &docs[0].as_seq().unwrap()[0];
        assert_eq!(item.pos, Pos { line: 1, col: 3 });
        let cond = item.get("condition").unwrap();
        assert_eq!(cond.pos, Pos { line: 2, col: 14 });
        assert_eq!(cond.as_str(), Some("x"));
    }

    #[test]
    fn flow_sequence_closed_at_key_indentation() {
        // Falco's sandbox rules close `items: [` with a `]` at the key's
        // indentation, which yaml-cpp accepts.
        let docs = parse_documents(
            "- list: l\n  items: [\n    \"a\",\n    \"b\"\n  ]\n\n- list: m\n  items: []\n",
        )
        .unwrap();
        assert_eq!(docs[0].as_seq().unwrap().len(), 2);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = parse_documents("- rule: a\n  condition: [x\n").unwrap_err();
        assert!(err.pos.line >= 2, "{err:?}");
    }

    #[test]
    fn multi_document_and_aliases() {
        let docs = parse_documents(
            "- list: a\n  items: &x [1, 2]\n- list: b\n  items: *x\n---\n- list: c\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        let items = docs[0].as_seq().unwrap()[1].get("items").unwrap();
        assert_eq!(items.as_seq().unwrap().len(), 2);
    }

    #[test]
    fn merge_keys() {
        let docs = parse_documents("- a: &x {k: 1, j: 2}\n  b:\n    <<: *x\n    j: 3\n").unwrap();
        let b = docs[0].as_seq().unwrap()[0].get("b").unwrap();
        assert_eq!(b.get("k").and_then(Node::as_str), Some("1"));
        assert_eq!(b.get("j").and_then(Node::as_str), Some("3"));
        assert!(b.get("<<").is_none());
    }

    #[test]
    fn alias_bombs_are_rejected() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let err = parse_documents(&doc).unwrap_err();
        assert!(err.message.contains("too large"), "{err:?}");
    }
}
