//! Writing capture files: `falco-wasm capture` records what the live probe
//! sees, and Falco's `capture` config records the events after an alert.
//! A recorded file replays to the alerts the live run gave, and sysdig
//! (0.29.3) reads it.
//!
//! The live tests need root and a kernel with BTF; elsewhere each prints
//! why it skips. The `capture` config tests replay shared captures and run
//! anywhere.

use falco_wasm::scap::Reader;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_falco-wasm");

mod common;

fn scratch(name: &str) -> common::Scratch {
    common::scratch("capture", name)
}

const QUIET: [&str; 4] = [
    "-o",
    "webserver.enabled=false",
    "-o",
    "syslog_output.enabled=false",
];

/// Starts `falco-wasm ARGS` and waits until it captures; its stderr is
/// kept in `err`.
fn start(args: &[&str], err: &Path) -> Child {
    start_with(args, err, Stdio::null())
}

fn start_with(args: &[&str], err: &Path, stdout: Stdio) -> Child {
    let mut child = Command::new(BIN)
        .args(args)
        .args(QUIET)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start falco-wasm");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = err.to_path_buf();
    std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("Capturing system calls") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
            let _ = std::fs::write(&log, &all);
        }
    });
    if rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        panic!(
            "falco-wasm {args:?} did not start capturing: {}",
            std::fs::read_to_string(err).unwrap_or_default()
        );
    }
    child
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert!(status.success(), "falco-wasm exited with {status}");
}

/// Syscalls libs has no event of its own for: captures carry them as
/// generic events, which have no arguments (Falco's format refuses extra
/// parameters), so conditions on their arguments cannot hold on replay.
const GENERIC: &[&str] = &["truncate", "ftruncate"];

