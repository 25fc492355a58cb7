//! Lazy extraction for the Wasm back end: the generated code asks the host
//! for a slot (the imported `fetch(slot)`) the first time its evaluation
//! reaches it, so an event pays only for the fields its rules read.
//!
//! During one `eval` call, the host's side of the extraction (the event
//! buffer and the closure that extracts a slot from the event) is a
//! [`FetchJob`] borrowed from the caller. wasmtime's host functions see only
//! the store's `'static` data, so the job is published in a thread-local
//! for the length of the call ([`with_job`]), and `fetch` (which wasmtime
//! runs on the calling thread, inside that call) takes it from there.

use super::codegen::Layout;
use super::eventbuf::EventBuf;
use std::cell::Cell;
use std::ptr::NonNull;
use wasmtime::{AsContextMut, Caller, Memory, StoreContextMut};

/// Extracts one slot's value into the buffer.
pub(crate) type Extract<'a> = dyn FnMut(u32, &mut EventBuf) + 'a;

/// The host's side of one evaluation.
pub(crate) struct FetchJob<'a> {
    /// The event's values so far (the heap mirrors the module's).
    pub buf: &'a mut EventBuf,
    /// The extraction of one slot.
    pub extract: &'a mut Extract<'a>,
    /// Slots left missing (sorted): no value of theirs changes a result.
    pub missing: &'a [u32],
    /// The module's memory layout.
    pub layout: Layout,
    /// The event's generation.
    pub generation: u64,
    /// The memory limit, bytes.
    pub max_memory: usize,
    /// The module's memory size as last seen (memories never shrink): a
    /// value that fits needs no size query of the store.
    pub memory_size: usize,
}

/// What the store keeps for `fetch`: the instance's memory.
#[derive(Default)]
pub(crate) struct FetchData {
    /// Set once the instance exists.
    pub memory: Option<Memory>,
}

thread_local! {
    static JOB: Cell<Option<NonNull<FetchJob<'static>>>> = const { Cell::new(None) };
}

/// Puts the published job back as it was when dropped (even on a panic).
struct Restore(Option<NonNull<FetchJob<'static>>>);

impl Drop for Restore {
    fn drop(&mut self) {
        JOB.with(|j| j.set(self.0));
    }
}

/// Runs `f` (one `eval` call) with `job` published to `fetch`; the previous
/// job (none, unless evaluations nest) is restored after, even on a panic.
pub(crate) fn with_job<R>(job: &mut FetchJob<'_>, f: impl FnOnce() -> R) -> R {
    // Only the lifetime is erased: `fetch` dereferences the pointer while
    // `f` runs, and `job` outlives `f`.
    let ptr = NonNull::from(job).cast::<FetchJob<'static>>();
    let _restore = Restore(JOB.with(|j| j.replace(Some(ptr))));
    f()
}

/// The error `fetch` traps with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// Called outside an evaluation (cannot happen with our modules).
    #[error("fetch called outside an evaluation")]
    NoJob,
    /// A slot number the module does not have.
    #[error("fetch of slot {0}, out of range")]
    Slot(i32),
    /// The values do not fit in the memory limit.
    #[error(
        "event field values need {needed} bytes, over the filter memory limit of {limit} bytes"
    )]
    TooLarge {
        /// Bytes needed.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// The instance has no memory, or the place to write is outside it
    /// (cannot happen with our modules).
    #[error("the value's place is outside the filter's memory")]
    OutOfMemory,
}

/// `memory`'s bytes, grown first to `needed` bytes when smaller; `None`
/// when `needed` is over `limit` or the memory cannot grow.
pub(crate) fn sized<T>(
    memory: Memory,
    mut store: StoreContextMut<'_, T>,
    needed: usize,
    limit: usize,
) -> Option<&mut [u8]> {
    if needed > limit {
        return None;
    }
    let have = memory.data_size(&store);
    if needed > have {
        let pages = (needed - have).div_ceil(65536) as u64;
        memory.grow(&mut store, pages).ok()?;
    }
    Some(memory.data_mut(store))
}

/// The imported `fetch(slot)`: extracts a slot (or leaves it missing) and
/// writes its entry, its generation and its new heap bytes into the
/// module's memory.
pub(crate) fn fetch(
    mut caller: Caller<'_, impl AsRef<FetchData>>,
    slot: i32,
) -> wasmtime::Result<()> {
    // Taken out while this call uses it (put back at its end): a fetch
    // reached from inside it would find no job rather than a second
    // borrow of this one.
    let ptr = JOB.with(Cell::take).ok_or(FetchError::NoJob)?;
    let _restore = Restore(Some(ptr));
    #[allow(unsafe_code)]
    // SAFETY: `with_job` published this pointer to a job that outlives the
    // `eval` call running on this thread (wasmtime runs host functions on
    // the caller's thread, inside the call), and it is taken out of the
    // thread-local above, so this is the only reference to the job until
    // `_restore` puts it back.
    let job = unsafe { &mut *ptr.as_ptr() };
    let nslots = (job.layout.result_base - job.layout.slot_base) / 16;
    let s = u32::try_from(slot)
        .ok()
        .filter(|&s| s < nslots)
        .ok_or(FetchError::Slot(slot))?;
    let before = job.buf.heap().len();
    if job.missing.binary_search(&s).is_ok() {
        job.buf.writer(s);
    } else {
        (job.extract)(s, job.buf);
    }
    let memory = caller
        .data()
        .as_ref()
        .memory
        .ok_or(FetchError::OutOfMemory)?;
    let heap_base = job.buf.heap_base() as usize;
    let needed = heap_base + job.buf.heap().len();
    let mem = if needed <= job.memory_size {
        memory.data_mut(caller.as_context_mut())
    } else {
        let mem = sized(memory, caller.as_context_mut(), needed, job.max_memory).ok_or(
            FetchError::TooLarge {
                needed,
                limit: job.max_memory,
            },
        )?;
        job.memory_size = mem.len();
        mem
    };
    let at = job.layout.slot_base as usize + s as usize * 16;
    let gen_at = job.layout.gen_base as usize + s as usize * 8;
    mem.get_mut(heap_base + before..needed)
        .ok_or(FetchError::OutOfMemory)?
        .copy_from_slice(&job.buf.heap()[before..]);
    mem.get_mut(at..at + 16)
        .ok_or(FetchError::OutOfMemory)?
        .copy_from_slice(job.buf.entry(s));
    mem.get_mut(gen_at..gen_at + 8)
        .ok_or(FetchError::OutOfMemory)?
        .copy_from_slice(&job.generation.to_le_bytes());
    Ok(())
}
