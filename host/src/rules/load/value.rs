//! Typed values of item keys: strings, booleans, string sequences and list
//! items.

use super::{ItemError, ItemResult, validate};
use crate::rules::diag::Code;
use crate::yaml::{Node, NodeValue};

/// "Item has no mapping for key".
pub(super) fn missing_key(item: &Node, key: &str) -> ItemError {
    ItemError {
        code: Code::ErrYamlValidate,
        message: format!("Item has no mapping for key '{key}'"),
        pos: item.pos,
        key: None,
    }
}

/// A scalar's text (empty for null).
pub(super) fn scalar(n: &Node, key: &str) -> ItemResult<String> {
    match &n.value {
        NodeValue::Scalar { text, .. } => Ok(text.clone()),
        NodeValue::Null => Ok(String::new()),
        _ => Err(ItemError {
            code: Code::ErrYamlValidate,
            message: format!("Value of {key} must be a string, not {}", n.kind_name()),
            pos: n.pos,
            key: Some(key.into()),
        }),
    }
}

/// A required, non-empty string key.
pub(super) fn req_str(item: &Node, key: &str) -> ItemResult<String> {
    let n = item.get(key).ok_or_else(|| missing_key(item, key))?;
    let s = scalar(n, key)?;
    if s.is_empty() {
        return validate(n.pos, format!("Mapping for key '{key}' is empty"));
    }
    Ok(s)
}

/// An optional boolean key.
pub(super) fn opt_bool(item: &Node, key: &str) -> ItemResult<Option<bool>> {
    match item.get(key) {
        None => Ok(None),
        Some(n) => n.as_bool().map(Some).ok_or_else(|| ItemError {
            code: Code::ErrYamlValidate,
            message: format!("Value of {key} must be a boolean (true or false)"),
            pos: n.pos,
            key: Some(key.into()),
        }),
    }
}

/// A sequence of strings (empty for null).
pub(super) fn string_seq(n: &Node) -> ItemResult<Vec<String>> {
    match &n.value {
        NodeValue::Seq(items) => items
            .iter()
            .map(|i| match &i.value {
                NodeValue::Scalar { text, .. } => Ok(text.clone()),
                _ => validate(i.pos, format!("Expected a string, found {}", i.kind_name())),
            })
            .collect(),
        NodeValue::Null => Ok(Vec::new()),
        _ => validate(
            n.pos,
            format!("Expected a sequence of strings, found {}", n.kind_name()),
        ),
    }
}

/// List items; those with blanks get quoted for the textual expansion.
pub(super) fn list_items(n: &Node) -> ItemResult<Vec<String>> {
    match &n.value {
        NodeValue::Seq(items) => items
            .iter()
            .map(|i| match &i.value {
                NodeValue::Scalar { text, .. } => Ok(text.clone()),
                NodeValue::Null => Ok(String::new()),
                _ => validate(
                    i.pos,
                    format!("List items must be scalars, found {}", i.kind_name()),
                ),
            })
            .collect(),
        NodeValue::Null => Ok(Vec::new()),
        _ => validate(
            n.pos,
            format!("Value of items must be a sequence, not {}", n.kind_name()),
        ),
    }
}
