//! Differential test: the Wasm back end against the reference interpreter
//! on random conditions and random events. Any difference is a bug.
//!
//! The default run checks 100,000 (condition, event) pairs; set
//! `FALCO_WASM_DIFF_CASES` for a longer run (`cargo xtask diff --cases N`)
//! and `FALCO_WASM_DIFF_SEED` to reproduce one.

use falco_wasm::fields::{SourceFields, ValueKind};
use falco_wasm::filter::codegen;
use falco_wasm::filter::eventbuf::EventBuf;
use falco_wasm::filter::interp::Interp;
use falco_wasm::filter::ir::{Ir, Shape, ip_bytes};
use falco_wasm::filter::lower::Program;
use falco_wasm::filter::parser::parse_condition;
use falco_wasm::filter::runtime::{FilterLimits, WasmFilter};
use falco_wasm::filter::value::{SlotValue, Value};
use std::collections::HashMap;

/// splitmix64: small, fast, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const STRS: &[&str] = &[
    "",
    "a",
    "ab",
    "abc",
    "bash",
    "Bash",
    "/etc",
    "/etc/passwd",
    "/etc/sh",
    "a b",
    "x/y",
    "/",
    "ABC",
    "etc",
    "passwd",
    "/usr/bin/sh",
    "aGk=",
    // longer than a 16-byte window and than two eight-byte words
    "/usr/share/doc/passwd",
    "abcabcabcabcabcabc",
];
const GLOBS: &[&str] = &[
    "*",
    "a*",
    "*b*",
    "/etc/*",
    "?b",
    "[ab]c",
    "[!a]*",
    "*/sh",
    "/etc/passw?",
];
const REGEXES: &[&str] = &[
    "a.*",
    "(a|b)+",
    "[a-c]*",
    ".",
    "ab?c",
    ".*etc.*",
    "/usr/(bin|sbin)/.*",
    "[[:alpha:]]+",
    "",
];
const PATHS: &[&str] = &["/etc", "/usr/*/sh", "/", "/etc/passwd", "x"];
const NUMS: &[i64] = &[-1, 0, 1, 2, 3, 5, 100, 65535, i64::MAX, i64::MIN];
const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.2",
    "192.168.1.5",
    "::1",
    "2001:db8::1",
    "127.0.0.1",
];
const NETS: &[&str] = &[
    "10.0.0.0/8",
    "192.168.0.0/16",
    "2001:db8::/32",
    "10.0.0.1",
    "0.0.0.0/0",
    "127.0.0.0/31",
];

/// Fields exercised, with a kind tag for the generator.
const FIELDS: &[(&str, &str)] = &[
    ("proc.name", "str"),
    ("proc.cmdline", "str"),
    ("fd.name", "str"),
    ("tolower(proc.name)", "str"),
    ("basename(fd.name)", "str"),
    ("b64(proc.cmdline)", "bytes"),
    ("proc.aname", "str_multi"),
    ("fd.types", "str_list"),
    ("proc.pid", "num"),
    ("fd.num", "num"),
    ("len(proc.cmdline)", "num"),
    ("proc.fdusage", "double"),
    ("proc.is_exe_upper_layer", "bool"),
    ("fd.sip", "ip"),
    ("fd.net", "ipnet"),
    ("evt.buffer", "bytes"),
];

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn list(rng: &mut Rng, pool: &[&str], quoted: bool) -> String {
    let n = rng.below(4);
    let items: Vec<String> = (0..n)
        .map(|_| {
            let s = rng.pick(pool);
            if quoted { quote(s) } else { s.to_string() }
        })
        .collect();
    format!("({})", items.join(", "))
}

