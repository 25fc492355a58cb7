//! Running a generated filter module in wasmtime, under limits.
//!
//! One [`WasmFilter`] per ruleset: the module is instantiated once and its
//! Store reused for every event. Per event the host writes the event's
//! generation and the slots extracted up front into the instance's memory
//! and makes one call, during which the module fetches the other slots its
//! rules reach (see the `lazy` module). Each call runs
//! under an epoch deadline; memory is capped. A trap (deadline, memory, a
//! bug) fails that event's evaluation with an error and the instance is
//! rebuilt from its pre-instantiated form, so the next event runs normally.

use super::codegen::{FETCH, GEN_ADDR, Generated, Layout};
use super::eventbuf::EventBuf;
use super::lazy::{self, Extract, FetchData, FetchJob};
use std::ops::Range;
use std::sync::OnceLock;
use std::time::Duration;
use wasmtime::{
    AsContextMut, Caller, Config, Engine, InstancePre, Linker, Memory, Module, Store, StoreLimits,
    StoreLimitsBuilder, TypedFunc,
};

/// A filter instance's store data: its limits, and what `fetch` needs.
pub struct Ctx {
    limits: StoreLimits,
    fetch: FetchData,
}

impl AsRef<FetchData> for Ctx {
    fn as_ref(&self) -> &FetchData {
        &self.fetch
    }
}

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
    /// A region of the filter's memory to read or write is out of bounds
    /// (the module returned a bad result count, or the layout is wrong).
    #[error("filter memory access out of bounds: {what} at {at}, {len} bytes, memory {size} bytes")]
    OutOfBounds {
        /// Which region.
        what: &'static str,
        /// Its address.
        at: usize,
        /// Its length.
        len: usize,
        /// The memory's size.
        size: usize,
    },
}

/// The engine shared by all filter modules, with its epoch ticker thread.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        // `perf` can name generated functions with FALCO_WASM_PERFMAP=1.
        if std::env::var_os("FALCO_WASM_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
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

/// Compiled modules kept for reuse, at most this many (the oldest goes).
const COMPILED_KEPT: usize = 32;

/// The compiled module of `wasm`: compiled once for identical modules
/// (tenants on the same rules, a reload that changed nothing in them), so
/// their machine code is shared; each still gets its own instance.
fn compiled(engine: &Engine, wasm: &[u8]) -> Result<Module, FilterError> {
    use sha2::{Digest, Sha256};
    use std::sync::Mutex;
    type Kept = Mutex<std::collections::VecDeque<([u8; 32], Module)>>;
    static KEPT: OnceLock<Kept> = OnceLock::new();
    let key: [u8; 32] = Sha256::digest(wasm).into();
    let kept = KEPT.get_or_init(Kept::default);
    if let Some((_, m)) = kept
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(k, _)| *k == key)
    {
        return Ok(m.clone());
    }
    let module =
        Module::new(engine, wasm).map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
    let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() >= COMPILED_KEPT {
        kept.pop_front();
    }
    kept.push_back((key, module.clone()));
    Ok(module)
}

/// An instantiated filter module.
pub struct WasmFilter {
    pre: InstancePre<Ctx>,
    store: Store<Ctx>,
    memory: Memory,
    eval: TypedFunc<(i32, i32), i32>,
    layout: Layout,
    limits: FilterLimits,
    /// The current event's number (see [`super::codegen`]).
    generation: u64,
    /// The memory's size as last seen (memories never shrink): what fits
    /// needs no size query of the store.
    memory_size: usize,
}

