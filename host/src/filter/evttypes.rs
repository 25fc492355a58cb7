//! The event types a condition can match, for the event-type index.
//!
//! Two sets are computed per node: the types for which the expression *may*
//! be true and those for which it is *certainly* true (only `evt.type`
//! checks are certain). `not` swaps and complements them, so
//! `not evt.type = open` excludes `open` while `not proc.name = x` still
//! matches every type.

use super::ir::*;
use super::lower::Program;
use crate::fields::SourceFields;

/// The most event types a rule can match and still be said to name them
/// (more: `evt.type != x` and the like, which match nearly every type).
pub const NAMED_MAX: usize = 100;

/// A set of event types, as indices into the source's event names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvtSet {
    bits: Vec<u64>,
    universe: usize,
}

impl EvtSet {
    /// Every type of a universe of `n`.
    pub fn all(n: usize) -> EvtSet {
        let mut s = EvtSet::none(n);
        for i in 0..n {
            s.insert(i);
        }
        s
    }

    /// No type.
    pub fn none(n: usize) -> EvtSet {
        EvtSet {
            bits: vec![0; n.div_ceil(64)],
            universe: n,
        }
    }

    /// Adds a type.
    pub fn insert(&mut self, i: usize) {
        self.bits[i / 64] |= 1 << (i % 64);
    }

    /// Whether the set holds type `i`.
    pub fn contains(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Number of types.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether no type is in the set.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// Whether every type of the universe is in the set.
    pub fn is_all(&self) -> bool {
        self.len() == self.universe
    }

    /// The type indices.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.universe).filter(|&i| self.contains(i))
    }

    fn and(&self, o: &EvtSet) -> EvtSet {
        EvtSet {
            bits: self.bits.iter().zip(&o.bits).map(|(a, b)| a & b).collect(),
            universe: self.universe,
        }
    }

    fn or(&self, o: &EvtSet) -> EvtSet {
        EvtSet {
            bits: self.bits.iter().zip(&o.bits).map(|(a, b)| a | b).collect(),
            universe: self.universe,
        }
    }

    fn complement(&self) -> EvtSet {
        let mut s = EvtSet::none(self.universe);
        for i in 0..self.universe {
            if !self.contains(i) {
                s.insert(i);
            }
        }
        s
    }
}

/// The event types `ir` may match.
pub fn compute(ir: &Ir, program: &Program, fields: &SourceFields) -> EvtSet {
    Decided::of(ir, program, fields).may
}

/// An expression with, for it and each of its parts, the event types for
/// which it may hold and those for which it must: for one event type, the
/// parts decided by the type alone need none of their fields.
pub struct Decided {
    may: EvtSet,
    must: EvtSet,
    parts: Vec<Decided>,
    /// A test's slots.
    slots: Vec<u32>,
}

impl Decided {
    /// `ir`'s decisions (one pass over it).
    pub fn of(ir: &Ir, program: &Program, fields: &SourceFields) -> Decided {
        let n = fields.event_names().len();
        let evt_type_slot = fields.lookup("evt.type", None).ok().and_then(|f| {
            program.slot_index(&SlotKey {
                field: f,
                transforms: Vec::new(),
            })
        });
        decide(ir, evt_type_slot, fields, n)
    }

    /// `ir` (the expression these decisions were made for) for events of
    /// the types `types` only: each part the types decide alike becomes a
    /// constant, and constants fold into their `and`/`or`/`not`. An
    /// `evt.type in (...)` then costs nothing at run time. With no types,
    /// `ir` as it is.
    pub fn specialize(&self, ir: &Ir, types: &[usize]) -> Ir {
        crate::deep(|| self.specialize_inner(ir, types))
    }

    fn specialize_inner(&self, ir: &Ir, types: &[usize]) -> Ir {
        if !types.is_empty() {
            if types.iter().all(|&t| self.must.contains(t)) {
                return Ir::Const(true);
            }
            if types.iter().all(|&t| !self.may.contains(t)) {
                return Ir::Const(false);
            }
        }
        match ir {
            Ir::And(v) | Ir::Or(v) => {
                let and = matches!(ir, Ir::And(_));
                let mut kept = Vec::with_capacity(v.len());
                for (x, d) in v.iter().zip(&self.parts) {
                    match d.specialize(x, types) {
                        // the neutral element drops out
                        Ir::Const(b) if b == and => {}
                        // the absorbing one decides
                        Ir::Const(b) => return Ir::Const(b),
                        x => kept.push(x),
                    }
                }
                match (kept.len(), and) {
                    (0, _) => Ir::Const(and),
                    (1, _) => kept.pop().expect("one part"),
                    (_, true) => Ir::And(kept),
                    (_, false) => Ir::Or(kept),
                }
            }
            Ir::Not(x) => match self.parts[0].specialize(x, types) {
                Ir::Const(b) => Ir::Const(!b),
                x => Ir::Not(Box::new(x)),
            },
            Ir::Const(_) | Ir::Test(_) => ir.clone(),
        }
    }

    /// The slots whose values can change the expression's value for
    /// events of type `t` (index into the event names), added to `out`.
    pub fn needed(&self, t: usize, out: &mut Vec<u32>) {
        if !self.may.contains(t) || self.must.contains(t) {
            return;
        }
        out.extend(&self.slots);
        for p in &self.parts {
            p.needed(t, out);
        }
    }
}

