//! Type checking: an expanded condition ([`Expr`] without macros) → [`Ir`].
//!
//! Fields are resolved against the source's registry, literals are parsed
//! according to the field's type, operators are checked against the type,
//! and every field use is interned as a slot of the [`Program`] being built.
//! Comparisons are lowered in `check`, their literals parsed in `literal`.

mod check;
mod literal;

pub use literal::parse_num;

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
