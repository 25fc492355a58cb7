//! The groups' functions: a group's rules inline, one after the other, the
//! rules several groups run compiled once and called (in a loop over their
//! list when several come in a row), and a long group split in parts.

use super::emit::Gen;
use super::{RuleIr, T_0, T_2I, mem};
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// The functions of the table, in its order: the rules several groups run
/// (each once, called by those groups), the parts of the groups split in
/// parts, the list predicates, and the groups. A rule only one group runs
/// is inline in that group's function.
pub(super) fn bodies(
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
    // shared rules: table index k
    let mut shared_at = vec![None; rules.len()];
    let mut nshared = 0u32;
    for (r, &n) in uses.iter().enumerate() {
        if n > 1 {
            shared_at[r] = Some(g.table_start + nshared);
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
pub(super) const RULES_PER_FN: usize = 8;

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
                (func - g.table_start)
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
/// table index `first` on) in order, as [`RulesFn::emit`] answers.
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
