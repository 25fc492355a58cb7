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
pub(crate) mod lazy;
pub mod lower;
pub mod parser;
pub mod pattern;
pub mod runtime;
pub mod value;

/// Why a program could not be prepared for evaluation.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A pattern (`glob`, `regex`) does not compile within the limits.
    #[error("the pattern '{pattern}' does not compile: {source}")]
    Pattern {
        /// The pattern's regular expression.
        pattern: String,
        /// Why.
        #[source]
        source: regex::Error,
    },
    /// A pattern's automaton could not be built (too many states).
    #[error("the pattern '{pattern}' does not compile: {message}")]
    Automaton {
        /// The pattern's regular expression.
        pattern: String,
        /// Why.
        message: String,
    },
    /// The compiled rules need more memory than the filter may have.
    #[error("compiled rules need {needed} memory pages, more than the limit of {limit}")]
    Memory {
        /// Pages needed.
        needed: u32,
        /// The limit.
        limit: u32,
    },
}
