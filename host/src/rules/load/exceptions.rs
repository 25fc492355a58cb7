//! A rule's `exceptions`: read from YAML, and appended to by overrides.

use super::value::{req_str, string_seq};
use super::{
    Collection, ExceptionDef, ExceptionFields, ExceptionValue, ItemLoc, ItemResult, validate,
};
use crate::rules::diag::{Code, Severity};
use crate::yaml::{Node, NodeValue, Pos};
use std::collections::BTreeSet;

/// The keys an exception accepts.
const EXCEPTION_KEYS: &[&str] = &["name", "fields", "comps", "values"];

impl Collection {
    /// Reads a rule's `exceptions` sequence.
    pub(super) fn exceptions(&mut self, node: &Node, file: usize) -> ItemResult<Vec<ExceptionDef>> {
        let Some(items) = node.as_seq() else {
            return validate(node.pos, "Rule exceptions must be a sequence");
        };
        items.iter().map(|e| self.exception(e, file)).collect()
    }

    /// Reads one exception.
    fn exception(&mut self, e: &Node, file: usize) -> ItemResult<ExceptionDef> {
        if e.as_map().is_none() {
            return validate(e.pos, "Rule exception must be a map");
        }
        for (k, _) in e.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            if !EXCEPTION_KEYS.contains(&key) {
                self.push_diag(
                    Severity::Warning,
                    Code::UnknownKey,
                    format!("Unknown key '{key}'. The key will be ignored."),
                    file,
                    vec![("exception".into(), e.pos), (key.into(), k.pos)],
                );
            }
        }
        let name = req_str(e, "name")?;
        let loc = ItemLoc { file, pos: e.pos };
        let fields = match e.get("fields") {
            None => ExceptionFields::Tuple(Vec::new()),
            Some(f) => match &f.value {
                NodeValue::Seq(_) => ExceptionFields::Tuple(string_seq(f)?),
                NodeValue::Scalar { text, .. } => ExceptionFields::Single(text.clone()),
                _ => {
                    return validate(
                        f.pos,
                        format!(
                            "Rule exception item {name}: fields must be a sequence or a string"
                        ),
                    );
                }
            },
        };
        let comps = match e.get("comps") {
            None => Vec::new(),
            Some(c) => match &c.value {
                NodeValue::Seq(_) => string_seq(c)?,
                NodeValue::Scalar { text, .. } => vec![text.clone()],
                _ => {
                    return validate(
                        c.pos,
                        format!("Rule exception item {name}: comps must be a sequence or a string"),
                    );
                }
            },
        };
        let values = match e.get("values") {
            None
            | Some(Node {
                value: NodeValue::Null,
                ..
            }) => Vec::new(),
            Some(v) => {
                let Some(items) = v.as_seq() else {
                    return validate(
                        v.pos,
                        format!("Rule exception item {name}: values must be a sequence"),
                    );
                };
                items
                    .iter()
                    .map(exception_value)
                    .collect::<ItemResult<_>>()?
            }
        };
        Ok(ExceptionDef {
            name,
            fields,
            comps,
            values,
            loc,
        })
    }
}

/// Appends exceptions: values to an existing one of the same name, a new
/// one (with fields) after the others.
pub(super) fn append_exceptions(
    existing: &mut Vec<ExceptionDef>,
    new: Vec<ExceptionDef>,
) -> ItemResult<()> {
    for e in new {
        match existing.iter_mut().find(|x| x.name == e.name) {
            Some(x) => {
                let has_fields = !matches!(&e.fields, ExceptionFields::Tuple(f) if f.is_empty());
                if has_fields || !e.comps.is_empty() {
                    return validate(
                        e.loc.pos,
                        format!(
                            "Can not append exception fields or comps to existing exception '{}', only values",
                            e.name
                        ),
                    );
                }
                x.values.extend(e.values);
            }
            None => {
                if matches!(&e.fields, ExceptionFields::Tuple(f) if f.is_empty()) {
                    return validate(
                        e.loc.pos,
                        format!(
                            "Rule exception new item {}: must have fields property with a list of fields",
                            e.name
                        ),
                    );
                }
                existing.push(e);
            }
        }
    }
    Ok(())
}

/// Warns (through `warn`) about exception names used more than once.
pub(super) fn dedup_exception_names(excs: &mut [ExceptionDef], mut warn: impl FnMut(&str, Pos)) {
    let mut seen = BTreeSet::new();
    for e in excs.iter() {
        if !seen.insert(e.name.clone()) {
            warn(&e.name, e.loc.pos);
        }
    }
}

/// One entry of `values`: a scalar or a (nested) list.
fn exception_value(n: &Node) -> ItemResult<ExceptionValue> {
    match &n.value {
        NodeValue::Scalar { text, .. } => Ok(ExceptionValue::Scalar(text.clone())),
        NodeValue::Seq(items) => Ok(ExceptionValue::List(
            items
                .iter()
                .map(exception_value)
                .collect::<ItemResult<_>>()?,
        )),
        NodeValue::Null => Ok(ExceptionValue::Scalar(String::new())),
        NodeValue::Map(_) => validate(n.pos, "Exception values must be scalars or sequences"),
    }
}
