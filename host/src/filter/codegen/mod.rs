//! The Wasm back end: a [`Program`]'s rules → one WebAssembly module,
//! generated at run time with `wasm-encoder`.
//!
//! Memory layout (all addresses fixed at compile time, see [`Layout`]):
//!
//! ```text
//! 8               the current event's generation (u64), written by the host
//! slot_base ..    one 16-byte entry per slot, written by the host
//! result_base ..  matched rule indices (u32), written by `eval` in `all` mode
//! gen_base ..     per slot, the generation (u64) its entry was written for
//! data_base ..    constants: needles, sorted sets, DFA tables
//! heap_base ..    the event's strings, addresses and list elements
//! ```
//!
//! A slot entry (and a list element) is `[tag: u32][a: u32][b: u64]`: tag 0 =
//! missing, 1 = one value, 2 = a list (`a` = address of `b` elements). A value
//! is kind-dependent: a string is `a` = address, `b` = length; a number,
//! boolean or float is `b`; an IP address is `a` = address of 16 bytes.
//!
//! Slots are extracted lazily. Each event has a new generation number; a
//! slot entry whose generation word is not the event's is stale, and the
//! code that reads a slot first calls the imported `fetch(slot)` on a stale
//! one: the host extracts it and writes the entry (its bytes appended to
//! the heap) and its generation. A rule reads only the fields its
//! evaluation reaches, and the host writes nothing per slot up front.
//!
//! Exports: `memory` and `eval(group: i32, all: i32) -> i32`. `eval` runs the
//! group's rules in order; with `all = 0` it returns 1 + the first matching
//! rule's index (0 for none), with `all = 1` it stores every matching rule's
//! index at `result_base` and returns how many. Each group is one function
//! with its rules' expressions inline, one after the other: an event costs
//! one indirect call, not one per rule.

mod emit;
mod helpers;

use super::ir::*;
use super::lower::Program;
use super::pattern::Dfa;
use emit::Gen;
use helpers::{N_HELPERS, eval_fn, helpers};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType,
    ExportKind, ExportSection, Function, FunctionSection, ImportSection, InstructionSink, MemArg,
    MemArgTarget, MemorySection, MemoryType, Module, RefType, TableSection, TableType, TypeSection,
    ValType,
};

/// Fixed addresses of the generated module's memory regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// First slot entry.
    pub slot_base: u32,
    /// Matched rule indices (`all` mode).
    pub result_base: u32,
    /// Per slot, the generation (u64) its entry was written for.
    pub gen_base: u32,
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
const T_2I: u32 = 4; // (i32, i32) -> i32
const T_FETCH: u32 = 5; // (i32) -> ()
const T_0: u32 = 6; // () -> i32

/// The module's one import, `fetch(slot)`: the host extracts a slot not
/// written for the current event and writes it in place.
pub const FETCH: (&str, &str) = ("host", "fetch");

/// Where the current event's generation (u64) is: a slot entry is the
/// event's when its generation word holds the same number.
pub const GEN_ADDR: u32 = 8;

/// Memory page size.
const PAGE: u32 = 65536;

