//! Running a generated filter module in wasmtime, under limits.
//!
//! One [`WasmFilter`] per ruleset: the module is instantiated once and its
//! Store reused for every event. Per event the host writes the needed slots
//! straight into the instance's memory and makes one call. Each call runs
//! under an epoch deadline; memory is capped. A trap (deadline, memory, a
//! bug) fails that event's evaluation with an error and the instance is
//! rebuilt from its pre-instantiated form, so the next event runs normally.

use super::codegen::{Generated, Layout};
use super::eventbuf::EventBuf;
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

/// An instantiated filter module.
pub struct WasmFilter {
    pre: InstancePre<StoreLimits>,
    store: Store<StoreLimits>,
    memory: Memory,
    eval: TypedFunc<(i32, i32), i32>,
    layout: Layout,
    limits: FilterLimits,
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
        })
    }

    /// The address the event heap must be encoded for (see [`EventBuf::new`]).
    pub fn heap_base(&self) -> u32 {
        self.layout.heap_base
    }

    /// Evaluates group `group` over the event's values (only the slots in
    /// `needed` are copied in). In `all` mode every matching rule index is
    /// appended to `out`; otherwise at most the first.
    pub fn eval(
        &mut self,
        group: u32,
        buf: &EventBuf,
        needed: &[u32],
        all: bool,
        out: &mut Vec<u32>,
    ) -> Result<(), FilterError> {
        let layout = self.layout;
        debug_assert_eq!(
            buf.heap_base(),
            layout.heap_base,
            "event buffer encoded for another module"
        );
        let heap = buf.heap();
        let needed_bytes = layout.heap_base as usize + heap.len();
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
        mem[hb..hb + heap.len()].copy_from_slice(heap);
        for &s in needed {
            let at = (layout.slot_base + s * 16) as usize;
            mem[at..at + 16].copy_from_slice(buf.entry(s));
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

/// A live instance: its store, memory and `eval` export.
type Instance = (Store<StoreLimits>, Memory, TypedFunc<(i32, i32), i32>);

fn instantiate(
    pre: &InstancePre<StoreLimits>,
    limits: FilterLimits,
) -> Result<Instance, FilterError> {
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
