//! Rule exceptions → condition text, as Falco builds it
//! (`build_rule_exception_infos`): each exception becomes `and not (…)`
//! appended to the rule's condition.

use super::load::{ExceptionDef, ExceptionFields, ExceptionValue, ItemLoc};
use crate::fields::SourceFields;
use crate::filter::ast::CmpOp;
use crate::filter::lower::Program;
use crate::filter::parser::parse_condition;

/// Builds the text appended for a rule's exceptions.
pub(super) fn exceptions_text(
    excs: &[ExceptionDef],
    fields: &SourceFields,
) -> Result<Option<(String, ItemLoc)>, (String, ItemLoc)> {
    let mut parts = Vec::new();
    let mut first_loc = None;
    for e in excs {
        let bad = |m: String| (m, e.loc.clone());
        let check_field = |f: &str| -> Result<(), (String, ItemLoc)> {
            let probe = format!("{f} exists");
            let ok = parse_condition(&probe, 0).ok().and_then(|ast| {
                let mut p = Program::default();
                p.lower(fields, &ast, &mut Vec::new()).ok()
            });
            ok.map(|_| ())
                .ok_or_else(|| bad(format!("'{f}' is not a supported filter field")))
        };
        let check_comp = |c: &str| -> Result<(), (String, ItemLoc)> {
            if comp_op(c).is_some() {
                Ok(())
            } else {
                Err(bad(format!("'{c}' is not a supported comparison operator")))
            }
        };
        if e.values.is_empty() {
            continue;
        }
        first_loc.get_or_insert(e.loc.clone());
        match &e.fields {
            ExceptionFields::Single(f) => {
                check_field(f)?;
                let comp = e.comps.first().cloned().unwrap_or_else(|| "in".into());
                check_comp(&comp)?;
                let op = comp_op(&comp).expect("checked");
                if !(matches!(op, (CmpOp::In | CmpOp::PMatch | CmpOp::Intersects, false)) || op.1) {
                    return Err(bad("When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)".into()));
                }
                let mut vals = Vec::new();
                for v in &e.values {
                    match v {
                        ExceptionValue::Scalar(s) => vals.push(quote_item(s)),
                        ExceptionValue::List(_) => {
                            return Err(bad(
                                "Expected values array to contain a list of strings".into()
                            ));
                        }
                    }
                }
                parts.push(format!("({f} {comp} ({}))", vals.join(", ")));
            }
            ExceptionFields::Tuple(fs) => {
                if fs.is_empty() {
                    return Err(bad(
                        "Rule exception must have fields property with a list of fields".into(),
                    ));
                }
                let comps: Vec<String> = if e.comps.is_empty() {
                    vec!["=".into(); fs.len()]
                } else {
                    e.comps.clone()
                };
                if comps.len() != fs.len() {
                    return Err(bad("Fields and comps lists must have equal length".into()));
                }
                for f in fs {
                    check_field(f)?;
                }
                for c in &comps {
                    check_comp(c)?;
                }
                let mut alts = Vec::new();
                for v in &e.values {
                    let ExceptionValue::List(tuple) = v else {
                        return Err(bad(
                            "Expected values array to contain a list of strings".into()
                        ));
                    };
                    if tuple.len() != fs.len() {
                        return Err(bad("Fields and values lists must have equal length".into()));
                    }
                    let mut conj = Vec::new();
                    for ((f, c), val) in fs.iter().zip(&comps).zip(tuple) {
                        let (op, modified) = comp_op(c).expect("checked");
                        let list_op = op.is_list_op() || modified;
                        let rendered = match val {
                            ExceptionValue::Scalar(s) if list_op => {
                                format!("({})", quote_item(s))
                            }
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
                        };
                        conj.push(format!(" {f} {c} {rendered}"));
                    }
                    alts.push(format!("({})", conj.join(" and ")));
                }
                parts.push(format!("({})", alts.join(" or ")));
            }
        }
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
