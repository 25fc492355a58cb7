//! `cargo xtask image`: the container image, built with podman from the
//! repository's `Containerfile` and a root filesystem assembled here (no
//! registry, no base image): the release binary with the shared libraries
//! `ldd` names (debug info stripped), `/etc/falco-wasm/falco.yaml`, the rules under
//! `/usr/share/falco-wasm/rules`, the first-party plugins under
//! `/usr/share/falco-wasm/plugins`, and a world-writable `/tmp`.

use crate::{PLUGINS, cargo, ensure_packages, root, run, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The image's name; tagged with the crate's version and `latest`.
pub(crate) const IMAGE: &str = "localhost/falco-wasm";

/// The shared libraries `bin` loads (ldd's resolved paths and the loader).
fn shared_libs(bin: &Path) -> Result<Vec<PathBuf>> {
    let out = Command::new("ldd").arg(bin).output().context("ldd")?;
    if !out.status.success() {
        bail!(
            "ldd {}: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
            // "/lib64/ld-linux-x86-64.so.2 (0x...)"
            let path = l
                .split("=>")
                .nth(1)
                .unwrap_or(l)
                .split_whitespace()
                .next()?;
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

/// Copies `src` to `rootfs` + `at` (parents made), following symlinks.
fn put(rootfs: &Path, at: &str, src: &Path) -> Result<()> {
    let dst = rootfs.join(at.trim_start_matches('/'));
    std::fs::create_dir_all(dst.parent().context("parent")?)?;
    std::fs::copy(src, &dst).with_context(|| format!("{} -> {}", src.display(), dst.display()))?;
    Ok(())
}

/// Assembles the root filesystem under `dir/rootfs`.
fn assemble(dir: &Path, bin: &Path, plugins: &Path) -> Result<()> {
    let rootfs = dir.join("rootfs");
    let _ = std::fs::remove_dir_all(&rootfs);
    std::fs::create_dir_all(&rootfs)?;
    put(&rootfs, "/usr/bin/falco-wasm", bin)?;
    // the release profile keeps debug info for profiling; the image does not
    run({
        let mut c = Command::new("strip");
        c.arg("--strip-debug")
            .arg(rootfs.join("usr/bin/falco-wasm"));
        c
    })?;
    for lib in shared_libs(bin)? {
        put(&rootfs, &lib.to_string_lossy(), &lib)?;
    }
    put(
        &rootfs,
        "/etc/falco-wasm/falco.yaml",
        &root().join("config/falco.yaml"),
    )?;
    for e in std::fs::read_dir(root().join("rules"))? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let name = p
                .file_name()
                .context("name")?
                .to_string_lossy()
                .into_owned();
            put(&rootfs, &format!("/usr/share/falco-wasm/rules/{name}"), &p)?;
        }
    }
    for p in PLUGINS {
        let name = format!("{p}_plugin.wasm");
        put(
            &rootfs,
            &format!("/usr/share/falco-wasm/plugins/{name}"),
            &plugins.join(&name),
        )?;
    }
    let tmp = rootfs.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777))?;
    std::fs::copy(root().join("Containerfile"), dir.join("Containerfile"))?;
    Ok(())
}

/// The crate's version (the image's tag).
fn version() -> Result<String> {
    let toml = std::fs::read_to_string(root().join("Cargo.toml"))?;
    toml.lines()
        .find_map(|l| l.strip_prefix("version = "))
        .map(|v| v.trim_matches('"').to_string())
        .context("version in Cargo.toml (workspace.package)")
}

/// Builds the release binary and plugins and the image; its name.
pub(crate) fn build() -> Result<String> {
    ensure_packages(&["clang-16", "libbpf-dev", "podman", "runc"])?;
    let started = Instant::now();
    run({
        let mut c = cargo();
        c.args(["build", "--release", "-p", "falco-wasm"]);
        c
    })?;
    run({
        let mut c = cargo();
        c.args(["build", "--release", "--target", "wasm32-wasip2"]);
        for p in PLUGINS {
            c.args(["-p", &format!("falco-wasm-plugin-{p}")]);
        }
        c
    })?;
    let target = target_dir()?;
    let dir = target.join("image");
    assemble(
        &dir,
        &target.join("release/falco-wasm"),
        &target.join("wasm32-wasip2/release"),
    )?;
    let tag = format!("{IMAGE}:{}", version()?);
    let built = Instant::now();
    run({
        let mut c = Command::new("podman");
        c.args([
            "build",
            "--quiet",
            "-t",
            &tag,
            "-t",
            &format!("{IMAGE}:latest"),
            "-f",
        ])
        .arg(dir.join("Containerfile"))
        .arg(&dir);
        c
    })?;
    let size = Command::new("podman")
        .args(["image", "inspect", "--format", "{{.Size}}", &tag])
        .output()?;
    let size: u64 = String::from_utf8_lossy(&size.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    println!(
        "image {tag}: {:.1} MiB; {:.0} s in all ({:.1} s of podman build)",
        size as f64 / 1048576.0,
        started.elapsed().as_secs_f64(),
        built.elapsed().as_secs_f64()
    );
    Ok(tag)
}