/// A memory access at a constant offset (unaligned).
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
    /// The constants put with [`Data::intern`], by content and alignment.
    interned: std::collections::HashMap<(Vec<u8>, usize), u32>,
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

    /// Like [`Data::put`], but a constant put before is not put again: the
    /// same needle or set in several rules (or in a rule several groups
    /// run) is stored once.
    fn intern(&mut self, b: &[u8], align: usize) -> u32 {
        if let Some(&at) = self.interned.get(&(b.to_vec(), align)) {
            return at;
        }
        let at = self.put(b, align);
        self.interned.insert((b.to_vec(), align), at);
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
) -> Result<Generated, super::CompileError> {
    let nrules = rules.len() as u32;
    // Slots and results come first, so their addresses are known before any
    // constant is placed.
    let slot_base = 16u32;
    let result_base = slot_base + program.slots.len() as u32 * 16;
    let gen_base = (result_base + nrules * 4).div_ceil(8) * 8;
    let data_base = (gen_base + program.slots.len() as u32 * 8).div_ceil(16) * 16;
    let mut data = Data {
        base: data_base,
        bytes: Vec::new(),
        interned: Default::default(),
    };

    // Patterns → DFA tables.
    let mut dfa_addrs = Vec::with_capacity(program.patterns.len());
    for p in &program.patterns {
        let dfa = Dfa::build(&p.regex).map_err(|message| super::CompileError::Automaton {
            pattern: p.regex.clone(),
            message,
        })?;
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
        gen_base,
        preds_base: 0,
        preds: Vec::new(),
    };
    let bodies = bodies(&mut g, rules, groups, result_base);
    let heap_base = (data.base + data.bytes.len() as u32).div_ceil(64) * 64;
    let initial_pages = (heap_base + PAGE).div_ceil(PAGE);
    if initial_pages > max_pages {
        return Err(super::CompileError::Memory {
            needed: initial_pages,
            limit: max_pages,
        });
    }
    let layout = Layout {
        slot_base,
        result_base,
        gen_base,
        heap_base,
        initial_pages,
    };
    Ok(assemble(data, bodies, layout, max_pages))
}

/// The functions of the table, in its order: the rules several groups run
/// (each once, called by those groups), the parts of the groups split in
/// parts, the list predicates, and the groups. A rule only one group runs
/// is inline in that group's function.
fn bodies(
    g: &mut Gen<'_>,
    rules: &[RuleIr<'_>],
    groups: &[Vec<u32>],
    result_base: u32,
) -> [Vec<Function>; 4] {
    debug_assert!(
        groups.iter().all(|m| {
            let mut m = m.clone();
            m.sort_unstable();
            m.windows(2).all(|w| w[0] != w[1])
        }),
        "a rule twice in a group would store more results than the area holds"
    );
    let mut uses = vec![0u32; rules.len()];
    for &r in groups.iter().flatten() {
        uses[r as usize] += 1;
    }
    // shared rules: function index N_HELPERS + k, table index k
    let mut shared_at = vec![None; rules.len()];
    let mut nshared = 0u32;
    for (r, &n) in uses.iter().enumerate() {
        if n > 1 {
            shared_at[r] = Some(N_HELPERS + nshared);
            nshared += 1;
        }
    }
    let segs: Vec<Vec<Seg>> = groups.iter().map(|m| segments(m, &shared_at)).collect();
    let nparts: u32 = segs.iter().map(|s| chunk_count(s)).sum();
    g.preds_base = nshared + nparts;
    let shared: Vec<Function> = (0..rules.len())
        .filter(|&r| shared_at[r].is_some())
        .map(|r| {
            let mut f = Function::new([]);
            g.emit_ir(&mut f.instructions(), rules[r]);
            f.instructions().end();
            f
        })
        .collect();
    let body = RulesFn {
        rules,
        shared_at: &shared_at,
        result_base,
    };
    let mut parts = Vec::with_capacity(nparts as usize);
    let mut group_bodies = Vec::with_capacity(groups.len());
    for segs in &segs {
        if segs.len() <= RULES_PER_FN {
            group_bodies.push(body.emit(g, segs));
            continue;
        }
        let first = nshared + parts.len() as u32;
        for chunk in segs.chunks(RULES_PER_FN) {
            parts.push(body.emit(g, chunk));
        }
        group_bodies.push(parts_fn(first, chunk_count(segs)));
    }
    let preds = std::mem::take(&mut g.preds);
    [shared, parts, preds, group_bodies]
}

/// How many parts a group is split in (none when one function takes it).
fn chunk_count(segs: &[Seg]) -> u32 {
    match segs.len() <= RULES_PER_FN {
        true => 0,
        false => segs.len().div_ceil(RULES_PER_FN) as u32,
    }
}

/// Shared rules in a row from which a group runs them in a loop over a
/// list (its code then does not grow with their number).
const LOOP_MIN: usize = 4;

/// A piece of a group's function.
enum Seg {
    /// One rule: inline, or a call of a shared one.
    Rule(u32),
    /// Shared rules in a row, run in a loop.
    Loop(Vec<u32>),
}

/// A group's rules as pieces, in order.
fn segments(members: &[u32], shared_at: &[Option<u32>]) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut run: Vec<u32> = Vec::new();
    let flush = |run: &mut Vec<u32>, out: &mut Vec<Seg>| match run.len() >= LOOP_MIN {
        true => out.push(Seg::Loop(std::mem::take(run))),
        false => out.extend(run.drain(..).map(Seg::Rule)),
    };
    for &r in members {
        if shared_at[r as usize].is_some() {
            run.push(r);
            continue;
        }
        flush(&mut run, &mut out);
        out.push(Seg::Rule(r));
    }
    flush(&mut run, &mut out);
    out
}

