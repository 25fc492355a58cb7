//! The reference interpreter: evaluates [`Ir`] directly over extracted
//! values. It is deliberately simple — it is the oracle the Wasm back end is
//! tested against — but it is also a complete back end in its own right.

use super::ast::Modifier;
use super::ir::*;
use super::lower::Program;
use super::pattern;
use super::value::{SlotValue, Value};

/// Compiled patterns for one [`Program`].
#[derive(Clone, Debug)]
pub struct Interp {
    patterns: Vec<regex::bytes::Regex>,
}

impl Interp {
    /// Prepares the interpreter for a program (compiles its patterns).
    pub fn new(program: &Program) -> Result<Interp, String> {
        let patterns = program
            .patterns
            .iter()
            .map(|p| pattern::interp_regex(&p.regex).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(Interp { patterns })
    }

    /// Evaluates an expression; `slots` is indexed by slot number.
    pub fn eval(&self, ir: &Ir, slots: &[SlotValue]) -> bool {
        crate::deep(|| self.eval_inner(ir, slots))
    }

    fn eval_inner(&self, ir: &Ir, slots: &[SlotValue]) -> bool {
        match ir {
            Ir::Const(b) => *b,
            Ir::And(v) => v.iter().all(|i| self.eval(i, slots)),
            Ir::Or(v) => v.iter().any(|i| self.eval(i, slots)),
            Ir::Not(i) => !self.eval(i, slots),
            Ir::Test(t) => self.test(t, slots),
        }
    }

    fn test(&self, t: &Test, slots: &[SlotValue]) -> bool {
        let slot = &slots[t.slot as usize];
        let values = slot.values();
        match t.quant {
            Quant::Exists => *slot != SlotValue::Missing,
            Quant::Any => values.iter().any(|v| self.pred(&t.pred, v, slots)),
            Quant::All => {
                *slot != SlotValue::Missing && values.iter().all(|v| self.pred(&t.pred, v, slots))
            }
        }
    }

    fn pred(&self, p: &Pred, v: &Value, slots: &[SlotValue]) -> bool {
        match (p, v) {
            (Pred::Num(op, c), Value::Num(x)) => op.apply(*x, *c),
            (Pred::NumSet(set), Value::Num(x)) => set.contains(x),
            (Pred::Double(op, c), Value::Double(x)) => op.apply(*x, *c),
            (Pred::Bool { value, ne }, Value::Bool(x)) => (x == value) != *ne,
            (Pred::Str(op, c), Value::Bytes(x)) => str_op(*op, x, c),
            (Pred::StrSet(set), Value::Bytes(x)) => set.iter().any(|s| s == x),
            (Pred::Pattern(i), Value::Bytes(x)) => self.patterns[*i as usize].is_match(x),
            (Pred::Net { nets, ne }, Value::Ip(a)) => {
                nets.iter().any(|(n, p)| in_net(a, n, *p)) != *ne
            }
            (Pred::Modified(m, preds), v) => {
                let n = preds.iter().filter(|p| self.pred(p, v, slots)).count();
                match m {
                    Modifier::AnyOf => n > 0,
                    Modifier::AllOf => n == preds.len(),
                    Modifier::OneOf => n == 1,
                }
            }
            (Pred::Field(op, other), v) => match &slots[*other as usize] {
                SlotValue::One(o) => field_op(*op, v, o),
                _ => false,
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

fn field_op(op: FieldOp, a: &Value, b: &Value) -> bool {
    match (op, a, b) {
        (FieldOp::Cmp(o), Value::Num(x), Value::Num(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), Value::Double(x), Value::Double(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), Value::Bytes(x), Value::Bytes(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), Value::Bool(x), Value::Bool(y)) => o.apply(x, y),
        (FieldOp::Cmp(o), Value::Ip(x), Value::Ip(y)) => o.apply(x, y),
        (FieldOp::Contains, Value::Bytes(x), Value::Bytes(y)) => contains(x, y),
        (FieldOp::IContains, Value::Bytes(x), Value::Bytes(y)) => {
            contains(&x.to_ascii_lowercase(), &y.to_ascii_lowercase())
        }
        (FieldOp::StartsWith, Value::Bytes(x), Value::Bytes(y)) => x.starts_with(y),
        (FieldOp::EndsWith, Value::Bytes(x), Value::Bytes(y)) => x.ends_with(y),
        _ => false,
    }
}