/// (rule, output fields without times and durations) of each JSON alert
/// line of `path`, counted; alerts on [`GENERIC`] events are left out.
fn alerts(path: &Path) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let a: serde_json::Value = serde_json::from_str(line).expect("JSON alert");
        if GENERIC.contains(&a["output_fields"]["evt.type"].as_str().unwrap_or_default()) {
            continue;
        }
        let fields: BTreeMap<&String, &serde_json::Value> = a["output_fields"]
            .as_object()
            .expect("output_fields")
            .iter()
            // stamps differ by the µs between two probes' invocations
            .filter(|(k, _)| !k.contains("duration") && !k.starts_with("evt.time"))
            .collect();
        let key = (
            a["rule"].as_str().unwrap_or_default().to_string(),
            serde_json::to_string(&fields).unwrap(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

/// Options writing JSON alerts to `file` only.
fn json_to(file: &Path) -> Vec<String> {
    [
        "json_output=true",
        "stdout_output.enabled=false",
        "file_output.enabled=true",
        &format!("file_output.filename={}", file.display()),
    ]
    .iter()
    .flat_map(|o| ["-o".to_string(), o.to_string()])
    .collect()
}

/// Replays `capture` with the default rules (plus `extra` options); the
/// process's output.
fn replay(capture: &Path, extra: &[String]) -> std::process::Output {
    let out = Command::new(BIN)
        .arg("-e")
        .arg(capture)
        .args(QUIET)
        .args(extra)
        .output()
        .expect("replay");
    assert!(
        out.status.success(),
        "replay of {} failed: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Event counts by type name, as sysdig 0.29.3 reads the file (`None`
/// without sysdig).
fn sysdig_types(path: &Path) -> Option<BTreeMap<String, u64>> {
    let out = Command::new("sysdig")
        .arg("-r")
        .arg(path)
        .args(["-p", "%evt.type"])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "sysdig -r {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut m = BTreeMap::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        *m.entry(l.trim().to_string()).or_default() += 1;
    }
    Some(m)
}

/// Our reader's event counts by type name, of the codes sysdig 0.29.3
/// knows (it skips codes from 336 on, which libs added after it), and the
/// total of all events.
fn our_types(path: &Path) -> (BTreeMap<String, u64>, u64) {
    let mut r = Reader::open(path).expect("open the capture");
    let (mut m, mut total) = (BTreeMap::new(), 0);
    while let Some(ev) = r.next_event().expect("read the capture") {
        total += 1;
        if ev.code < 336 {
            *m.entry(ev.type_name().to_string()).or_default() += 1;
        }
    }
    (m, total)
}

#[test]
fn a_capture_of_the_event_generator_replays_to_the_live_alerts_and_sysdig_reads_it() {
    skip_unless_live!();
    let dir = scratch("roundtrip");
    let (scap, live_json, replay_json) = (
        dir.0.join("gen.scap"),
        dir.0.join("live.json"),
        dir.0.join("replay.json"),
    );
    let live_opts = json_to(&live_json);
    let mut live_args = vec!["run"];
    live_args.extend(live_opts.iter().map(String::as_str));
    let live = start(&live_args, &dir.0.join("live.err"));
    let cap = start(
        &["capture", "-w", scap.to_str().unwrap()],
        &dir.0.join("capture.err"),
    );
    let generator = Command::new(BIN)
        .args(["event-generator", "run", "--all"])
        .output()
        .expect("event generator");
    assert!(
        generator.status.success(),
        "{}",
        String::from_utf8_lossy(&generator.stderr)
    );
    std::thread::sleep(Duration::from_millis(500));
    stop(live);
    stop(cap);
    replay(&scap, &json_to(&replay_json));
    let (live, replayed) = (alerts(&live_json), alerts(&replay_json));
    let rules: std::collections::BTreeSet<&str> = live.keys().map(|(r, _)| r.as_str()).collect();
    assert!(
        rules.len() >= 15,
        "the generator's actions gave only {rules:?}"
    );
    let only = |a: &BTreeMap<(String, String), usize>, b: &BTreeMap<(String, String), usize>| {
        a.iter()
            .filter(|(k, n)| b.get(*k) != Some(*n))
            .map(|(k, n)| format!("{n} × {}: {}", k.0, k.1))
            .collect::<Vec<_>>()
    };
    assert!(
        live == replayed,
        "live only: {:#?}\nreplay only: {:#?}",
        only(&live, &replayed),
        only(&replayed, &live)
    );
    let (ours, total) = our_types(&scap);
    assert!(total > 1000, "only {total} events captured");
    match sysdig_types(&scap) {
        Some(sysdig) => assert_eq!(sysdig, ours, "sysdig reads other events"),
        None => eprintln!("SKIPPED (sysdig part): sysdig is not installed"),
    }
}

#[test]
fn capture_writes_only_what_its_filter_selects_and_stops_after_its_duration() {
    skip_unless_live!();
    let dir = scratch("filter");
    let scap = dir.0.join("cat.scap.gz");
    let marker = dir.0.join("marker-file");
    std::fs::write(&marker, "x").unwrap();
    // A process whose command line is longer than libs reads in a process
    // list (4096 bytes): CI's runner has such processes; sysdig refused the
    // whole file ("invalid argslen") before the writer cut them.
    let mut long_args = Command::new("sh")
        .args(["-c", "sleep 60", &"a".repeat(20_000)])
        .spawn()
        .unwrap();
    let started = Instant::now();
    let child = start(
        &[
            "capture",
            "-z",
            "-w",
            scap.to_str().unwrap(),
            "--duration",
            "3",
            "proc.name=cat and evt.type in (openat, execve)",
        ],
        &dir.0.join("err"),
    );
    let cat = Command::new("cat").arg(&marker).output().unwrap();
    assert!(cat.status.success());
    let out = child.wait_with_output().expect("capture ends by itself");
    let _ = long_args.kill();
    let _ = long_args.wait();
    assert!(out.status.success());
    assert!(started.elapsed() < Duration::from_secs(30));
    let bytes = std::fs::read(&scap).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "-z writes gzip");
    let (types, _) = our_types(&scap);
    assert!(
        types.keys().all(|t| t == "openat" || t == "execve"),
        "{types:?}"
    );
    let mut r = Reader::open(&scap).unwrap();
    let mut opened = false;
    while let Some(ev) = r.next_event().unwrap() {
        if ev.type_name() == "openat"
            && let Some(name) = ev.param_named("name")
        {
            opened |= name.starts_with(marker.to_str().unwrap().as_bytes());
        }
    }
    assert!(opened, "cat's open of the marker is in the capture");
    if let Some(sysdig) = sysdig_types(&scap) {
        assert_eq!(sysdig, types);
    }
}

fn shared_capture(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/scap")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} is not there", p.display());
        None
    }
}

