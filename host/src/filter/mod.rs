//! The condition compiler and its two back ends.
//!
//! ```text
//! condition text ──parser──► ast::Expr ──(rules::compile: lists, macros)──►
//!   lower ──► ir::Ir ──┬─► interp   (reference interpreter, the oracle)
//!                      └─► codegen ─► Wasm module ─► runtime (wasmtime, limits)
//! ```
//!
//! The grammar is libsinsp's: `or` < `and` < `not`; a check is a field
//! (`proc.name`, `proc.aname[2]`, `evt.arg.flags`, `json.value[/a]`),
//! optionally wrapped in transformers (`tolower(…)`), an operator and a value,
//! a parenthesised list, or `val(field)`.

pub mod ast;
pub mod codegen;
pub mod eventbuf;
pub mod evttypes;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod parser;
pub mod pattern;
pub mod runtime;
pub mod value;