impl WasmFilter {
    /// Compiles and instantiates a generated module.
    pub fn new(generated: &Generated, limits: FilterLimits) -> Result<WasmFilter, FilterError> {
        let engine = engine();
        let module = compiled(engine, &generated.wasm)?;
        let mut linker = Linker::new(engine);
        linker
            .func_wrap(FETCH.0, FETCH.1, |c: Caller<'_, Ctx>, slot: i32| {
                lazy::fetch(c, slot)
            })
            .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
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
            generation: 0,
            memory_size: 0,
        })
    }

    /// The bytes of linear memory the instance holds now.
    pub fn memory_bytes(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// The address the event heap must be encoded for (see [`EventBuf::new`]).
    pub fn heap_base(&self) -> u32 {
        self.layout.heap_base
    }

    /// Evaluates group `group` over the event's values. The slots in
    /// `eager` are in `buf` already and are copied in; any other slot a
    /// rule reads is extracted then by `extract`, but those in `missing`
    /// (sorted), which are left missing. In `all` mode every matching rule
    /// index is appended to `out`; otherwise at most the first.
    #[allow(clippy::too_many_arguments)]
    pub fn eval(
        &mut self,
        group: u32,
        buf: &mut EventBuf,
        eager: &[u32],
        missing: &[u32],
        all: bool,
        out: &mut Vec<u32>,
        extract: &mut Extract<'_>,
    ) -> Result<(), FilterError> {
        self.generation += 1;
        let memory_size = self.load(buf, eager)?;
        let mut job = FetchJob {
            buf,
            extract,
            missing,
            layout: self.layout,
            generation: self.generation,
            max_memory: self.limits.max_memory,
            memory_size,
        };
        let result = lazy::with_job(&mut job, || self.call(group, all, out));
        if result.is_ok() {
            self.memory_size = job.memory_size;
        }
        result
    }

    /// Starts the event: its generation, its heap so far and the `eager`
    /// slots' entries (and generations) copied into memory; the memory's
    /// size.
    fn load(&mut self, buf: &EventBuf, eager: &[u32]) -> Result<usize, FilterError> {
        let layout = self.layout;
        debug_assert_eq!(
            buf.heap_base(),
            layout.heap_base,
            "event buffer encoded for another module"
        );
        let heap = buf.heap();
        let needed = layout.heap_base as usize + heap.len();
        let limit = self.limits.max_memory;
        let generation = self.generation.to_le_bytes();
        let mem = match needed <= self.memory_size {
            true => self.memory.data_mut(&mut self.store),
            false => lazy::sized(self.memory, self.store.as_context_mut(), needed, limit)
                .ok_or(FilterError::TooLarge { needed, limit })?,
        };
        let size = mem.len();
        self.memory_size = size;
        let hb = layout.heap_base as usize;
        mem[bounds("event heap", hb, heap.len(), size)?].copy_from_slice(heap);
        for &s in eager {
            let at = layout.slot_base as usize + s as usize * 16;
            mem[bounds("slot", at, 16, size)?].copy_from_slice(buf.entry(s));
            let at = layout.gen_base as usize + s as usize * 8;
            mem[bounds("slot generation", at, 8, size)?].copy_from_slice(&generation);
        }
        let at = GEN_ADDR as usize;
        mem[bounds("generation", at, 8, size)?].copy_from_slice(&generation);
        Ok(size)
    }

    /// The call itself, its results read back; a trap rebuilds the instance.
    fn call(&mut self, group: u32, all: bool, out: &mut Vec<u32>) -> Result<(), FilterError> {
        let layout = self.layout;
        self.store.set_epoch_deadline(self.limits.deadline_ticks);
        match self
            .eval
            .call(&mut self.store, (group as i32, i32::from(all)))
        {
            Ok(n) => {
                if all {
                    let mem = self.memory.data(&self.store);
                    // The count comes from the module: checked, not trusted.
                    let count = usize::try_from(n).unwrap_or(usize::MAX);
                    let at = layout.result_base as usize;
                    let len = count.saturating_mul(4);
                    out.extend(
                        mem[bounds("results", at, len, mem.len())?]
                            .chunks_exact(4)
                            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))),
                    );
                } else if n > 0 {
                    out.push(n as u32 - 1);
                }
                Ok(())
            }
            Err(e) => {
                let too_large = match e.downcast_ref::<lazy::FetchError>() {
                    Some(&lazy::FetchError::TooLarge { needed, limit }) => {
                        Some(FilterError::TooLarge { needed, limit })
                    }
                    _ => None,
                };
                let msg = match e.downcast_ref::<wasmtime::Trap>() {
                    Some(wasmtime::Trap::Interrupt) => "deadline exceeded".to_string(),
                    Some(t) => t.to_string(),
                    None => format!("{e:#}"),
                };
                // The instance may be in any state: start over from a fresh one.
                let (store, memory, eval) = instantiate(&self.pre, self.limits)?;
                self.store = store;
                self.memory = memory;
                self.memory_size = 0;
                self.eval = eval;
                Err(too_large.unwrap_or(FilterError::Trap(msg)))
            }
        }
    }
}

