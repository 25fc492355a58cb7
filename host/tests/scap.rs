//! Reading real capture files: the ones in `../shared/data/scap` were
//! written by Falco's libs and by sysdig over eight years (format 1.0 to
//! 1.2, process-list versions 5 to 9, v1 and v2 event blocks, gzip). The
//! expected event counts are the events `sysdig -r FILE` (0.29.3) prints,
//! which leaves out meta-events (sysdig prints one container meta-event of
//! psp_privileged, not counted here); when sysdig is installed, the events
//! are compared one by one.

use falco_wasm::scap::{Reader, ScapError};
use std::path::{Path, PathBuf};

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/scap");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIPPED: ../shared/data/scap is not there");
        None
    }
}

/// (file, events sysdig prints).
const SYSDIG_COUNTS: &[(&str, u64)] = &[
    ("falco_cat_write.scap", 85),
    ("falco_open-multiple-files.scap", 86),
    ("falco_syscall.scap", 12),
    ("falco_connect_localhost.scap", 8),
    ("falco_ping_sendto.scap", 20),
    ("falco_psp_run_as_user_0_container.scap", 3796),
    ("falco_psp_privileged.scap", 0),
    ("falco_psp_run_as_user_65534_container.scap", 2),
    ("falco_psp_write_tmp_test.scap", 2),
    ("falco_empty.scap", 0),
    ("libs_curl_google.scap", 1221),
    // the same capture with pcapng comment options in its section header
    // (a newer writer; sysdig 0.29 and Falco 0.40 refuse it)
    ("libs_curl_google_comments.scap", 1221),
    ("libs_single_ipv6_conn.scap", 28),
    ("libs_test_ipv6_client.scap", 68),
    ("libs_sample.scap", 402),
];

fn count(path: &Path) -> Result<(u64, Reader), ScapError> {
    let mut r = Reader::open(path)?;
    let mut n = 0;
    while let Some(ev) = r.next_event()? {
        if !ev.is_meta() {
            n += 1;
        }
    }
    Ok((n, r))
}

