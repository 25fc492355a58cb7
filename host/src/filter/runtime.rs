//! Running a generated filter module in wasmtime, under limits.
//!
//! One [`WasmFilter`] per ruleset: the module is instantiated once and its
//! Store reused for every event. Per event the host writes the needed slots
//! straight into the instance's memory and makes one call. Each call runs
//! under an epoch deadline; memory is capped. A trap (deadline, memory, a
//! bug) fails that event's evaluation with an error and the instance is
//! rebuilt from its pre-instantiated form, so the next event runs normally.

use super::codegen::{Generated, Layout};
use super::value::{SlotValue, Value};
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::{
    Config, Engine, InstancePre, Linker, Memory, Module, Store, StoreLimits, StoreLimitsBuilder,
    TypedFunc,
};

/// How often the shared engine's epoch advances.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits applied to every filter call.
#[derive(Clone, Copy, Debug)]
pub struct FilterLimits {
    /// Maximum linear memory, bytes (bounds the per-event values too).
    pub max_memory: usize,
    /// Deadline per call, in epoch ticks of [`EPOCH_TICK`].
    pub deadline_ticks: u64,
}

impl Default for FilterLimits {
    fn default() -> FilterLimits {
        FilterLimits {
            max_memory: 256 << 20,
            deadline_ticks: 100,
        }
    }
}

/// Why a filter evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// Compiling or instantiating the module failed.
    #[error("cannot instantiate the compiled filter: {0}")]
    Instantiate(String),
    /// The event's values do not fit in the filter's memory limit.
    #[error(
        "event field values need {needed} bytes, over the filter memory limit of {limit} bytes"
    )]
    TooLarge {
        /// Bytes needed.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// The call trapped (deadline exceeded, or a fault).
    #[error("filter evaluation trapped: {0}")]
    Trap(String),
}

/// The engine shared by all filter modules, with its epoch ticker thread.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine = Engine::new(&config).expect("the filter engine configuration is valid");
        let ticker = engine.clone();
        std::thread::Builder::new()
            .name("filter-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(EPOCH_TICK);
                    ticker.increment_epoch();
                }
            })
            .expect("spawn the epoch ticker thread");
        engine
    })
}

/// An instantiated filter module.
pub struct WasmFilter {
    pre: InstancePre<StoreLimits>,
    store: Store<StoreLimits>,
    memory: Memory,
    eval: TypedFunc<(i32, i32), i32>,
    layout: Layout,
    limits: FilterLimits,
    heap: Vec<u8>,
}

impl WasmFilter {
    /// Compiles and instantiates a generated module.
    pub fn new(generated: &Generated, limits: FilterLimits) -> Result<WasmFilter, FilterError> {
        let engine = engine();
        let module = Module::new(engine, &generated.wasm)
            .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
        let linker = Linker::new(engine);
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
        let (store, memory, eval) = instantiate(&pre, limits)?;
        Ok(WasmFilter {
            pre,
            store,
            memory,
            eval,
            layout: generated.layout,
            limits,
            heap: Vec::new(),
        })
    }

