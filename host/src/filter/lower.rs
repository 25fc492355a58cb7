//! Type checking: an expanded condition ([`Expr`] without macros) → [`Ir`].
//!
//! Fields are resolved against the source's registry, literals are parsed
//! according to the field's type, operators are checked against the type,
//! and every field use is interned as a slot of the [`Program`] being built.

use super::ast::*;
use super::ir::*;
use super::pattern;
use crate::fields::{FieldDef, FieldError, ResolvedField, SourceFields, ValueKind};
use std::collections::HashMap;

/// Slots and patterns shared by every rule of one source.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Slot definitions, by slot index.
    pub slots: Vec<SlotInfo>,
    /// Patterns, by index.
    pub patterns: Vec<PatternDef>,
    slot_map: HashMap<SlotKey, u32>,
    pattern_map: HashMap<PatternDef, u32>,
    /// Bytes of automata built for the patterns so far (see
    /// [`MAX_AUTOMATA_BYTES`]).
    automata_bytes: usize,
}

/// A type or name error at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError {
    /// Falco-style message.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Whether it is an unknown field or event type (downgraded to a
    /// warning with `skip-if-unknown-filter`).
    pub unknown_filter: bool,
}

/// A warning found while lowering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerWarning {
    /// What kind of warning.
    pub kind: WarningKind,
    /// Message.
    pub message: String,
    /// Where.
    pub span: Span,
}

/// Kinds of lowering warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    /// `ka.*`/`jevt.*` compared with `<NA>`.
    UnsafeNaCheck,
    /// A deprecated field.
    Deprecated,
    /// An unquoted value that names a field (`proc.name = proc.pname`):
    /// probably meant `val(…)`.
    FieldAsValue,
}

fn error(span: Span, message: impl Into<String>) -> LowerError {
    LowerError {
        message: message.into(),
        span,
        unknown_filter: false,
    }
}

/// Limits that keep a hostile rule from exhausting memory at load.
const MAX_PATTERN_LEN: usize = 64 * 1024;

/// Bytes of automaton tables the patterns of one source may need in all
/// (half the filter's default memory). Counted pattern by pattern as they
/// are built, a pattern that fails counting the work it took, so that a
/// hostile rules file is refused after a few large patterns instead of
/// after determinizing thousands of them.
const MAX_AUTOMATA_BYTES: usize = 128 << 20;

impl Program {
    /// Interns a slot and returns its index.
    pub fn slot(&mut self, info: SlotInfo) -> u32 {
        if let Some(&i) = self.slot_map.get(&info.key) {
            return i;
        }
        let i = self.slots.len() as u32;
        self.slot_map.insert(info.key.clone(), i);
        self.slots.push(info);
        i
    }

    /// Index of an already interned slot.
    pub fn slot_index(&self, key: &SlotKey) -> Option<u32> {
        self.slot_map.get(key).copied()
    }

    fn pattern(&mut self, regex: String, span: Span) -> Result<u32, LowerError> {
        let def = PatternDef { regex };
        if let Some(&i) = self.pattern_map.get(&def) {
            return Ok(i);
        }
        if def.regex.len() > MAX_PATTERN_LEN {
            return Err(error(
                span,
                format!("pattern longer than {MAX_PATTERN_LEN} bytes"),
            ));
        }
        if self.automata_bytes >= MAX_AUTOMATA_BYTES {
            return Err(error(
                span,
                format!(
                    "the patterns of this source need more than {} MiB of automata; simplify \
                     or remove some",
                    MAX_AUTOMATA_BYTES >> 20
                ),
            ));
        }
        match pattern::check(&def.regex) {
            Ok(bytes) => self.automata_bytes += bytes,
            Err(e) => {
                if let pattern::PatternError::TooComplex(_) = e {
                    self.automata_bytes += pattern::BUILD_LIMIT;
                }
                return Err(error(span, e.to_string()));
            }
        }
        let i = self.patterns.len() as u32;
        self.pattern_map.insert(def.clone(), i);
        self.patterns.push(def);
        Ok(i)
    }

    /// Resolves an operand (a field with transformers) to a slot.
    pub fn operand_slot(
        &mut self,
        fields: &SourceFields,
        op: &Operand,
    ) -> Result<(u32, ValueKind, Shape), LowerError> {
        let (key, kind, shape, _) = self.resolve_operand(fields, op)?;
        let idx = self.slot(SlotInfo { key, kind, shape });
        Ok((idx, kind, shape))
    }

