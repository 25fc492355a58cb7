//! The Wasm back end: a [`Program`]'s rules → one WebAssembly module,
//! generated at run time with `wasm-encoder`.
//!
//! Memory layout (all addresses fixed at compile time, see [`Layout`]):
//!
//! ```text
//! 0 ..            constants: needles, sorted sets, DFA tables, group lists
//! slot_base ..    one 16-byte entry per slot, written by the host per event
//! result_base ..  matched rule indices (u32), written by `eval` in `all` mode
//! heap_base ..    the event's strings, addresses and list elements
//! ```
//!
//! A slot entry (and a list element) is `[tag: u32][a: u32][b: u64]`: tag 0 =
//! missing, 1 = one value, 2 = a list (`a` = address of `b` elements). A value
//! is kind-dependent: a string is `a` = address, `b` = length; a number,
//! boolean or float is `b`; an IP address is `a` = address of 16 bytes.
//!
//! Exports: `memory` and `eval(group: i32, all: i32) -> i32`. `eval` runs the
//! group's rules in order; with `all = 0` it returns 1 + the first matching
//! rule's index (0 for none), with `all = 1` it stores every matching rule's
//! index at `result_base` and returns how many.

use super::ast::Modifier;
use super::ir::*;
use super::lower::Program;
use super::pattern::Dfa;
use crate::fields::ValueKind;
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ElementSection, Elements, ExportKind,
    ExportSection, Function, FunctionSection, InstructionSink, MemArg, MemArgTarget, MemorySection,
    MemoryType, Module, RefType, TableSection, TableType, TypeSection, ValType,
};

/// Fixed addresses of the generated module's memory regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// First slot entry.
    pub slot_base: u32,
    /// Matched rule indices (`all` mode).
    pub result_base: u32,
    /// Start of the per-event heap.
    pub heap_base: u32,
    /// Initial memory size in 64 KiB pages.
    pub initial_pages: u32,
}

/// A generated module and its layout.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The module's bytes.
    pub wasm: Vec<u8>,
    /// Its memory layout.
    pub layout: Layout,
}

/// One rule to compile: its expression. Rules are numbered by their
/// position in the slice given to [`generate`].
pub type RuleIr<'a> = &'a Ir;

// Type indices.
const T_3I: u32 = 0; // (i32, i32, i32) -> i32
const T_4I: u32 = 1; // (i32, i32, i32, i32) -> i32
const T_I64_2I: u32 = 2; // (i64, i32, i32) -> i32
const T_1I: u32 = 3; // (i32) -> i32
const T_0: u32 = 4; // () -> i32
const T_2I: u32 = 5; // (i32, i32) -> i32

// Helper function indices (in the order they are emitted).
const F_MEMEQ: u32 = 0;
const F_IMEMEQ: u32 = 1;
const F_STR_EQ: u32 = 2;
const F_STARTS: u32 = 3;
const F_ENDS: u32 = 4;
const F_CONTAINS: u32 = 5;
const F_ICONTAINS: u32 = 6;
const F_MEMCMP: u32 = 7;
const F_STR_IN: u32 = 8;
const F_I64_IN: u32 = 9;
const F_DFA: u32 = 10;
const F_NET: u32 = 11;
const F_QUANT: u32 = 12;
const F_LOWER: u32 = 13;
const N_HELPERS: u32 = 14;

/// Memory page size.
const PAGE: u32 = 65536;

fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 0,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// Constant pool being laid out, at `base` in memory.
struct Data {
    base: u32,
    bytes: Vec<u8>,
}

impl Data {
    /// Appends bytes and returns their address.
    fn put(&mut self, b: &[u8], align: usize) -> u32 {
        while !self.bytes.len().is_multiple_of(align) {
            self.bytes.push(0);
        }
        let at = self.base + self.bytes.len() as u32;
        self.bytes.extend_from_slice(b);
        at
    }
}