/// The range of `len` bytes at `at`, if it lies inside `size` bytes of
/// memory.
fn bounds(
    what: &'static str,
    at: usize,
    len: usize,
    size: usize,
) -> Result<Range<usize>, FilterError> {
    at.checked_add(len)
        .filter(|&end| end <= size)
        .map(|end| at..end)
        .ok_or(FilterError::OutOfBounds {
            what,
            at,
            len,
            size,
        })
}

/// A live instance: its store, memory and `eval` export.
type Instance = (Store<Ctx>, Memory, TypedFunc<(i32, i32), i32>);

fn instantiate(pre: &InstancePre<Ctx>, limits: FilterLimits) -> Result<Instance, FilterError> {
    let store_limits = StoreLimitsBuilder::new()
        .memory_size(limits.max_memory)
        .instances(1)
        .build();
    let ctx = Ctx {
        limits: store_limits,
        fetch: FetchData::default(),
    };
    let mut store = Store::new(pre.module().engine(), ctx);
    store.limiter(|c| &mut c.limits);
    store.set_epoch_deadline(limits.deadline_ticks);
    let instance = pre
        .instantiate(&mut store)
        .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or_else(|| FilterError::Instantiate("module has no memory export".into()))?;
    store.data_mut().fetch.memory = Some(memory);
    let eval = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "eval")
        .map_err(|e| FilterError::Instantiate(format!("{e:#}")))?;
    Ok((store, memory, eval))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, MemorySection,
        MemoryType, Module as Encoded, TypeSection, ValType,
    };

    /// A module whose `eval` returns `n`.
    fn returning(n: i32) -> Generated {
        let mut m = Encoded::new();
        let mut types = TypeSection::new();
        types
            .ty()
            .function([ValType::I32, ValType::I32], [ValType::I32]);
        m.section(&types);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut mems = MemorySection::new();
        mems.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        m.section(&mems);
        let mut exports = ExportSection::new();
        exports.export("eval", ExportKind::Func, 0);
        exports.export("memory", ExportKind::Memory, 0);
        m.section(&exports);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instructions().i32_const(n).end();
        code.function(&f);
        m.section(&code);
        Generated {
            wasm: m.finish(),
            layout: Layout {
                slot_base: 16,
                result_base: 64,
                gen_base: 128,
                heap_base: 1024,
                initial_pages: 1,
            },
        }
    }

    #[test]
    fn bad_result_counts_are_errors_not_panics() {
        for n in [-1, i32::MAX, 65536 / 4] {
            let mut f = WasmFilter::new(&returning(n), FilterLimits::default()).unwrap();
            let mut buf = EventBuf::new(0, f.heap_base());
            let mut out = Vec::new();
            let e = f
                .eval(0, &mut buf, &[], &[], true, &mut out, &mut |_, _| ())
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    FilterError::OutOfBounds {
                        what: "results",
                        ..
                    }
                ),
                "{n}: {e}"
            );
        }
        let mut f = WasmFilter::new(&returning(2), FilterLimits::default()).unwrap();
        let mut buf = EventBuf::new(0, f.heap_base());
        let mut out = Vec::new();
        f.eval(0, &mut buf, &[], &[], true, &mut out, &mut |_, _| ())
            .unwrap();
        assert_eq!(out, [0, 0]);
    }

    #[test]
    fn bounds_check_overflow_and_size() {
        assert_eq!(bounds("x", 4, 4, 8).unwrap(), 4..8);
        assert!(bounds("x", 4, 5, 8).is_err());
        assert!(bounds("x", usize::MAX, 2, usize::MAX).is_err());
    }
}