/// The capture files a run wrote under `dir` (named PREFIX_<ts>_<num>.scap).
fn written(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            let Some(rest) = n.strip_prefix(&format!("{prefix}_")) else {
                return false;
            };
            let parts: Vec<&str> = rest.trim_end_matches(".scap").split('_').collect();
            n.ends_with(".scap")
                && parts.len() == 2
                && parts
                    .iter()
                    .all(|p| p.len() == 20 && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    v.sort();
    v
}

/// A rule matching the opens of the shared `cat_write` capture.
fn rules(capture: bool) -> String {
    format!(
        "- rule: cat opens a file\n  desc: d\n  condition: evt.type in (open, openat) and \
         proc.name = cat\n  output: cat opened %fd.name\n  priority: WARNING\n  capture: \
         {capture}\n  capture_duration: 100\n"
    )
}

#[test]
fn the_capture_config_records_the_events_after_an_alert_to_a_file_that_replays_it() {
    let Some(src) = shared_capture("falco_cat_write.scap") else {
        return;
    };
    let dir = scratch("on-alert");
    let prefix = dir.0.join("falco");
    let json = dir.0.join("alerts.json");
    let r = dir.0.join("rules.yaml");
    std::fs::write(&r, rules(false)).unwrap();
    let mut opts = json_to(&json);
    opts.extend(["-r".to_string(), r.display().to_string()]);
    for o in [
        "capture.enabled=true".to_string(),
        "capture.mode=all_rules".to_string(),
        format!("capture.path_prefix={}", prefix.display()),
    ] {
        opts.extend(["-o".to_string(), o]);
    }
    let out = replay(&src, &opts);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Capture is enabled in mode 'all_rules'"),
        "{stderr}"
    );
    let first = alerts(&json);
    assert!(!first.is_empty(), "the capture gives an alert: {stderr}");
    let files = written(&dir.0, "falco");
    assert_eq!(files.len(), 1, "{files:?}\n{stderr}");
    assert!(stderr.contains("Captures: 1 file(s)"), "{stderr}");
    assert_eq!(&std::fs::read(&files[0]).unwrap()[..2], &[0x1f, 0x8b]);
    // the file starts with the alerting event: replayed, the same alert
    let again = dir.0.join("again.json");
    let mut opts = json_to(&again);
    opts.extend(["-r".to_string(), r.display().to_string()]);
    replay(&files[0], &opts);
    assert_eq!(alerts(&again), first);
}