#[test]
fn real_captures_read_with_sysdigs_event_counts_and_their_metadata() {
    let Some(dir) = data_dir() else { return };
    let mut wrong = Vec::new();
    for &(file, want) in SYSDIG_COUNTS {
        let (got, r) = count(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        if got != want {
            wrong.push(format!("{file}: {got} events, sysdig printed {want}"));
        }
        let m = r.metadata();
        assert!(m.machine.is_some(), "{file}: no machine info");
        assert!(!m.threads.is_empty(), "{file}: no process list");
        assert!(!m.fds.is_empty(), "{file}: no fd list");
        assert!(
            m.threads.iter().any(|t| t.pid == 1),
            "{file}: no pid 1 in the process list"
        );
        assert_eq!(r.stats.unknown_events, 0, "{file}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn metadata_fields_are_decoded() {
    let Some(dir) = data_dir() else { return };
    // a recent (process list V9, fd list V2) capture
    let (_, r) = count(&dir.join("libs_sample.scap")).unwrap();
    let m = r.metadata();
    assert_eq!(m.version, (1, 2));
    let init = m.threads.iter().find(|t| t.tid == 1).unwrap();
    assert_eq!(init.pid, 1);
    assert!(!init.comm.is_empty() && !init.exe.is_empty(), "{init:?}");
    assert!(init.cwd.starts_with('/'), "{init:?}");
    assert!(!m.users.is_empty() && m.users.iter().any(|u| u.uid == 0 && u.name == "root"));
    assert!(m.groups.iter().any(|g| g.gid == 0));
    // every fd list belongs to a listed thread
    for (tid, _) in &m.fds {
        assert!(
            m.threads.iter().any(|t| t.tid == *tid),
            "fd of unknown tid {tid}"
        );
    }
}

fn uncompressed(path: &Path) -> Vec<u8> {
    falco_wasm::scap::read::file_bytes(path).unwrap()
}

fn read_all(bytes: Vec<u8>) -> (u64, Option<ScapError>) {
    let mut r = match Reader::new(Box::new(std::io::Cursor::new(bytes)), "mem".into()) {
        Ok(r) => r,
        Err(e) => return (0, Some(e)),
    };
    let mut n = 0;
    loop {
        match r.next_event() {
            Ok(Some(_)) => n += 1,
            Ok(None) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

#[test]
fn truncated_captures_keep_the_events_before_the_cut_and_say_where() {
    let Some(dir) = data_dir() else { return };
    let full = uncompressed(&dir.join("falco_syscall.scap"));
    let (all, err) = read_all(full.clone());
    assert!(err.is_none());
    let mut last = 0;
    // cut at many points: never a panic, the count never goes down as the
    // cut moves on, and a cut inside a block is an error with an offset
    for cut in (0..full.len()).step_by(97) {
        let (n, err) = read_all(full[..cut].to_vec());
        assert!(n >= last && n <= all, "cut {cut}: {n} events");
        last = n;
        if let Some(ScapError::Format { offset, what, .. }) = &err {
            assert!(*offset <= cut as u64, "cut {cut}: offset {offset} ({what})");
        }
    }
}

#[test]
fn corrupted_bytes_give_errors_not_panics() {
    let Some(dir) = data_dir() else { return };
    for file in ["libs_sample.scap", "falco_cat_write.scap"] {
        let full = uncompressed(&dir.join(file));
        // a small deterministic generator: flip bytes all over the file
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..300 {
            let mut b = full.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x as usize) % b.len();
                b[i] = (x >> 32) as u8;
            }
            let _ = read_all(b);
        }
    }
    let (_, err) = read_all(b"not a capture at all".to_vec());
    assert!(matches!(err, Some(ScapError::Format { .. })), "{err:?}");
    let (_, err) = read_all(Vec::new());
    assert!(err.unwrap().to_string().contains("empty file"));
}

/// (time, tid, direction, type) of every event sysdig prints, without
/// container meta-events; None without sysdig.
fn sysdig_events(path: &Path) -> Option<Vec<String>> {
    let out = std::process::Command::new("sysdig")
        .arg("-r")
        .arg(path)
        .args(["-p", "%evt.rawtime %thread.tid %evt.dir %evt.type"])
        .output()
        .ok()?;
    assert!(out.status.success(), "sysdig -r {}", path.display());
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty() && !l.ends_with(" container"))
            .map(str::to_string)
            .collect(),
    )
}

/// Syscall names libs corrected after sysdig 0.29 (ours, sysdig's).
const RENAMED: &[(&str, &str)] = &[("rt_sigreturn", "sigreturn")];

fn renamed(ours: &str, sysdigs: &str) -> bool {
    RENAMED.iter().any(|(o, s)| {
        ours.strip_suffix(o).map(str::trim_end) == sysdigs.strip_suffix(s).map(str::trim_end)
    })
}

#[test]
fn every_event_matches_what_sysdig_reads() {
    let Some(dir) = data_dir() else { return };
    if sysdig_events(&dir.join("falco_empty.scap")).is_none() {
        eprintln!("SKIPPED: sysdig is not installed (cargo xtask test installs it)");
        return;
    }
    for &(file, _) in SYSDIG_COUNTS {
        if file.ends_with("_comments.scap") {
            continue; // sysdig 0.29 cannot read it
        }
        let want = sysdig_events(&dir.join(file)).unwrap();
        let mut r = Reader::open(&dir.join(file)).unwrap();
        let mut got = Vec::new();
        while let Some(ev) = r.next_event().unwrap() {
            if !ev.is_meta() {
                let dir = if ev.info.exit { "<" } else { ">" };
                got.push(format!("{} {} {dir} {}", ev.ts, ev.tid, ev.type_name()));
            }
        }
        let first_diff = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b && !renamed(a, b));
        assert!(
            got.len() == want.len() && first_diff.is_none(),
            "{file}: {} events, sysdig {}; first difference at {first_diff:?}: ours {:?}, sysdig {:?}",
            got.len(),
            want.len(),
            first_diff.map(|i| &got[i]),
            first_diff.map(|i| &want[i]),
        );
    }
}

const REPLAY_RULES: &str = r#"
- rule: Opens below etc
  desc: t
  condition: evt.type in (open, openat) and fd.name startswith /etc
  output: "open %fd.name by %proc.name (%proc.cmdline) pid=%proc.pid ppid=%proc.ppid user=%user.name container=%container.id"
  priority: WARNING
- rule: Program run
  desc: t
  condition: evt.type = execve and evt.dir = <
  output: "exec %proc.cmdline parent=%proc.pname user=%user.name container=%container.id (%container.name, %container.image.repository:%container.image.tag)"
  priority: NOTICE
- rule: Inbound connection
  desc: t
  condition: evt.type in (accept, accept4)
  output: "accept %fd.name cip=%fd.cip sport=%fd.sport"
  priority: NOTICE
- rule: Outbound connection
  desc: t
  condition: evt.type = connect
  output: "connect %fd.name type=%fd.type res=%evt.res"
  priority: NOTICE
"#;

/// Replays `file` with `rules` (a rules file's text, or None for the
/// default rules); (exit success, stdout, stderr).
fn replay(file: &Path, rules: Option<&str>) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_falco-wasm"));
    cmd.arg("run").arg("-e").arg(file);
    static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fw-replay-{}-{n}", std::process::id()));
    if let Some(r) = rules {
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("rules.yaml");
        std::fs::write(&p, r).unwrap();
        cmd.arg("-r").arg(&p);
    }
    cmd.args([
        "-o",
        "stdout_output.enabled=true",
        "-o",
        "webserver.enabled=false",
        "-o",
        "syslog_output.enabled=false",
    ]);
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn alerts(stdout: &str) -> Vec<&str> {
    // "HH:MM:SS.nnnnnnnnn: Priority message"
    stdout
        .lines()
        .filter(|l| l.len() > 20 && l.as_bytes()[2] == b':' && l.contains(": "))
        .collect()
}

#[test]
fn replay_gives_alerts_with_the_captures_processes_and_times() {
    let Some(dir) = data_dir() else { return };
    let (ok, out, err) = replay(&dir.join("falco_cat_write.scap"), Some(REPLAY_RULES));
    assert!(ok, "{err}");
    assert_eq!(
        alerts(&out),
        [
            "16:17:57.881730713: Notice exec cat /dev/null parent=bash user=root container=host (host, <NA>:<NA>)",
            "16:17:57.881785348: Warning open /etc/ld.so.cache by cat (cat /dev/null) pid=20072 ppid=11310 user=root container=host",
        ],
        "{out}\n{err}"
    );
    assert!(
        err.contains("345 event(s) read") && err.contains("read from the capture at start"),
        "{err}"
    );
    // Falco's exit counts
    assert!(
        err.contains(
            "Events detected: 2\nRule counts by severity:\n   WARNING: 1\n   NOTICE: 1\n\
             Triggered rules by rule name:\n   Opens below etc: 1\n   Program run: 1\n"
        ),
        "{err}"
    );
    // the same file gives the same alerts every time
    let (_, again, _) = replay(&dir.join("falco_cat_write.scap"), Some(REPLAY_RULES));
    assert_eq!(alerts(&out), alerts(&again));

    // a container's process (its id from the cgroups of the exec event)
    let (_, out, _) = replay(
        &dir.join("falco_psp_run_as_user_65534_container.scap"),
        Some(REPLAY_RULES),
    );
    assert_eq!(
        alerts(&out),
        // the container's name and image from the capture's container event
        [
            "22:44:06.679544340: Notice exec nologin ls parent=<NA> user=root container=697956520d89 (hopeful_taussig, nginx:latest)"
        ]
    );
    // a socket made during the capture, connected (enter and exit merged)
    let (_, out, _) = replay(
        &dir.join("falco_connect_localhost.scap"),
        Some(REPLAY_RULES),
    );
    assert_eq!(
        alerts(&out),
        [
            "21:27:03.470627540: Notice connect 127.0.0.1:47192->127.0.0.1:80 type=ipv4 res=EINPROGRESS"
        ]
    );
}

#[test]
fn every_shared_capture_replays_with_the_default_rules() {
    let Some(dir) = data_dir() else { return };
    for &(file, _) in SYSDIG_COUNTS {
        let (ok, _, err) = replay(&dir.join(file), None);
        assert!(ok, "{file}: {err}");
        assert!(err.contains("Events detected:"), "{file}: {err}");
    }
}

#[test]
fn a_corrupt_capture_stops_the_replay_with_the_offset_after_its_good_events() {
    let Some(dir) = data_dir() else { return };
    let mut bytes = uncompressed(&dir.join("falco_cat_write.scap"));
    // break the length of the last block's trailer
    let n = bytes.len();
    bytes[n - 4] ^= 0x55;
    let tmp = std::env::temp_dir().join(format!("fw-corrupt-{}.scap", std::process::id()));
    std::fs::write(&tmp, &bytes).unwrap();
    let (ok, out, err) = replay(&tmp, Some(REPLAY_RULES));
    let _ = std::fs::remove_file(&tmp);
    assert!(!ok, "{err}");
    assert!(
        err.contains("replay stopped") && err.contains("byte "),
        "{err}"
    );
    // the events before the bad block were evaluated
    assert_eq!(alerts(&out).len(), 2, "{out}\n{err}");
}

/// Rewrites the event blocks for which `pick(ts)` holds as event-with-flags
/// blocks carrying `flags` (v1 blocks become EVF, v2 blocks EVF_V2).
fn with_flags(capture: &[u8], flags: u32, pick: impl Fn(u64) -> bool) -> Vec<u8> {
    let (mut at, mut out) = (0, Vec::new());
    while at + 8 <= capture.len() {
        let kind = u32::from_le_bytes(capture[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(capture[at + 4..at + 8].try_into().unwrap()) as usize;
        let block = &capture[at..at + len];
        let evf = match kind {
            0x204 => Some(0x208u32),
            0x216 => Some(0x217),
            _ => None,
        };
        let ts = u64::from_le_bytes(block[10..18].try_into().unwrap_or([0; 8]));
        match evf {
            Some(evf) if pick(ts) => {
                let body = &block[8..len - 4];
                let total = (len + 4) as u32;
                out.extend_from_slice(&evf.to_le_bytes());
                out.extend_from_slice(&total.to_le_bytes());
                out.extend_from_slice(&body[..2]); // cpu
                out.extend_from_slice(&flags.to_le_bytes());
                out.extend_from_slice(&body[2..]);
                out.extend_from_slice(&total.to_le_bytes());
            }
            _ => out.extend_from_slice(block),
        }
        at += len;
    }
    out
}

#[test]
fn state_only_events_update_the_state_without_running_rules() {
    let Some(dir) = data_dir() else { return };
    let bytes = uncompressed(&dir.join("falco_cat_write.scap"));
    // the open of /etc/ld.so.cache (enter and exit) marked state-only
    let marked = with_flags(&bytes, 1, |ts| {
        (1_470_327_477_881_785_000..=1_470_327_477_881_785_348).contains(&ts)
    });
    let tmp = std::env::temp_dir().join(format!("fw-stateonly-{}.scap", std::process::id()));
    std::fs::write(&tmp, &marked).unwrap();
    let (ok, out, err) = replay(&tmp, Some(REPLAY_RULES));
    // flags 0 in EVF blocks: the same as plain blocks
    std::fs::write(&tmp, with_flags(&bytes, 0, |_| true)).unwrap();
    let (_, all_evf, _) = replay(&tmp, Some(REPLAY_RULES));
    let _ = std::fs::remove_file(&tmp);
    assert!(ok, "{err}");
    assert_eq!(
        alerts(&out),
        [
            "16:17:57.881730713: Notice exec cat /dev/null parent=bash user=root container=host (host, <NA>:<NA>)"
        ],
        "{err}"
    );
    assert_eq!(alerts(&all_evf).len(), 2, "{all_evf}");
}

#[test]
fn concatenated_captures_replay_as_sections_with_their_own_processes() {
    let Some(dir) = data_dir() else { return };
    let mut both = uncompressed(&dir.join("falco_psp_run_as_user_65534_container.scap"));
    both.extend(uncompressed(&dir.join("falco_cat_write.scap")));
    let tmp = std::env::temp_dir().join(format!("fw-concat-{}.scap", std::process::id()));
    std::fs::write(&tmp, &both).unwrap();
    let (ok, out, err) = replay(&tmp, Some(REPLAY_RULES));
    let _ = std::fs::remove_file(&tmp);
    assert!(ok, "{err}");
    assert!(err.contains("in 2 section(s)"), "{err}");
    // the second section's processes were seeded: cat's parent is known
    assert_eq!(
        alerts(&out),
        [
            "22:44:06.679544340: Notice exec nologin ls parent=<NA> user=root container=697956520d89 (hopeful_taussig, nginx:latest)",
            "16:17:57.881730713: Notice exec cat /dev/null parent=bash user=root container=host (host, <NA>:<NA>)",
            "16:17:57.881785348: Warning open /etc/ld.so.cache by cat (cat /dev/null) pid=20072 ppid=11310 user=root container=host",
        ],
        "{err}"
    );
}
