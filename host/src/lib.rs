//! falco-wasm: a Falco-compatible runtime security engine whose rule filters
//! (and, with the plugins issue, its plugins) run as sandboxed WebAssembly.
//!
//! ```text
//! rules files ─► rules (load, compile) ─► filter (IR → Wasm) ─┐
//! events ─────────────────────────────────► engine (index, eval) ─► outputs
//!                         fields (registry, extraction) ──────┘
//! ```
//!
//! Modules follow the data flow: [`fields`] knows every field; [`rules`]
//! reads and compiles rules files; [`filter`] turns conditions into IR,
//! interprets it and generates Wasm; [`engine`] indexes rules by event type
//! and evaluates events; [`outputs`] formats alerts; [`testing`] runs rule
//! fixtures (`falco-wasm test`).

pub mod artifact;
pub mod capture;
pub mod cli;
pub mod config;
pub mod digest;
pub mod engine;
pub mod escape;
pub mod fields;
pub mod filter;
pub mod log;
pub mod outputs;
pub mod pipeline;
pub mod plugins;
pub mod priority;
pub mod rules;
pub mod scap;
pub mod server;
pub mod state;
pub mod tenants;
pub mod testing;
pub mod time;
pub mod yaml;

/// Runs `f` with enough stack for one more level of recursion: conditions
/// (and macro chains) may nest deeply, and every pass over them recurses.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, f)
}
