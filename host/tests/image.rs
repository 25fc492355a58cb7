//! The container image, run the way Falco's image is run (privileged, the
//! host's pid namespace, the host's `/proc`, `/etc` and podman socket under
//! `/host`): it sees a sensitive file read on the host and in another
//! container, with the right `container.*` fields and the host's name.
//!
//! `cargo xtask test` builds the image (`cargo xtask image`) and names it
//! in `FALCO_WASM_IMAGE`; without it, or without root and BTF, the test
//! says why and skips.

mod common;

use common::PodmanService;
use std::process::Command;
use std::time::{Duration, Instant};

/// Removes the container when dropped.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rm", "-f", &self.0]).output();
    }
}

fn logs(name: &str) -> String {
    let out = Command::new("podman")
        .args(["logs", name])
        .output()
        .expect("podman logs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Waits until `name`'s logs satisfy `done` (60 s at most); the logs.
fn wait_logs(name: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let l = logs(name);
        if done(&l) || start.elapsed() > Duration::from_secs(60) {
            return l;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The JSON alerts of `logs` whose `output_fields` satisfy `pick`.
fn alerts(logs: &str, pick: impl Fn(&serde_json::Value) -> bool) -> Vec<serde_json::Value> {
    logs.lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|a| pick(&a["output_fields"]))
        .collect()
}

#[test]
fn the_image_sees_the_host_and_other_containers_with_their_fields() {
    let Some(image) = std::env::var("FALCO_WASM_IMAGE")
        .ok()
        .filter(|i| !i.is_empty())
    else {
        eprintln!(
            "SKIPPED: the image test needs the image `cargo xtask test` builds \
             (FALCO_WASM_IMAGE is not set)"
        );
        return;
    };
    skip_unless_live!();
    if let Err(why) = falco_wasm::cli::eventgen::ensure_image() {
        eprintln!("SKIPPED: the image test needs podman, runc and busybox: {why}");
        return;
    }
    let _service = PodmanService::ensure();
    let pid = std::process::id();
    let engine = Container(format!("fw-image-{pid}"));
    let started = Command::new("podman")
        .args(["--runtime", "runc", "run", "-d", "--name", &engine.0])
        .args(["--privileged", "--pid=host"])
        .args(["-v", "/proc:/host/proc:ro", "-v", "/etc:/host/etc:ro"])
        .args(["-v", "/run/podman:/host/run/podman"])
        .arg(&image)
        .args(["run", "-c", "/etc/falco-wasm/falco.yaml"])
        .args(["-o", "json_output=true", "-o", "webserver.enabled=false"])
        .args(["-o", "syslog_output.enabled=false"])
        .output()
        .expect("podman run");
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let l = wait_logs(&engine.0, |l| l.contains("Capturing system calls"));
    assert!(
        l.contains("Capturing system calls"),
        "the engine did not start:\n{l}"
    );
    // processes read from the host's /proc: more than the container's own
    let read: usize = l
        .split(" process(es) read from /proc")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        read > 10,
        "only {read} processes read from /host/proc:\n{l}"
    );

    // on the host: a copy of cat under a name no other test uses
    let dir = std::env::temp_dir().join(format!("fw-image-{pid}"));
    std::fs::create_dir_all(&dir).unwrap();
    let comm = format!("fwi{}", pid % 1_000_000);
    let cat = dir.join(&comm);
    std::fs::copy("/bin/cat", &cat).unwrap();
    assert!(
        Command::new(&cat)
            .arg("/etc/shadow")
            .output()
            .unwrap()
            .status
            .success()
    );
    // in another container
    let other = format!("fw-image-shadow-{pid}");
    let ran = Command::new("podman")
        .args(["--runtime", "runc", "run", "--rm", "--name", &other])
        .arg(falco_wasm::cli::eventgen::image())
        .args(["cat", "/etc/shadow"])
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);

    let on_host = |f: &serde_json::Value| f["proc.name"] == comm.as_str();
    let in_other = |f: &serde_json::Value| f["container.name"] == other.as_str();
    let l = wait_logs(&engine.0, |l| {
        !alerts(l, on_host).is_empty() && !alerts(l, in_other).is_empty()
    });
    let host = alerts(&l, on_host);
    let cont = alerts(&l, in_other);
    assert!(!host.is_empty() && !cont.is_empty(), "alerts missing:\n{l}");
    let (h, c) = (&host[0], &cont[0]);
    assert_eq!(h["rule"], "Read sensitive file untrusted", "{h}");
    assert_eq!(h["output_fields"]["container.id"], "host", "{h}");
    assert_eq!(h["output_fields"]["fd.name"], "/etc/shadow", "{h}");
    assert_eq!(c["output_fields"]["fd.name"], "/etc/shadow", "{c}");
    let id = c["output_fields"]["container.id"]
        .as_str()
        .unwrap_or_default();
    assert!(id.len() == 12 && id != "host", "{c}");
    assert_eq!(
        c["output_fields"]["container.image.repository"], "localhost/busybox",
        "{c}"
    );
    // the host's name, not the engine container's
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert_eq!(h["hostname"], hostname.trim(), "{h}");
}
