//! The Debian package on this machine: installed with `dpkg -i`, its unit
//! checked by `systemd-analyze verify`, its configuration loads; an upgrade
//! replaces the shipped files and keeps the local edits of the conffiles;
//! `dpkg -r` keeps the configuration and `dpkg -P` removes it.
//!
//! `cargo xtask test` builds the package (`cargo xtask deb`) and names it
//! in `FALCO_WASM_DEB`; without it, root or dpkg, the test says why and
//! skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

fn sh(cmd: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("300")
        .arg(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn ok(cmd: &str, args: &[&str]) -> String {
    let o = sh(cmd, args);
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Purges the package when dropped (the test may stop half way).
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = sh("dpkg", &["-P", "falco-wasm"]);
    }
}

/// The package again, as version `version`, with `touch` appended to the
/// shipped default rules (an upgrade that changes a non-conffile).
fn repack(deb: &Path, dir: &Path, version: &str, touch: &str) -> PathBuf {
    let tree = dir.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    ok(
        "dpkg-deb",
        &["-R", deb.to_str().unwrap(), tree.to_str().unwrap()],
    );
    let control = tree.join("DEBIAN/control");
    let text = std::fs::read_to_string(&control).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("Version: ") {
                format!("Version: {version}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&control, text).unwrap();
    let rules = tree.join("usr/share/falco-wasm/rules/falco_rules.yaml");
    let mut r = std::fs::read_to_string(&rules).unwrap();
    r.push_str(touch);
    std::fs::write(&rules, r).unwrap();
    let out = dir.join(format!("falco-wasm_{version}_amd64.deb"));
    ok(
        "dpkg-deb",
        &[
            "--root-owner-group",
            "--build",
            tree.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    out
}

#[test]
fn the_package_installs_upgrades_keeping_local_config_and_removes() {
    let Some(deb) = std::env::var_os("FALCO_WASM_DEB").map(PathBuf::from) else {
        eprintln!(
            "SKIPPED: the package test needs the package `cargo xtask test` builds \
             (FALCO_WASM_DEB is not set)"
        );
        return;
    };
    if !common::is_root() || !Path::new("/usr/bin/dpkg").exists() {
        eprintln!("SKIPPED: the package test needs root and dpkg");
        return;
    }
    let dir = std::env::temp_dir().join(format!("fw-package-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _ = sh("dpkg", &["-P", "falco-wasm"]);
    let _guard = Installed;

    ok("dpkg", &["-i", deb.to_str().unwrap()]);
    let version = ok("/usr/bin/falco-wasm", &["--version"]);
    assert!(version.starts_with("falco-wasm version: "), "{version}");
    // the packaged configuration, rules and plugin paths load
    let dry = sh(
        "/usr/bin/falco-wasm",
        &["-c", "/etc/falco-wasm/falco.yaml", "--dry-run"],
    );
    let said = String::from_utf8_lossy(&dry.stderr);
    assert!(dry.status.success(), "{said}");
    assert!(said.contains("Loaded 2 rules file(s)"), "{said}");
    let plugins = sh(
        "/usr/bin/falco-wasm",
        &[
            "--plugin",
            "/usr/share/falco-wasm/plugins/cloudtrail_plugin.wasm",
            "--list-plugins",
        ],
    );
    assert!(
        plugins.status.success(),
        "{}",
        String::from_utf8_lossy(&plugins.stderr)
    );
    let unit = "/lib/systemd/system/falco-wasm.service";
    if Path::new("/usr/bin/systemd-analyze").exists() {
        ok("systemd-analyze", &["verify", unit]);
    } else {
        eprintln!("SKIPPED (unit check): systemd-analyze is not installed");
    }
    let text = std::fs::read_to_string(unit).unwrap();
    for key in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
    ] {
        assert!(text.contains(key), "{key} missing from the unit");
    }

    // local edits
    let cfg = "/etc/falco-wasm/falco.yaml";
    let local = "/etc/falco-wasm/falco_rules.local.yaml";
    let mut c = std::fs::read_to_string(cfg).unwrap();
    c.push_str("\n# local edit: kept on upgrade\n");
    std::fs::write(cfg, &c).unwrap();
    std::fs::write(
        local,
        "- rule: local rule\n  desc: d\n  condition: evt.type = ptrace and proc.name = fwlocal\n  \
         output: x\n  priority: NOTICE\n",
    )
    .unwrap();

    let upgrade = repack(&deb, &dir, "0.1.0+upgrade1", "\n# shipped by the upgrade\n");
    ok("dpkg", &["-i", upgrade.to_str().unwrap()]);
    let status = ok("dpkg-query", &["-W", "-f", "${Version}", "falco-wasm"]);
    assert_eq!(status, "0.1.0+upgrade1");
    assert_eq!(
        std::fs::read_to_string(cfg).unwrap(),
        c,
        "the local config was replaced"
    );
    assert!(
        std::fs::read_to_string(local)
            .unwrap()
            .contains("local rule")
    );
    let rules = std::fs::read_to_string("/usr/share/falco-wasm/rules/falco_rules.yaml").unwrap();
    assert!(
        rules.contains("# shipped by the upgrade"),
        "the shipped rules were not upgraded"
    );
    let dry = sh("/usr/bin/falco-wasm", &["-c", cfg, "--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );

    // remove keeps the configuration, purge removes it
    ok("dpkg", &["-r", "falco-wasm"]);
    assert!(!Path::new("/usr/bin/falco-wasm").exists());
    assert!(!Path::new(unit).exists());
    assert_eq!(std::fs::read_to_string(cfg).unwrap(), c);
    ok("dpkg", &["-P", "falco-wasm"]);
    assert!(!Path::new(cfg).exists() && !Path::new(local).exists());
    let _ = std::fs::remove_dir_all(&dir);
}
