//! One comparison (`field op value`) → a [`Test`] on a slot, by operator
//! family: existence, field against field, modifiers (`anyof (…)`), set
//! membership (`in`, `intersects`), `pmatch`, and single-value comparisons.

use super::literal::{parse_bool, parse_hex, parse_net, parse_num};
use super::{LowerError, LowerWarning, Program, WarningKind, error};
use crate::fields::{FieldDef, SourceFields, ValueKind};
use crate::filter::ast::*;
use crate::filter::ir::*;
use crate::filter::pattern;

impl Program {
    /// Lowers one comparison.
    pub(super) fn lower_check(
        &mut self,
        fields: &SourceFields,
        c: &Check,
        warnings: &mut Vec<LowerWarning>,
    ) -> Result<Ir, LowerError> {
        let (key, kind, shape, def) = self.resolve_operand(fields, &c.lhs)?;
        if def.flags.deprecated {
            warnings.push(LowerWarning {
                kind: WarningKind::Deprecated,
                message: format!("field '{}' is deprecated", def.name),
                span: c.span,
            });
        }
        let field_name = fields.display(&key.field);
        check_operator(c, kind, shape)?;
        let lhs = SlotInfo { key, kind, shape };
        if c.op == CmpOp::Exists {
            return Ok(self.exists_test(lhs));
        }
        let literals = rhs_literals(&c.rhs);
        literal_warnings(fields, &def, c, &literals, warnings);
        check_event_names(fields, &def, &lhs.key, &literals)?;

        let quant = match (shape, c.op) {
            (Shape::List, CmpOp::In) => Quant::All,
            _ => Quant::Any,
        };
        let pred = match (&c.rhs, c.modifier) {
            (Rhs::Operand(rhs), _) => {
                return self.field_test(fields, c, lhs, quant, rhs, &field_name);
            }
            (_, Some(m)) => self.modified_pred(c, m, kind, shape, &field_name)?,
            (_, None) => self.value_pred(c, kind, &field_name)?,
        };
        let Some(pred) = pred else {
            return Ok(Ir::Const(false));
        };
        let slot = self.slot(lhs);
        Ok(Ir::Test(Test { slot, quant, pred }))
    }

    /// `field exists`.
    fn exists_test(&mut self, lhs: SlotInfo) -> Ir {
        let slot = self.slot(lhs);
        Ir::Test(Test {
            slot,
            quant: Quant::Exists,
            pred: Pred::Bool {
                value: true,
                ne: false,
            },
        })
    }

    /// A comparison with another field (`proc.name = val(proc.pname)`).
    fn field_test(
        &mut self,
        fields: &SourceFields,
        c: &Check,
        lhs: SlotInfo,
        quant: Quant,
        rhs: &Operand,
        field_name: &str,
    ) -> Result<Ir, LowerError> {
        let kind = lhs.kind;
        let (rkey, rkind, rshape, _) = self.resolve_operand(fields, rhs)?;
        if rshape != Shape::Scalar {
            return Err(error(
                rhs.span(),
                "the right-hand side of a field comparison must be a single-valued field",
            ));
        }
        let compatible = match (kind, rkind) {
            (ValueKind::Str | ValueKind::Bytes, ValueKind::Str | ValueKind::Bytes) => true,
            (a, b) => a == b,
        };
        if !compatible {
            return Err(error(
                rhs.span(),
                format!("cannot compare field '{field_name}' with a field of a different type"),
            ));
        }
        let Some(fop) = field_op(c.op, kind) else {
            return Err(error(
                c.op_span,
                format!(
                    "Operator '{}' cannot compare field '{field_name}' with another field",
                    c.op.as_str()
                ),
            ));
        };
        if matches!(kind, ValueKind::Ip | ValueKind::IpNet | ValueKind::Bool)
            && !matches!(fop, FieldOp::Cmp(NumOp::Eq | NumOp::Ne))
        {
            return Err(op_error(c, kind));
        }
        let other = self.slot(SlotInfo {
            key: rkey,
            kind: rkind,
            shape: rshape,
        });
        let slot = self.slot(lhs);
        Ok(Ir::Test(Test {
            slot,
            quant,
            pred: Pred::Field(fop, other),
        }))
    }

