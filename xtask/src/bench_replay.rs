//! `cargo xtask bench replay`: events per second replaying a large capture
//! through the real binary (`falco-wasm run -e`), with a rule that never
//! matches (decode + convert + state: the baseline) and with the default
//! rules, in one run (each configuration `--runs` times, interleaved; the
//! median is reported with the range); and the engine's peak memory, which
//! must not grow with the length of the capture.
//!
//! The capture is built from the real captures in `../shared/data/scap`
//! (or from one given capture, `--capture FILE`, e.g. one recorded with
//! `falco-wasm capture` during real activity):
//! the metadata of one, then the event blocks of all of them, repeated
//! until there are at least `events` events (one section, as one long
//! capture). It is written to a temporary file, read back from the page
//! cache by each run (as `falco-wasm -e FILE` reads a capture) and removed
//! at the end. The rate shown is the engine's own (its setup left out); the
//! wall time of each run is shown beside it.

use crate::bench_capture::rss_kib;
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A rule on an event type the captures do not have: the engine's event
/// type index skips every event, so what is measured is reading, decoding,
/// converting and the state tables.
const NO_MATCH_RULES: &str = "- rule: never\n  desc: baseline\n  condition: evt.type = \
                              ptrace and proc.name = never\n  output: x\n  priority: DEBUG\n";

/// Meta-event codes left out (procinfo, container, user and group added):
/// old captures are mostly procinfo events, which cost nothing to skip and
/// would flatter the numbers.
const META_EVENTS: &[u16] = &[234, 272, 354, 358];

fn uncompressed(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| path.display().to_string())?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out)?;
    Ok(out)
}

fn is_event_block(kind: u32) -> bool {
    matches!(
        kind,
        0x204 | 0x8010_ABCD | 0x216 | 0x221 | 0x208 | 0x217 | 0x222
    )
}

/// (the bytes before the first event block, the event blocks, how many).
fn split(capture: &[u8]) -> (Vec<u8>, Vec<u8>, u64) {
    let (mut at, mut first_event, mut n) = (0, None, 0);
    let mut events = Vec::new();
    while at + 8 <= capture.len() {
        let kind = u32::from_le_bytes(capture[at..at + 4].try_into().expect("4"));
        let len = u32::from_le_bytes(capture[at + 4..at + 8].try_into().expect("4")) as usize;
        if len < 12 || at + len > capture.len() {
            break;
        }
        if is_event_block(kind) {
            first_event.get_or_insert(at);
            // the event's code: after the cpu (and the flags of EVF blocks)
            // and 20 bytes of the event header
            let code_at = at
                + 8
                + 2
                + if matches!(kind, 0x208 | 0x217 | 0x222) {
                    4
                } else {
                    0
                }
                + 20;
            let code = capture
                .get(code_at..code_at + 2)
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
            if !META_EVENTS.contains(&code) {
                events.extend_from_slice(&capture[at..at + len]);
                n += 1;
            }
        }
        at += len;
    }
    (capture[..first_event.unwrap_or(at)].to_vec(), events, n)
}

/// What one replay measured.
pub(crate) struct Run {
    pub(crate) events: u64,
    pub(crate) evaluated: u64,
    pub(crate) secs: f64,
    /// The engine's own events/s over the replay (its setup left out).
    pub(crate) replay_rate: f64,
    pub(crate) peak_rss_kib: u64,
    pub(crate) alerts: u64,
}