    fn resolve_operand(
        &mut self,
        fields: &SourceFields,
        op: &Operand,
    ) -> Result<(SlotKey, ValueKind, Shape, FieldDef), LowerError> {
        match op {
            Operand::Field(f) => {
                let resolved =
                    fields
                        .lookup(&f.name, f.arg.as_deref())
                        .map_err(|e| LowerError {
                            unknown_filter: matches!(e, FieldError::Unknown(_)),
                            message: e.to_string(),
                            span: f.span,
                        })?;
                let def = *fields.def(resolved.id);
                let shape = if def.flags.list {
                    Shape::List
                } else if def.flags.any_ancestor_without_arg && resolved.arg.is_none() {
                    Shape::Ancestors
                } else {
                    Shape::Scalar
                };
                let kind = raw_arg_kind(&def, &resolved);
                Ok((
                    SlotKey {
                        field: resolved,
                        transforms: Vec::new(),
                    },
                    kind,
                    shape,
                    def,
                ))
            }
            Operand::Transform(t, inner, span) => {
                let (mut key, kind, shape, def) =
                    crate::deep(|| self.resolve_operand(fields, inner))?;
                let (kind, shape) = match t {
                    Transformer::Len => (ValueKind::Num, Shape::Scalar),
                    Transformer::ToLower | Transformer::ToUpper | Transformer::Basename => {
                        if !matches!(kind, ValueKind::Str | ValueKind::Bytes) {
                            return Err(error(
                                *span,
                                format!("transformer '{}' requires a string field", t.as_str()),
                            ));
                        }
                        (ValueKind::Str, shape)
                    }
                    Transformer::B64 => {
                        if !matches!(kind, ValueKind::Str | ValueKind::Bytes) {
                            return Err(error(
                                *span,
                                "transformer 'b64' requires a string or buffer field",
                            ));
                        }
                        (ValueKind::Bytes, shape)
                    }
                };
                key.transforms.push(*t);
                Ok((key, kind, shape, def))
            }
        }
    }

    /// Lowers an expanded expression. Warnings are appended to `warnings`.
    pub fn lower(
        &mut self,
        fields: &SourceFields,
        e: &Expr,
        warnings: &mut Vec<LowerWarning>,
    ) -> Result<Ir, LowerError> {
        crate::deep(|| self.lower_inner(fields, e, warnings))
    }

