//! The sandbox every plugin call runs in: one wasmtime [`Engine`] for all
//! plugins (pooling allocator, epoch interruption), and the deadline that
//! bounds a call wherever it is.
//!
//! A call is bounded twice over:
//! - while the guest computes, by the epoch deadline (a trap when it passes);
//! - while the guest waits in a host call (a WASI sleep or poll, an HTTP
//!   request), by the call's future being dropped when its deadline passes
//!   or the engine stops: calls run as fibers ([`run_bounded`]) on the
//!   calling thread, and those host imports are futures that yield when
//!   they would wait.
//!
//! File operations run in place (handing each to another thread cost a
//! quarter of a plugin source's speed): one that never returns (a FIFO in
//! a granted directory) holds its source's thread: the run reports the
//! stall, and a stop leaves that thread behind.
//!
//! SIGINT/SIGTERM ([`interrupt_all`]) cut every call short in both ways.

use std::future::Future;
use std::pin::pin;
use std::sync::LazyLock;
use std::task::Poll;
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine};

/// How often the epoch advances (the granularity of CPU deadlines).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Why a call did not finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Its deadline passed while it waited in the host.
    Deadline,
    /// The engine is stopping.
    Stopping,
}

/// Why the shared engine could not be built.
#[derive(Clone, Debug, thiserror::Error)]
#[error("cannot build the plugin engine: {0}")]
pub struct EngineError(String);

/// Plugin instances (and their memories, tables and stacks) alive at once,
/// over every source and tenant. A plugin component holds a memory and a
/// table or two; a reload briefly holds the old and the new instances of
/// every tenant's plugins (100 tenants with two plugins each reload
/// within it). Each slot reserves address space (its memory's
/// maximum plus guards), not memory: 1,024 of them are a few TiB of the
/// 128 TiB a 64-bit process has.
const MAX_INSTANCES: u32 = 1024;

fn config(pooling: bool) -> Config {
    let mut c = Config::new();
    c.epoch_interruption(true);
    c.wasm_component_model(true);
    // No async component-model calls (the WIT has none): skipping their
    // bookkeeping makes every call cheaper. Host calls may still block
    // asynchronously (fibers), which is what deadlines need.
    c.concurrency_support(false);
    // For profiling plugins with `perf`: /tmp/perf-PID.map names the
    // compiled guest functions.
    if std::env::var_os("FALCO_WASM_PERFMAP").is_some() {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        let mut pool = wasmtime::PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES)
            // a plugin component is a handful of core instances (its
            // module, WASI's adapter, shims)
            .total_core_instances(MAX_INSTANCES * 8)
            .total_memories(MAX_INSTANCES)
            .total_tables(MAX_INSTANCES)
            .total_stacks(MAX_INSTANCES)
            .max_memory_size(super::MAX_MEMORY_LIMIT as usize);
        c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    c
}

/// The shared engine; its epoch ticker runs for the process's lifetime.
pub fn engine() -> Result<&'static Engine, EngineError> {
    static ENGINE: LazyLock<Result<Engine, EngineError>> = LazyLock::new(|| {
        let engine = Engine::new(&config(true))
            .or_else(|e| {
                crate::log::warning(&format!(
                    "plugins: pooling allocator unavailable ({e}); allocating on demand"
                ));
                Engine::new(&config(false))
            })
            .map_err(|e| EngineError(e.to_string()))?;
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while let Some(e) = weak.upgrade() {
                    e.increment_epoch();
                    drop(e);
                    std::thread::sleep(EPOCH_TICK);
                }
            })
            .map_err(|e| EngineError(e.to_string()))?;
        Ok(engine)
    });
    ENGINE.as_ref().map_err(Clone::clone)
}

/// The epoch ticks a deadline `timeout` from now is.
pub fn deadline_ticks(timeout: Duration) -> u64 {
    (timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
}

/// The runtime host imports wait on (timers, blocking file operations,
/// HTTP requests). Calls themselves run on the calling thread
/// ([`run_bounded`]); its one worker drives timers and I/O.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("plugin-io")
            .enable_time()
            .enable_io()
            .build()
            .expect("the plugin I/O runtime starts")
    });
    &RT
}

/// Set once the engine stops: every call in progress and every later call
/// is cut short.
static STOP: LazyLock<tokio::sync::watch::Sender<bool>> =
    LazyLock::new(|| tokio::sync::watch::channel(false).0);

/// Runs `fut` (a plugin call) on this thread until it finishes, `deadline`
/// passes while it waits, or the engine stops. A call cut short is dropped
/// mid-way: wasmtime unwinds its fiber, and the instance must not be used
/// again.
pub fn run_bounded<F: Future>(fut: F, deadline: Instant) -> Result<F::Output, Cut> {
    if stopping() {
        return Err(Cut::Stopping);
    }
    runtime().block_on(async {
        let mut stop = STOP.subscribe();
        let mut fut = pin!(fut);
        let mut sleep = pin!(tokio::time::sleep_until(deadline.into()));
        let mut stopping = pin!(stop.wait_for(|s| *s));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(r));
            }
            if stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Cut::Stopping));
            }
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Cut::Deadline));
            }
            Poll::Pending
        })
        .await
    })
}

/// Makes every plugin call running now, in any thread, end as if its time
/// limit had passed, and every later call end at once (shutdown must not
/// wait for a stuck plugin): the epoch is advanced past the longest
/// deadline `longest` can have set, and waiting calls are woken.
pub fn interrupt_all(longest: Duration) {
    STOP.send_replace(true);
    if let Ok(engine) = engine() {
        for _ in 0..deadline_ticks(longest) + 1 {
            engine.increment_epoch();
        }
    }
}

/// Whether [`interrupt_all`] was called.
pub fn stopping() -> bool {
    *STOP.borrow()
}

/// Runs a blocking operation of a host import off the calling thread, so
/// that the call's deadline can still cut the wait short (the operation
/// itself runs on until it returns; give it its own timeout).
pub async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    runtime().spawn_blocking(f).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_in_the_host_is_cut_at_the_deadline() {
        let t = Instant::now();
        let r = run_bounded(
            async { tokio::time::sleep(Duration::from_secs(30)).await },
            Instant::now() + Duration::from_millis(50),
        );
        assert_eq!(r, Err(Cut::Deadline));
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert_eq!(
            run_bounded(async { 7 }, Instant::now() + Duration::from_secs(1)),
            Ok(7)
        );
        // A blocking operation elsewhere does not hold the call.
        let t = Instant::now();
        let r = run_bounded(
            blocking(|| std::thread::sleep(Duration::from_secs(2))),
            Instant::now() + Duration::from_millis(50),
        );
        assert_eq!(r, Err(Cut::Deadline));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
}