/// Rules per function: a group of more is split in parts of this many
/// (cranelift's time and memory grow faster than a function's size).
const RULES_PER_FN: usize = 8;

/// How a group's (or part's) function is made.
struct RulesFn<'a> {
    rules: &'a [RuleIr<'a>],
    /// Per rule, the function index of the rules several groups run.
    shared_at: &'a [Option<u32>],
    result_base: u32,
}

impl RulesFn<'_> {
    /// The function, `(all, n) -> i32`, of a group's pieces `segs`: its
    /// rules' expressions one after the other, inline (a shared rule is a
    /// direct call, shared rules in a row a loop over their list). With
    /// `all = 0` it returns 1 + the first matching rule's index (0 for
    /// none); with `all = 1` it stores every matching rule's index at
    /// `result_base` from the `n`th on and returns the count.
    fn emit(&self, g: &mut Gen<'_>, segs: &[Seg]) -> Function {
        // params: 0 all, 1 n; locals: 2 p, 3 end, 4 r (loops)
        let mut f = Function::new([(3, ValType::I32)]);
        {
            let mut s = f.instructions();
            for seg in segs {
                match seg {
                    Seg::Rule(r) => {
                        match self.shared_at[*r as usize] {
                            Some(func) => {
                                s.call(func);
                            }
                            None => g.emit_ir(&mut s, self.rules[*r as usize]),
                        }
                        s.if_(BlockType::Empty);
                        self.hit(&mut s, |s| {
                            s.i32_const(*r as i32);
                        });
                        s.end();
                    }
                    Seg::Loop(list) => self.emit_loop(g, &mut s, list),
                }
            }
            s.local_get(1);
            s.end();
        }
        f
    }

    /// Shared rules in a row: a loop over their (table index, rule) list.
    fn emit_loop(&self, g: &mut Gen<'_>, s: &mut InstructionSink<'_>, list: &[u32]) {
        let bytes: Vec<u8> = list
            .iter()
            .flat_map(|&r| {
                let func = self.shared_at[r as usize].expect("a shared rule");
                // shared rules come first in the table
                (func - N_HELPERS)
                    .to_le_bytes()
                    .into_iter()
                    .chain(r.to_le_bytes())
            })
            .collect();
        let at = g.data.intern(&bytes, 4) as i32;
        s.i32_const(at).local_set(2);
        s.i32_const(at + bytes.len() as i32).local_set(3);
        s.block(BlockType::Empty).loop_(BlockType::Empty);
        s.local_get(2).local_get(3).i32_ge_u().br_if(1);
        s.local_get(2).i32_load(mem(4)).local_set(4);
        s.local_get(2).i32_load(mem(0)).call_indirect(0, T_0);
        s.if_(BlockType::Empty);
        self.hit(s, |s| {
            s.local_get(4);
        });
        s.end();
        s.local_get(2).i32_const(8).i32_add().local_set(2);
        s.br(0);
        s.end().end();
    }

    /// A match of the rule `rule` pushes: the answer in `first` mode, else
    /// one more result stored.
    fn hit(&self, s: &mut InstructionSink<'_>, rule: impl Fn(&mut InstructionSink<'_>)) {
        s.local_get(0).i32_eqz().if_(BlockType::Empty);
        rule(s);
        s.i32_const(1).i32_add().return_();
        s.end();
        s.local_get(1)
            .i32_const(4)
            .i32_mul()
            .i32_const(self.result_base as i32)
            .i32_add();
        rule(s);
        s.i32_store(mem(0));
        s.local_get(1).i32_const(1).i32_add().local_set(1);
    }
}

