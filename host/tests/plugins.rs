//! Plugins end to end: the real binary with the first-party Wasm plugins
//! (built for wasm32-wasip2 by `cargo xtask test`, or here if missing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The target directory (the binary under test is in its `debug/`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .ancestors()
        .nth(2)
        .expect("target dir")
        .to_path_buf()
}

/// The component of a first-party plugin, built if it is not there yet.
fn plugin(name: &str) -> PathBuf {
    let wasm = target_dir()
        .join("wasm32-wasip2/debug")
        .join(format!("{name}_plugin.wasm"));
    if !wasm.exists() {
        let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args(["build", "--target", "wasm32-wasip2", "-p"])
            .arg(format!("falco-wasm-plugin-{name}"))
            .status()
            .expect("cargo runs");
        assert!(st.success(), "building the {name} plugin failed");
    }
    wasm
}

fn falco(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .args([
            "-o",
            "log_syslog=false",
            "-o",
            "syslog_output.enabled=false",
        ])
        .output()
        .expect("falco-wasm runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn cloudtrail_directory_raises_the_expected_alerts() {
    let (ct, json) = (plugin("cloudtrail"), plugin("json"));
    let o = falco(&[
        "run",
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin",
        json.to_str().unwrap(),
        "--plugin-open-params",
        "host/tests/data/cloudtrail",
        "-r",
        "rules/aws_cloudtrail_rules.yaml",
        "-o",
        "json_output=true",
        "-o",
        "rule_matching=all",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut got: Vec<(String, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert_eq!(v["source"], "aws_cloudtrail", "{l}");
            let f = &v["output_fields"];
            let who = f["ct.name"]
                .as_str()
                .or(f["ct.user"].as_str())
                .unwrap_or_default()
                .to_string();
            (v["rule"].as_str().unwrap().to_string(), who)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("CloudTrail Logging Disabled", "StopLogging"),
        ("Console Login Without MFA", "alice"),
        ("Create AWS user", "alice"),
        ("Create Access Key for User", "alice"),
        ("Deactivate MFA for Root User", ""),
        ("Deactivate MFA for User", "root"),
        ("Root User Activity", "DeactivateMFADevice"),
        ("Root User Activity", "DescribeInstances"),
        ("Run Instances in Non-approved Region", "alice"),
        ("S3 Bucket Made Public", "PutBucketAcl"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want, "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    // The truncated file is reported by name, and the others were read.
    assert!(err.contains("corrupt.json: not valid JSON"), "{}", text(&o));
    assert!(
        err.contains("Events processed: 12, alerts: 10"),
        "{}",
        text(&o)
    );
}

#[test]
fn plugin_listing_and_init_config_validation() {
    let ct = plugin("cloudtrail");
    let o = falco(&["--plugin", ct.to_str().unwrap(), "--list-plugins"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 Plugins Loaded:"), "{out}");
    assert!(
        out.contains("Event Sourcing (ID=2, source='aws_cloudtrail')"),
        "{out}"
    );
    let o = falco(&[
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin-info",
        "cloudtrail",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ct.user ") && out.contains("s3.bucket "),
        "{out}"
    );
    let o = falco(&[
        "--plugin",
        ct.to_str().unwrap(),
        "--list=aws_cloudtrail",
        "-N",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("ct.name") && out.contains("evt.plugininfo"),
        "{}",
        text(&o)
    );
    // A config key the plugin's schema does not know: a clear error naming it.
    let o = falco(&[
        "--plugin",
        ct.to_str().unwrap(),
        "--plugin-config",
        r#"{"sqsDelete": true, "bogus": 1}"#,
        "--list-plugins",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("plugin cloudtrail: init_config: unknown key 'bogus'"),
        "{}",
        text(&o)
    );
    // Not a component at all.
    let bogus = std::env::temp_dir().join(format!("fw-not-a-plugin-{}.wasm", std::process::id()));
    std::fs::write(&bogus, b"\0asm garbage").unwrap();
    let o = falco(&["--plugin", bogus.to_str().unwrap(), "--list-plugins"]);
    let _ = std::fs::remove_file(&bogus);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a valid plugin component"),
        "{}",
        text(&o)
    );
}
