//! Bindings of the `extractor-plugin` world (wasm32 only). Use them through
//! `guest_sdk::export_extractor_plugin!`.
#![allow(unsafe_code, unreachable_pub, missing_docs, clippy::all)]

#[cfg(target_arch = "wasm32")]
wit_bindgen::generate!({
    world: "extractor-plugin",
    path: "../../wit",
    pub_export_macro: true,
    export_macro_name: "export_extractor",
    default_bindings_module: "guest_sdk::wasm::extractor",
});