/// A split group's function, `(all, n) -> i32`: its `count` parts (at
/// table index `first` on) in order, as [`rules_fn`] answers.
fn parts_fn(first: u32, count: u32) -> Function {
    // params: 0 all, 1 n; locals: 2 r
    let mut f = Function::new([(1, ValType::I32)]);
    {
        let mut s = f.instructions();
        for k in first..first + count {
            s.local_get(0)
                .local_get(1)
                .i32_const(k as i32)
                .call_indirect(0, T_2I)
                .local_set(2);
            s.local_get(0).if_(BlockType::Empty);
            s.local_get(2).local_set(1);
            s.else_();
            s.local_get(2).if_(BlockType::Empty);
            s.local_get(2).return_();
            s.end();
            s.end();
        }
        s.local_get(1);
        s.end();
    }
    f
}

/// The module: types, the import, helpers, the table's functions (shared
/// rules, parts, predicates and groups), memory, exports and the constant
/// pool.
fn assemble(
    data: Data,
    [shared, parts, preds, groups]: [Vec<Function>; 4],
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
    types.ty().function([ValType::I32; 2], [ValType::I32]);
    types.ty().function([ValType::I32], []);
    types.ty().function([], [ValType::I32]);
    let mut imports = ImportSection::new();
    imports.import(FETCH.0, FETCH.1, EntityType::Function(T_FETCH));
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    for (ty, f) in helpers() {
        funcs.function(ty);
        code.function(&f);
    }
    // The table's functions, in table order (the indices given as they were
    // emitted): shared rules, parts, predicates, groups.
    let table_start = N_HELPERS;
    for (ty, list) in [
        (T_0, &shared),
        (T_2I, &parts),
        (T_1I, &preds),
        (T_2I, &groups),
    ] {
        for f in list {
            funcs.function(ty);
            code.function(f);
        }
    }
    let nelems = (shared.len() + parts.len() + preds.len() + groups.len()) as u32;
    let eval_idx = table_start + nelems;
    funcs.function(T_2I);
    code.function(&eval_fn(nelems - groups.len() as u32));

    let mut table = TableSection::new();
    table.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: u64::from(nelems),
        maximum: Some(u64::from(nelems)),
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
    let func_indices: Vec<u32> = (table_start..eval_idx).collect();
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
    module.section(&imports);
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
        // rules 0..5 again as rules 5.., for a group split in parts (more
        // rules than a function takes); rules 0..5 are in two groups
        // (shared: a loop over their list)
        let n = 2 * RULES_PER_FN + 1;
        let refs: Vec<&Ir> = irs.iter().cycle().take(5 + n).collect();
        let long: Vec<u32> = (5..5 + n as u32).collect();
        let g = generate(
            &p,
            &refs,
            &[vec![0, 1, 2, 3, 4], vec![], vec![4, 3, 2, 1, 0], long],
            1024,
        )
        .unwrap();
        wasmparser::Validator::new()
            .validate_all(&g.wasm)
            .expect("generated module is valid");
        assert!(
            g.layout.slot_base < g.layout.result_base && g.layout.result_base < g.layout.heap_base
        );
    }
}