fn check(rng: &mut Rng) -> String {
    let (field, kind) = rng.pick(FIELDS);
    if rng.chance(5) {
        return format!("{field} exists");
    }
    match kind {
        "str" | "str_multi" => {
            let op = rng.pick(&[
                "=",
                "!=",
                "contains",
                "icontains",
                "startswith",
                "endswith",
                "glob",
                "iglob",
                "regex",
                "in",
                "intersects",
                "pmatch",
                "<",
                ">=",
                "= anyof",
                "startswith allof",
                "contains oneof",
                "val",
            ]);
            match op {
                "glob" | "iglob" => format!("{field} {op} {}", quote(rng.pick(GLOBS))),
                "regex" => format!("{field} regex {}", quote(rng.pick(REGEXES))),
                "in" | "intersects" => format!("{field} {op} {}", list(rng, STRS, true)),
                "pmatch" => format!("{field} pmatch {}", list(rng, PATHS, false)),
                "= anyof" | "startswith allof" | "contains oneof" if kind == "str" => {
                    format!("{field} {op} {}", list(rng, STRS, true))
                }
                "= anyof" | "startswith allof" | "contains oneof" => {
                    format!("{field} = {}", quote(rng.pick(STRS)))
                }
                "val" => format!(
                    "{field} {} val({})",
                    rng.pick(&["=", "!=", "contains", "startswith", "endswith", "<"]),
                    rng.pick(&["proc.name", "fd.name", "proc.cmdline"])
                ),
                _ => format!("{field} {op} {}", quote(rng.pick(STRS))),
            }
        }
        "str_list" => {
            let op = rng.pick(&["in", "intersects"]);
            format!("{field} {op} {}", list(rng, STRS, true))
        }
        "bytes" => {
            let op = rng.pick(&[
                "=",
                "!=",
                "contains",
                "startswith",
                "endswith",
                "bcontains",
                "bstartswith",
                "in",
            ]);
            match op {
                "bcontains" | "bstartswith" => format!(
                    "{field} {op} {}",
                    rng.pick(&["61", "6162", "2f", "00", "686921"])
                ),
                "in" => format!("{field} in {}", list(rng, STRS, true)),
                _ => format!("{field} {op} {}", quote(rng.pick(STRS))),
            }
        }
        "num" => {
            let op = rng.pick(&["=", "!=", "<", "<=", ">", ">=", "in", "intersects"]);
            if op == "in" || op == "intersects" {
                let items: Vec<String> = (0..rng.below(4))
                    .map(|_| rng.pick(NUMS).to_string())
                    .collect();
                format!("{field} {op} ({})", items.join(", "))
            } else if rng.chance(15) {
                format!("{field} {op} val(fd.num)")
            } else {
                format!("{field} {op} {}", rng.pick(NUMS))
            }
        }
        "double" => format!(
            "{field} {} {}",
            rng.pick(&["=", "!=", "<", ">="]),
            rng.pick(&["0", "0.5", "1", "-2.25"])
        ),
        "bool" => format!(
            "{field} {} {}",
            rng.pick(&["=", "!="]),
            rng.pick(&["true", "false", "val(proc.is_exe_from_memfd)"])
        ),
        "ip" | "ipnet" => {
            let op = rng.pick(&["=", "!=", "in"]);
            if op == "in" {
                format!("{field} in {}", list(rng, NETS, false))
            } else if kind == "ip" && rng.chance(20) {
                format!("{field} {op} val(fd.cip)")
            } else {
                format!(
                    "{field} {op} {}",
                    rng.pick(if kind == "ip" { IPS } else { NETS })
                )
            }
        }
        _ => unreachable!(),
    }
}