    /// A string operator with a modifier over a list (`startswith anyof
    /// (…)`); `None` for an empty list (the check is false).
    fn modified_pred(
        &mut self,
        c: &Check,
        m: Modifier,
        kind: ValueKind,
        shape: Shape,
        field_name: &str,
    ) -> Result<Option<Pred>, LowerError> {
        if !matches!(kind, ValueKind::Str | ValueKind::Bytes) {
            return Err(op_error(c, kind));
        }
        if shape == Shape::List {
            return Err(error(
                c.op_span,
                format!(
                    "Operator modifier '{}' requires a single-valued field, '{field_name}' is a list",
                    m.as_str()
                ),
            ));
        }
        let Rhs::List(items) = &c.rhs else {
            unreachable!("parser gives a list after a modifier")
        };
        if items.is_empty() {
            return Ok(None);
        }
        let preds = items
            .iter()
            .map(|l| {
                self.string_pred(c.op, l)
                    .ok_or_else(|| op_error(c, kind))
                    .and_then(|r| r)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Pred::Modified(m, preds)))
    }

    /// A comparison with literal values, by operator family; `None` for an
    /// empty list (the check is false).
    fn value_pred(
        &mut self,
        c: &Check,
        kind: ValueKind,
        field_name: &str,
    ) -> Result<Option<Pred>, LowerError> {
        let is_str = matches!(kind, ValueKind::Str | ValueKind::Bytes);
        match (c.op, &c.rhs) {
            (CmpOp::In | CmpOp::Intersects, Rhs::List(items)) => {
                set_pred(c, items, kind, field_name)
            }
            (CmpOp::PMatch, Rhs::List(items)) if is_str => self.pmatch_pred(c, items),
            (op, Rhs::Value(l)) => self.compare_pred(c, op, l, kind, field_name).map(Some),
            _ => Err(op_error(c, kind)),
        }
    }

    /// `pmatch (prefix, …)`: one pattern for every prefix.
    fn pmatch_pred(&mut self, c: &Check, items: &[Literal]) -> Result<Option<Pred>, LowerError> {
        if items.is_empty() {
            return Ok(None);
        }
        let texts: Vec<&str> = items.iter().map(|l| l.text.as_str()).collect();
        let pattern = self.pattern(pattern::pmatch_regex(&texts), c.op_span)?;
        Ok(Some(Pred::Pattern(pattern)))
    }

    /// A comparison with one literal.
    fn compare_pred(
        &mut self,
        c: &Check,
        op: CmpOp,
        l: &Literal,
        kind: ValueKind,
        field_name: &str,
    ) -> Result<Pred, LowerError> {
        let op_err = || op_error(c, kind);
        Ok(match kind {
            ValueKind::Str | ValueKind::Bytes => self.string_pred(op, l).ok_or_else(op_err)??,
            ValueKind::Num => Pred::Num(num_op(op).ok_or_else(op_err)?, parse_num(l, field_name)?),
            ValueKind::Double => {
                let v = l.text.parse::<f64>().map_err(|_| {
                    error(
                        l.span,
                        format!(
                            "'{}' is not a valid number for field '{field_name}'",
                            l.text
                        ),
                    )
                })?;
                Pred::Double(num_op(op).ok_or_else(op_err)?, v)
            }
            ValueKind::Bool if matches!(op, CmpOp::Eq | CmpOp::Ne) => Pred::Bool {
                value: parse_bool(l)?,
                ne: op == CmpOp::Ne,
            },
            ValueKind::Ip | ValueKind::IpNet if matches!(op, CmpOp::Eq | CmpOp::Ne) => Pred::Net {
                nets: vec![parse_net(l, field_name)?],
                ne: op == CmpOp::Ne,
            },
            ValueKind::Bool | ValueKind::Ip | ValueKind::IpNet => return Err(op_err()),
        })
    }

    /// The predicate for a string operator and one literal; `None` when the
    /// operator does not apply to strings.
    fn string_pred(&mut self, op: CmpOp, l: &Literal) -> Option<Result<Pred, LowerError>> {
        let bytes = l.text.as_bytes().to_vec();
        Some(Ok(match op {
            CmpOp::Eq => Pred::Str(StrOp::Eq, bytes),
            CmpOp::Ne => Pred::Str(StrOp::Ne, bytes),
            CmpOp::Contains => Pred::Str(StrOp::Contains, bytes),
            CmpOp::IContains => {
                Pred::Str(StrOp::IContains, l.text.to_ascii_lowercase().into_bytes())
            }
            CmpOp::StartsWith => Pred::Str(StrOp::StartsWith, bytes),
            CmpOp::EndsWith => Pred::Str(StrOp::EndsWith, bytes),
            CmpOp::Lt => Pred::Str(StrOp::Lt, bytes),
            CmpOp::Le => Pred::Str(StrOp::Le, bytes),
            CmpOp::Gt => Pred::Str(StrOp::Gt, bytes),
            CmpOp::Ge => Pred::Str(StrOp::Ge, bytes),
            CmpOp::BContains | CmpOp::BStartsWith => return Some(bytes_pred(op, l)),
            CmpOp::Glob | CmpOp::IGlob | CmpOp::Regex => return Some(self.pattern_pred(op, l)),
            _ => return None,
        }))
    }

