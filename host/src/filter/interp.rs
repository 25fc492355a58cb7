//! The reference interpreter: evaluates [`Ir`] directly over an event's
//! extracted values. It is deliberately simple — it is the oracle the Wasm
//! back end is tested against — but it is also a complete back end.

use super::ast::Modifier;
use super::eventbuf::{EventBuf, ValueRef};
use super::ir::*;
use super::lower::Program;
use super::{CompileError, pattern};
use crate::fields::ValueKind;

/// Compiled patterns and slot kinds for one [`Program`].
#[derive(Clone, Debug)]
pub struct Interp {
    patterns: Vec<regex::bytes::Regex>,
    kinds: Vec<ValueKind>,
}

impl Interp {
    /// Prepares the interpreter for a program (compiles its patterns).
    pub fn new(program: &Program) -> Result<Interp, CompileError> {
        let patterns = program
            .patterns
            .iter()
            .map(|p| {
                pattern::interp_regex(&p.regex).map_err(|source| CompileError::Pattern {
                    pattern: p.regex.clone(),
                    source,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Interp {
            patterns,
            kinds: program.slots.iter().map(|s| s.kind).collect(),
        })
    }

    /// Evaluates an expression over the event's values.
    pub fn eval(&self, ir: &Ir, buf: &EventBuf) -> bool {
        crate::deep(|| self.eval_inner(ir, buf))
    }

    fn eval_inner(&self, ir: &Ir, buf: &EventBuf) -> bool {
        match ir {
            Ir::Const(b) => *b,
            Ir::And(v) => v.iter().all(|i| self.eval(i, buf)),
            Ir::Or(v) => v.iter().any(|i| self.eval(i, buf)),
            Ir::Not(i) => !self.eval(i, buf),
            Ir::Test(t) => self.test(t, buf),
        }
    }

    fn test(&self, t: &Test, buf: &EventBuf) -> bool {
        let kind = self.kinds[t.slot as usize];
        if !buf.is_present(t.slot) {
            return false;
        }
        match t.quant {
            Quant::Exists => true,
            Quant::Any => !buf.for_each(t.slot, kind, |v| !self.pred(&t.pred, v, buf)),
            Quant::All => buf.for_each(t.slot, kind, |v| self.pred(&t.pred, v, buf)),
        }
    }

    fn pred(&self, p: &Pred, v: ValueRef<'_>, buf: &EventBuf) -> bool {
        match (p, v) {
            (Pred::Num(op, c), ValueRef::Num(x)) => op.apply(x, *c),
            (Pred::NumSet(set), ValueRef::Num(x)) => set.contains(&x),
            (Pred::Double(op, c), ValueRef::Double(x)) => op.apply(x, *c),
            (Pred::Bool { value, ne }, ValueRef::Bool(x)) => (x == *value) != *ne,
            (Pred::Str(op, c), ValueRef::Bytes(x)) => str_op(*op, x, c),
            (Pred::StrSet(set), ValueRef::Bytes(x)) => set.iter().any(|s| s == x),
            (Pred::Pattern(i), ValueRef::Bytes(x)) => self.patterns[*i as usize].is_match(x),
            (Pred::Net { nets, ne }, ValueRef::Ip(a)) => {
                nets.iter().any(|(n, p)| in_net(a, n, *p)) != *ne
            }
            (Pred::Modified(m, preds), v) => {
                let n = preds.iter().filter(|p| self.pred(p, v, buf)).count();
                match m {
                    Modifier::AnyOf => n > 0,
                    Modifier::AllOf => n == preds.len(),
                    Modifier::OneOf => n == 1,
                }
            }
            (Pred::Field(op, other), v) => match buf.one(*other, self.kinds[*other as usize]) {
                Some(o) => field_op(*op, v, o),
                None => false,
            },
            _ => false,
        }
    }
}

fn str_op(op: StrOp, x: &[u8], c: &[u8]) -> bool {
    match op {
        StrOp::Eq => x == c,
        StrOp::Ne => x != c,
        StrOp::Contains => contains(x, c),
        StrOp::IContains => contains(&x.to_ascii_lowercase(), c),
        StrOp::StartsWith => x.starts_with(c),
        StrOp::EndsWith => x.ends_with(c),
        StrOp::Lt => x < c,
        StrOp::Le => x <= c,
        StrOp::Gt => x > c,
        StrOp::Ge => x >= c,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn field_op(op: FieldOp, a: ValueRef<'_>, b: ValueRef<'_>) -> bool {
    match (op, a, b) {
        (FieldOp::Cmp(o), ValueRef::Num(x), ValueRef::Num(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), ValueRef::Double(x), ValueRef::Double(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), ValueRef::Bytes(x), ValueRef::Bytes(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), ValueRef::Bool(x), ValueRef::Bool(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), ValueRef::Ip(x), ValueRef::Ip(y)) => o.apply(x, y),
        (FieldOp::Contains, ValueRef::Bytes(x), ValueRef::Bytes(y)) => contains(x, y),
        (FieldOp::IContains, ValueRef::Bytes(x), ValueRef::Bytes(y)) => {
            contains(&x.to_ascii_lowercase(), &y.to_ascii_lowercase())
        }
        (FieldOp::StartsWith, ValueRef::Bytes(x), ValueRef::Bytes(y)) => x.starts_with(y),
        (FieldOp::EndsWith, ValueRef::Bytes(x), ValueRef::Bytes(y)) => x.ends_with(y),
        _ => false,
    }
}
