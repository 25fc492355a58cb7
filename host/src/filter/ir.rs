//! The typed intermediate representation: what a condition means once its
//! fields are resolved, its literals typed and its macros expanded.
//!
//! Every field use becomes a *slot*: a (field, argument, transformers) triple
//! whose value the host extracts once per event. Tests compare a slot's
//! value(s) with constants or with another slot. Both back ends — the
//! interpreter ([`super::interp`]) and the Wasm code generator
//! ([`super::codegen`]) — consume this IR.

use super::ast::{Modifier, Transformer};
use crate::fields::{ResolvedField, ValueKind};

/// A field value to extract per event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SlotKey {
    /// The field and its argument.
    pub field: ResolvedField,
    /// Transformers, innermost first.
    pub transforms: Vec<Transformer>,
}

/// How many values a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// At most one value.
    Scalar,
    /// A list (`EPF_IS_LIST`): `in` needs all elements, other operators any.
    List,
    /// Every ancestor (`proc.aname` without index): a test holds if it holds
    /// for any of them.
    Ancestors,
}

/// A slot with its value kind and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotInfo {
    /// What to extract.
    pub key: SlotKey,
    /// Value representation after transformers.
    pub kind: ValueKind,
    /// How many values.
    pub shape: Shape,
}

/// A boolean expression over slot tests.
#[derive(Clone, Debug, PartialEq)]
pub enum Ir {
    /// A constant (e.g. an empty `in ()`).
    Const(bool),
    /// Conjunction, evaluated left to right with short-circuit.
    And(Vec<Ir>),
    /// Disjunction, evaluated left to right with short-circuit.
    Or(Vec<Ir>),
    /// Negation.
    Not(Box<Ir>),
    /// A test of one slot.
    Test(Test),
}

/// A test of one slot's value(s).
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// The slot.
    pub slot: u32,
    /// How the element predicate combines over the slot's values.
    pub quant: Quant,
    /// The predicate on one value.
    pub pred: Pred,
}

/// How a predicate applies to a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    /// The slot could be extracted (an empty list counts). The predicate is
    /// ignored.
    Exists,
    /// At least one value satisfies the predicate (a scalar: its value does).
    Any,
    /// Every value satisfies it (true for an extracted empty list, as
    /// libsinsp's `in` on a list field).
    All,
}

/// Numeric and ordering comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs, reason = "the variants are the comparisons' names")]
pub enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumOp {
    /// Applies the comparison.
    pub fn apply<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            NumOp::Eq => a == b,
            NumOp::Ne => a != b,
            NumOp::Lt => a < b,
            NumOp::Le => a <= b,
            NumOp::Gt => a > b,
            NumOp::Ge => a >= b,
        }
    }
}

/// String (and byte string) comparisons with a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrOp {
    /// Equal bytes.
    Eq,
    /// Different bytes.
    Ne,
    /// Substring.
    Contains,
    /// ASCII case-insensitive substring (the needle is stored lower-cased).
    IContains,
    /// Prefix.
    StartsWith,
    /// Suffix.
    EndsWith,
    /// Byte-wise ordering (`strcmp`), value before the constant.
    Lt,
    /// Byte-wise ordering, at most.
    Le,
    /// Byte-wise ordering, after.
    Gt,
    /// Byte-wise ordering, at least.
    Ge,
}

/// Field-to-field comparisons (`val()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOp {
    /// Numeric or byte-wise comparison.
    Cmp(NumOp),
    /// Substring.
    Contains,
    /// ASCII case-insensitive substring.
    IContains,
    /// Prefix.
    StartsWith,
    /// Suffix.
    EndsWith,
}

/// A predicate on one value.
#[derive(Clone, Debug, PartialEq)]
pub enum Pred {
    /// Numeric comparison with a constant.
    Num(NumOp, i64),
    /// Membership in a sorted, deduplicated set of numbers.
    NumSet(Vec<i64>),
    /// Floating-point comparison with a constant.
    Double(NumOp, f64),
    /// Boolean equality (`ne` negates).
    Bool { value: bool, ne: bool },
    /// Byte-string comparison with a constant.
    Str(StrOp, Vec<u8>),
    /// Membership in a sorted, deduplicated set of byte strings.
    StrSet(Vec<Vec<u8>>),
    /// A full match of a pattern from the ruleset's pattern table (regex,
    /// glob, iglob and pmatch all compile to one).
    Pattern(u32),
    /// The address is in one of the networks (`ne` negates).
    Net { nets: Vec<([u8; 16], u8)>, ne: bool },
    /// `op oneof/anyof/allof (…)`: how many of the element predicates hold.
    Modified(Modifier, Vec<Pred>),
    /// Comparison with another slot's (scalar) value.
    Field(FieldOp, u32),
}

/// A pattern that compiles to an automaton (both back ends build it from
/// the same regular expression text).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PatternDef {
    /// Regular expression (byte-oriented, Unicode off), matched in full.
    pub regex: String,
}

/// Maps an IPv4 address into the 16-byte form used everywhere.
pub fn ip_bytes(ip: std::net::IpAddr) -> [u8; 16] {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    }
}

/// Whether `addr` is inside `net/prefix` (prefix counted on the 16-byte form).
pub fn in_net(addr: &[u8; 16], net: &[u8; 16], prefix: u8) -> bool {
    let full = (prefix / 8) as usize;
    if addr[..full] != net[..full] {
        return false;
    }
    let rem = prefix % 8;
    if rem == 0 || full >= 16 {
        return true;
    }
    let mask = 0xffu8 << (8 - rem);
    addr[full] & mask == net[full] & mask
}

impl Ir {
    /// Calls `f` for every test.
    pub fn for_each_test(&self, f: &mut impl FnMut(&Test)) {
        crate::deep(|| self.for_each_test_inner(f))
    }

    fn for_each_test_inner(&self, f: &mut impl FnMut(&Test)) {
        match self {
            Ir::Const(_) => {}
            Ir::And(v) | Ir::Or(v) => v.iter().for_each(|i| i.for_each_test(f)),
            Ir::Not(i) => i.for_each_test(f),
            Ir::Test(t) => f(t),
        }
    }

    /// Every slot the expression reads.
    pub fn slots(&self) -> Vec<u32> {
        let mut out = Vec::new();
        self.for_each_test(&mut |t| {
            out.push(t.slot);
            if let Pred::Field(_, other) = t.pred {
                out.push(other);
            }
        });
        out.sort_unstable();
        out.dedup();
        out
    }
}
