//! A mutation fuzzer for the capture reader and the replay converter, run by
//! `cargo xtask fuzz-scap [--secs N]`: it takes the real captures in
//! `../shared/data/scap`, mutates them (byte flips, random values over
//! length fields, truncation, block splices and duplications), and reads
//! each mutant to its end through `Reader` and `Converter`. A panic is a
//! finding: the input is saved and the run fails. Deterministic for a seed.
//!
//! Usage: fuzz_scap DATA_DIR SECS [SEED]

use falco_wasm::scap::Reader;
use falco_wasm::scap::convert::{self, Converter};
use falco_wasm::scap::read::file_bytes;
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Offsets of the block headers of a capture (for structure-aware mutations).
fn blocks(b: &[u8]) -> Vec<(usize, usize)> {
    let (mut at, mut out) = (0, Vec::new());
    while at + 8 <= b.len() {
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().expect("4")) as usize;
        if len < 12 || at + len > b.len() {
            break;
        }
        out.push((at, len));
        at += len;
    }
    out
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    let bl = blocks(&b);
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                // a random value over a 16- or 32-bit field inside a block
                let (at, len) = bl[rng.below(bl.len())];
                let i = at + rng.below(len);
                let v = match rng.below(4) {
                    0 => 0,
                    1 => u32::MAX,
                    2 => rng.next() as u32 & 0xffff,
                    _ => rng.next() as u32,
                };
                let w = if rng.below(2) == 0 { 2 } else { 4 };
                for k in 0..w {
                    if let Some(x) = b.get_mut(i + k) {
                        *x = (v >> (8 * k)) as u8;
                    }
                }
            }
            2 => {
                let n = rng.below(b.len());
                b.truncate(n);
            }
            3 => {
                // duplicate a block (a second section header, metadata after events...)
                let (at, len) = bl[rng.below(bl.len())];
                let copy = seed[at..at + len].to_vec();
                let to = bl[rng.below(bl.len())].0.min(b.len());
                b.splice(to..to, copy);
            }
            4 => {
                // drop a block
                let (at, len) = bl[rng.below(bl.len())];
                if at + len <= b.len() {
                    b.drain(at..at + len);
                }
            }
            _ => {
                // garbage inside an event block's parameter area
                let (at, len) = bl[rng.below(bl.len())];
                for _ in 0..8 {
                    let i = at + 8 + rng.below(len.saturating_sub(12));
                    if let Some(x) = b.get_mut(i) {
                        *x = rng.next() as u8;
                    }
                }
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

/// Reads a mutant to its end the way replay does; returns the events read.
fn exercise(bytes: Vec<u8>) -> u64 {
    let Ok(mut r) = Reader::new(Box::new(std::io::Cursor::new(bytes)), "fuzz".into()) else {
        return 0;
    };
    let mut state = convert::state_for(r.metadata());
    let mut conv = Converter::new(r.metadata());
    let mut n = 0;
    while let Ok(Some(ev)) = r.next_event() {
        n += 1;
        let _ = ev.type_name();
        for i in 0..ev.nparams() {
            let _ = ev.param(i);
        }
        if let Some(rec) = conv.convert(&ev)
            && let Ok(rec) = falco_wasm::capture::record::Record::parse(rec)
        {
            state.update(&rec);
            state.finish(&rec);
        }
    }
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).expect("usage: fuzz_scap DATA_DIR SECS [SEED]"));
    let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60.0);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut seeds = Vec::new();
    for e in std::fs::read_dir(&dir).expect("data dir").flatten() {
        if e.path().extension().is_some_and(|x| x == "scap") {
            seeds.push(file_bytes(&e.path()).expect("the shared captures read"));
        }
    }
    seeds.retain(|s| s.len() > 64);
    assert!(!seeds.is_empty(), "no capture in {}", dir.display());
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let (mut runs, mut events) = (0u64, 0u64);
    let mut last = Instant::now();
    while start.elapsed() < Duration::from_secs_f64(secs) {
        let s = &seeds[rng.below(seeds.len())];
        let m = mutate(&mut rng, s);
        let keep = m.clone();
        match std::panic::catch_unwind(|| exercise(m)) {
            Ok(n) => events += n,
            Err(_) => {
                let out = std::env::temp_dir().join(format!("fuzz-scap-finding-{runs}.scap"));
                std::fs::write(&out, keep).expect("save the finding");
                eprintln!(
                    "FINDING: a panic on mutant {runs}; input saved to {}",
                    out.display()
                );
                std::process::exit(1);
            }
        }
        runs += 1;
        if last.elapsed() > Duration::from_secs(30) {
            eprintln!(
                "{:.0} s: {runs} mutants, {events} events read, no finding",
                start.elapsed().as_secs_f64()
            );
            last = Instant::now();
        }
    }
    println!(
        "fuzz_scap: {runs} mutants of {} captures in {:.0} s ({events} events read), seed {seed}: no finding",
        seeds.len(),
        start.elapsed().as_secs_f64()
    );
}
