//! Capture files (`.scap`, Falco's and sysdig's format): reading them
//! block by block, the process/fd/user lists that seed the state tables,
//! and the event table that says how each event's parameters are laid out.
//!
//! ```text
//! file (gzip or not) ─► read::Reader ─► Metadata (machine, threads, fds, users)
//!                                     └► Event (code, ts, tid, params) ...
//! Metadata ─► convert::seed ─► state tables
//! Event ─► convert::Converter ─► the probe's record ─► state, rules (as live)
//!
//! state ─► encode::metadata ─► write::Writer (SHB, MI, UL, PL, FDL)
//! record + state ─► encode::Encoder ─► EventBuf ─► write::Writer (EV)
//! ```
//!
//! The format reference is §7 of `falco-compat.md` (libs'
//! `scap_savefile.c` is the reader this one is checked against).

mod blocks;
pub mod convert;
pub mod encode;
pub mod meta;
pub mod read;
pub mod table;
pub mod write;

pub use read::{Event, Metadata, ReadStats, Reader, ScapError};
