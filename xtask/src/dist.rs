//! What the image and the Debian package ship, built once: the release
//! binary and the first-party plugins (release, wasm32-wasip2).

use crate::{PLUGINS, cargo, ensure_packages, root, run, target_dir};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The release build's outputs.
pub(crate) struct Release {
    /// The `falco-wasm` binary (with debug info: strip the copies).
    pub bin: PathBuf,
    /// The directory of the `*_plugin.wasm` components.
    pub plugins: PathBuf,
}

/// Builds the release binary (incremental after the first); its path.
pub(crate) fn release_bin() -> Result<PathBuf> {
    ensure_packages(&["clang-16", "libbpf-dev"])?;
    run({
        let mut c = cargo();
        c.args(["build", "--release", "-p", "falco-wasm"]);
        c
    })?;
    Ok(target_dir()?.join("release/falco-wasm"))
}

/// Builds the first-party plugins for release; their directory.
pub(crate) fn release_plugins() -> Result<PathBuf> {
    run({
        let mut c = cargo();
        c.args(["build", "--release", "--target", "wasm32-wasip2"]);
        for p in PLUGINS {
            c.args(["-p", &format!("falco-wasm-plugin-{p}")]);
        }
        c
    })?;
    Ok(target_dir()?.join("wasm32-wasip2/release"))
}

/// Builds one component (crate `package`, library `lib`) in release; its
/// path.
pub(crate) fn release_component(package: &str, lib: &str) -> Result<PathBuf> {
    run({
        let mut c = cargo();
        c.args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            package,
        ]);
        c
    })?;
    Ok(target_dir()?
        .join("wasm32-wasip2/release")
        .join(format!("{lib}.wasm")))
}

/// Builds the release binary and plugins (incremental after the first).
pub(crate) fn release() -> Result<Release> {
    Ok(Release {
        bin: release_bin()?,
        plugins: release_plugins()?,
    })
}

/// The workspace's version.
pub(crate) fn version() -> Result<String> {
    let toml = std::fs::read_to_string(root().join("Cargo.toml"))?;
    toml.lines()
        .find_map(|l| l.strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_string())
        .context("version in Cargo.toml (workspace.package)")
}

/// Copies `src` to `dir` + `at` (parents made).
pub(crate) fn put(dir: &Path, at: &str, src: &Path) -> Result<()> {
    let dst = dir.join(at.trim_start_matches('/'));
    std::fs::create_dir_all(dst.parent().context("parent")?)?;
    std::fs::copy(src, &dst).with_context(|| format!("{} -> {}", src.display(), dst.display()))?;
    Ok(())
}

/// Copies the binary (debug info stripped), the rules and the plugins
/// under `dir` at the paths the README names.
pub(crate) fn put_common(dir: &Path, r: &Release) -> Result<()> {
    put(dir, "/usr/bin/falco-wasm", &r.bin)?;
    // the release profile keeps debug info for profiling; shipped copies do not
    run({
        let mut c = Command::new("strip");
        c.arg("--strip-debug").arg(dir.join("usr/bin/falco-wasm"));
        c
    })?;
    for e in std::fs::read_dir(root().join("rules"))? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let name = p
                .file_name()
                .context("name")?
                .to_string_lossy()
                .into_owned();
            put(dir, &format!("/usr/share/falco-wasm/rules/{name}"), &p)?;
        }
    }
    for p in PLUGINS {
        let name = format!("{p}_plugin.wasm");
        put(
            dir,
            &format!("/usr/share/falco-wasm/plugins/{name}"),
            &r.plugins.join(&name),
        )?;
    }
    Ok(())
}