    /// Evaluates group `group` over `slots` (only those listed in `needed`
    /// are written). In `all` mode every matching rule index is appended to
    /// `out`; otherwise at most the first.
    pub fn eval(
        &mut self,
        group: u32,
        slots: &[SlotValue],
        needed: &[u32],
        all: bool,
        out: &mut Vec<u32>,
    ) -> Result<(), FilterError> {
        let layout = self.layout;
        // Encode the values: slot entries, and the heap (strings, addresses,
        // list elements) laid out from `heap_base`.
        self.heap.clear();
        let mut entries: Vec<(u32, [u8; 16])> = Vec::with_capacity(needed.len());
        for &s in needed {
            let entry = encode_slot(&slots[s as usize], &mut self.heap, layout.heap_base);
            entries.push((s, entry));
        }
        let needed_bytes = layout.heap_base as usize + self.heap.len();
        if needed_bytes > self.limits.max_memory {
            return Err(FilterError::TooLarge {
                needed: needed_bytes,
                limit: self.limits.max_memory,
            });
        }
        let have = self.memory.data_size(&self.store);
        if needed_bytes > have {
            let pages = (needed_bytes - have).div_ceil(65536) as u64;
            self.memory
                .grow(&mut self.store, pages)
                .map_err(|_| FilterError::TooLarge {
                    needed: needed_bytes,
                    limit: self.limits.max_memory,
                })?;
        }
        let mem = self.memory.data_mut(&mut self.store);
        let hb = layout.heap_base as usize;
        mem[hb..hb + self.heap.len()].copy_from_slice(&self.heap);
        for (s, e) in &entries {
            let at = (layout.slot_base + s * 16) as usize;
            mem[at..at + 16].copy_from_slice(e);
        }
        self.store.set_epoch_deadline(self.limits.deadline_ticks);
        match self
            .eval
            .call(&mut self.store, (group as i32, i32::from(all)))
        {
            Ok(n) => {
                if all {
                    let mem = self.memory.data(&self.store);
                    for i in 0..n as u32 {
                        let at = (layout.result_base + i * 4) as usize;
                        out.push(u32::from_le_bytes(
                            mem[at..at + 4].try_into().expect("4 bytes"),
                        ));
                    }
                } else if n > 0 {
                    out.push(n as u32 - 1);
                }
                Ok(())
            }
            Err(e) => {
                let msg = match e.downcast_ref::<wasmtime::Trap>() {
                    Some(wasmtime::Trap::Interrupt) => "deadline exceeded".to_string(),
                    Some(t) => t.to_string(),
                    None => format!("{e:#}"),
                };
                // The instance may be in any state: start over from a fresh one.
                let (store, memory, eval) = instantiate(&self.pre, self.limits)?;
                self.store = store;
                self.memory = memory;
                self.eval = eval;
                Err(FilterError::Trap(msg))
            }
        }
    }
}

fn instantiate(
    pre: &InstancePre<StoreLimits>,
    limits: FilterLimits,
) -> Result<(Store<StoreLimits>, Memory, TypedFunc<(i32, i32), i32>), FilterError> {
    let store_limits = StoreLimitsBuilder::new()
        .memory_size(limits.max_memory)
        .instances(1)
        .build();
    let mut store = Store::new(pre.module().engine(), store_limits);
    store.limiter(|l| l);
    store.set_epoch_deadline(limits.deadline_ticks);
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or_else(|| FilterError::Instantiate("module has no memory export".into()))?;
    let eval = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "eval")
        .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
    Ok((store, memory, eval))
}

/// Encodes one slot: its 16-byte entry, with any out-of-line data appended to
/// `heap` (addresses are `heap_base + offset`).
fn encode_slot(v: &SlotValue, heap: &mut Vec<u8>, heap_base: u32) -> [u8; 16] {
    match v {
        SlotValue::Missing => [0; 16],
        SlotValue::One(x) => encode_value(x, heap, heap_base),
        SlotValue::Many(xs) => {
            // Elements first (so they are contiguous), then their data.
            align(heap, 16);
            let elems_at = heap.len();
            heap.resize(elems_at + xs.len() * 16, 0);
            for (i, x) in xs.iter().enumerate() {
                let e = encode_value(x, heap, heap_base);
                let at = elems_at + i * 16;
                heap[at..at + 16].copy_from_slice(&e);
            }
            entry(2, heap_base + elems_at as u32, xs.len() as u64)
        }
    }
}

fn encode_value(x: &Value, heap: &mut Vec<u8>, heap_base: u32) -> [u8; 16] {
    match x {
        Value::Bytes(b) => {
            let at = heap.len();
            heap.extend_from_slice(b);
            entry(1, heap_base + at as u32, b.len() as u64)
        }
        Value::Num(n) => entry(1, 0, *n as u64),
        Value::Bool(b) => entry(1, 0, u64::from(*b)),
        Value::Double(d) => entry(1, 0, d.to_bits()),
        Value::Ip(a) => {
            align(heap, 8);
            let at = heap.len();
            heap.extend_from_slice(a);
            entry(1, heap_base + at as u32, 0)
        }
    }
}

fn align(heap: &mut Vec<u8>, a: usize) {
    let n = heap.len().div_ceil(a) * a;
    heap.resize(n, 0);
}

fn entry(tag: u32, a: u32, b: u64) -> [u8; 16] {
    let mut e = [0u8; 16];
    e[0..4].copy_from_slice(&tag.to_le_bytes());
    e[4..8].copy_from_slice(&a.to_le_bytes());
    e[8..16].copy_from_slice(&b.to_le_bytes());
    e
}