    /// `glob`, `iglob` and `regex`: a pattern.
    fn pattern_pred(&mut self, op: CmpOp, l: &Literal) -> Result<Pred, LowerError> {
        let re = match op {
            CmpOp::Regex => pattern::full_regex(&l.text),
            _ => pattern::glob_regex(&l.text, op == CmpOp::IGlob),
        };
        self.pattern(re, l.span).map(Pred::Pattern)
    }
}

/// Whether the operator applies to the field at all.
fn check_operator(c: &Check, kind: ValueKind, shape: Shape) -> Result<(), LowerError> {
    if shape == Shape::List && !matches!(c.op, CmpOp::In | CmpOp::Intersects | CmpOp::Exists) {
        return Err(error(
            c.op_span,
            format!(
                "filter error: '{}' operator not supported list filters",
                c.op.as_str()
            ),
        ));
    }
    if !op_allowed(kind, c.op) {
        return Err(op_error(c, kind));
    }
    Ok(())
}

/// The literals on the right-hand side (none for a field).
fn rhs_literals(rhs: &Rhs) -> Vec<&Literal> {
    match rhs {
        Rhs::Value(l) => vec![l],
        Rhs::List(ls) => ls.iter().collect(),
        _ => vec![],
    }
}

/// Warns about `<NA>` checks on plugin JSON fields (unsafe, Falco warns)
/// and about unquoted values that name a field.
fn literal_warnings(
    fields: &SourceFields,
    def: &FieldDef,
    c: &Check,
    literals: &[&Literal],
    warnings: &mut Vec<LowerWarning>,
) {
    if (def.name.starts_with("ka.") || def.name.starts_with("jevt."))
        && literals.iter().any(|l| l.text == "<NA>")
    {
        warnings.push(LowerWarning {
            kind: WarningKind::UnsafeNaCheck,
            message: "Comparison against <NA> is unsafe: fields that cannot be extracted are never compared; use 'exists' instead".into(),
            span: c.span,
        });
    }
    for l in literals
        .iter()
        .filter(|l| !l.quoted && l.text.contains('.'))
    {
        let (name, arg) = match l.text.split_once('[') {
            Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
            None => (l.text.as_str(), None),
        };
        let looks_like_field =
            name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && !name.contains('/');
        if looks_like_field && fields.lookup(name, arg).is_ok() {
            warnings.push(LowerWarning {
                kind: WarningKind::FieldAsValue,
                message: format!(
                    "'{}' may be a valid field misused as a const string value",
                    l.text
                ),
                span: l.span,
            });
        }
    }
}

/// Event type names compared with `evt.type` must be in the source's table.
fn check_event_names(
    fields: &SourceFields,
    def: &FieldDef,
    key: &SlotKey,
    literals: &[&Literal],
) -> Result<(), LowerError> {
    if def.name != "evt.type" || !key.transforms.is_empty() || fields.event_names().is_empty() {
        return Ok(());
    }
    match literals.iter().find(|l| !fields.is_event_name(&l.text)) {
        Some(l) => Err(LowerError {
            message: format!("Unknown event type '{}' in evt.type comparison", l.text),
            span: l.span,
            unknown_filter: true,
        }),
        None => Ok(()),
    }
}

