//! Expressions to instructions: a rule's [`Ir`] becomes code in its group's
//! function (or its own, when groups share it), each predicate a call to a
//! runtime helper.

use super::helpers::*;
use super::needles::Needles;
use super::{Data, GEN_ADDR, mem};
use crate::fields::ValueKind;
use crate::filter::ast::Modifier;
use crate::filter::ir::*;
use crate::filter::lower::Program;
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// The code generator for one module's rules.
pub(super) struct Gen<'a> {
    /// Slots and patterns.
    pub(super) program: &'a Program,
    /// The constant pool.
    pub(super) data: &'a mut Data,
    /// Address of each pattern's DFA tables.
    pub(super) dfa_addrs: &'a [u32],
    /// The bytes each pattern's matches start with.
    pub(super) dfa_prefixes: &'a [Vec<u8>],
    /// First slot entry.
    pub(super) slot_base: u32,
    /// First slot generation word.
    pub(super) gen_base: u32,
    /// Table index of the first predicate function.
    pub(super) preds_base: u32,
    /// Predicate functions for list slots, in table order.
    pub(super) preds: Vec<Function>,
    /// The specialised string tests.
    pub(super) needles: &'a Needles,
    /// Function index of the table's first function.
    pub(super) table_start: u32,
}

impl Gen<'_> {
    /// The address of a slot's entry.
    fn slot_addr(&self, slot: u32) -> i32 {
        (self.slot_base + slot * 16) as i32
    }

    /// Makes sure the slot is extracted before its entry is read: a stale
    /// entry (its generation is not the event's) is written by the host's
    /// `fetch(slot)`.
    fn ensure(&self, s: &mut InstructionSink<'_>, slot: u32) {
        s.i32_const((self.gen_base + slot * 8) as i32)
            .i64_load(mem(0))
            .i32_const(GEN_ADDR as i32)
            .i64_load(mem(0))
            .i64_ne();
        s.if_(BlockType::Empty)
            .i32_const(slot as i32)
            .call(F_FETCH)
            .end();
    }

    /// Pushes the expression's truth value (i32 0/1).
    pub(super) fn emit_ir(&mut self, s: &mut InstructionSink<'_>, ir: &Ir) {
        crate::deep(|| self.emit_ir_inner(s, ir))
    }

    fn emit_ir_inner(&mut self, s: &mut InstructionSink<'_>, ir: &Ir) {
        match ir {
            Ir::Const(b) => {
                s.i32_const(i32::from(*b));
            }
            Ir::And(items) => self.emit_chain(s, items, true),
            Ir::Or(items) => self.emit_chain(s, items, false),
            Ir::Not(inner) => {
                self.emit_ir(s, inner);
                s.i32_eqz();
            }
            Ir::Test(t) => self.emit_test(s, t),
        }
    }

    /// `a and b and c` as nested ifs (short-circuit), likewise for `or`.
    fn emit_chain(&mut self, s: &mut InstructionSink<'_>, items: &[Ir], and: bool) {
        match items {
            [] => {
                s.i32_const(i32::from(and));
            }
            [only] => self.emit_ir(s, only),
            [first, rest @ ..] => {
                self.emit_ir(s, first);
                let rest_chain = |g: &mut Self, s: &mut InstructionSink<'_>| {
                    crate::deep(|| g.emit_chain(s, rest, and))
                };
                s.if_(BlockType::Result(ValType::I32));
                if and {
                    rest_chain(self, s);
                    s.else_();
                    s.i32_const(0);
                } else {
                    s.i32_const(1);
                    s.else_();
                    rest_chain(self, s);
                }
                s.end();
            }
        }
    }

    /// A test of a slot: existence, or the predicate on its value (any or
    /// all elements of a list).
    fn emit_test(&mut self, s: &mut InstructionSink<'_>, t: &Test) {
        let addr = self.slot_addr(t.slot);
        let shape = self.program.slots[t.slot as usize].shape;
        self.ensure(s, t.slot);
        match t.quant {
            Quant::Exists => {
                // Extracted: tag 1 (a value) or 2 (a list, even empty).
                s.i32_const(addr).i32_load(mem(0)).i32_const(0).i32_ne();
            }
            Quant::Any | Quant::All if shape == Shape::Scalar => {
                s.i32_const(addr).i32_load(mem(0)).i32_const(1).i32_eq();
                s.if_(BlockType::Result(ValType::I32));
                self.emit_pred(s, &t.pred, Elem::Const(addr));
                s.else_();
                s.i32_const(0);
                s.end();
            }
            Quant::Any | Quant::All => {
                let mut f = Function::new([]);
                {
                    let mut fs = f.instructions();
                    self.emit_pred(&mut fs, &t.pred, Elem::Local(0));
                    fs.end();
                }
                let table_idx = (self.preds_base + self.preds.len() as u32) as i32;
                self.preds.push(f);
                s.i32_const(addr)
                    .i32_const(table_idx)
                    .i32_const(i32::from(t.quant == Quant::All))
                    .call(F_QUANT);
            }
        }
    }

    /// Puts a string in the constant pool: (address, length).
    fn intern_str(&mut self, b: &[u8]) -> (i32, i32) {
        (self.data.intern(b, 1) as i32, b.len() as i32)
    }

    /// Pushes the predicate's value for the element at `elem`.
    fn emit_pred(&mut self, s: &mut InstructionSink<'_>, p: &Pred, elem: Elem) {
        match p {
            Pred::Num(op, c) => {
                elem.push(s);
                s.i64_load(mem(8)).i64_const(*c);
                i64_cmp(s, *op);
            }
            Pred::NumSet(set) => {
                let bytes: Vec<u8> = set.iter().flat_map(|v| v.to_le_bytes()).collect();
                let at = self.data.intern(&bytes, 8);
                elem.push(s);
                s.i64_load(mem(8))
                    .i32_const(at as i32)
                    .i32_const(set.len() as i32)
                    .call(F_I64_IN);
            }
            Pred::Double(op, c) => {
                elem.push(s);
                s.f64_load(mem(8)).f64_const((*c).into());
                f64_cmp(s, *op);
            }
            Pred::Bool { value, ne } => {
                elem.push(s);
                s.i64_load(mem(8)).i64_const(i64::from(*value));
                if *ne {
                    s.i64_ne();
                } else {
                    s.i64_eq();
                }
            }
            Pred::Str(op, needle) => self.emit_str(s, *op, needle, elem),
            Pred::StrSet(set) => self.emit_str_set(s, set, elem),
            Pred::Pattern(i) => self.emit_pattern(s, *i as usize, elem),
            Pred::Net { nets, ne } => self.emit_net(s, nets, *ne, elem),
            Pred::Modified(m, preds) => self.emit_modified(s, *m, preds, elem),
            Pred::Field(op, other) => {
                let oaddr = self.slot_addr(*other);
                let kind = self.program.slots[*other as usize].kind;
                self.ensure(s, *other);
                s.i32_const(oaddr).i32_load(mem(0)).i32_const(1).i32_eq();
                s.if_(BlockType::Result(ValType::I32));
                self.emit_field_cmp(s, *op, kind, elem, oaddr);
                s.else_();
                s.i32_const(0);
                s.end();
            }
        }
    }

    /// A pattern: its automaton walked, when the value starts with the
    /// bytes every match starts with (a specialised `startswith` first).
    fn emit_pattern(&mut self, s: &mut InstructionSink<'_>, i: usize, elem: Elem) {
        let prefix = &self.dfa_prefixes[i];
        let filter = match prefix.is_empty() {
            true => None,
            false => self.needles.get(StrOp::StartsWith, prefix),
        };
        if let Some(func) = filter {
            elem.push_str(s);
            s.call(func).if_(BlockType::Result(ValType::I32));
        }
        elem.push_str(s);
        s.i32_const(self.dfa_addrs[i] as i32).call(F_DFA);
        if filter.is_some() {
            s.else_().i32_const(0).end();
        }
    }

    /// A string operator against a constant.
    fn emit_str(&mut self, s: &mut InstructionSink<'_>, op: StrOp, needle: &[u8], elem: Elem) {
        if let Some(func) = self.needles.get(op, needle) {
            elem.push_str(s);
            s.call(func);
            if op == StrOp::Ne {
                s.i32_eqz();
            }
            return;
        }
        let (cp, cl) = self.intern_str(needle);
        elem.push_str(s);
        s.i32_const(cp).i32_const(cl);
        match op {
            StrOp::Eq => s.call(F_STR_EQ),
            StrOp::Ne => s.call(F_STR_EQ).i32_eqz(),
            StrOp::Contains => s.call(F_CONTAINS),
            StrOp::IContains => s.call(F_ICONTAINS),
            StrOp::StartsWith => s.call(F_STARTS),
            StrOp::EndsWith => s.call(F_ENDS),
            StrOp::Lt => s.call(F_MEMCMP).i32_const(0).i32_lt_s(),
            StrOp::Le => s.call(F_MEMCMP).i32_const(0).i32_le_s(),
            StrOp::Gt => s.call(F_MEMCMP).i32_const(0).i32_gt_s(),
            StrOp::Ge => s.call(F_MEMCMP).i32_const(0).i32_ge_s(),
        };
    }

    /// Membership in a set of strings: its specialised function, else a
    /// table sorted by length, then bytes (for the general helper).
    fn emit_str_set(&mut self, s: &mut InstructionSink<'_>, set: &[Vec<u8>], elem: Elem) {
        if let Some(func) = self.needles.set(set) {
            elem.push_str(s);
            s.call(func);
            return;
        }
        let mut by_len: Vec<&Vec<u8>> = set.iter().collect();
        by_len.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        let entries: Vec<(i32, i32)> = by_len.iter().map(|b| self.intern_str(b)).collect();
        let table: Vec<u8> = entries
            .iter()
            .flat_map(|(p, l)| p.to_le_bytes().into_iter().chain(l.to_le_bytes()))
            .collect();
        let at = self.data.intern(&table, 4);
        elem.push_str(s);
        s.i32_const(at as i32)
            .i32_const(set.len() as i32)
            .call(F_STR_IN);
    }

    /// Membership in networks: a table of (masked address, mask) pairs.
    fn emit_net(
        &mut self,
        s: &mut InstructionSink<'_>,
        nets: &[([u8; 16], u8)],
        ne: bool,
        elem: Elem,
    ) {
        let mut table = Vec::with_capacity(nets.len() * 32);
        for (net, prefix) in nets {
            let mut mask = [0u8; 16];
            for (i, m) in mask.iter_mut().enumerate() {
                let bits = (*prefix as i32 - i as i32 * 8).clamp(0, 8);
                *m = if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
            }
            let masked: Vec<u8> = net.iter().zip(mask).map(|(a, m)| a & m).collect();
            table.extend_from_slice(&masked);
            table.extend_from_slice(&mask);
        }
        let at = self.data.intern(&table, 8);
        elem.push(s);
        s.i32_load(mem(4));
        s.i32_const(at as i32)
            .i32_const(nets.len() as i32)
            .call(F_NET);
        if ne {
            s.i32_eqz();
        }
    }

    /// `anyof`/`allof`/`oneof`: counts the matching element predicates.
    fn emit_modified(
        &mut self,
        s: &mut InstructionSink<'_>,
        m: Modifier,
        preds: &[Pred],
        elem: Elem,
    ) {
        for (i, p) in preds.iter().enumerate() {
            self.emit_pred(s, p, elem);
            if i > 0 {
                s.i32_add();
            }
        }
        match m {
            Modifier::AnyOf => s.i32_const(0).i32_ne(),
            Modifier::AllOf => s.i32_const(preds.len() as i32).i32_eq(),
            Modifier::OneOf => s.i32_const(1).i32_eq(),
        };
    }

    /// A comparison of the element with another field's value at `other`.
    fn emit_field_cmp(
        &mut self,
        s: &mut InstructionSink<'_>,
        op: FieldOp,
        kind: ValueKind,
        elem: Elem,
        other: i32,
    ) {
        let two_strs = |s: &mut InstructionSink<'_>| {
            elem.push_str(s);
            s.i32_const(other)
                .i32_load(mem(4))
                .i32_const(other)
                .i32_load(mem(8));
        };
        match (op, kind) {
            (FieldOp::Cmp(o), ValueKind::Num | ValueKind::Bool) => {
                elem.push(s);
                s.i64_load(mem(8)).i32_const(other).i64_load(mem(8));
                i64_cmp(s, o);
            }
            (FieldOp::Cmp(o), ValueKind::Double) => {
                elem.push(s);
                s.f64_load(mem(8)).i32_const(other).f64_load(mem(8));
                f64_cmp(s, o);
            }
            (FieldOp::Cmp(o), ValueKind::Ip | ValueKind::IpNet) => {
                elem.push(s);
                s.i32_load(mem(4))
                    .i32_const(other)
                    .i32_load(mem(4))
                    .i32_const(16)
                    .call(F_MEMEQ);
                if o == NumOp::Ne {
                    s.i32_eqz();
                }
            }
            (FieldOp::Cmp(o), ValueKind::Str | ValueKind::Bytes) => {
                two_strs(s);
                s.call(F_MEMCMP).i32_const(0);
                match o {
                    NumOp::Eq => s.i32_eq(),
                    NumOp::Ne => s.i32_ne(),
                    NumOp::Lt => s.i32_lt_s(),
                    NumOp::Le => s.i32_le_s(),
                    NumOp::Gt => s.i32_gt_s(),
                    NumOp::Ge => s.i32_ge_s(),
                };
            }
            (FieldOp::Contains, _) => {
                two_strs(s);
                s.call(F_CONTAINS);
            }
            (FieldOp::IContains, _) => {
                two_strs(s);
                s.call(F_ICONTAINS);
            }
            (FieldOp::StartsWith, _) => {
                two_strs(s);
                s.call(F_STARTS);
            }
            (FieldOp::EndsWith, _) => {
                two_strs(s);
                s.call(F_ENDS);
            }
        }
    }
}

