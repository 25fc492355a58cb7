//! `cargo xtask deb`: the Debian package, assembled from the release build
//! and `deploy/debian/` and built with `dpkg-deb` (Debian's own tool: the
//! package is a directory tree and a few control files, written here
//! rather than described to a generator).
//!
//! ```text
//! /usr/bin/falco-wasm                       stripped release binary
//! /etc/falco-wasm/falco.yaml                conffile: rules_files point below
//! /etc/falco-wasm/falco_rules.local.yaml    conffile: local rules
//! /etc/falco-wasm/rules.d/                  more local rules
//! /usr/share/falco-wasm/{rules,plugins}/    default rules, first-party plugins
//! /lib/systemd/system/falco-wasm.service    hardened unit (not enabled)
//! /usr/share/doc/falco-wasm/                README.md, copyright
//! ```

use crate::dist::{self, put};
use crate::{root, run, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the packaged configuration reads rules from (the embedded
/// defaults are replaced by the packaged files, so an upgrade of the
/// package updates them and the local files stay).
const RULES_FILES: &str = "rules_files:
  - /usr/share/falco-wasm/rules/falco_rules.yaml
  - /etc/falco-wasm/falco_rules.local.yaml
  - /etc/falco-wasm/rules.d";

/// The packaged falco.yaml: the documented default with the rules above.
fn packaged_config() -> Result<String> {
    let text = std::fs::read_to_string(root().join("config/falco.yaml"))?;
    if !text.contains("\nrules_files: []\n") {
        bail!("config/falco.yaml has no `rules_files: []` line to replace");
    }
    Ok(text.replace("\nrules_files: []\n", &format!("\n{RULES_FILES}\n")))
}

/// Writes an executable maintainer script.
fn script(dir: &Path, name: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dst = dir.join("DEBIAN").join(name);
    std::fs::copy(root().join("deploy/debian").join(name), &dst)?;
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Size of a tree in KiB (the control file's Installed-Size).
fn kib(dir: &Path) -> u64 {
    walk(dir)
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum::<u64>()
        / 1024
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Builds the package; its path.
pub(crate) fn build() -> Result<PathBuf> {
    let release = dist::release()?;
    let version = dist::version()?;
    let out = target_dir()?.join("deb");
    let dir = out.join("falco-wasm");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("DEBIAN"))?;
    std::fs::create_dir_all(dir.join("etc/falco-wasm/rules.d"))?;
    dist::put_common(&dir, &release)?;
    std::fs::write(dir.join("etc/falco-wasm/falco.yaml"), packaged_config()?)?;
    let debian = root().join("deploy/debian");
    put(
        &dir,
        "/etc/falco-wasm/falco_rules.local.yaml",
        &debian.join("falco_rules.local.yaml"),
    )?;
    put(
        &dir,
        "/lib/systemd/system/falco-wasm.service",
        &debian.join("falco-wasm.service"),
    )?;
    put(
        &dir,
        "/usr/share/doc/falco-wasm/README.md",
        &root().join("README.md"),
    )?;
    std::fs::write(
        dir.join("usr/share/doc/falco-wasm/copyright"),
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: falco-wasm\n\nFiles: *\nLicense: Apache-2.0\n See \
         /usr/share/common-licenses/Apache-2.0.\n",
    )?;
    let control = std::fs::read_to_string(debian.join("control"))?
        .replace("@VERSION@", &version)
        .replace("@SIZE@", &kib(&dir).to_string());
    std::fs::write(dir.join("DEBIAN/control"), control)?;
    std::fs::copy(debian.join("conffiles"), dir.join("DEBIAN/conffiles"))?;
    for s in ["postinst", "prerm", "postrm"] {
        script(&dir, s)?;
    }
    let deb = out.join(format!("falco-wasm_{version}_amd64.deb"));
    run({
        let mut c = Command::new("dpkg-deb");
        c.args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&dir)
            .arg(&deb);
        c
    })?;
    let size = std::fs::metadata(&deb).context("the package")?.len();
    println!(
        "package {}: {:.1} MiB",
        deb.display(),
        size as f64 / 1048576.0
    );
    Ok(deb)
}
