//! `cargo xtask bench filter`: events per second through the default
//! ruleset (written here, shaped like Falco's stable one), with the
//! event-type index, on a synthetic stream of realistic events
//! (execve/open/connect mix plus other state-engine syscalls), for the
//! generated Wasm filter and the reference interpreter, in one run.
//!
//! Both back ends get the same events and the same extraction; each event
//! is evaluated with `rule_matching: first` (Falco's default).
//! Options (env): FALCO_WASM_BENCH_SECS (default 3), FALCO_WASM_BENCH_EVENTS
//! (distinct events cycled, default 512: their values stay in cache, as a
//! live thread table's hot entries do), FALCO_WASM_BENCH_RULES
//! (a rules file instead of the default ruleset).

use falco_wasm::engine::{Backend, EngineOptions, Event, SourceEngine};
use falco_wasm::fields::{ResolvedField, SourceFields, ValueKind};
use falco_wasm::filter::ir::ip_bytes;
use falco_wasm::filter::value::{SlotValue, Value, ValueSink};
use falco_wasm::rules::compile::builtin_plugins;
use falco_wasm::rules::{RulesFile, SourceRules};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Which dense value index each field (and argument) has: shared by all
/// events, so an event is just its evt.type and a short vector of values.
struct Layout {
    by_id: Vec<u16>,
    with_arg: Vec<(ResolvedField, u16)>,
}

const NONE: u16 = u16::MAX;

/// An event with its values resolved: extraction is an index lookup and a
/// copy into the filter's buffer, as from a state table.
struct BenchEvent {
    evt_type: &'static str,
    layout: std::rc::Rc<Layout>,
    values: Vec<SlotValue>,
}

impl Event for BenchEvent {
    fn evt_type(&self) -> Option<&str> {
        Some(self.evt_type)
    }
    fn extract(&self, f: &ResolvedField, out: &mut dyn ValueSink) {
        let idx = match &f.arg {
            None => self.layout.by_id[f.id as usize],
            Some(_) => self
                .layout
                .with_arg
                .iter()
                .find(|(k, _)| k == f)
                .map_or(NONE, |(_, i)| *i),
        };
        if let Some(v) = self.values.get(idx as usize) {
            v.emit(out);
        }
    }
}

const PROCS: &[&str] = &[
    "bash",
    "nginx",
    "python3",
    "cat",
    "sshd",
    "node",
    "java",
    "systemd",
    "containerd",
    "sh",
    "curl",
    "ls",
    "grep",
    "cron",
    "postgres",
];
const FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/var/log/syslog",
    "/tmp/build/out.o",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/proc/self/stat",
    "/home/dev/.bashrc",
    "/etc/ld.so.cache",
    "/var/lib/app/data.db",
    "/dev/null",
    "/root/.ssh/id_rsa",
    "/usr/bin/python3",
];
const CMDLINES: &[&str] = &[
    "bash -c make",
    "nginx: worker process",
    "python3 app.py --port 8080",
    "cat /etc/passwd",
    "sshd: dev [priv]",
    "node server.js",
    "curl -s https://example.com",
    "ls -la /tmp",
    "grep -r TODO src",
];
const IPS: &[&str] = &[
    "10.0.0.12",
    "192.168.1.20",
    "172.17.0.2",
    "93.184.216.34",
    "127.0.0.1",
    "8.8.8.8",
];

fn value_for(rng: &mut Rng, name: &str, kind: ValueKind, evt_type: &str) -> SlotValue {
    let s = |v: &str| SlotValue::One(Value::str(v));
    match name {
        "evt.type" => s(evt_type),
        "proc.name" | "proc.pname" | "proc.aname" => s(rng.pick(PROCS)),
        "proc.exepath" | "proc.exe" | "proc.pexepath" | "proc.pexe" => {
            s(&format!("/usr/bin/{}", rng.pick(PROCS)))
        }
        "proc.cmdline" | "proc.pcmdline" | "proc.args" => s(rng.pick(CMDLINES)),
        "fd.name" | "fd.nameraw" | "fs.path.name" => s(rng.pick(FILES)),
        "fd.directory" => s("/etc"),
        "fd.filename" => s("passwd"),
        "fd.typechar" => s(if evt_type == "connect" { "4" } else { "f" }),
        "fd.type" => s(if evt_type == "connect" {
            "ipv4"
        } else {
            "file"
        }),
        "fd.l4proto" => s("tcp"),
        "container.id" => s(if rng.next().is_multiple_of(3) {
            "3f1c2a9b8d7e"
        } else {
            "host"
        }),
        "container.image.repository" => s("docker.io/library/nginx"),
        "user.name" => s(if rng.next().is_multiple_of(2) {
            "root"
        } else {
            "dev"
        }),
        "evt.arg.flags" => s("O_RDONLY|O_CLOEXEC"),
        _ => match kind {
            ValueKind::Str | ValueKind::Bytes => s("x"),
            ValueKind::Num => SlotValue::One(Value::Num((rng.next() % 1000) as i64)),
            ValueKind::Double => SlotValue::One(Value::Double(0.5)),
            ValueKind::Bool => SlotValue::One(Value::Bool(name == "evt.is_open_read")),
            ValueKind::Ip | ValueKind::IpNet => {
                SlotValue::One(Value::Ip(ip_bytes(rng.pick(IPS).parse().expect("ip"))))
            }
        },
    }
}