fn expr(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.chance(35) {
        return check(rng);
    }
    match rng.below(3) {
        0 => format!("not ({})", expr(rng, depth - 1)),
        1 => (0..2 + rng.below(2))
            .map(|_| format!("({})", expr(rng, depth - 1)))
            .collect::<Vec<_>>()
            .join(" and "),
        _ => (0..2 + rng.below(2))
            .map(|_| format!("({})", expr(rng, depth - 1)))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn random_str(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(20) {
        // long values: constants at any place among other bytes, so that
        // searches cross 16-byte windows and their overlapping last one
        let mut v = Vec::new();
        for _ in 0..rng.below(12) {
            match rng.below(3) {
                0 => v.extend_from_slice(rng.pick(STRS).as_bytes()),
                1 => v.extend_from_slice(&near_miss(rng)),
                _ => v.push(rng.pick(b"abcAB/ .e")),
            }
        }
        return v;
    }
    if rng.chance(15) {
        return near_miss(rng);
    }
    if rng.chance(70) {
        return rng.pick(STRS).as_bytes().to_vec();
    }
    let alphabet = b"abcAB/ .e";
    (0..rng.below(8)).map(|_| rng.pick(alphabet)).collect()
}

/// A constant with one byte changed: equal everywhere but one place.
fn near_miss(rng: &mut Rng) -> Vec<u8> {
    let mut v = rng.pick(STRS).as_bytes().to_vec();
    if !v.is_empty() {
        let at = rng.below(v.len());
        v[at] ^= 1 << rng.below(8);
    }
    v
}

fn base_value(rng: &mut Rng, kind: ValueKind, shape: Shape) -> SlotValue {
    if rng.chance(12) {
        return SlotValue::Missing;
    }
    let one = |rng: &mut Rng| match kind {
        ValueKind::Str | ValueKind::Bytes => Value::Bytes(random_str(rng)),
        ValueKind::Num => Value::Num(if rng.chance(70) {
            rng.pick(NUMS)
        } else {
            rng.next() as i64 % 1000
        }),
        ValueKind::Double => Value::Double(rng.pick(&[0.0, 0.5, 1.0, -2.25, 3.0])),
        ValueKind::Bool => Value::Bool(rng.chance(50)),
        ValueKind::Ip | ValueKind::IpNet => {
            Value::Ip(ip_bytes(rng.pick(IPS).parse().expect("valid ip")))
        }
    };
    match shape {
        Shape::Scalar => SlotValue::One(one(rng)),
        Shape::List | Shape::Ancestors => {
            SlotValue::Many((0..rng.below(4)).map(|_| one(rng)).collect())
        }
    }
}

fn run_batch(rng: &mut Rng, fields: &SourceFields, nconds: usize, nevents: usize) -> usize {
    let mut program = Program::default();
    let mut conds = Vec::new();
    let mut irs: Vec<Ir> = Vec::new();
    while irs.len() < nconds {
        let text = expr(rng, 3);
        let ast = parse_condition(&text, 0)
            .unwrap_or_else(|e| panic!("generated condition does not parse: {text}: {e:?}"));
        match program.lower(fields, &ast, &mut Vec::new()) {
            Ok(ir) => {
                conds.push(text);
                irs.push(ir);
            }
            Err(e) => panic!("generated condition does not type-check: {text}: {e:?}"),
        }
    }
    let refs: Vec<&Ir> = irs.iter().collect();
    // Two groups: every condition, and a random half of them (so some
    // conditions are in both, compiled once and called, and the others
    // inline); both are split in parts when longer than a function takes.
    let every: Vec<u32> = (0..irs.len() as u32).collect();
    let half: Vec<u32> = every
        .iter()
        .copied()
        .filter(|_| rng.below(2) == 0)
        .collect();
    let groups = [every, half];
    let generated = codegen::generate(&program, &refs, &groups, 4096).expect("module generates");
    let mut wasm =
        WasmFilter::new(&generated, FilterLimits::default()).expect("module instantiates");
    let interp = Interp::new(&program).expect("patterns compile");
    let all_slots: Vec<u32> = (0..program.slots.len() as u32).collect();
    let mut checked = 0;
    for _ in 0..nevents {
        // One base value per (field, argument); transformed slots derive from it.
        let mut base: HashMap<_, SlotValue> = HashMap::new();
        let slots: Vec<SlotValue> = program
            .slots
            .iter()
            .map(|s| {
                let def = fields.def(s.key.field.id);
                let shape = if def.flags.list {
                    Shape::List
                } else if s.shape == Shape::Ancestors
                    || (def.flags.any_ancestor_without_arg && s.key.field.arg.is_none())
                {
                    Shape::Ancestors
                } else {
                    Shape::Scalar
                };
                let v = base
                    .entry(s.key.field.clone())
                    .or_insert_with(|| base_value(rng, def.ty.kind(), shape))
                    .clone();
                v.transform(&s.key.transforms)
            })
            .collect();
        // A few slots are left missing (as the engine leaves those that
        // cannot change a result); the interpreter sees them missing too.
        let missing: Vec<u32> = all_slots
            .iter()
            .copied()
            .filter(|_| rng.below(8) == 0)
            .collect();
        let mut buf = EventBuf::new(slots.len(), wasm.heap_base());
        for (i, v) in slots.iter().enumerate() {
            if missing.binary_search(&(i as u32)).is_err() {
                buf.put(i as u32, v);
            }
        }
        // The Wasm back end gets some slots up front and fetches the others
        // when a condition reads them.
        let mut lazy = EventBuf::new(slots.len(), wasm.heap_base());
        let mut eager = Vec::new();
        for (i, v) in slots.iter().enumerate() {
            if missing.binary_search(&(i as u32)).is_err() && rng.below(2) == 0 {
                lazy.put(i as u32, v);
                eager.push(i as u32);
            }
        }
        let mut fetch = |s: u32, b: &mut EventBuf| b.put(s, &slots[s as usize]);
        let g = rng.below(2);
        let mut got = Vec::new();
        wasm.eval(
            g as u32, &mut lazy, &eager, &missing, true, &mut got, &mut fetch,
        )
        .expect("evaluation succeeds");
        let want: Vec<u32> = groups[g]
            .iter()
            .copied()
            .filter(|&i| interp.eval(&irs[i as usize], &buf))
            .collect();
        if got != want {
            let diff: Vec<_> = (0..irs.len() as u32)
                .filter(|i| got.contains(i) != want.contains(i))
                .collect();
            let i = diff[0] as usize;
            panic!(
                "wasm and interpreter disagree on condition {i} (group {g}, missing {missing:?}): \
                 {}\nwasm={} interp={}\nslots: {:#?}",
                conds[i],
                got.contains(&(i as u32)),
                want.contains(&(i as u32)),
                program
                    .slots
                    .iter()
                    .zip(&slots)
                    .map(|(s, v)| (fields.display(&s.key.field), &s.key.transforms, v))
                    .collect::<Vec<_>>()
            );
        }
        // `first` mode returns the first match only.
        let mut first = Vec::new();
        let mut all = buf.clone();
        let present: Vec<u32> = all_slots
            .iter()
            .copied()
            .filter(|s| missing.binary_search(s).is_err())
            .collect();
        wasm.eval(
            g as u32, &mut all, &present, &missing, false, &mut first, &mut fetch,
        )
        .expect("evaluation succeeds");
        assert_eq!(first.first(), want.first(), "first-match mode");
        checked += irs.len();
    }
    checked
}

#[test]
fn wasm_matches_interpreter_on_random_conditions() {
    let target: usize = std::env::var("FALCO_WASM_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("FALCO_WASM_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_f00d);
    let fields = SourceFields::syscall();
    let mut rng = Rng(seed);
    let mut checked = 0;
    while checked < target {
        checked += run_batch(&mut rng, &fields, 50, 40);
    }
    eprintln!("differential: {checked} (condition, event) pairs agree (seed {seed})");
}
