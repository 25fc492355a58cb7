//! Rule fixtures: `falco-wasm test`.