/// `in (…)` and `intersects (…)`; `None` for an empty list (the check is
/// false).
fn set_pred(
    c: &Check,
    items: &[Literal],
    kind: ValueKind,
    field_name: &str,
) -> Result<Option<Pred>, LowerError> {
    if kind == ValueKind::Double {
        return Err(op_error(c, kind));
    }
    if items.is_empty() {
        return Ok(None);
    }
    Ok(Some(match kind {
        ValueKind::Str | ValueKind::Bytes => {
            let mut set: Vec<Vec<u8>> = items.iter().map(|l| l.text.as_bytes().to_vec()).collect();
            set.sort();
            set.dedup();
            Pred::StrSet(set)
        }
        ValueKind::Num => {
            let mut set = items
                .iter()
                .map(|l| parse_num(l, field_name))
                .collect::<Result<Vec<_>, _>>()?;
            set.sort_unstable();
            set.dedup();
            Pred::NumSet(set)
        }
        ValueKind::Bool => {
            let preds = items
                .iter()
                .map(|l| {
                    Ok(Pred::Bool {
                        value: parse_bool(l)?,
                        ne: false,
                    })
                })
                .collect::<Result<_, LowerError>>()?;
            Pred::Modified(Modifier::AnyOf, preds)
        }
        ValueKind::Ip | ValueKind::IpNet => Pred::Net {
            nets: items
                .iter()
                .map(|l| parse_net(l, field_name))
                .collect::<Result<_, _>>()?,
            ne: false,
        },
        ValueKind::Double => unreachable!("refused above"),
    }))
}

/// `bcontains` and `bstartswith`: a hex needle.
fn bytes_pred(op: CmpOp, l: &Literal) -> Result<Pred, LowerError> {
    let Some(needle) = parse_hex(&l.text) else {
        return Err(error(
            l.span,
            "filter error: bcontains and bstartswith operator support hex strings only",
        ));
    };
    let sop = if op == CmpOp::BContains {
        StrOp::Contains
    } else {
        StrOp::StartsWith
    };
    Ok(Pred::Str(sop, needle))
}

/// The operator of a field-to-field comparison, if it has one for `kind`.
fn field_op(op: CmpOp, kind: ValueKind) -> Option<FieldOp> {
    let ordered = matches!(kind, ValueKind::Num | ValueKind::Double | ValueKind::Str);
    let stringy = matches!(kind, ValueKind::Str | ValueKind::Bytes);
    Some(match op {
        CmpOp::Eq => FieldOp::Cmp(NumOp::Eq),
        CmpOp::Ne => FieldOp::Cmp(NumOp::Ne),
        CmpOp::Lt if ordered => FieldOp::Cmp(NumOp::Lt),
        CmpOp::Le if ordered => FieldOp::Cmp(NumOp::Le),
        CmpOp::Gt if ordered => FieldOp::Cmp(NumOp::Gt),
        CmpOp::Ge if ordered => FieldOp::Cmp(NumOp::Ge),
        CmpOp::Contains if stringy => FieldOp::Contains,
        CmpOp::IContains if stringy => FieldOp::IContains,
        CmpOp::StartsWith if stringy => FieldOp::StartsWith,
        CmpOp::EndsWith if stringy => FieldOp::EndsWith,
        _ => return None,
    })
}

/// "operator not supported" for the field's kind.
fn op_error(c: &Check, kind: ValueKind) -> LowerError {
    error(
        c.op_span,
        format!(
            "filter error: '{}' operator not supported for {}",
            c.op.as_str(),
            kind_filters(kind)
        ),
    )
}

/// Which operators apply to which value kinds (libsinsp's `flt_is_comparable`).
fn op_allowed(kind: ValueKind, op: CmpOp) -> bool {
    use CmpOp::*;
    match op {
        Exists => true,
        Eq | Ne | In | Intersects => true,
        Lt | Le | Gt | Ge => matches!(kind, ValueKind::Num | ValueKind::Double | ValueKind::Str),
        Contains | StartsWith | EndsWith => matches!(kind, ValueKind::Str | ValueKind::Bytes),
        IContains | Glob | IGlob | PMatch | Regex => kind == ValueKind::Str,
        BContains | BStartsWith => kind == ValueKind::Bytes,
    }
}

/// libsinsp's name for a kind in operator errors.
fn kind_filters(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Num | ValueKind::Double | ValueKind::Bool => "numeric filters",
        ValueKind::Str => "string filters",
        ValueKind::Bytes => "buffer filters",
        ValueKind::Ip | ValueKind::IpNet => "ip address and network filters",
    }
}

/// The numeric comparison for an operator.
fn num_op(op: CmpOp) -> Option<NumOp> {
    Some(match op {
        CmpOp::Eq => NumOp::Eq,
        CmpOp::Ne => NumOp::Ne,
        CmpOp::Lt => NumOp::Lt,
        CmpOp::Le => NumOp::Le,
        CmpOp::Gt => NumOp::Gt,
        CmpOp::Ge => NumOp::Ge,
        _ => return None,
    })
}