/// Where the element under test is: a constant address (a scalar slot) or
/// the predicate function's parameter.
#[derive(Clone, Copy)]
enum Elem {
    Const(i32),
    Local(u32),
}

impl Elem {
    /// Pushes the element's address.
    fn push(self, s: &mut InstructionSink<'_>) {
        match self {
            Elem::Const(a) => s.i32_const(a),
            Elem::Local(l) => s.local_get(l),
        };
    }

    /// Pushes the element's string: address and length.
    fn push_str(self, s: &mut InstructionSink<'_>) {
        self.push(s);
        s.i32_load(mem(4));
        self.push(s);
        s.i32_load(mem(8));
    }
}

/// Compares the two i64s on the stack (signed).
fn i64_cmp(s: &mut InstructionSink<'_>, op: NumOp) {
    match op {
        NumOp::Eq => s.i64_eq(),
        NumOp::Ne => s.i64_ne(),
        NumOp::Lt => s.i64_lt_s(),
        NumOp::Le => s.i64_le_s(),
        NumOp::Gt => s.i64_gt_s(),
        NumOp::Ge => s.i64_ge_s(),
    };
}

/// Compares the two f64s on the stack.
fn f64_cmp(s: &mut InstructionSink<'_>, op: NumOp) {
    match op {
        NumOp::Eq => s.f64_eq(),
        NumOp::Ne => s.f64_ne(),
        NumOp::Lt => s.f64_lt(),
        NumOp::Le => s.f64_le(),
        NumOp::Gt => s.f64_gt(),
        NumOp::Ge => s.f64_ge(),
    };
}
