//! The guest SDK's own unit tests, built for `wasm32-wasip2` as plugins are,
//! run in wasmtime. The sandboxed build of the SDK has code of its own that
//! the native run of the same tests does not reach (the simd128 JSON
//! scanners), so the differential tests (chunked scanners against bytewise
//! ones, compact rendering against serde_json, …) run on both.
//!
//! `cargo xtask test` builds the test binary and names it in
//! FALCO_WASM_GUEST_SDK_TESTS.

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Host {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

#[test]
fn guest_sdk_unit_tests_pass_under_wasm() {
    let Some(path) = std::env::var_os("FALCO_WASM_GUEST_SDK_TESTS") else {
        eprintln!(
            "SKIPPED: FALCO_WASM_GUEST_SDK_TESTS does not name the SDK's wasm32-wasip2 test \
             binary (cargo xtask test builds it)"
        );
        return;
    };
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, &path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let ctx = WasiCtx::builder()
        .inherit_stdout()
        .inherit_stderr()
        .args(&["guest_sdk", "--test-threads=1"])
        .build();
    let mut store = Store::new(
        &engine,
        Host {
            ctx,
            table: ResourceTable::new(),
        },
    );
    let command =
        wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)
            .unwrap();
    // A failing test panics, which aborts the component (a trap); the
    // harness's own failure report is an error exit.
    let status = command.wasi_cli_run().call_run(&mut store);
    assert!(
        matches!(status, Ok(Ok(()))),
        "the guest SDK's tests failed under wasm: {status:?} (their output is above)"
    );
}