fn decide(ir: &Ir, et: Option<u32>, fields: &SourceFields, n: usize) -> Decided {
    crate::deep(|| decide_inner(ir, et, fields, n))
}

fn decide_inner(ir: &Ir, et: Option<u32>, fields: &SourceFields, n: usize) -> Decided {
    let leaf = |(may, must): (EvtSet, EvtSet), slots: Vec<u32>| Decided {
        may,
        must,
        parts: Vec::new(),
        slots,
    };
    match ir {
        Ir::Const(true) => leaf((EvtSet::all(n), EvtSet::all(n)), Vec::new()),
        // An empty list (`x in ()`) is false, but like Falco we do not let it
        // narrow the event types: it is a check on another field.
        Ir::Const(false) => leaf((EvtSet::all(n), EvtSet::none(n)), Vec::new()),
        Ir::And(v) | Ir::Or(v) => {
            let and = matches!(ir, Ir::And(_));
            let parts: Vec<Decided> = v.iter().map(|x| decide(x, et, fields, n)).collect();
            let start = match and {
                true => (EvtSet::all(n), EvtSet::all(n)),
                false => (EvtSet::none(n), EvtSet::none(n)),
            };
            let (may, must) = parts.iter().fold(start, |(a, b), p| match and {
                true => (a.and(&p.may), b.and(&p.must)),
                false => (a.or(&p.may), b.or(&p.must)),
            });
            Decided {
                may,
                must,
                parts,
                slots: Vec::new(),
            }
        }
        Ir::Not(x) => {
            let p = decide(x, et, fields, n);
            Decided {
                may: p.must.complement(),
                must: p.may.complement(),
                parts: vec![p],
                slots: Vec::new(),
            }
        }
        Ir::Test(t) => {
            let mut slots = vec![t.slot];
            if let Pred::Field(_, other) = t.pred {
                slots.push(other);
            }
            let sets = match Some(t.slot) == et {
                true => type_test(t, fields, n),
                false => (EvtSet::all(n), EvtSet::none(n)),
            };
            leaf(sets, slots)
        }
    }
}

/// (may, must) of a test of `evt.type`.
fn type_test(t: &super::ir::Test, fields: &SourceFields, n: usize) -> (EvtSet, EvtSet) {
    let names = fields.event_names();
    let set_of = |items: &mut dyn Iterator<Item = &[u8]>| {
        let mut s = EvtSet::none(n);
        for it in items {
            if let Ok(i) = names.binary_search(&std::str::from_utf8(it).unwrap_or("")) {
                s.insert(i);
            }
        }
        s
    };
    let exact = match &t.pred {
        Pred::Str(StrOp::Eq, v) => Some(set_of(&mut std::iter::once(v.as_slice()))),
        Pred::Str(StrOp::Ne, v) => Some(set_of(&mut std::iter::once(v.as_slice())).complement()),
        Pred::StrSet(vs) => Some(set_of(&mut vs.iter().map(Vec::as_slice))),
        _ => None,
    };
    match (t.quant, exact) {
        (Quant::Any, Some(s)) => (s.clone(), s),
        _ => (EvtSet::all(n), EvtSet::none(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parser::parse_condition;

    fn types(cond: &str) -> Vec<&'static str> {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let ir = p
            .lower(&fields, &parse_condition(cond, 0).unwrap(), &mut Vec::new())
            .unwrap();
        let s = compute(&ir, &p, &fields);
        if s.is_all() {
            return vec!["*"];
        }
        s.iter().map(|i| fields.event_names()[i]).collect()
    }

    #[test]
    fn index_sets() {
        assert_eq!(types("evt.type = open"), ["open"]);
        assert_eq!(
            types("evt.type in (open, openat) and proc.name = cat"),
            ["open", "openat"]
        );
        assert_eq!(
            types("(evt.type = open or evt.type = execve) and not proc.name = x"),
            ["execve", "open"]
        );
        assert_eq!(types("proc.name = cat"), ["*"]);
        assert_eq!(types("not proc.name = cat"), ["*"]);
        let n = SourceFields::syscall().event_names().len();
        assert_eq!(types("evt.type != open").len(), n - 1);
        assert_eq!(types("not evt.type = open").len(), n - 1);
        assert!(types("evt.type = open and evt.type = close").is_empty());
    }

    /// For one event type, the parts its type decides need no field.
    #[test]
    fn fields_needed_per_type() {
        let fields = SourceFields::syscall();
        let mut p = Program::default();
        let cond = "(evt.type = open and fd.name = /a) or (evt.type = truncate and fs.path.name = /b) \
                    or (not evt.type = execve and proc.name = x)";
        let ir = p
            .lower(&fields, &parse_condition(cond, 0).unwrap(), &mut Vec::new())
            .unwrap();
        let d = Decided::of(&ir, &p, &fields);
        let t = |name: &str| fields.event_names().binary_search(&name).unwrap();
        let slot = |f: &str| {
            let key = SlotKey {
                field: fields.lookup(f, None).unwrap(),
                transforms: Vec::new(),
            };
            p.slot_index(&key).unwrap()
        };
        let needed = |ty: &str| {
            let mut v = Vec::new();
            d.needed(t(ty), &mut v);
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut open = vec![slot("fd.name"), slot("proc.name")];
        open.sort_unstable();
        assert_eq!(needed("open"), open, "fs.path.name is not needed for open");
        assert_eq!(needed("execve"), Vec::<u32>::new(), "decided by its type");
        assert!(needed("truncate").contains(&slot("fs.path.name")));
    }
}
