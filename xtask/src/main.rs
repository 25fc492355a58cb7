//! Project tasks: `cargo xtask <task>`.
//!
//! Each task installs what it needs (idempotently) and runs cargo with the
//! shared target directory from `.cargo/config.toml`.

mod bench_capture;
mod bench_plugin_neighbour;
mod bench_replay;
mod bench_tenants;
mod deb;
mod dist;
mod image;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "falco-wasm project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// The whole test suite, as CI runs it: format check, clippy (warnings
    /// are errors), every crate's tests, the project's rules validated and
    /// their fixtures run.
    Test,
    /// Build the container image (localhost/falco-wasm) with podman from
    /// the Containerfile: release binary, falco.yaml, rules, plugins.
    Image,
    /// Build the Debian package (target/deb/falco-wasm_VERSION_amd64.deb):
    /// binary, config, rules, plugins, a hardened systemd unit.
    Deb,
    /// Build and run `falco-wasm run` with the embedded default rules
    /// (extra arguments are passed through).
    Run {
        /// Arguments for falco-wasm.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmarks (release build). `filter`: events/s through the default
    /// ruleset, Wasm vs interpreter. `capture` (root): syscall slowdown with
    /// the probe attached vs none and vs bpftrace, and the highest event
    /// rate without kernel drops. `outputs`: 100,000 alerts/s to a file and
    /// to an HTTP receiver, and whether pushing ever blocks. `plugins`:
    /// CloudTrail events/s end to end through the Wasm plugins vs the same
    /// plugins built natively. `replay`: events/s replaying a large
    /// capture built from the shared ones, without and with the default rules.
    /// `tenants`: the same capture through 1, 10 and 100 tenants with the
    /// default rules (events/s, memory and setup time per tenant).
    Bench {
        /// Which benchmark.
        #[arg(value_parser = ["filter", "capture", "outputs", "plugins", "replay", "tenants"])]
        which: String,
        /// Seconds per back end.
        #[arg(long, default_value_t = 3.0)]
        secs: f64,
        /// Distinct synthetic events cycled.
        #[arg(long, default_value_t = 512)]
        events: usize,
        /// Rules file to benchmark instead of the default ruleset.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// CloudTrail records read (plugins benchmark).
        #[arg(long, default_value_t = 100_000)]
        records: usize,
        /// Real CloudTrail logs (file or directory) whose records the
        /// plugins benchmark cycles instead of synthetic ones.
        #[arg(long)]
        samples: Option<PathBuf>,
        /// Events the replay benchmark's capture holds at least (tenants
        /// benchmark: 200,000 unless given).
        #[arg(long)]
        capture_events: Option<u64>,
        /// Replay benchmark: repeat this capture's events (e.g. one written
        /// by `falco-wasm capture` during real activity) instead of the
        /// shared captures'.
        #[arg(long)]
        capture: Option<PathBuf>,
        /// Replay benchmark: runs of each configuration, interleaved (the
        /// median is shown, with the range: this machine's speed drifts).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Capture benchmark: flood the ring buffer instead (drop warnings
        /// and alerts, per-second counts, reload and SIGTERM under load).
        #[arg(long)]
        saturate: bool,
    },
    /// Mutation fuzzing of the capture-file reader and the replay
    /// converter on the shared captures; a panic saves the input and fails.
    FuzzScap {
        /// How long to run.
        #[arg(long, default_value_t = 600.0)]
        secs: f64,
        /// Random seed.
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
    },
    /// Differential test of the Wasm back end against the interpreter with
    /// more cases than CI runs.
    Diff {
        /// (condition, event) pairs to check.
        #[arg(long, default_value_t = 10_000_000)]
        cases: u64,
        /// Random seed.
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// The workspace root. Read at run time (cargo sets CARGO_MANIFEST_DIR for
/// `cargo run`): the xtask binary lives in a target directory shared by
/// several checkouts, so a compile-time path could name another one.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("xtask"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The first-party plugins (crates `falco-wasm-plugin-NAME`).
const PLUGINS: &[&str] = &["json", "cloudtrail", "k8saudit"];

/// The syscall rules files, loaded together (the incubating file builds on
/// the default one).
const SYSCALL_RULES: &[&str] = &[
    "rules/falco_rules.yaml",
    "rules/falco_rules_incubating.yaml",
];

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    // `cargo run` gave this process xtask's package variables. Build scripts
    // (ring's, for one) track some of them with rerun-if-env-changed, so
    // passing them on would make every build here differ from a direct
    // `cargo build` and recompile those crates each time.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_PKG_")
            || k.starts_with("CARGO_MANIFEST_")
            || matches!(
                k.as_str(),
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            )
        {
            c.env_remove(k);
        }
    }
    c
}

