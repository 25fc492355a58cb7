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
//! one indirect call, not one per rule. A test of a string against a
//! constant (`=`, `startswith`, `endswith`, `contains`) calls a function
//! made for that constant (see [`needles`]).

mod emit;
mod groups;
mod helpers;
mod needles;

use super::ir::*;
use super::lower::Program;
use super::pattern::Dfa;
use emit::Gen;
#[cfg(test)]
use groups::RULES_PER_FN;
use groups::bodies;
use helpers::{N_HELPERS, eval_fn, helpers};
use needles::Needles;
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind,
    ExportSection, Function, FunctionSection, ImportSection, MemArg, MemArgTarget, MemorySection,
    MemoryType, Module, RefType, TableSection, TableType, TypeSection, ValType,
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
    let mut dfa_prefixes = Vec::with_capacity(program.patterns.len());
    for p in &program.patterns {
        let dfa = Dfa::build(&p.regex).map_err(|message| super::CompileError::Automaton {
            pattern: p.regex.clone(),
            message,
        })?;
        dfa_addrs.push(data.put(&dfa.table(), 8));
        dfa_prefixes.push(dfa.prefix);
    }

    let needles = Needles::collect(rules, &dfa_prefixes, N_HELPERS);
    let table_start = needles.end();
    let mut g = Gen {
        program,
        data: &mut data,
        dfa_addrs: &dfa_addrs,
        dfa_prefixes: &dfa_prefixes,
        slot_base,
        gen_base,
        preds_base: 0,
        preds: Vec::new(),
        needles: &needles,
        table_start,
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
    Ok(assemble(data, &needles, bodies, layout, max_pages))
}

/// The module: types, the import, helpers, the specialised string tests,
/// the table's functions (shared rules, parts, predicates and groups),
/// memory, exports and the constant pool.
fn assemble(
    data: Data,
    needles: &Needles,
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
    for f in needles.functions() {
        funcs.function(T_2I);
        code.function(f);
    }
    // The table's functions, in table order (the indices given as they were
    // emitted): shared rules, parts, predicates, groups.
    let table_start = needles.end();
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
