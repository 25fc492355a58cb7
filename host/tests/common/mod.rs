//! What the tests share: whether they can run here (root, BTF),
//! and podman's API socket.

#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the tests run as root (real uid 0).
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|v| v.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Why live capture cannot run here, if it cannot.
pub(crate) fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("not running as root".into());
    }
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
    }
    None
}

/// Returns from the test, saying why, when live capture cannot run here.
#[macro_export]
macro_rules! skip_unless_live {
    () => {
        if let Some(why) = common::skip_reason() {
            eprintln!("SKIPPED: live capture test needs root and BTF: {why}");
            return;
        }
    };
}

/// Podman's Docker-compatible API on the default socket, started if absent
/// (and stopped when dropped, if started here).
pub(crate) struct PodmanService(Option<Child>);

impl PodmanService {
    pub(crate) fn ensure() -> PodmanService {
        let sock = Path::new("/run/podman/podman.sock");
        if std::os::unix::net::UnixStream::connect(sock).is_ok() {
            return PodmanService(None);
        }
        let _ = std::fs::create_dir_all("/run/podman");
        let child = Command::new("podman")
            .args([
                "system",
                "service",
                "--time=0",
                "unix:///run/podman/podman.sock",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let start = Instant::now();
        while std::os::unix::net::UnixStream::connect(sock).is_err()
            && start.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        PodmanService(child)
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A scratch directory, removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh scratch directory `fw-{test}-{pid}-{name}` in the temp dir.
pub(crate) fn scratch(test: &str, name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("fw-{test}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch dir");
    Scratch(d)
}

/// A loopback port free at the time of asking.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// POSTs `body` to the k8s audit webhook on `port` (waiting for it to be
/// up); the HTTP status.
pub(crate) fn post_audit(port: u16, body: &str) -> u16 {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut c = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(c) => break c,
            Err(e) => {
                assert!(Instant::now() < deadline, "webhook not up: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    write!(
        c,
        "POST /k8s-audit HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut s = String::new();
    c.read_to_string(&mut s).unwrap();
    s.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The lines `child` writes to its stdout (piped), as they come.
pub(crate) fn stdout_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The target directory (the binary under test is in its `debug/`).
pub(crate) fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_falco-wasm"))
        .ancestors()
        .nth(2)
        .expect("target dir")
        .to_path_buf()
}

/// The component of a first-party plugin, built if it is not there yet.
pub(crate) fn plugin(name: &str) -> PathBuf {
    component(
        &format!("falco-wasm-plugin-{name}"),
        &format!("{name}_plugin"),
    )
}

/// The component of crate `package` (library `lib`), built if missing.
pub(crate) fn component(package: &str, lib: &str) -> PathBuf {
    let wasm = target_dir()
        .join("wasm32-wasip2/debug")
        .join(format!("{lib}.wasm"));
    if !wasm.exists() {
        let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .args(["build", "--target", "wasm32-wasip2", "-p", package])
            .status()
            .expect("cargo runs");
        assert!(st.success(), "building {package} for wasm32-wasip2 failed");
    }
    wasm
}