fn run(mut c: Command) -> Result<()> {
    eprintln!("+ {c:?}");
    let status = c.status().with_context(|| format!("cannot start {c:?}"))?;
    if !status.success() {
        bail!("{c:?} failed: {status}");
    }
    Ok(())
}

/// rustfmt and clippy come with rustup's default profile, but a minimal
/// toolchain lacks them; plugins need the wasm32-wasip2 target. Adding
/// them is idempotent.
fn ensure_components() -> Result<()> {
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !targets.lines().any(|l| l.trim() == "wasm32-wasip2") {
        run({
            let mut c = Command::new("rustup");
            c.args(["target", "add", "wasm32-wasip2"]);
            c
        })?;
    }
    let have = |tool: &str| {
        Command::new("cargo")
            .args([tool, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("fmt") || !have("clippy") {
        run({
            let mut c = Command::new("rustup");
            c.args(["component", "add", "rustfmt", "clippy"]);
            c
        })?;
    }
    Ok(())
}

/// Debian packages the build and the tests use: clang and libbpf's headers
/// build the eBPF probe; podman, runc and busybox run the container tests;
/// rsyslog receives the syslog output in its test; promtool (prometheus)
/// checks `/metrics`; bpftrace is the capture benchmark's floor; nats-server
/// receives the NATS output in its test; docker-registry (the CNCF
/// distribution server) is the artifact tests' OCI registry; libc6-dev's
/// static libc links the event generator image's unix-socket client;
/// sysdig (0.29.3, without its kernel module) reads the capture files the
/// tests write, event by event.
const PACKAGES: &[(&str, &str)] = &[
    ("clang-16", "/usr/bin/clang-16"),
    ("libbpf-dev", "/usr/include/bpf/bpf_helpers.h"),
    ("podman", "/usr/bin/podman"),
    ("runc", "/usr/sbin/runc"),
    ("busybox-static", "/bin/busybox"),
    ("bpftrace", "/usr/bin/bpftrace"),
    ("rsyslog", "/usr/sbin/rsyslogd"),
    ("prometheus", "/usr/bin/promtool"),
    ("nats-server", "/usr/sbin/nats-server"),
    ("docker-registry", "/usr/bin/docker-registry"),
    ("libc6-dev", "/usr/lib/x86_64-linux-gnu/libc.a"),
    ("sysdig", "/usr/bin/sysdig"),
];

/// Installs missing packages (idempotent: nothing happens when all are there).
/// Without root or apt the build still works; what needs them says so.
/// Whether this runs as root.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn ensure_packages(which: &[&str]) -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(name, path)| which.contains(name) && !Path::new(path).exists())
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        return configure_podman(which);
    }
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        eprintln!(
            "xtask: missing packages {missing:?} and cannot install them here (needs root and apt-get); \
             the eBPF probe or the container tests will be skipped"
        );
        return Ok(());
    }
    run({
        let mut c = Command::new("apt-get");
        c.args(["update", "-qq"]);
        c
    })?;
    run({
        let mut c = Command::new("apt-get");
        c.args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        c
    })?;
    configure_podman(which)
}

/// podman here needs its default ulimits off (no CAP_SYS_RESOURCE in this
/// sandbox: runc fails "error setting rlimit type 7"). Writes the setting
/// only when no containers.conf exists.
fn configure_podman(which: &[&str]) -> Result<()> {
    let conf = Path::new("/etc/containers/containers.conf");
    if which.contains(&"podman") && Path::new("/usr/bin/podman").exists() && !conf.exists() {
        std::fs::create_dir_all("/etc/containers")?;
        std::fs::write(conf, "[containers]\ndefault_ulimits = []\n")
            .context("write /etc/containers/containers.conf")?;
    }
    Ok(())
}

fn falco_wasm_bin() -> Result<PathBuf> {
    Ok(target_dir()?.join("debug").join("falco-wasm"))
}

/// The workspace's target directory (from cargo metadata).
/// The most recently modified file in `dir` named `prefix*suffix`.
fn newest(dir: &Path, prefix: &str, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with(prefix) && n.ends_with(suffix)
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, p)| p)
}

