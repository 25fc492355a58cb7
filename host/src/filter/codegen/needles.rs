//! Specialised string tests: each distinct `=`, `startswith`, `endswith`
//! and `contains` test of a constant gets its own function, `(p, l) -> i32`,
//! with the constant's bytes in its code; so does the `startswith` of the
//! bytes every match of a pattern starts with, tested before its automaton
//! is walked. A small set of constants (`in (...)`) gets one too: its
//! constants compared by length first.
//!
//! A general helper compares two strings in memory byte by byte (or eight
//! at a time) after a call per comparison; here the comparison is a few
//! loads of the value compared with immediates (eight bytes at a time, the
//! rest with one load overlapping the last word), and `contains` looks for the
//! constant's first and last bytes sixteen positions at a time (Wasm SIMD)
//! before comparing the whole at the candidates, as `memchr`'s "packed
//! pair" searchers do. Every load stays inside the value's bytes.

use super::helpers::ret_if;
use super::{RuleIr, mem};
use crate::filter::ir::{Pred, StrOp};
use std::collections::HashMap;
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// The longest constant compared in the code (longer ones use the general
/// helpers). A pattern's prefix is at most this long, so each has its
/// filter.
const MAX_LEN: usize = crate::filter::pattern::PREFIX_MAX;

/// The most functions made, and the most constant bytes in their code (a
/// ruleset with more distinct tests uses the general helpers for the rest:
/// a huge upload cannot make a huge module for the compiler).
const MAX_FUNCS: usize = 1024;
const MAX_BYTES: usize = 64 << 10;

/// The largest set of constants with a function of its own.
const MAX_SET: usize = 64;

/// The specialised tests of one module.
#[derive(Default)]
pub(super) struct Needles {
    /// (operator, constant) → index among the functions.
    index: HashMap<(StrOp, Vec<u8>), u32>,
    /// A set of constants (sorted, deduplicated) → index among the functions.
    sets: HashMap<Vec<Vec<u8>>, u32>,
    funcs: Vec<Function>,
    /// Constant bytes in their code so far.
    bytes: usize,
    /// Function index of the first.
    first: u32,
}