fn make_events(rules: &SourceRules, n: usize) -> Vec<BenchEvent> {
    let fields: &SourceFields = &rules.fields;
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut layout = Layout {
        by_id: vec![NONE; fields.fields().len()],
        with_arg: Vec::new(),
    };
    let mut keys: Vec<ResolvedField> = Vec::new();
    for slot in &rules.program.slots {
        let f = &slot.key.field;
        if keys.contains(f) {
            continue;
        }
        let i = keys.len() as u16;
        match &f.arg {
            None => layout.by_id[f.id as usize] = i,
            Some(_) => layout.with_arg.push((f.clone(), i)),
        }
        keys.push(f.clone());
    }
    let layout = std::rc::Rc::new(layout);
    // A realistic mix of what the kernel filter would send.
    const MIX: &[&str] = &[
        "openat", "openat", "openat", "openat", "execve", "execve", "connect", "close", "close",
        "dup2", "socket", "clone", "procexit", "sendto", "ptrace",
    ];
    (0..n)
        .map(|_| {
            let evt_type = rng.pick(MIX);
            let values = keys
                .iter()
                .map(|f| {
                    let def = fields.def(f.id);
                    if def.flags.list || (def.flags.any_ancestor_without_arg && f.arg.is_none()) {
                        SlotValue::Many(vec![Value::str(rng.pick(PROCS)), Value::str("systemd")])
                    } else {
                        value_for(&mut rng, &fields.display(f), def.ty.kind(), evt_type)
                    }
                })
                .collect();
            BenchEvent {
                evt_type,
                layout: layout.clone(),
                values,
            }
        })
        .collect()
}

fn measure(engine: &mut SourceEngine, events: &[BenchEvent], secs: f64) -> (f64, usize) {
    let mut out = Vec::new();
    let mut n = 0usize;
    let mut matches = 0usize;
    let start = Instant::now();
    let limit = Duration::from_secs_f64(secs);
    while start.elapsed() < limit {
        for ev in events {
            out.clear();
            engine.process(ev, &mut out).expect("evaluation succeeds");
            matches += out.len();
        }
        n += events.len();
    }
    (n as f64 / start.elapsed().as_secs_f64(), matches)
}

fn main() {
    let secs: f64 = std::env::var("FALCO_WASM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let (path, content) = match std::env::var("FALCO_WASM_BENCH_RULES") {
        Ok(p) => (p.clone(), std::fs::read_to_string(&p).expect("read rules")),
        Err(_) => (
            "rules/falco_rules.yaml".to_string(),
            include_str!("../../rules/falco_rules.yaml").to_string(),
        ),
    };
    let registry = falco_wasm::fields::FieldRegistry::builtin();
    let loaded = falco_wasm::rules::load_files(
        vec![RulesFile {
            path: path.clone(),
            content,
        }],
        &registry,
        &builtin_plugins(),
    );
    assert!(!loaded.has_errors(), "rules load: {:?}", loaded.diags);
    let src = loaded.source("syscall").expect("syscall rules").clone();
    let nevents: usize = std::env::var("FALCO_WASM_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    let events = make_events(&src, nevents);
    let t = Instant::now();
    let mut wasm = SourceEngine::new(src.clone(), &EngineOptions::default()).expect("wasm engine");
    let compile_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut interp = SourceEngine::new(
        src.clone(),
        &EngineOptions {
            backend: Backend::Interp,
            ..EngineOptions::default()
        },
    )
    .expect("interp engine");
    // Warm up both.
    measure(&mut wasm, &events, 0.3);
    measure(&mut interp, &events, 0.3);
    let (w, wm) = measure(&mut wasm, &events, secs);
    let (i, im) = measure(&mut interp, &events, secs);
    println!(
        "filter benchmark: {path}: {} rules, {} condition slots, {} event-type groups; {nevents} distinct synthetic events, cycled (openat/execve/connect/close/dup2/socket/clone/procexit/sendto/ptrace)",
        wasm.active_count(),
        src.program.slots.len(),
        wasm.group_count()
    );
    println!("  wasm module compile+instantiate: {compile_ms:.1} ms");
    println!("  {:<12} {:>14} {:>10}", "back end", "events/s", "alerts");
    println!("  {:<12} {:>14.0} {:>10}", "wasm", w, wm);
    println!("  {:<12} {:>14.0} {:>10}", "interpreter", i, im);
    println!("  ratio wasm/interpreter: {:.2}x", w / i);
}