#[test]
fn in_rules_mode_only_rules_with_capture_true_start_a_capture() {
    let Some(src) = shared_capture("falco_cat_write.scap") else {
        return;
    };
    let dir = scratch("rules-mode");
    for (capture, want) in [(false, 0), (true, 1)] {
        let sub = dir.0.join(format!("c{capture}"));
        std::fs::create_dir_all(&sub).unwrap();
        let r = sub.join("rules.yaml");
        std::fs::write(&r, rules(capture)).unwrap();
        let opts: Vec<String> = [
            "-r".to_string(),
            r.display().to_string(),
            "-o".into(),
            "capture.enabled=true".into(),
            "-o".into(),
            format!("capture.path_prefix={}", sub.join("cap").display()),
        ]
        .into();
        let out = replay(&src, &opts);
        let files = written(&sub, "cap");
        assert_eq!(
            files.len(),
            want,
            "capture: {capture}: {files:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_bad_capture_mode_is_a_config_error() {
    let Some(src) = shared_capture("falco_cat_write.scap") else {
        return;
    };
    let out = Command::new(BIN)
        .arg("-e")
        .arg(&src)
        .args(QUIET)
        .args(["-o", "capture.enabled=true", "-o", "capture.mode=sometimes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("capture.mode") && err.contains("sometimes"),
        "{err}"
    );
}

fn inspect(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("inspect")
        .args(args)
        .output()
        .expect("inspect");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_prints_a_captures_events_with_a_format_as_json_and_as_top_tables() {
    let Some(src) = shared_capture("falco_cat_write.scap") else {
        return;
    };
    let file = src.to_str().unwrap();
    // the default line: number, time, process (tid), direction, type, arguments
    let (ok, out, err) = inspect(&["-r", file]);
    assert!(ok, "{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("1 ") && first.contains(" cat (") && first.contains(" < execve"),
        "{first}"
    );
    // a filter and a format
    let (ok, out, err) = inspect(&[
        "-r",
        file,
        "-p",
        "%proc.name %evt.type %fd.name",
        "proc.name=cat and evt.type=open",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l.starts_with("cat open /")), "{out}");
    assert!(
        err.contains(&format!("Inspect: {} event(s) matched", lines.len())),
        "{err}"
    );
    // JSON: the format's fields, typed
    let (ok, out, err) = inspect(&[
        "-r",
        file,
        "-j",
        "-p",
        "%proc.pid %fd.name",
        "evt.type=open",
    ]);
    assert!(ok, "{err}");
    assert!(out.lines().count() > 0, "no open printed: {err}");
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect(l);
        assert!(v["proc.pid"].is_i64(), "{l}");
        assert!(
            v["fd.name"].as_str().is_some_and(|n| n.starts_with('/')),
            "{l}"
        );
    }
    // a top table: the files cat opened, most opened first
    let (ok, out, err) = inspect(&["-r", file, "--top", "files"]);
    assert!(ok, "{err}");
    let rows: Vec<(u64, &str)> = out
        .lines()
        .skip(1)
        .map(|l| {
            let (n, f) = l.trim().split_once("  ").expect(l);
            (n.parse().unwrap(), f)
        })
        .collect();
    assert!(out.starts_with("opens  file\n"), "{out}");
    assert!(rows.iter().any(|(_, f)| *f == "/etc/ld.so.cache"), "{out}");
    assert!(rows.windows(2).all(|w| w[0].0 >= w[1].0), "{out}");
}

#[test]
fn inspect_says_where_a_filter_is_wrong() {
    let Some(src) = shared_capture("falco_cat_write.scap") else {
        return;
    };
    let (ok, out, err) = inspect(&["-r", src.to_str().unwrap(), "proc.nme = cat"]);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(
        err.contains("<filter>") && err.contains("proc.nme"),
        "{err}"
    );
}

#[test]
fn live_inspect_prints_the_events_its_filter_selects() {
    skip_unless_live!();
    let dir = scratch("inspect-live");
    let marker = dir.0.join("inspect-marker");
    std::fs::write(&marker, "x").unwrap();
    let filter = format!("evt.type=openat and fd.name={}", marker.display());
    let child = start_with(
        &[
            "inspect",
            "-j",
            "-p",
            "%proc.name %fd.name %evt.type",
            &filter,
        ],
        &dir.0.join("err"),
        Stdio::piped(),
    );
    assert!(Command::new("cat").arg(&marker).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect(l))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["proc.name"], "cat");
    assert_eq!(lines[0]["fd.name"], marker.to_str().unwrap());
}

/// `inspect --spy` shows the data a connection's reads and writes moved,
/// live; a capture of the same calls keeps it, for `inspect -r --spy` and
/// for sysdig.
#[test]
fn spy_shows_a_connections_data_live_and_from_a_capture() {
    skip_unless_live!();
    let dir = scratch("spy");
    let port = common::free_port();
    let on_port = format!("fd.name contains :{port}");
    let spy = start_with(
        &["inspect", "--spy", &on_port],
        &dir.0.join("spy.err"),
        Stdio::piped(),
    );
    let scap = dir.0.join("spy.scap");
    let cap = start(
        &[
            "capture",
            "-w",
            scap.to_str().unwrap(),
            &format!("{on_port} and evt.type in (sendto, recvfrom, write)"),
        ],
        &dir.0.join("capture.err"),
    );
    // a client sends a marker, a server sends it back in capitals; the
    // client then write()s another and says its fd
    let script = format!(
        "import os, socket, threading\n\
         s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(1)\n\
         def serve():\n    c, _ = s.accept(); d = c.recv(100); c.sendall(d.upper())\n    \
         while c.recv(100): pass\n    c.close()\n\
         t = threading.Thread(target=serve); t.start()\n\
         k = socket.create_connection(('127.0.0.1', {port})); k.sendall(b'fw-spy-marker')\n\
         assert k.recv(100) == b'FW-SPY-MARKER'\n\
         os.write(k.fileno(), b'fw-spy-write'); k.sendmsg([b'fw-spy-msg', b'x'])\n\
         os.writev(k.fileno(), [b'fw-spy-vec', b'y']); print(k.fileno())\n\
         k.shutdown(socket.SHUT_WR); t.join(); k.close()\n"
    );
    let py = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(py.status.success());
    let client_fd = String::from_utf8_lossy(&py.stdout).trim().to_string();
    std::thread::sleep(Duration::from_millis(500));
    stop(cap);
    let _ = Command::new("kill")
        .args(["-TERM", &spy.id().to_string()])
        .status();
    let out = spy.wait_with_output().unwrap();
    let live = String::from_utf8_lossy(&out.stdout).to_string();
    for want in [
        "------ Write 13B to 127.0.0.1:",
        "------ Read 13B from 127.0.0.1:",
        "\nfw-spy-marker\n",
        "\nFW-SPY-MARKER\n",
        "\nfw-spy-write\n",
        // sendmsg and writev: the first buffer of their iovec
        "------ Write 11B to 127.0.0.1:",
        "\nfw-spy-msg\n",
        "\nfw-spy-vec\n",
    ] {
        assert!(live.contains(want), "{want:?} in:\n{live}");
    }
    // the capture kept the data: our reader and sysdig's show it (the
    // capture holds the port's calls only: not the connect that named
    // their fds, so no filter on the name here)
    let (ok, replayed, err) = inspect(&["-r", scap.to_str().unwrap(), "--spy"]);
    assert!(ok, "{err}");
    let (ok, writes, err) = inspect(&[
        "-r",
        scap.to_str().unwrap(),
        "-p",
        "%evt.type %fd.num %evt.buffer",
        "evt.type=write",
    ]);
    assert!(ok, "{err}");
    let want = format!("write {client_fd} fw-spy-write");
    assert!(writes.contains(&want), "{want:?} in:\n{writes}");
    assert!(
        replayed.contains("\nfw-spy-marker\n") && replayed.contains("\nFW-SPY-MARKER\n"),
        "{replayed}"
    );
    if let Ok(o) = Command::new("sysdig")
        .arg("-r")
        .arg(&scap)
        .args(["-p", "%evt.type %evt.buffer"])
        .output()
    {
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("sendto fw-spy-marker"), "sysdig:\n{text}");
        // (sysdig 0.29.3 takes a write's fd from its enter event, which
        // the probe does not write: its fd is checked with our reader)
        let o = Command::new("sysdig")
            .arg("-r")
            .arg(&scap)
            .args(["-p", "*%evt.type %evt.buffer", "evt.type=write"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("write fw-spy-write"), "sysdig's:\n{text}");
    } else {
        eprintln!("SKIPPED (sysdig check): sysdig is not installed");
    }
}

/// A first-party plugin component (`cargo xtask test` builds them).
fn plugin(name: &str) -> Option<PathBuf> {
    let p = Path::new(BIN)
        .ancestors()
        .nth(2)?
        .join(format!("wasm32-wasip2/debug/{name}_plugin.wasm"));
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is not built (cargo xtask test builds it)",
            p.display()
        );
        None
    }
}

const CLOUDTRAIL_RULES: &str = "- rule: instances started
  desc: d
  condition: ct.name = StartInstances
  output: started | user=%ct.user region=%ct.region arn=%json.value[/userIdentity/arn] src=%ct.srcip
  priority: NOTICE
  source: aws_cloudtrail
";

#[test]
fn plugin_events_in_a_capture_replay_through_their_plugin() {
    let dir = scratch("plugin-events");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/cloudtrail");
    let (Some(ct), Some(json)) = (plugin("cloudtrail"), plugin("json")) else {
        return;
    };
    if !data.is_dir() {
        eprintln!("SKIPPED: {} is not there", data.display());
        return;
    }
    let rules = dir.0.join("rules.yaml");
    std::fs::write(&rules, CLOUDTRAIL_RULES).unwrap();
    let common = |extra: &[&str], out: &Path| {
        let mut args: Vec<String> = vec![
            "run".into(),
            "--plugin".into(),
            ct.display().to_string(),
            "--plugin".into(),
            json.display().to_string(),
            "-r".into(),
            rules.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(json_to(out));
        let o = Command::new(BIN).args(&args).args(QUIET).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // live: the plugin reads the files
    let live = dir.0.join("live.json");
    common(&["--plugin-open-params", data.to_str().unwrap()], &live);
    let live = alerts(&live);
    assert!(!live.is_empty());
    // a capture of the same records as plugin events (cloudtrail's id is 2),
    // and one event of a plugin that is not loaded
    let scap = dir.0.join("plugin.scap");
    let meta = falco_wasm::scap::Metadata::default();
    let mut w = falco_wasm::scap::write::Writer::create(&scap, false, &meta).unwrap();
    let mut ev = falco_wasm::scap::write::EventBuf::default();
    let mut records = Vec::new();
    for f in std::fs::read_dir(&data).unwrap().flatten() {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(f.path()).unwrap()).unwrap();
        records.extend(v["Records"].as_array().unwrap().iter().cloned());
    }
    for (i, (id, r)) in records
        .iter()
        .map(|r| (2u32, r))
        .chain([(999u32, &records[0])])
        .enumerate()
    {
        ev.start(322);
        ev.push(&id.to_le_bytes());
        ev.push(r.to_string().as_bytes());
        w.event(1_700_000_000_000_000_000 + i as u64, 0, &ev)
            .unwrap();
    }
    w.finish().unwrap();
    let replayed = dir.0.join("replay.json");
    let said = common(&["-e", scap.to_str().unwrap()], &replayed);
    assert_eq!(alerts(&replayed), live, "{said}");
    assert!(
        said.contains(&format!(
            "Plugin events: {} evaluated ({} aws_cloudtrail), 1 of plugins not loaded",
            records.len(),
            records.len()
        )),
        "{said}"
    );
}
