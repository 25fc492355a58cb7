//! The `falco-wasm` binary: argument parsing and dispatch live in
//! [`falco_wasm::cli`].

fn main() -> std::process::ExitCode {
    falco_wasm::cli::main()
}