/// The benchmark's capture: one section (a capture's metadata), then
/// `rounds` times the event blocks, in a temporary file removed on drop.
pub(crate) struct Stream {
    path: PathBuf,
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Replays `stream` through `bin` with `rules` (`None`: the default
/// rules), the filter back end `backend` and `extra` arguments.
pub(crate) fn replay(
    bin: &Path,
    stream: &Stream,
    rules: Option<&Path>,
    backend: &str,
    extra: &[&std::ffi::OsStr],
) -> Result<Run> {
    let mut cmd = Command::new(bin);
    cmd.args(["run", "-e"])
        .arg(&stream.path)
        .env("FALCO_WASM_FILTER_BACKEND", backend)
        .args(extra);
    if let Some(r) = rules {
        cmd.arg("-r").arg(r);
    }
    for o in [
        "webserver.enabled=false",
        "syslog_output.enabled=false",
        "stdout_output.enabled=false",
    ] {
        cmd.args(["-o", o]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let start = Instant::now();
    let mut peak = 0;
    while child.try_wait()?.is_none() {
        peak = peak.max(rss_kib(pid));
        std::thread::sleep(Duration::from_millis(50));
    }
    let secs = start.elapsed().as_secs_f64();
    let mut err = String::new();
    child
        .stderr
        .take()
        .context("stderr")?
        .read_to_string(&mut err)?;
    let line = err
        .lines()
        .find(|l| l.starts_with("Capture "))
        .with_context(|| format!("no replay summary in:\n{err}"))?;
    let events = line
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .context("event count")?;
    let evaluated = line
        .split(", ")
        .find_map(|p| p.strip_suffix(" evaluated"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let replay_rate = line
        .rsplit_once(" s, ")
        .and_then(|(_, r)| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .context("events/s")?;
    let alerts = err
        .lines()
        .find_map(|l| l.strip_prefix("Events detected: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(Run {
        events,
        evaluated,
        secs,
        replay_rate,
        peak_rss_kib: peak,
        alerts,
    })
}

/// Where the benchmark's events come from.
pub(crate) enum Source {
    /// The shared captures' events (libs_curl_google's process list).
    Shared(PathBuf),
    /// One capture's own metadata and events.
    File(PathBuf),
}

/// The capture files and the one whose metadata heads the stream.
fn files(source: &Source) -> Result<(Vec<PathBuf>, PathBuf)> {
    match source {
        Source::File(f) => Ok((vec![f.clone()], f.clone())),
        Source::Shared(data) => {
            let mut files: Vec<_> = std::fs::read_dir(data)
                .with_context(|| format!("{}: the shared captures are needed", data.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "scap"))
                .collect();
            files.sort();
            let head = data.join("libs_curl_google.scap");
            if !files.contains(&head) {
                bail!("libs_curl_google.scap is missing from {}", data.display());
            }
            Ok((files, head))
        }
    }
}

/// The events of `source`, repeated to at least `min_events`.
pub(crate) fn stream(source: &Source, min_events: u64) -> Result<Stream> {
    let (files, head_file) = files(source)?;
    let mut head = Vec::new();
    let (mut body, mut per_round) = (Vec::new(), 0);
    for f in &files {
        let (h, events, n) = split(&uncompressed(f)?);
        if *f == head_file {
            head = h;
        }
        body.extend_from_slice(&events);
        per_round += n;
    }
    let rounds = min_events.div_ceil(per_round.max(1));
    static MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("fw-bench-replay-{}-{n}.scap", std::process::id()));
    // a new file (never one found there, nor a link's target)
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| path.display().to_string())?;
    let stream = Stream { path };
    let mut out = std::io::BufWriter::new(file);
    out.write_all(&head)?;
    for _ in 0..rounds {
        out.write_all(&body)?;
    }
    out.flush()?;
    println!(
        "replay benchmark: {} capture(s)' events ({per_round} per round, {:.1} MiB) x {rounds} \
         = {} events in one page-cached capture file ({:.0} MiB)",
        files.len(),
        body.len() as f64 / 1048576.0,
        per_round * rounds,
        (head.len() + body.len() * rounds as usize) as f64 / 1048576.0
    );
    Ok(stream)
}

/// Writes the rules that never match (the baseline's) to a file.
pub(crate) fn no_match_rules() -> Result<PathBuf> {
    let rules = std::env::temp_dir().join(format!("fw-bench-replay-{}.yaml", std::process::id()));
    std::fs::write(&rules, NO_MATCH_RULES)?;
    Ok(rules)
}

/// The median run by rate (the middle one of an odd count).
fn median(mut runs: Vec<Run>) -> (Run, f64, f64) {
    runs.sort_by(|a, b| a.replay_rate.total_cmp(&b.replay_rate));
    let (lo, hi) = (runs[0].replay_rate, runs[runs.len() - 1].replay_rate);
    (runs.swap_remove(runs.len() / 2), lo, hi)
}

pub(crate) fn run(bin: &Path, source: &Source, min_events: u64, runs: usize) -> Result<()> {
    let stream = stream(source, min_events)?;
    let rules = no_match_rules()?;
    // interleaved, so that a slow phase of the machine touches each alike
    let mut all: [Vec<Run>; 3] = Default::default();
    let measured = (|| -> Result<()> {
        for _ in 0..runs {
            all[0].push(replay(bin, &stream, Some(&rules), "wasm", &[])?);
            all[1].push(replay(bin, &stream, None, "wasm", &[])?);
            all[2].push(replay(bin, &stream, None, "interp", &[])?);
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&rules);
    measured?;
    for (d, i) in all[1].iter().zip(&all[2]) {
        if d.alerts != i.alerts {
            bail!(
                "the back ends disagree: {} alerts (Wasm), {} (interpreter)",
                d.alerts,
                i.alerts
            );
        }
    }
    let [base, default, interp] = all.map(median);
    println!("  median of {runs} run(s) each, interleaved (range in brackets)");
    for (name, (r, lo, hi)) in [
        ("decode + state (no rule runs)   ", &base),
        ("default rules (Wasm filters)    ", &default),
        ("default rules (the interpreter) ", &interp),
    ] {
        println!(
            "  {name}: {:>10.0} events/s  [{lo:.0}..{hi:.0}] ({} events, {:.2} s of wall time \
             with the start, {} became records, {} alerts, peak RSS {} MiB)",
            r.replay_rate,
            r.events,
            r.secs,
            r.evaluated,
            r.alerts,
            r.peak_rss_kib / 1024
        );
    }
    let (base, default, interp) = (&base.0, &default.0, &interp.0);
    println!(
        "  default rules / baseline: {:.2}x the time (Wasm), {:.2}x (interpreter)",
        base.replay_rate / default.replay_rate,
        base.replay_rate / interp.replay_rate
    );
    Ok(())
}
