//! Builds the eBPF probe (`ebpf/src/probe.bpf.c`) with clang and leaves the
//! object in `OUT_DIR`, from where `capture::probe` embeds it in the binary.
//!
//! The probe is C, not Rust: reading `task_struct` and friends portably needs
//! CO-RE field relocations, which clang emits and aya applies at load time;
//! Rust eBPF has no equivalent yet (RECIPES). Without clang the host still
//! builds (rules validation, `test`, plugins work) and `run` says exactly what
//! is missing.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let src_dir = manifest.join("../ebpf/src");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("probe.bpf.o");
    println!("cargo::rerun-if-changed={}", src_dir.display());
    // The plugin host's bindings are generated from the WIT contract.
    println!(
        "cargo::rerun-if-changed={}",
        manifest.join("../wit").display()
    );
    println!("cargo::rerun-if-env-changed=FALCO_WASM_CLANG");
    let clang = std::env::var("FALCO_WASM_CLANG").ok().or_else(|| {
        ["clang-16", "clang-17", "clang-18", "clang-19", "clang"]
            .into_iter()
            .find(|c| {
                Command::new(c)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .map(str::to_string)
    });
    let missing = |why: &str| {
        println!(
            "cargo::warning=eBPF probe not built: {why}; `falco-wasm run` will refuse live capture"
        );
        std::fs::write(&out, b"").expect("write empty probe object");
        println!("cargo::rustc-env=FALCO_WASM_PROBE_MISSING={why}");
    };
    let Some(clang) = clang else {
        // Built again once clang is installed (a path that does not exist
        // reruns this script on every build until it does).
        println!("cargo::rerun-if-changed=/usr/bin/clang-16");
        missing("clang was not found (install clang-16 and libbpf-dev, or set FALCO_WASM_CLANG)");
        return;
    };
    let arch_include = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let status = Command::new(&clang)
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-Wall",
            "-Werror",
            "-D__TARGET_ARCH_x86",
        ])
        .arg(format!("-I{arch_include}"))
        .arg("-c")
        .arg(src_dir.join("probe.bpf.c"))
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => println!("cargo::rustc-env=FALCO_WASM_PROBE_MISSING="),
        Ok(s) => panic!("{clang} failed to compile the eBPF probe ({s}); see the messages above"),
        Err(e) => missing(&format!("{clang} could not run: {e}")),
    }
}