impl Needles {
    /// The specialised functions for the tests in `rules` and for the
    /// patterns' prefixes (a `startswith` each), numbered from function
    /// index `first` on.
    pub(super) fn collect(rules: &[RuleIr<'_>], prefixes: &[Vec<u8>], first: u32) -> Needles {
        let mut n = Needles {
            first,
            ..Needles::default()
        };
        for ir in rules {
            ir.for_each_test(&mut |t| n.add_pred(&t.pred));
        }
        for p in prefixes {
            n.add(StrOp::StartsWith, p);
        }
        n
    }

    fn add_pred(&mut self, p: &Pred) {
        match p {
            Pred::Str(op, needle) => self.add(*op, needle),
            Pred::StrSet(set) => self.add_set(set),
            Pred::Modified(_, preds) => preds.iter().for_each(|p| self.add_pred(p)),
            _ => {}
        }
    }

    fn add(&mut self, op: StrOp, needle: &[u8]) {
        let Some(op) = specialised(op) else { return };
        if needle.is_empty() || needle.len() > MAX_LEN || !self.room(needle.len()) {
            return;
        }
        let key = (op, needle.to_vec());
        if self.index.contains_key(&key) {
            return;
        }
        self.index.insert(key, self.funcs.len() as u32);
        self.funcs.push(function(op, needle));
        self.bytes += needle.len();
    }

    fn add_set(&mut self, set: &[Vec<u8>]) {
        let bytes = set.iter().map(Vec::len).sum();
        if set.len() > MAX_SET
            || set.iter().any(|c| c.len() > MAX_LEN)
            || !self.room(bytes)
            || self.sets.contains_key(set)
        {
            return;
        }
        self.sets.insert(set.to_vec(), self.funcs.len() as u32);
        self.funcs.push(set_function(set));
        self.bytes += bytes;
    }

    /// Whether one more function with `bytes` constant bytes fits.
    fn room(&self, bytes: usize) -> bool {
        self.funcs.len() < MAX_FUNCS && self.bytes + bytes <= MAX_BYTES
    }

    /// The function index of the membership test in `set` (as the IR
    /// holds it: sorted, deduplicated), when it has one.
    pub(super) fn set(&self, set: &[Vec<u8>]) -> Option<u32> {
        Some(self.first + self.sets.get(set)?)
    }

    /// The function index of the test `op needle`, when it has one (`!=`
    /// is `=`'s, negated by the caller).
    pub(super) fn get(&self, op: StrOp, needle: &[u8]) -> Option<u32> {
        let op = specialised(op)?;
        // a borrowed lookup would need the key's parts apart; the key is
        // small and this runs once per test at compile time
        let i = self.index.get(&(op, needle.to_vec()))?;
        Some(self.first + i)
    }

    /// The function index after the last of them (the table's first).
    pub(super) fn end(&self) -> u32 {
        self.first + self.funcs.len() as u32
    }

    /// The functions, in index order.
    pub(super) fn functions(&self) -> &[Function] {
        &self.funcs
    }
}

/// The operator whose function serves `op` (`!=` uses `=`'s).
fn specialised(op: StrOp) -> Option<StrOp> {
    match op {
        StrOp::Eq | StrOp::Ne => Some(StrOp::Eq),
        StrOp::StartsWith | StrOp::EndsWith | StrOp::Contains => Some(op),
        _ => None,
    }
}

// Parameters and locals of the functions.
const P: u32 = 0;
const L: u32 = 1;
/// `contains`: candidate starts (l - n + 1).
const NCAND: u32 = 2;
/// `contains`: the next start to look at.
const I: u32 = 3;
/// `contains`: the candidates of a 16-byte window, a bit each.
const BITS: u32 = 4;
/// The address compared with the constant (`contains`: the window's).
const Q: u32 = 5;
/// `contains`: a candidate's address.
const C: u32 = 6;

fn function(op: StrOp, needle: &[u8]) -> Function {
    let n = needle.len() as i32;
    // locals 2..=6 (`NCAND` to `C`); only `contains` uses them all
    let mut f = Function::new([(5, ValType::I32)]);
    let mut s = f.instructions();
    match op {
        StrOp::Eq => {
            s.local_get(L).i32_const(n).i32_ne();
            ret_if(&mut s, 0);
            equal_at(&mut s, P, needle);
        }
        StrOp::StartsWith => {
            s.local_get(L).i32_const(n).i32_lt_u();
            ret_if(&mut s, 0);
            equal_at(&mut s, P, needle);
        }
        StrOp::EndsWith => {
            s.local_get(L).i32_const(n).i32_lt_u();
            ret_if(&mut s, 0);
            s.local_get(P)
                .local_get(L)
                .i32_add()
                .i32_const(n)
                .i32_sub()
                .local_set(Q);
            equal_at(&mut s, Q, needle);
        }
        _ => contains(&mut s, needle),
    }
    s.end();
    f
}

/// `(p, l) -> i32`: whether the value is one of `set`'s constants, those
/// of its length compared one after the other.
fn set_function(set: &[Vec<u8>]) -> Function {
    let mut by_len: Vec<&Vec<u8>> = set.iter().collect();
    by_len.sort_by_key(|c| c.len());
    let mut f = Function::new([]);
    let mut s = f.instructions();
    for same in by_len.chunk_by(|a, b| a.len() == b.len()) {
        s.local_get(L).i32_const(same[0].len() as i32).i32_eq();
        s.if_(BlockType::Empty);
        for c in same {
            if c.is_empty() {
                s.i32_const(1).return_();
            } else {
                equal_at(&mut s, P, c);
                ret_if(&mut s, 1);
            }
        }
        s.i32_const(0).return_();
        s.end();
    }
    s.i32_const(0);
    s.end();
    f
}

/// Pushes whether the `needle.len()` bytes at the address in local `at`
/// are the needle's.
fn equal_at(s: &mut InstructionSink<'_>, at: u32, needle: &[u8]) {
    for (i, &(off, width)) in cover(needle.len()).iter().enumerate() {
        s.local_get(at);
        let m = mem(off as u64);
        match width {
            8 => s.i64_load(m),
            4 => s.i64_load32_u(m),
            2 => s.i64_load16_u(m),
            _ => s.i64_load8_u(m),
        };
        let mut word = [0u8; 8];
        word[..width].copy_from_slice(&needle[off..off + width]);
        s.i64_const(i64::from_le_bytes(word)).i64_xor();
        if i > 0 {
            s.i64_or();
        }
    }
    s.i64_eqz();
}

/// Loads (offset, width) that together cover `n` bytes, none past the end:
/// eight bytes at a time, then one overlapping load for the rest (or two
/// overlapping loads of a power-of-two width under eight bytes).
fn cover(n: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = (0..n / 8).map(|k| (8 * k, 8)).collect();
    if n.is_multiple_of(8) {
        return out;
    }
    if n > 8 {
        out.push((n - 8, 8));
        return out;
    }
    let w = [4, 2, 1].into_iter().find(|&w| w <= n).unwrap_or(1);
    out.push((0, w));
    if w < n {
        out.push((n - w, w));
    }
    out
}

/// The `contains` body: with 16 candidates or more, each 16-byte window
/// of starts is tested for the needle's first and last bytes at once (the
/// last window overlaps the one before instead of running past the end);
/// with fewer, one start at a time. Each candidate is then compared whole.
fn contains(s: &mut InstructionSink<'_>, needle: &[u8]) {
    let n = needle.len() as i32;
    let (first, last) = (needle[0], needle[needle.len() - 1]);
    s.local_get(L).i32_const(n).i32_lt_u();
    ret_if(s, 0);
    s.local_get(L).i32_const(n - 1).i32_sub().local_set(NCAND);
    s.local_get(NCAND).i32_const(16).i32_ge_u();
    s.if_(BlockType::Empty);
    {
        s.block(BlockType::Empty).loop_(BlockType::Empty);
        s.local_get(I).local_get(NCAND).i32_ge_u().br_if(1);
        // Q = P + min(I, NCAND - 16)
        s.local_get(P);
        s.local_get(I)
            .local_get(NCAND)
            .i32_const(16)
            .i32_sub()
            .local_get(I)
            .local_get(NCAND)
            .i32_const(16)
            .i32_sub()
            .i32_lt_u()
            .select();
        s.i32_add().local_set(Q);
        s.local_get(Q)
            .v128_load(mem(0))
            .v128_const(splat(first))
            .i8x16_eq();
        s.local_get(Q)
            .v128_load(mem(n as u64 - 1))
            .v128_const(splat(last))
            .i8x16_eq();
        s.v128_and().i8x16_bitmask().local_set(BITS);
        window_candidates(s, needle);
        s.local_get(I).i32_const(16).i32_add().local_set(I);
        s.br(0);
        s.end().end();
        s.i32_const(0).return_();
    }
    s.end();
    // fewer than 16 starts: one at a time
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(I).local_get(NCAND).i32_ge_u().br_if(1);
    s.local_get(P).local_get(I).i32_add().local_tee(C);
    s.i32_load8_u(mem(0)).i32_const(i32::from(first)).i32_eq();
    s.if_(BlockType::Empty);
    equal_at(s, C, needle);
    ret_if(s, 1);
    s.end();
    s.local_get(I).i32_const(1).i32_add().local_set(I);
    s.br(0);
    s.end().end();
    s.i32_const(0);
}

/// Compares the needle at each candidate of the window at `Q` (the bits
/// of `BITS`); returns 1 from the function at the first equal one.
fn window_candidates(s: &mut InstructionSink<'_>, needle: &[u8]) {
    s.block(BlockType::Empty).loop_(BlockType::Empty);
    s.local_get(BITS).i32_eqz().br_if(1);
    s.local_get(Q)
        .local_get(BITS)
        .i32_ctz()
        .i32_add()
        .local_set(C);
    equal_at(s, C, needle);
    ret_if(s, 1);
    s.local_get(BITS)
        .local_get(BITS)
        .i32_const(1)
        .i32_sub()
        .i32_and()
        .local_set(BITS);
    s.br(0);
    s.end().end();
}

/// A 128-bit constant of 16 copies of `b`.
fn splat(b: u8) -> i128 {
    i128::from_le_bytes([b; 16])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ruleset with more distinct constants than the budget gets
    /// functions up to it, and the general helpers for the rest.
    #[test]
    fn the_functions_stay_within_their_budget() {
        let mut n = Needles::default();
        for i in 0..MAX_FUNCS + 100 {
            n.add(StrOp::Contains, format!("needle number {i:08}").as_bytes());
        }
        assert_eq!(n.funcs.len(), MAX_FUNCS);
        assert!(n.get(StrOp::Contains, b"needle number 00000000").is_some());
        assert!(
            n.get(
                StrOp::Contains,
                format!("needle number {:08}", MAX_FUNCS).as_bytes()
            )
            .is_none()
        );
        let mut n = Needles::default();
        let long = [b'x'; MAX_LEN];
        for i in 0..10_000u32 {
            let set: Vec<Vec<u8>> = (0..MAX_SET as u32)
                .map(|k| [&long[8..], &(i * 1000 + k).to_le_bytes()[..], b"pad!"].concat())
                .collect();
            n.add_set(&set);
        }
        assert!(n.bytes <= MAX_BYTES && n.bytes + MAX_SET * MAX_LEN > MAX_BYTES);
        assert!(n.funcs.len() < 20, "{} set functions", n.funcs.len());
    }

    /// The loads cover every byte, stay inside, and are at most as many as
    /// eight-byte words plus two (two overlapping ones under eight bytes).
    #[test]
    fn loads_cover_the_constant() {
        for n in 1..=super::MAX_LEN {
            let loads = cover(n);
            let mut seen = vec![false; n];
            for &(off, w) in &loads {
                assert!(off + w <= n, "n={n}: load at {off} of {w} runs past");
                assert!([1, 2, 4, 8].contains(&w));
                seen[off..off + w].iter_mut().for_each(|b| *b = true);
            }
            assert!(seen.iter().all(|&b| b), "n={n}: {loads:?} misses a byte");
            assert!(loads.len() <= n / 8 + 2, "n={n}: {loads:?}");
        }
    }
}
