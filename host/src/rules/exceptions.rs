//! Rule exceptions → condition text, as Falco builds it
//! (`build_rule_exception_infos`): each exception becomes `and not (…)`
//! appended to the rule's condition.

use super::load::{ExceptionDef, ExceptionFields, ExceptionValue, ItemLoc};
use crate::fields::SourceFields;
use crate::filter::ast::CmpOp;
use crate::filter::lower::Program;
use crate::filter::parser::parse_condition;

/// A problem with an exception, and where it was written.
type ExcError = (String, ItemLoc);

/// Builds the text appended for a rule's exceptions.
pub(super) fn exceptions_text(
    excs: &[ExceptionDef],
    fields: &SourceFields,
) -> Result<Option<(String, ItemLoc)>, ExcError> {
    let mut parts = Vec::new();
    let mut first_loc = None;
    for e in excs {
        if e.values.is_empty() {
            continue;
        }
        first_loc.get_or_insert(e.loc.clone());
        parts.push(match &e.fields {
            ExceptionFields::Single(f) => single_field_text(e, f, fields)?,
            ExceptionFields::Tuple(fs) => tuple_text(e, fs, fields)?,
        });
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let text = parts
        .iter()
        .map(|p| format!("and not {p}"))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Some((text, first_loc.expect("set with parts"))))
}

/// The error for exception `e`.
fn bad(e: &ExceptionDef, m: impl Into<String>) -> ExcError {
    (m.into(), e.loc.clone())
}

/// `f` must be a field of the source.
fn check_field(e: &ExceptionDef, f: &str, fields: &SourceFields) -> Result<(), ExcError> {
    let probe = format!("{f} exists");
    let ok = parse_condition(&probe, 0).ok().and_then(|ast| {
        let mut p = Program::default();
        p.lower(fields, &ast, &mut Vec::new()).ok()
    });
    ok.map(|_| ())
        .ok_or_else(|| bad(e, format!("'{f}' is not a supported filter field")))
}

/// `c` must be a comparison operator.
fn check_comp(e: &ExceptionDef, c: &str) -> Result<(), ExcError> {
    if comp_op(c).is_some() {
        Ok(())
    } else {
        Err(bad(
            e,
            format!("'{c}' is not a supported comparison operator"),
        ))
    }
}

/// The single-field form: `(f comp (v1, v2, …))`.
fn single_field_text(e: &ExceptionDef, f: &str, fields: &SourceFields) -> Result<String, ExcError> {
    check_field(e, f, fields)?;
    let comp = e.comps.first().cloned().unwrap_or_else(|| "in".into());
    check_comp(e, &comp)?;
    let op = comp_op(&comp).expect("checked");
    if !(matches!(op, (CmpOp::In | CmpOp::PMatch | CmpOp::Intersects, false)) || op.1) {
        return Err(bad(
            e,
            "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)",
        ));
    }
    let mut vals = Vec::new();
    for v in &e.values {
        match v {
            ExceptionValue::Scalar(s) => vals.push(quote_item(s)),
            ExceptionValue::List(_) => {
                return Err(bad(e, "Expected values array to contain a list of strings"));
            }
        }
    }
    Ok(format!("({f} {comp} ({}))", vals.join(", ")))
}

/// The tuple form: one alternative per value tuple, each a conjunction of
/// `field comp value`.
fn tuple_text(e: &ExceptionDef, fs: &[String], fields: &SourceFields) -> Result<String, ExcError> {
    if fs.is_empty() {
        return Err(bad(
            e,
            "Rule exception must have fields property with a list of fields",
        ));
    }
    let comps: Vec<String> = if e.comps.is_empty() {
        vec!["=".into(); fs.len()]
    } else {
        e.comps.clone()
    };
    if comps.len() != fs.len() {
        return Err(bad(e, "Fields and comps lists must have equal length"));
    }
    for f in fs {
        check_field(e, f, fields)?;
    }
    for c in &comps {
        check_comp(e, c)?;
    }
    let mut alts = Vec::new();
    for v in &e.values {
        let ExceptionValue::List(tuple) = v else {
            return Err(bad(e, "Expected values array to contain a list of strings"));
        };
        if tuple.len() != fs.len() {
            return Err(bad(e, "Fields and values lists must have equal length"));
        }
        let conj: Vec<String> = fs
            .iter()
            .zip(&comps)
            .zip(tuple)
            .map(|((f, c), val)| format!(" {f} {c} {}", tuple_value(c, val)))
            .collect();
        alts.push(format!("({})", conj.join(" and ")));
    }
    Ok(format!("({})", alts.join(" or ")))
}

/// One value of a tuple, as condition text (a list for list operators).
fn tuple_value(comp: &str, val: &ExceptionValue) -> String {
    let (op, modified) = comp_op(comp).expect("checked");
    let list_op = op.is_list_op() || modified;
    match val {
        ExceptionValue::Scalar(s) if list_op => format!("({})", quote_item(s)),
        ExceptionValue::Scalar(s) => quote_item(s),
        ExceptionValue::List(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    ExceptionValue::Scalar(s) => quote_item(s),
                    ExceptionValue::List(_) => String::new(),
                })
                .collect();
            format!("({})", items.join(", "))
        }
    }
}

/// An exception comparison operator: the base operator and whether a
/// modifier follows (`startswith anyof`).
fn comp_op(c: &str) -> Option<(CmpOp, bool)> {
    let mut words = c.split_whitespace();
    let op_word = words.next()?;
    let op = if op_word == "==" {
        CmpOp::Eq
    } else {
        CmpOp::ALL.into_iter().find(|o| o.as_str() == op_word)?
    };
    match words.next() {
        None => Some((op, false)),
        Some("oneof" | "anyof" | "allof") if op.accepts_modifier() && words.next().is_none() => {
            Some((op, true))
        }
        Some(_) => None,
    }
}

/// Quotes a list item or exception value that contains blanks.
pub(super) fn quote_item(s: &str) -> String {
    if s.starts_with('"') || s.starts_with('\'') || !s.contains([' ', '\t']) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