/// Generates the module for `rules` (evaluated in `groups`, each a list of
/// rule indices in evaluation order). Memory may grow to `max_pages`.
pub fn generate(
    program: &Program,
    rules: &[RuleIr<'_>],
    groups: &[Vec<u32>],
    max_pages: u32,
) -> Result<Generated, String> {
    let nrules = rules.len() as u32;
    // Slots and results come first, so their addresses are known before any
    // constant is placed.
    let slot_base = 16u32;
    let result_base = slot_base + program.slots.len() as u32 * 16;
    let data_base = (result_base + nrules * 4).div_ceil(16) * 16;
    let mut data = Data {
        base: data_base,
        bytes: Vec::new(),
    };

    // Patterns → DFA tables.
    let mut dfa_addrs = Vec::with_capacity(program.patterns.len());
    for p in &program.patterns {
        let dfa = Dfa::build(&p.regex)?;
        let mut t = Vec::with_capacity(272 + dfa.trans.len() * 4);
        t.extend_from_slice(&dfa.classes);
        t.extend_from_slice(&dfa.nclasses.to_le_bytes());
        t.extend_from_slice(&dfa.start.to_le_bytes());
        t.extend_from_slice(&dfa.dead.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes()); // accept table address, patched below
        for x in &dfa.trans {
            t.extend_from_slice(&x.to_le_bytes());
        }
        let at = data.put(&t, 8);
        let accept = data.put(&dfa.accept, 1);
        let off = (at - data.base) as usize + 268;
        data.bytes[off..off + 4].copy_from_slice(&accept.to_le_bytes());
        dfa_addrs.push(at);
    }

    let mut g = Gen {
        program,
        data: &mut data,
        dfa_addrs: &dfa_addrs,
        slot_base,
        nrules,
        preds: Vec::new(),
    };
    let mut rule_bodies = Vec::with_capacity(rules.len());
    for ir in rules {
        let mut f = Function::new([]);
        g.emit_ir(&mut f.instructions(), ir);
        f.instructions().end();
        rule_bodies.push(f);
    }
    let preds = std::mem::take(&mut g.preds);

    // Group table: per group, (address of its rule list, count).
    let mut group_table = Vec::with_capacity(groups.len() * 8);
    for g in groups {
        let bytes: Vec<u8> = g.iter().flat_map(|r| r.to_le_bytes()).collect();
        let at = data.put(&bytes, 4);
        group_table.extend_from_slice(&at.to_le_bytes());
        group_table.extend_from_slice(&(g.len() as u32).to_le_bytes());
    }
    let group_base = data.put(&group_table, 8);

    let heap_base = (data.base + data.bytes.len() as u32).div_ceil(64) * 64;
    let initial_pages = (heap_base + PAGE).div_ceil(PAGE);
    if initial_pages > max_pages {
        return Err(format!(
            "compiled rules need {initial_pages} memory pages, more than the limit of {max_pages}"
        ));
    }
    let layout = Layout {
        slot_base,
        result_base,
        heap_base,
        initial_pages,
    };
    Ok(assemble(
        data,
        rule_bodies,
        preds,
        group_base,
        layout,
        max_pages,
    ))
}

fn assemble(
    data: Data,
    rule_bodies: Vec<Function>,
    preds: Vec<Function>,
    group_base: u32,
    layout: Layout,
    max_pages: u32,
) -> Generated {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32; 3], [ValType::I32]);
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    types
        .ty()
        .function([ValType::I64, ValType::I32, ValType::I32], [ValType::I32]);
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([], [ValType::I32]);
    types.ty().function([ValType::I32; 2], [ValType::I32]);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    for (ty, f) in helpers() {
        funcs.function(ty);
        code.function(&f);
    }
    let nrules = rule_bodies.len() as u32;
    let npreds = preds.len() as u32;
    let rules_start = N_HELPERS;
    let preds_start = rules_start + nrules;
    let eval_idx = preds_start + npreds;
    for f in &rule_bodies {
        funcs.function(T_0);
        code.function(f);
    }
    for f in &preds {
        funcs.function(T_1I);
        code.function(f);
    }
    funcs.function(T_2I);
    code.function(&eval_fn(group_base, layout.result_base));

    let mut table = TableSection::new();
    let nelems = u64::from(nrules + npreds);
    table.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: nelems,
        maximum: Some(nelems),
        shared: false,
    });
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: u64::from(layout.initial_pages),
        maximum: Some(u64::from(max_pages)),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("eval", ExportKind::Func, eval_idx);
    let mut elements = ElementSection::new();
    let func_indices: Vec<u32> = (rules_start..eval_idx).collect();
    if !func_indices.is_empty() {
        elements.active(
            Some(0),
            &ConstExpr::i32_const(0),
            Elements::Functions(func_indices.into()),
        );
    }
    let mut datas = DataSection::new();
    datas.active(
        0,
        &ConstExpr::i32_const(data.base as i32),
        data.bytes.iter().copied(),
    );

    let mut module = Module::new();
    module.section(&types);
    module.section(&funcs);
    module.section(&table);
    module.section(&memories);
    module.section(&exports);
    module.section(&elements);
    module.section(&code);
    module.section(&datas);
    Generated {
        wasm: module.finish(),
        layout,
    }
}

