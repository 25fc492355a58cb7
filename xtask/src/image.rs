//! `cargo xtask image`: the container image, built with podman from the
//! repository's `Containerfile` and a root filesystem assembled here (no
//! registry, no base image): the release binary with the shared libraries
//! `ldd` names (debug info stripped), `/etc/falco-wasm/falco.yaml`, the rules under
//! `/usr/share/falco-wasm/rules`, the first-party plugins under
//! `/usr/share/falco-wasm/plugins`, and a world-writable `/tmp`.

use crate::dist::{self, Release, put};
use crate::{ensure_packages, root, run, target_dir};
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

/// Assembles the root filesystem under `dir/rootfs`.
fn assemble(dir: &Path, r: &Release) -> Result<()> {
    let rootfs = dir.join("rootfs");
    let _ = std::fs::remove_dir_all(&rootfs);
    std::fs::create_dir_all(&rootfs)?;
    dist::put_common(&rootfs, r)?;
    for lib in shared_libs(&r.bin)? {
        put(&rootfs, &lib.to_string_lossy(), &lib)?;
    }
    put(
        &rootfs,
        "/etc/falco-wasm/falco.yaml",
        &root().join("config/falco.yaml"),
    )?;
    let tmp = rootfs.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777))?;
    std::fs::copy(root().join("Containerfile"), dir.join("Containerfile"))?;
    Ok(())
}

/// Builds the release binary and plugins and the image; its name.
pub(crate) fn build() -> Result<String> {
    ensure_packages(&["podman", "runc"])?;
    let started = Instant::now();
    let release = dist::release()?;
    let dir = target_dir()?.join("image");
    assemble(&dir, &release)?;
    let tag = format!("{IMAGE}:{}", dist::version()?);
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