fn target_dir() -> Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()?;
    let meta: String = String::from_utf8(out.stdout)?;
    let key = "\"target_directory\":\"";
    let start = meta
        .find(key)
        .context("cargo metadata has no target_directory")?
        + key.len();
    let end = start
        + meta[start..]
            .find('"')
            .context("malformed cargo metadata")?;
    Ok(PathBuf::from(&meta[start..end]))
}

/// moto (a local S3/SQS server, from PyPI) for the CloudTrail S3/SQS
/// tests; installed with pip when missing. Without pip the tests skip and
/// say so.
fn ensure_moto() {
    let have = Command::new("python3")
        .args(["-c", "import moto, boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        let _ = run({
            let mut c = Command::new("python3");
            c.args(["-m", "pip", "install", "--quiet", "moto[server]"]);
            c
        });
    }
}

/// kubernetes-validate (PyPI, ships the schemas) for the manifest test.
fn ensure_kubernetes_validate() {
    let have = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        let _ = run({
            let mut c = Command::new("python3");
            c.args(["-m", "pip", "install", "--quiet", "kubernetes-validate"]);
            c
        });
    }
}

fn test() -> Result<()> {
    ensure_components()?;
    ensure_moto();
    ensure_kubernetes_validate();
    ensure_packages(&[
        "clang-16",
        "libbpf-dev",
        "podman",
        "runc",
        "busybox-static",
        "rsyslog",
        // the capture-file tests compare every event with what sysdig reads
        "sysdig",
        // the tenants' NATS subjects
        "nats-server",
        // the artifact tests' registry
        "docker-registry",
        // the event generator image's static unix-socket client
        "libc6-dev",
    ])?;
    run({
        let mut c = cargo();
        c.args(["fmt", "--all", "--", "--check"]);
        c
    })?;
    run({
        let mut c = cargo();
        c.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        c
    })?;
    // The first-party plugins and the hostile test plugin as components
    // (the plugin tests load them).
    run({
        let mut c = cargo();
        c.args(["build", "--target", "wasm32-wasip2"]);
        for p in PLUGINS {
            c.args(["-p", &format!("falco-wasm-plugin-{p}")]);
        }
        c.args([
            "-p",
            "falco-wasm-hostile-plugin",
            "-p",
            "falco-wasm-plugin-template",
        ]);
        c
    })?;
    // The guest SDK's unit tests built for the plugins' target: a host test
    // runs them in wasmtime (the SDK has code of its own under wasm32).
    run({
        let mut c = cargo();
        c.args([
            "test",
            "--no-run",
            "--target",
            "wasm32-wasip2",
            "-p",
            "falco-wasm-guest-sdk",
        ]);
        c
    })?;
    let sdk_tests = newest(
        &target_dir()?.join("wasm32-wasip2/debug/deps"),
        "guest_sdk-",
        ".wasm",
    )
    .context("the guest SDK's wasm32-wasip2 test binary")?;
    // The container image and the Debian package (one release build for
    // both), for their tests; podman and dpkg need root here.
    let dist = if is_root() {
        Some((image::build()?, deb::build()?))
    } else {
        eprintln!("xtask: not root: the image and the package are not built, their tests skip");
        None
    };
    run({
        let mut c = cargo();
        c.args(["test", "--workspace"]);
        c.env("FALCO_WASM_GUEST_SDK_TESTS", sdk_tests);
        if let Some((image, deb)) = &dist {
            c.env("FALCO_WASM_IMAGE", image).env("FALCO_WASM_DEB", deb);
        }
        c
    })?;
    // The project's own rules: valid, and their fixtures pass on both back ends.
    let bin = falco_wasm_bin()?;
    run({
        let mut c = Command::new(&bin);
        c.current_dir(root());
        for r in SYSCALL_RULES {
            c.args(["-V", r]);
        }
        c
    })?;
    // The plugin rules files, with the plugins they require.
    let wasm = target_dir()?.join("wasm32-wasip2/debug");
    for (rules, source_plugin) in [
        ("rules/aws_cloudtrail_rules.yaml", "cloudtrail"),
        ("rules/k8s_audit_rules.yaml", "k8saudit"),
    ] {
        run({
            let mut c = Command::new(&bin);
            c.current_dir(root())
                .args(["-V", rules])
                .arg("--plugin")
                .arg(wasm.join(format!("{source_plugin}_plugin.wasm")))
                .arg("--plugin")
                .arg(wasm.join("json_plugin.wasm"));
            c
        })?;
    }
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures"))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    fixtures.sort();
    if !fixtures.is_empty() {
        let mut c = Command::new(&bin);
        c.current_dir(root())
            .arg("test")
            .args(SYSCALL_RULES)
            .arg("--quiet");
        for f in &fixtures {
            c.arg("--fixtures").arg(f);
        }
        run(c)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Test => test(),
        Task::Image => image::build().map(|_| ()),
        Task::Deb => deb::build().map(|_| ()),
        Task::Run { args } => (|| {
            ensure_packages(&["clang-16", "libbpf-dev"])?;
            run({
                let mut c = cargo();
                c.args(["build", "-p", "falco-wasm"]);
                c
            })?;
            let mut c = Command::new(falco_wasm_bin()?);
            c.arg("run").args(args);
            run(c)
        })(),
        Task::Bench {
            which,
            secs,
            saturate,
            ..
        } if which == "capture" => (|| {
            ensure_packages(&["bpftrace"])?;
            let bin = dist::release_bin()?;
            if saturate {
                return bench_capture::saturate(&bin, secs.max(5.0));
            }
            bench_capture::run(&bin, secs)
        })(),
        Task::Bench {
            which,
            capture_events,
            capture,
            runs,
            ..
        } if which == "replay" || which == "tenants" => (|| {
            let bin = dist::release_bin()?;
            let source = match &capture {
                Some(f) => bench_replay::Source::File(f.clone()),
                None => bench_replay::Source::Shared(root().join("../shared/data/scap")),
            };
            if which == "tenants" {
                let hostile =
                    dist::release_component("falco-wasm-hostile-plugin", "hostile_plugin")?;
                let events = capture_events.unwrap_or(200_000);
                return bench_tenants::run(&bin, &source, events, &hostile);
            }
            bench_replay::run(
                &bin,
                &source,
                capture_events.unwrap_or(5_000_000),
                runs.max(1),
            )
        })(),
        Task::Bench {
            which,
            records,
            samples,
            ..
        } if which == "plugins" => (|| {
            ensure_components()?;
            let plugins = dist::release_plugins()?;
            let mut c = cargo();
            c.args(["bench", "-p", "falco-wasm", "--bench", "plugins"]);
            c.env("FALCO_WASM_BENCH_WASM_DIR", plugins);
            c.env("FALCO_WASM_BENCH_EVENTS", records.to_string());
            if let Some(s) = samples {
                c.env("FALCO_WASM_BENCH_SAMPLES", s.canonicalize()?);
            }
            run(c)
        })(),
        Task::Bench { which, secs, .. } if which == "outputs" => {
            let mut c = cargo();
            c.args(["bench", "-p", "falco-wasm", "--bench", "outputs"]);
            c.env("FALCO_WASM_BENCH_SECS", secs.to_string());
            run(c)
        }
        Task::Bench {
            which: _,
            secs,
            events,
            rules,
            ..
        } => {
            let mut c = cargo();
            c.args(["bench", "-p", "falco-wasm", "--bench", "filter"]);
            c.env("FALCO_WASM_BENCH_SECS", secs.to_string())
                .env("FALCO_WASM_BENCH_EVENTS", events.to_string());
            if let Some(r) = rules {
                c.env(
                    "FALCO_WASM_BENCH_RULES",
                    std::fs::canonicalize(&r).unwrap_or(r),
                );
            }
            run(c)
        }
        Task::FuzzScap { secs, seed } => {
            let mut c = cargo();
            c.args([
                "run",
                "--release",
                "-p",
                "falco-wasm",
                "--example",
                "fuzz_scap",
                "--",
            ]);
            c.arg(root().join("../shared/data/scap"));
            c.args([secs.to_string(), seed.to_string()]);
            run(c)
        }
        Task::Diff { cases, seed } => {
            let mut c = cargo();
            c.args([
                "test",
                "-p",
                "falco-wasm",
                "--release",
                "--test",
                "differential",
                "--",
                "--nocapture",
            ]);
            c.env("FALCO_WASM_DIFF_CASES", cases.to_string());
            if let Some(s) = seed {
                c.env("FALCO_WASM_DIFF_SEED", s.to_string());
            }
            run(c)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