    fn lower_inner(
        &mut self,
        fields: &SourceFields,
        e: &Expr,
        warnings: &mut Vec<LowerWarning>,
    ) -> Result<Ir, LowerError> {
        Ok(match e {
            Expr::And(v) => Ir::And(
                v.iter()
                    .map(|x| self.lower(fields, x, warnings))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(v) => Ir::Or(
                v.iter()
                    .map(|x| self.lower(fields, x, warnings))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(x) => Ir::Not(Box::new(self.lower(fields, x, warnings)?)),
            Expr::Macro(name, span) => {
                return Err(error(
                    *span,
                    format!("Undefined macro '{name}' used in filter."),
                ));
            }
            Expr::Check(c) => self.lower_check(fields, c, warnings)?,
        })
    }

    fn lower_check(
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
        let op_err = || {
            error(
                c.op_span,
                format!(
                    "filter error: '{}' operator not supported for {}",
                    c.op.as_str(),
                    kind_filters(kind)
                ),
            )
        };
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
            return Err(op_err());
        }
        if c.op == CmpOp::Exists {
            let slot = self.slot(SlotInfo { key, kind, shape });
            return Ok(Ir::Test(Test {
                slot,
                quant: Quant::Exists,
                pred: Pred::Bool {
                    value: true,
                    ne: false,
                },
            }));
        }
        // `<NA>` checks on plugin JSON fields are unsafe (Falco warns).
        let literals: Vec<&Literal> = match &c.rhs {
            Rhs::Value(l) => vec![l],
            Rhs::List(ls) => ls.iter().collect(),
            _ => vec![],
        };
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
        // Event type names are checked against the source's table.
        if def.name == "evt.type" && key.transforms.is_empty() && !fields.event_names().is_empty() {
            for l in &literals {
                if !fields.is_event_name(&l.text) {
                    return Err(LowerError {
                        message: format!("Unknown event type '{}' in evt.type comparison", l.text),
                        span: l.span,
                        unknown_filter: true,
                    });
                }
            }
        }

        let quant = match (shape, c.op) {
            (Shape::List, CmpOp::In) => Quant::All,
            _ => Quant::Any,
        };
        let lhs_slot_info = SlotInfo { key, kind, shape };

        if let Rhs::Operand(rhs) = &c.rhs {
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
            let fop = match (c.op, kind) {
                (CmpOp::Eq, _) => FieldOp::Cmp(NumOp::Eq),
                (CmpOp::Ne, _) => FieldOp::Cmp(NumOp::Ne),
                (CmpOp::Lt, ValueKind::Num | ValueKind::Double | ValueKind::Str) => {
                    FieldOp::Cmp(NumOp::Lt)
                }
                (CmpOp::Le, ValueKind::Num | ValueKind::Double | ValueKind::Str) => {
                    FieldOp::Cmp(NumOp::Le)
                }
                (CmpOp::Gt, ValueKind::Num | ValueKind::Double | ValueKind::Str) => {
                    FieldOp::Cmp(NumOp::Gt)
                }
                (CmpOp::Ge, ValueKind::Num | ValueKind::Double | ValueKind::Str) => {
                    FieldOp::Cmp(NumOp::Ge)
                }
                (CmpOp::Contains, ValueKind::Str | ValueKind::Bytes) => FieldOp::Contains,
                (CmpOp::IContains, ValueKind::Str | ValueKind::Bytes) => FieldOp::IContains,
                (CmpOp::StartsWith, ValueKind::Str | ValueKind::Bytes) => FieldOp::StartsWith,
                (CmpOp::EndsWith, ValueKind::Str | ValueKind::Bytes) => FieldOp::EndsWith,
                _ => {
                    return Err(error(
                        c.op_span,
                        format!(
                            "Operator '{}' cannot compare field '{field_name}' with another field",
                            c.op.as_str()
                        ),
                    ));
                }
            };
            if matches!(kind, ValueKind::Ip | ValueKind::IpNet | ValueKind::Bool)
                && !matches!(fop, FieldOp::Cmp(NumOp::Eq | NumOp::Ne))
            {
                return Err(op_err());
            }
            let other = self.slot(SlotInfo {
                key: rkey,
                kind: rkind,
                shape: rshape,
            });
            let slot = self.slot(lhs_slot_info);
            return Ok(Ir::Test(Test {
                slot,
                quant,
                pred: Pred::Field(fop, other),
            }));
        }

        let pred = if let Some(m) = c.modifier {
            if !matches!(kind, ValueKind::Str | ValueKind::Bytes) {
                return Err(op_err());
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
                return Ok(Ir::Const(false));
            }
            let preds = items
                .iter()
                .map(|l| {
                    self.string_pred(c.op, l, kind)
                        .ok_or_else(op_err)
                        .and_then(|r| r)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Pred::Modified(m, preds)
        } else {
            match kind {
                ValueKind::Str | ValueKind::Bytes => match (c.op, &c.rhs) {
                    (CmpOp::In | CmpOp::Intersects, Rhs::List(items)) => {
                        if items.is_empty() {
                            return Ok(Ir::Const(false));
                        }
                        let mut set: Vec<Vec<u8>> =
                            items.iter().map(|l| l.text.as_bytes().to_vec()).collect();
                        set.sort();
                        set.dedup();
                        Pred::StrSet(set)
                    }
                    (CmpOp::PMatch, Rhs::List(items)) => {
                        if items.is_empty() {
                            return Ok(Ir::Const(false));
                        }
                        let texts: Vec<&str> = items.iter().map(|l| l.text.as_str()).collect();
                        Pred::Pattern(self.pattern(pattern::pmatch_regex(&texts), c.op_span)?)
                    }
                    (op, Rhs::Value(l)) => self.string_pred(op, l, kind).ok_or_else(op_err)??,
                    _ => return Err(op_err()),
                },
                ValueKind::Num => match (c.op, &c.rhs) {
                    (CmpOp::In | CmpOp::Intersects, Rhs::List(items)) => {
                        if items.is_empty() {
                            return Ok(Ir::Const(false));
                        }
                        let mut set = items
                            .iter()
                            .map(|l| parse_num(l, &field_name))
                            .collect::<Result<Vec<_>, _>>()?;
                        set.sort_unstable();
                        set.dedup();
                        Pred::NumSet(set)
                    }
                    (op, Rhs::Value(l)) => {
                        Pred::Num(num_op(op).ok_or_else(op_err)?, parse_num(l, &field_name)?)
                    }
                    _ => return Err(op_err()),
                },
                ValueKind::Double => match (c.op, &c.rhs) {
                    (op, Rhs::Value(l)) => {
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
                    _ => return Err(op_err()),
                },
                ValueKind::Bool => match (c.op, &c.rhs) {
                    (CmpOp::Eq | CmpOp::Ne, Rhs::Value(l)) => Pred::Bool {
                        value: parse_bool(l)?,
                        ne: c.op == CmpOp::Ne,
                    },
                    (CmpOp::In | CmpOp::Intersects, Rhs::List(items)) => {
                        if items.is_empty() {
                            return Ok(Ir::Const(false));
                        }
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
                    _ => return Err(op_err()),
                },
                ValueKind::Ip | ValueKind::IpNet => match (c.op, &c.rhs) {
                    (CmpOp::Eq | CmpOp::Ne, Rhs::Value(l)) => Pred::Net {
                        nets: vec![parse_net(l, &field_name)?],
                        ne: c.op == CmpOp::Ne,
                    },
                    (CmpOp::In | CmpOp::Intersects, Rhs::List(items)) => {
                        if items.is_empty() {
                            return Ok(Ir::Const(false));
                        }
                        Pred::Net {
                            nets: items
                                .iter()
                                .map(|l| parse_net(l, &field_name))
                                .collect::<Result<_, _>>()?,
                            ne: false,
                        }
                    }
                    _ => return Err(op_err()),
                },
            }
        };
        let slot = self.slot(lhs_slot_info);
        Ok(Ir::Test(Test { slot, quant, pred }))
    }

    /// The predicate for a string operator and one literal; `None` when the
    /// operator does not apply to strings.
    fn string_pred(
        &mut self,
        op: CmpOp,
        l: &Literal,
        kind: ValueKind,
    ) -> Option<Result<Pred, LowerError>> {
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
            CmpOp::BContains | CmpOp::BStartsWith => {
                let needle = match parse_hex(&l.text) {
                    Some(b) => b,
                    None => {
                        return Some(Err(error(
                            l.span,
                            "filter error: bcontains and bstartswith operator support hex strings only",
                        )));
                    }
                };
                Pred::Str(
                    if op == CmpOp::BContains {
                        StrOp::Contains
                    } else {
                        StrOp::StartsWith
                    },
                    needle,
                )
            }
            CmpOp::Glob | CmpOp::IGlob => {
                let re = pattern::glob_regex(&l.text, op == CmpOp::IGlob);
                return Some(self.pattern(re, l.span).map(Pred::Pattern));
            }
            CmpOp::Regex => {
                let _ = kind;
                return Some(
                    self.pattern(pattern::full_regex(&l.text), l.span)
                        .map(Pred::Pattern),
                );
            }
            _ => return None,
        }))
    }
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

fn parse_bool(l: &Literal) -> Result<bool, LowerError> {
    match l.text.as_str() {
        "true" | "TRUE" | "True" => Ok(true),
        "false" | "FALSE" | "False" => Ok(false),
        _ => Err(error(
            l.span,
            format!("filter error: unrecognized boolean value {}", l.text),
        )),
    }
}

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

/// `evt.rawarg.NAME` is typed by the argument's name (raw values of numeric
/// parameters are numbers); every other field by its registry type.
fn raw_arg_kind(def: &FieldDef, f: &ResolvedField) -> ValueKind {
    if def.name == "evt.rawarg." || def.name == "evt.rawarg" {
        let numeric = matches!(
            f.arg.as_deref(),
            Some(
                "res"
                    | "fd"
                    | "flags"
                    | "mode"
                    | "uid"
                    | "gid"
                    | "euid"
                    | "egid"
                    | "ruid"
                    | "rgid"
                    | "suid"
                    | "sgid"
                    | "pid"
                    | "tid"
                    | "ptid"
                    | "request"
                    | "size"
                    | "len"
                    | "domain"
                    | "type"
                    | "proto"
                    | "backlog"
                    | "dirfd"
                    | "olddirfd"
                    | "newdirfd"
                    | "newfd"
                    | "oldfd"
                    | "cmd"
                    | "addr"
                    | "data"
                    | "options"
                    | "sig"
                    | "nstype"
                    | "dev"
                    | "ino"
                    | "offset"
                    | "whence"
                    | "prot"
                    | "length"
                    | "cpu"
                    | "fdlimit"
                    | "pgid"
                    | "vpgid"
                    | "loginuid"
                    | "tty"
                    | "id"
                    | "option"
                    | "arg2"
                    | "arg3"
                    | "arg4"
                    | "arg5"
                    | "status"
                    | "ret"
                    | "count"
            )
        );
        return if numeric {
            ValueKind::Num
        } else {
            ValueKind::Str
        };
    }
    def.ty.kind()
}

/// Parses a number as Falco's grammar allows: decimal (optionally signed) or hex.
pub fn parse_num(l: &Literal, field: &str) -> Result<i64, LowerError> {
    let t = l.text.trim();
    let parsed = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok().map(|v| v as i64)
    } else if let Ok(v) = t.parse::<i64>() {
        Some(v)
    } else {
        t.parse::<u64>().ok().map(|v| v as i64)
    };
    let _ = field;
    parsed.ok_or_else(|| error(l.span, format!("{} is not a valid number", l.text)))
}

fn parse_net(l: &Literal, field: &str) -> Result<([u8; 16], u8), LowerError> {
    let bad = || {
        error(
            l.span,
            format!(
                "'{}' is not a valid IP address or network for field '{field}'",
                l.text
            ),
        )
    };
    let (addr, prefix) = match l.text.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
        None => (l.text.as_str(), None),
    };
    let ip: std::net::IpAddr = addr.parse().map_err(|_| bad())?;
    let (max, offset) = if ip.is_ipv4() { (32, 96) } else { (128, 0) };
    let p = prefix.unwrap_or(max);
    if p > max {
        return Err(bad());
    }
    Ok((ip_bytes(ip), p + offset))
}

/// Parses the hex string of `bcontains`/`bstartswith` (pairs of hex digits).
fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parser::parse_condition;