struct Gen<'a> {
    program: &'a Program,
    data: &'a mut Data,
    dfa_addrs: &'a [u32],
    slot_base: u32,
    nrules: u32,
    preds: Vec<Function>,
}

impl Gen<'_> {
    fn slot_addr(&self, slot: u32) -> i32 {
        (self.slot_base + slot * 16) as i32
    }

    /// Pushes the expression's truth value (i32 0/1).
    fn emit_ir(&mut self, s: &mut InstructionSink<'_>, ir: &Ir) {
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

    fn emit_test(&mut self, s: &mut InstructionSink<'_>, t: &Test) {
        let addr = self.slot_addr(t.slot);
        let shape = self.program.slots[t.slot as usize].shape;
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
                // Table index: rules first, then predicates.
                let table_idx = (self.nrules + self.preds.len() as u32) as i32;
                self.preds.push(f);
                s.i32_const(addr)
                    .i32_const(table_idx)
                    .i32_const(i32::from(t.quant == Quant::All))
                    .call(F_QUANT);
            }
        }
    }

    fn intern_str(&mut self, b: &[u8]) -> (i32, i32) {
        (self.data.put(b, 1) as i32, b.len() as i32)
    }

    /// Pushes the predicate's value for the element at `elem`.
    fn emit_pred(&mut self, s: &mut InstructionSink<'_>, p: &Pred, elem: Elem) {
        let load_ptr = |s: &mut InstructionSink<'_>| {
            elem.push(s);
            s.i32_load(mem(4));
        };
        let load_len = |s: &mut InstructionSink<'_>| {
            elem.push(s);
            s.i32_load(mem(8));
        };
        match p {
            Pred::Num(op, c) => {
                elem.push(s);
                s.i64_load(mem(8)).i64_const(*c);
                match op {
                    NumOp::Eq => s.i64_eq(),
                    NumOp::Ne => s.i64_ne(),
                    NumOp::Lt => s.i64_lt_s(),
                    NumOp::Le => s.i64_le_s(),
                    NumOp::Gt => s.i64_gt_s(),
                    NumOp::Ge => s.i64_ge_s(),
                };
            }
            Pred::NumSet(set) => {
                let bytes: Vec<u8> = set.iter().flat_map(|v| v.to_le_bytes()).collect();
                let at = self.data.put(&bytes, 8);
                elem.push(s);
                s.i64_load(mem(8))
                    .i32_const(at as i32)
                    .i32_const(set.len() as i32)
                    .call(F_I64_IN);
            }
            Pred::Double(op, c) => {
                elem.push(s);
                s.f64_load(mem(8)).f64_const((*c).into());
                match op {
                    NumOp::Eq => s.f64_eq(),
                    NumOp::Ne => s.f64_ne(),
                    NumOp::Lt => s.f64_lt(),
                    NumOp::Le => s.f64_le(),
                    NumOp::Gt => s.f64_gt(),
                    NumOp::Ge => s.f64_ge(),
                };
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
            Pred::Str(op, needle) => {
                let (cp, cl) = self.intern_str(needle);
                load_ptr(s);
                load_len(s);
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
            Pred::StrSet(set) => {
                let mut by_len: Vec<&Vec<u8>> = set.iter().collect();
                by_len.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
                let entries: Vec<(i32, i32)> = by_len.iter().map(|b| self.intern_str(b)).collect();
                let table: Vec<u8> = entries
                    .iter()
                    .flat_map(|(p, l)| p.to_le_bytes().into_iter().chain(l.to_le_bytes()))
                    .collect();
                let at = self.data.put(&table, 4);
                load_ptr(s);
                load_len(s);
                s.i32_const(at as i32)
                    .i32_const(set.len() as i32)
                    .call(F_STR_IN);
            }
            Pred::Pattern(i) => {
                load_ptr(s);
                load_len(s);
                s.i32_const(self.dfa_addrs[*i as usize] as i32).call(F_DFA);
            }
            Pred::Net { nets, ne } => {
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
                let at = self.data.put(&table, 8);
                load_ptr(s);
                s.i32_const(at as i32)
                    .i32_const(nets.len() as i32)
                    .call(F_NET);
                if *ne {
                    s.i32_eqz();
                }
            }
            Pred::Modified(m, preds) => {
                // Count the matching element predicates.
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
            Pred::Field(op, other) => {
                let oaddr = self.slot_addr(*other);
                let kind = self.program.slots[*other as usize].kind;
                s.i32_const(oaddr).i32_load(mem(0)).i32_const(1).i32_eq();
                s.if_(BlockType::Result(ValType::I32));
                self.emit_field_cmp(s, *op, kind, elem, oaddr);
                s.else_();
                s.i32_const(0);
                s.end();
            }
        }
    }

    fn emit_field_cmp(
        &mut self,
        s: &mut InstructionSink<'_>,
        op: FieldOp,
        kind: ValueKind,
        elem: Elem,
        other: i32,
    ) {
        let two_strs = |s: &mut InstructionSink<'_>| {
            elem.push(s);
            s.i32_load(mem(4));
            elem.push(s);
            s.i32_load(mem(8));
            s.i32_const(other)
                .i32_load(mem(4))
                .i32_const(other)
                .i32_load(mem(8));
        };
        match (op, kind) {
            (FieldOp::Cmp(o), ValueKind::Num | ValueKind::Bool) => {
                elem.push(s);
                s.i64_load(mem(8)).i32_const(other).i64_load(mem(8));
                match o {
                    NumOp::Eq => s.i64_eq(),
                    NumOp::Ne => s.i64_ne(),
                    NumOp::Lt => s.i64_lt_s(),
                    NumOp::Le => s.i64_le_s(),
                    NumOp::Gt => s.i64_gt_s(),
                    NumOp::Ge => s.i64_ge_s(),
                };
            }
            (FieldOp::Cmp(o), ValueKind::Double) => {
                elem.push(s);
                s.f64_load(mem(8)).i32_const(other).f64_load(mem(8));
                match o {
                    NumOp::Eq => s.f64_eq(),
                    NumOp::Ne => s.f64_ne(),
                    NumOp::Lt => s.f64_lt(),
                    NumOp::Le => s.f64_le(),
                    NumOp::Gt => s.f64_gt(),
                    NumOp::Ge => s.f64_ge(),
                };
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
    fn push(self, s: &mut InstructionSink<'_>) {
        match self {
            Elem::Const(a) => s.i32_const(a),
            Elem::Local(l) => s.local_get(l),
        };
    }
}

fn eval_fn(group_base: u32, result_base: u32) -> Function {
    // params: 0 group, 1 all; locals: 2 p, 3 end, 4 r, 5 n
    let mut f = Function::new([(4, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(0)
        .i32_const(8)
        .i32_mul()
        .i32_const(group_base as i32)
        .i32_add()
        .local_tee(2);
    s.i32_load(mem(4)).i32_const(4).i32_mul();
    s.local_get(2)
        .i32_load(mem(0))
        .local_tee(2)
        .i32_add()
        .local_set(3);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(2).local_get(3).i32_ge_u().br_if(1);
    s.local_get(2)
        .i32_load(mem(0))
        .local_tee(4)
        .call_indirect(0, T_0);
    s.if_(BlockType::Empty);
    s.local_get(1).i32_eqz().if_(BlockType::Empty);
    s.local_get(4).i32_const(1).i32_add().return_();
    s.end();
    s.local_get(5)
        .i32_const(4)
        .i32_mul()
        .i32_const(result_base as i32)
        .i32_add()
        .local_get(4)
        .i32_store(mem(0));
    s.local_get(5).i32_const(1).i32_add().local_set(5);
    s.end();
    s.local_get(2).i32_const(4).i32_add().local_set(2);
    s.br(0);
    s.end().end();
    s.local_get(5);
    s.end();
    f
}

/// `if (top of stack) return v`.
fn ret_if(s: &mut InstructionSink<'_>, v: i32) {
    s.if_(BlockType::Empty).i32_const(v).return_().end();
}

/// The hand-written runtime helpers, in `F_*` order.
fn helpers() -> Vec<(u32, Function)> {
    vec![
        (T_3I, memeq(false)),
        (T_3I, memeq(true)),
        (T_4I, str_eq()),
        (T_4I, starts()),
        (T_4I, ends()),
        (T_4I, contains(false)),
        (T_4I, contains(true)),
        (T_4I, memcmp()),
        (T_4I, str_in()),
        (T_I64_2I, i64_in()),
        (T_3I, dfa()),
        (T_3I, net()),
        (T_3I, quant()),
        (T_1I, lower()),
    ]
}

/// memeq(p1, p2, n): bytes equal; 8 at a time, then one by one. With
/// `fold`, compares ASCII case-insensitively (byte by byte).
fn memeq(fold: bool) -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    if !fold {
        // while n >= 8
        s.local_get(2).i32_const(8).i32_lt_u().br_if(1);
        s.local_get(0)
            .i64_load(mem(0))
            .local_get(1)
            .i64_load(mem(0))
            .i64_ne();
        ret_if(&mut s, 0);
        s.local_get(0).i32_const(8).i32_add().local_set(0);
        s.local_get(1).i32_const(8).i32_add().local_set(1);
        s.local_get(2).i32_const(8).i32_sub().local_set(2);
        s.br(0);
        s.end().end();
        s.block(BlockType::Empty).loop_(BlockType::Empty);
    }
    s.local_get(2).i32_eqz().br_if(1);
    s.local_get(0).i32_load8_u(mem(0));
    if fold {
        s.call(F_LOWER);
    }
    s.local_get(1).i32_load8_u(mem(0));
    if fold {
        s.call(F_LOWER);
    }
    s.i32_ne();
    ret_if(&mut s, 0);
    s.local_get(0).i32_const(1).i32_add().local_set(0);
    s.local_get(1).i32_const(1).i32_add().local_set(1);
    s.local_get(2).i32_const(1).i32_sub().local_set(2);
    s.br(0);
    s.end().end();
    s.i32_const(1);
    s.end();
    f
}

/// lower(b): ASCII lower case.
fn lower() -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.local_get(0).i32_const(32).i32_or();
    s.local_get(0);
    s.local_get(0)
        .i32_const(65)
        .i32_sub()
        .i32_const(26)
        .i32_lt_u();
    s.select();
    s.end();
    f
}

/// str_eq(p, l, cp, cl)
fn str_eq() -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.local_get(1).local_get(3).i32_ne();
    ret_if(&mut s, 0);
    s.local_get(0).local_get(2).local_get(1).call(F_MEMEQ);
    s.end();
    f
}

/// starts(p, l, cp, cl)
fn starts() -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.local_get(1).local_get(3).i32_lt_u();
    ret_if(&mut s, 0);
    s.local_get(0).local_get(2).local_get(3).call(F_MEMEQ);
    s.end();
    f
}

/// ends(p, l, cp, cl)
fn ends() -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.local_get(1).local_get(3).i32_lt_u();
    ret_if(&mut s, 0);
    s.local_get(0).local_get(1).i32_add().local_get(3).i32_sub();
    s.local_get(2).local_get(3).call(F_MEMEQ);
    s.end();
    f
}

/// contains(p, l, cp, cl): naive search (the needle is a rule constant).
/// With `fold`, ASCII case-insensitive.
fn contains(fold: bool) -> Function {
    // locals: 4 end, 5 first
    let mut f = Function::new([(2, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(3).i32_eqz();
    ret_if(&mut s, 1);
    s.local_get(1).local_get(3).i32_lt_u();
    ret_if(&mut s, 0);
    s.local_get(0)
        .local_get(1)
        .i32_add()
        .local_get(3)
        .i32_sub()
        .local_set(4);
    s.local_get(2).i32_load8_u(mem(0));
    if fold {
        s.call(F_LOWER);
    }
    s.local_set(5);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(0).local_get(4).i32_gt_u().br_if(1);
    s.local_get(0).i32_load8_u(mem(0));
    if fold {
        s.call(F_LOWER);
    }
    s.local_get(5).i32_eq();
    s.if_(BlockType::Empty);
    s.local_get(0)
        .local_get(2)
        .local_get(3)
        .call(if fold { F_IMEMEQ } else { F_MEMEQ });
    ret_if(&mut s, 1);
    s.end();
    s.local_get(0).i32_const(1).i32_add().local_set(0);
    s.br(0);
    s.end().end();
    s.i32_const(0);
    s.end();
    f
}

/// memcmp(p1, l1, p2, l2) → -1, 0, 1 (lexicographic, shorter first on ties).
fn memcmp() -> Function {
    // locals: 4 n, 5 a, 6 b
    let mut f = Function::new([(3, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(1)
        .local_get(3)
        .local_get(1)
        .local_get(3)
        .i32_lt_u()
        .select()
        .local_set(4);
    // Skip equal 8-byte chunks.
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(4).i32_const(8).i32_lt_u().br_if(1);
    s.local_get(0)
        .i64_load(mem(0))
        .local_get(2)
        .i64_load(mem(0))
        .i64_ne()
        .br_if(1);
    s.local_get(0).i32_const(8).i32_add().local_set(0);
    s.local_get(2).i32_const(8).i32_add().local_set(2);
    s.local_get(4).i32_const(8).i32_sub().local_set(4);
    s.br(0);
    s.end().end();
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(4).i32_eqz().br_if(1);
    s.local_get(0).i32_load8_u(mem(0)).local_tee(5);
    s.local_get(2).i32_load8_u(mem(0)).local_tee(6);
    s.i32_ne().if_(BlockType::Empty);
    s.i32_const(-1)
        .i32_const(1)
        .local_get(5)
        .local_get(6)
        .i32_lt_u()
        .select()
        .return_();
    s.end();
    s.local_get(0).i32_const(1).i32_add().local_set(0);
    s.local_get(2).i32_const(1).i32_add().local_set(2);
    s.local_get(4).i32_const(1).i32_sub().local_set(4);
    s.br(0);
    s.end().end();
    // lengths decide
    s.local_get(1).local_get(3).i32_lt_u();
    ret_if(&mut s, -1);
    s.local_get(1).local_get(3).i32_gt_u();
    s.end();
    f
}

/// str_in(p, l, table, n): binary search over (ptr, len) entries sorted by
/// (length, bytes).
fn str_in() -> Function {
    // locals: 4 lo, 5 hi, 6 mid, 7 c, 8 e
    let mut f = Function::new([(5, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(3).local_set(5);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(4).local_get(5).i32_ge_u().br_if(1);
    s.local_get(4)
        .local_get(5)
        .i32_add()
        .i32_const(1)
        .i32_shr_u()
        .local_set(6);
    s.local_get(2)
        .local_get(6)
        .i32_const(8)
        .i32_mul()
        .i32_add()
        .local_set(8);
    // Entries are ordered by (length, bytes): compare lengths first, so
    // most probes never look at the bytes.
    s.local_get(1).local_get(8).i32_load(mem(4)).i32_ne();
    s.if_(BlockType::Result(ValType::I32));
    s.i32_const(-1)
        .i32_const(1)
        .local_get(1)
        .local_get(8)
        .i32_load(mem(4))
        .i32_lt_u()
        .select();
    s.else_();
    s.local_get(0)
        .local_get(1)
        .local_get(8)
        .i32_load(mem(0))
        .local_get(8)
        .i32_load(mem(4))
        .call(F_MEMCMP);
    s.end();
    s.local_tee(7);
    s.i32_eqz();
    ret_if(&mut s, 1);
    s.local_get(7).i32_const(0).i32_lt_s();
    s.if_(BlockType::Empty).local_get(6).local_set(5);
    s.else_().local_get(6).i32_const(1).i32_add().local_set(4);
    s.end();
    s.br(0);
    s.end().end();
    s.i32_const(0);
    s.end();
    f
}

/// i64_in(v, table, n): binary search over sorted i64s.
fn i64_in() -> Function {
    // params: 0 v (i64), 1 table, 2 n; locals: 3 lo, 4 hi, 5 mid (i32), 6 x (i64)
    let mut f = Function::new([(3, ValType::I32), (1, ValType::I64)]);
    let mut s = f.instructions();
    s.local_get(2).local_set(4);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(3).local_get(4).i32_ge_u().br_if(1);
    s.local_get(3)
        .local_get(4)
        .i32_add()
        .i32_const(1)
        .i32_shr_u()
        .local_set(5);
    s.local_get(1)
        .local_get(5)
        .i32_const(8)
        .i32_mul()
        .i32_add()
        .i64_load(mem(0))
        .local_tee(6);
    s.local_get(0).i64_eq();
    ret_if(&mut s, 1);
    s.local_get(0).local_get(6).i64_lt_s();
    s.if_(BlockType::Empty).local_get(5).local_set(4);
    s.else_().local_get(5).i32_const(1).i32_add().local_set(3);
    s.end();
    s.br(0);
    s.end().end();
    s.i32_const(0);
    s.end();
    f
}

/// dfa(p, l, table): walks the table (see [`Dfa`]).
fn dfa() -> Function {
    // locals: 3 state, 4 end, 5 dead
    let mut f = Function::new([(3, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(2).i32_load(mem(260)).local_set(3);
    s.local_get(2).i32_load(mem(264)).local_set(5);
    s.local_get(0).local_get(1).i32_add().local_set(4);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(0).local_get(4).i32_ge_u().br_if(1);
    // state = trans[state + classes[byte]]
    s.local_get(3)
        .local_get(2)
        .local_get(0)
        .i32_load8_u(mem(0))
        .i32_add()
        .i32_load8_u(mem(0))
        .i32_add();
    s.i32_const(4)
        .i32_mul()
        .local_get(2)
        .i32_add()
        .i32_load(mem(272))
        .local_tee(3);
    s.local_get(5).i32_eq();
    ret_if(&mut s, 0);
    s.local_get(0).i32_const(1).i32_add().local_set(0);
    s.br(0);
    s.end().end();
    // accept[state / nclasses]
    s.local_get(2).i32_load(mem(268));
    s.local_get(3).local_get(2).i32_load(mem(256)).i32_div_u();
    s.i32_add().i32_load8_u(mem(0));
    s.end();
    f
}

/// net(addr_ptr, table, n): any (masked net, mask) pair matches.
fn net() -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(2).i32_eqz().br_if(1);
    s.local_get(0)
        .i64_load(mem(0))
        .local_get(1)
        .i64_load(mem(16))
        .i64_and();
    s.local_get(1).i64_load(mem(0)).i64_eq();
    s.local_get(0)
        .i64_load(mem(8))
        .local_get(1)
        .i64_load(mem(24))
        .i64_and();
    s.local_get(1).i64_load(mem(8)).i64_eq();
    s.i32_and();
    ret_if(&mut s, 1);
    s.local_get(1).i32_const(32).i32_add().local_set(1);
    s.local_get(2).i32_const(1).i32_sub().local_set(2);
    s.br(0);
    s.end().end();
    s.i32_const(0);
    s.end();
    f
}

/// quant(slot, pred_index, all): applies a predicate (a table entry after
/// the rules) to a slot's one value or to each of its list elements.
fn quant() -> Function {
    // params: 0 slot, 1 predicate's table index, 2 all; locals: 3 p, 4 n, 5 hit
    let mut f = Function::new([(3, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(0).i32_load(mem(0)).i32_const(1).i32_eq();
    s.if_(BlockType::Empty);
    s.local_get(0).local_get(1).call_indirect(0, T_1I).return_();
    s.end();
    s.local_get(0).i32_load(mem(0)).i32_const(2).i32_ne();
    ret_if(&mut s, 0);
    s.local_get(0).i32_load(mem(4)).local_set(3);
    s.local_get(0).i32_load(mem(8)).local_set(4);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(4).i32_eqz().br_if(1);
    s.local_get(3)
        .local_get(1)
        .call_indirect(0, T_1I)
        .local_set(5);
    // any: a hit returns 1; all: a miss returns 0
    s.local_get(2).if_(BlockType::Empty);
    s.local_get(5).i32_eqz();
    ret_if(&mut s, 0);
    s.else_();
    s.local_get(5);
    ret_if(&mut s, 1);
    s.end();
    s.local_get(3).i32_const(16).i32_add().local_set(3);
    s.local_get(4).i32_const(1).i32_sub().local_set(4);
    s.br(0);
    s.end().end();
    s.local_get(2);
    s.end();
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::SourceFields;
    use crate::filter::parser::parse_condition;

    /// Every construct the generator emits validates as WebAssembly.
    #[test]
    fn generated_modules_validate() {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let conds = [
            "evt.type in (open, openat) and proc.name in (a, bb, ccc) and fd.name pmatch (/etc, /usr/*/bin)",
            "proc.aname = bash or fd.types intersects (ipv4) or proc.pid in (1, 2, 3) or proc.fdusage > 0.5",
            "not proc.cmdline icontains AbC and proc.name regex '[a-z]+' and fd.sip in (10.0.0.0/8, ::1)",
            "proc.name startswith anyof (a, b) and proc.name != val(proc.pname) and proc.is_exe_upper_layer = true",
            "evt.buffer bcontains 6869 and proc.name < m and fd.name exists and len(proc.cmdline) >= 3",
        ];
        let irs: Vec<Ir> = conds
            .iter()
            .map(|c| {
                p.lower(&fields, &parse_condition(c, 0).unwrap(), &mut Vec::new())
                    .unwrap()
            })
            .collect();
        let refs: Vec<&Ir> = irs.iter().collect();
        let g = generate(&p, &refs, &[vec![0, 1, 2, 3, 4], vec![], vec![2]], 1024).unwrap();
        wasmparser::Validator::new()
            .validate_all(&g.wasm)
            .expect("generated module is valid");
        assert!(
            g.layout.slot_base < g.layout.result_base && g.layout.result_base < g.layout.heap_base
        );
    }
}
