//! The hand-written runtime functions every generated module starts with
//! (string and set comparisons, DFA runs, quantifiers), and `eval`.

use super::{T_1I, T_2I, T_3I, T_4I, T_I64_2I, mem};
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

// Function indices. The one import, the host's `fetch(slot)`, comes first;
// the helpers follow in the order they are emitted.
pub(super) const F_FETCH: u32 = 0;
pub(super) const F_MEMEQ: u32 = 1;
pub(super) const F_IMEMEQ: u32 = 2;
pub(super) const F_STR_EQ: u32 = 3;
pub(super) const F_STARTS: u32 = 4;
pub(super) const F_ENDS: u32 = 5;
pub(super) const F_CONTAINS: u32 = 6;
pub(super) const F_ICONTAINS: u32 = 7;
pub(super) const F_MEMCMP: u32 = 8;
pub(super) const F_STR_IN: u32 = 9;
pub(super) const F_I64_IN: u32 = 10;
pub(super) const F_DFA: u32 = 11;
pub(super) const F_NET: u32 = 12;
pub(super) const F_QUANT: u32 = 13;
pub(super) const F_LOWER: u32 = 14;
/// The first index after the import and the helpers: the specialised
/// string tests' (see `needles`), then the table's functions.
pub(super) const N_HELPERS: u32 = 15;

/// `eval(group, all)`: runs the group's function, at `groups_base + group`
/// in the table (see the module docs).
pub(super) fn eval_fn(groups_base: u32) -> Function {
    let mut f = Function::new([]);
    let mut s = f.instructions();
    s.local_get(1)
        .i32_const(0)
        .local_get(0)
        .i32_const(groups_base as i32)
        .i32_add()
        .call_indirect(0, T_2I);
    s.end();
    f
}

/// `if (top of stack) return v`.
pub(super) fn ret_if(s: &mut InstructionSink<'_>, v: i32) {
    s.if_(BlockType::Empty).i32_const(v).return_().end();
}

/// The hand-written runtime helpers, in `F_*` order.
pub(super) fn helpers() -> Vec<(u32, Function)> {
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

/// dfa(p, l, table): walks the table (see [`Dfa::table`]); stops at the
/// dead state (no match) and at the done state (a match).
///
/// [`Dfa::table`]: crate::filter::pattern::Dfa::table
fn dfa() -> Function {
    use crate::filter::pattern::table_at;
    // locals: 3 state, 4 end, 5 dead, 6 done
    let mut f = Function::new([(4, ValType::I32)]);
    let mut s = f.instructions();
    s.local_get(2).i32_load(mem(table_at::START)).local_set(3);
    s.local_get(2).i32_load(mem(table_at::DEAD)).local_set(5);
    s.local_get(2).i32_load(mem(table_at::DONE)).local_set(6);
    s.local_get(0).local_get(1).i32_add().local_set(4);
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(0).local_get(4).i32_ge_u().br_if(1);
    // state = trans[state + classes[byte]]
    s.local_get(3)
        .local_get(2)
        .local_get(0)
        .i32_load8_u(mem(0))
        .i32_add()
        .i32_load8_u(mem(table_at::CLASSES))
        .i32_add();
    s.i32_const(4)
        .i32_mul()
        .local_get(2)
        .i32_add()
        .i32_load(mem(table_at::TRANS))
        .local_tee(3);
    s.local_get(5).i32_eq();
    ret_if(&mut s, 0);
    s.local_get(3).local_get(6).i32_eq();
    ret_if(&mut s, 1);
    s.local_get(0).i32_const(1).i32_add().local_set(0);
    s.br(0);
    s.end().end();
    // accept[state / nclasses]
    s.local_get(2)
        .local_get(2)
        .i32_load(mem(table_at::ACCEPT))
        .i32_add();
    s.local_get(3)
        .local_get(2)
        .i32_load(mem(table_at::NCLASSES))
        .i32_div_u();
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