    fn lower(cond: &str) -> Result<(Ir, Program), LowerError> {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let e = parse_condition(cond, 0).unwrap();
        let ir = p.lower(&fields, &e, &mut Vec::new())?;
        Ok((ir, p))
    }

    #[test]
    fn typed_literals() {
        let (ir, _) = lower("proc.pid = 0x10").unwrap();
        assert!(matches!(
            ir,
            Ir::Test(Test {
                pred: Pred::Num(NumOp::Eq, 16),
                ..
            })
        ));
        let (ir, _) = lower("fd.sip in (10.0.0.1, 192.168.0.0/16)").unwrap();
        assert!(matches!(
            ir,
            Ir::Test(Test {
                pred: Pred::Net { .. },
                ..
            })
        ));
        let (ir, _) = lower("evt.buffer bcontains 6869").unwrap();
        assert_eq!(
            ir,
            Ir::Test(Test {
                slot: 0,
                quant: Quant::Any,
                pred: Pred::Str(StrOp::Contains, b"hi".to_vec())
            })
        );
    }

    #[test]
    fn type_errors() {
        let e = lower("proc.pid = abc").unwrap_err();
        assert!(e.message.contains("not a valid number"), "{e:?}");
        let e = lower("proc.pid contains 1").unwrap_err();
        assert!(
            e.message.contains("not supported for numeric filters"),
            "{e:?}"
        );
        let e = lower("fd.types = a").unwrap_err();
        assert!(e.message.contains("not supported list filters"), "{e:?}");
        assert!(lower("proc.name bcontains 6869").is_err());
        assert!(lower("proc.name < abc").is_ok());
        let e = lower("proc.nosuch = 1").unwrap_err();
        assert!(e.unknown_filter);
        let e = lower("evt.type = nosuchevent").unwrap_err();
        assert!(e.unknown_filter);
        assert!(lower("fd.sip = 300.1.1.1").is_err());
        assert!(lower("evt.buffer bcontains 6g").is_err());
    }

    #[test]
    fn slots_are_shared() {
        let (_, p) = lower("proc.name = a or proc.name = b or tolower(proc.name) = c").unwrap();
        assert_eq!(p.slots.len(), 2);
    }

    #[test]
    fn list_fields_use_all_for_in() {
        let (ir, p) = lower("fd.types in (a, b)").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(p.slots[0].shape, Shape::List);
        assert!(matches!(
            ir,
            Ir::Test(Test {
                quant: Quant::All,
                ..
            })
        ));
        let (ir, p) = lower("proc.aname in (a, b)").unwrap();
        assert_eq!(p.slots[0].shape, Shape::Ancestors);
        assert!(matches!(
            ir,
            Ir::Test(Test {
                quant: Quant::Any,
                ..
            })
        ));
    }
}
