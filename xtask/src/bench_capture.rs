//! `cargo xtask bench capture`: what live capture costs the monitored system.
//!
//! In one run, on this machine:
//! 1. a tight loop of an uninteresting syscall (`getppid`) and of an
//!    interesting pair (`openat` + `close`), with no probe (the baseline);
//! 2. the same with `falco-wasm run` and its default rules attached;
//! 3. the same with `bpftrace` counting `raw_syscalls:sys_exit` (a floor:
//!    the cheapest useful tracepoint program);
//! 4. paced open+close loops at rising event rates with the engine
//!    attached: the highest rate with zero kernel drops.
//!
//! Times are medians of several chunks (ns per loop iteration); ratios are
//! against the baseline of the same run.

use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHUNKS: usize = 7;

/// ns per iteration of `f`, median over chunks of `secs / CHUNKS` each.
fn measure(secs: f64, mut f: impl FnMut()) -> f64 {
    let chunk = Duration::from_secs_f64(secs / CHUNKS as f64);
    let mut per = Vec::new();
    for _ in 0..CHUNKS {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < chunk {
            for _ in 0..256 {
                f();
            }
            n += 256;
        }
        per.push(start.elapsed().as_nanos() as f64 / n as f64);
    }
    per.sort_by(f64::total_cmp);
    per[CHUNKS / 2]
}

fn getppid_loop(secs: f64) -> f64 {
    measure(secs, || {
        std::hint::black_box(std::os::unix::process::parent_id());
    })
}

fn open_close_loop(secs: f64) -> f64 {
    measure(secs, || {
        drop(std::hint::black_box(std::fs::File::open("/etc/hostname")));
    })
}

/// A background process whose stderr goes to a file we can read.
struct Tracer {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Tracer {
    fn engine(bin: &Path, tag: &str) -> Result<Tracer> {
        let log = std::env::temp_dir().join(format!("fw-bench-{}-{tag}.log", std::process::id()));
        let child = Command::new(bin)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("start falco-wasm run")?;
        let t = Tracer { child, log };
        t.wait_for("Capturing system calls", Duration::from_secs(60))?;
        Ok(t)
    }

    fn bpftrace() -> Result<Tracer> {
        // bpftrace finds tracepoints through tracefs (our probe uses BTF and does not).
        if !Path::new("/sys/kernel/tracing/events").exists() {
            let _ = Command::new("mount")
                .args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
                .status();
        }
        let log =
            std::env::temp_dir().join(format!("fw-bench-{}-bpftrace.log", std::process::id()));
        let f = std::fs::File::create(&log)?;
        let child = Command::new("bpftrace")
            .args(["-e", "tracepoint:raw_syscalls:sys_exit { @n = count(); }"])
            .stdout(f.try_clone()?)
            .stderr(f)
            .spawn()
            .context("start bpftrace")?;
        let t = Tracer { child, log };
        t.wait_for("Attaching", Duration::from_secs(60))?;
        std::thread::sleep(Duration::from_millis(500));
        Ok(t)
    }

    fn text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    fn wait_for(&self, what: &str, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        while !self.text().contains(what) {
            if start.elapsed() > timeout {
                bail!("{what:?} did not appear; log:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// SIGINT, wait, and return the log.
    fn stop(mut self) -> Result<String> {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        let text = self.text();
        let _ = std::fs::remove_file(&self.log);
        Ok(text)
    }
}

/// (processed, dropped) from the engine's exit report:
/// `Syscall events: N processed, M submitted by the kernel, D dropped; ...`.
fn engine_counts(log: &str) -> (u64, u64) {
    let line = log
        .lines()
        .find(|l| l.starts_with("Syscall events:"))
        .unwrap_or("");
    let words: Vec<&str> = line
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', ';']))
        .collect();
    let before = |word: &str| {
        words
            .windows(2)
            .find(|w| w[1] == word)
            .and_then(|w| w[0].parse().ok())
            .unwrap_or(0)
    };
    (before("processed"), before("dropped"))
}

/// Open+close pairs paced to `events_per_sec` (2 events per pair) for `secs`.
/// Returns the achieved event rate.
fn paced(events_per_sec: f64, secs: f64) -> f64 {
    let pairs_per_ms = events_per_sec / 2.0 / 1000.0;
    let start = Instant::now();
    let mut done = 0f64;
    while start.elapsed().as_secs_f64() < secs {
        let due = start.elapsed().as_secs_f64() * 1000.0 * pairs_per_ms;
        while done < due {
            drop(std::hint::black_box(std::fs::File::open("/etc/hostname")));
            done += 1.0;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    done * 2.0 / start.elapsed().as_secs_f64()
}

/// Runs the whole benchmark; `bin` is a release `falco-wasm`.
pub(crate) fn run(bin: &Path, secs: f64) -> Result<()> {
    println!("capture benchmark: {secs} s per loop, median of {CHUNKS} chunks, ns per iteration");
    let base = (getppid_loop(secs), open_close_loop(secs));
    println!(
        "baseline (no probe):          getppid {:7.1} ns   open+close {:7.1} ns",
        base.0, base.1
    );

    let engine = Tracer::engine(bin, "loops")?;
    let with = (getppid_loop(secs), open_close_loop(secs));
    let log = engine.stop()?;
    let (processed, dropped) = engine_counts(&log);
    println!(
        "falco-wasm (default rules):   getppid {:7.1} ns ({:.2}x)   open+close {:7.1} ns ({:.2}x)   [{processed} events processed, {dropped} dropped]",
        with.0,
        with.0 / base.0,
        with.1,
        with.1 / base.1
    );

    if Path::new("/usr/bin/bpftrace").exists() {
        let bt = Tracer::bpftrace()?;
        let floor = (getppid_loop(secs), open_close_loop(secs));
        bt.stop()?;
        println!(
            "bpftrace (count sys_exit):    getppid {:7.1} ns ({:.2}x)   open+close {:7.1} ns ({:.2}x)",
            floor.0,
            floor.0 / base.0,
            floor.1,
            floor.1 / base.1
        );
    } else {
        println!("bpftrace: not installed (apt-get install bpftrace), floor not measured");
    }

    println!("paced open+close with falco-wasm attached (3 s per rate):");
    let mut best = 0f64;
    for rate in [
        100_000.0,
        250_000.0,
        500_000.0,
        750_000.0,
        1_000_000.0,
        1_500_000.0,
    ] {
        let engine = Tracer::engine(bin, "paced")?;
        let achieved = paced(rate, 3.0);
        // Let the engine drain what is in the ring before it reports.
        std::thread::sleep(Duration::from_millis(500));
        let (processed, dropped) = engine_counts(&engine.stop()?);
        println!(
            "  target {:>9.0} ev/s  achieved {:>9.0} ev/s  processed {processed:>9}  dropped {dropped}",
            rate, achieved
        );
        if dropped == 0 {
            best = best.max(achieved);
        }
        if achieved < rate * 0.8 {
            println!("  (the loop cannot go faster on this machine with the probe attached)");
            break;
        }
    }
    println!("highest paced rate with zero drops: {best:.0} events/s");
    churn(bin)
}

/// VmRSS of a process, in KiB.
/// A process's resident memory, KiB (0 when it is gone).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// 100,000 short-lived processes (fork + exit) under the engine: its RSS
/// before and after, and what its state table kept.
fn churn(bin: &Path) -> Result<()> {
    let engine = Tracer::engine(bin, "churn")?;
    let pid = engine.child.id();
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_kib(pid);
    let start = Instant::now();
    let st = Command::new("python3")
        .args([
            "-c",
            "import os\nfor _ in range(100000):\n    p = os.fork()\n    if p == 0: os._exit(0)\n    os.waitpid(p, 0)",
        ])
        .status()?;
    if !st.success() {
        bail!("the churn workload failed");
    }
    let took = start.elapsed();
    std::thread::sleep(Duration::from_secs(6)); // past the exit grace period
    let peak_after = rss_kib(pid);
    // One more event so the purge runs, then stop.
    let _ = std::fs::File::open("/etc/hostname");
    std::thread::sleep(Duration::from_millis(200));
    let log = engine.stop()?;
    let state = log.lines().find(|l| l.starts_with("State:")).unwrap_or("");
    println!(
        "churn: 100000 fork+exit in {:.1} s; engine RSS {before} KiB before, {peak_after} KiB after; {state}",
        took.as_secs_f64()
    );
    Ok(())
}

/// Lines a child writes, each with when it was read.
type Lines = std::sync::Arc<std::sync::Mutex<Vec<(Instant, String)>>>;

/// Reads `r` line by line into `lines` on a thread of its own.
fn collect(r: impl Read + Send + 'static, lines: &Lines) {
    let lines = std::sync::Arc::clone(lines);
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            lines.lock().unwrap().push((Instant::now(), l));
        }
    });
}

/// The engine with drops logged and alerted at most once a second (a
/// burst of 10), its stdout and stderr collected as they come.
fn flood_engine(bin: &Path) -> Result<(Child, Lines)> {
    let mut child = Command::new(bin)
        .args([
            "run",
            "-o",
            "json_output=true",
            "-o",
            "syscall_event_drops.rate=1",
            "-o",
            "syscall_event_drops.max_burst=10",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("start falco-wasm run")?;
    let lines = Lines::default();
    collect(child.stdout.take().context("stdout")?, &lines);
    collect(child.stderr.take().context("stderr")?, &lines);
    let start = Instant::now();
    while !has(&lines, "Capturing system calls") {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("the engine did not start: {:?}", lines.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, lines))
}

fn has(lines: &Lines, what: &str) -> bool {
    lines.lock().unwrap().iter().any(|(_, l)| l.contains(what))
}

/// When the first line containing `what` came.
fn first(lines: &Lines, what: &str) -> Option<Instant> {
    lines
        .lock()
        .unwrap()
        .iter()
        .find(|(_, l)| l.contains(what))
        .map(|(t, _)| *t)
}

/// One unpaced open+close loop per CPU until `stop` is set.
fn flood(
    stop: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<u64>> {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (0..cpus)
        .map(|_| {
            let stop = std::sync::Arc::clone(stop);
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for _ in 0..64 {
                        drop(std::hint::black_box(std::fs::File::open("/etc/hostname")));
                    }
                    n += 128;
                }
                n
            })
        })
        .collect()
}

fn signal(child: &Child, sig: &str) -> Result<()> {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()?;
    Ok(())
}

/// `N record(s) lost in the last second ...; T total` from each drop line.
fn drop_lines(lines: &Lines) -> Vec<(u64, u64)> {
    lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(_, l)| {
            let rest = l.split("Syscall event drop: ").nth(1)?;
            let n = rest.split_whitespace().next()?.parse().ok()?;
            let total = rest
                .rsplit("; ")
                .next()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some((n, total))
        })
        .collect()
}

/// `cargo xtask bench capture --saturate`: an unpaced open+close loop per
/// CPU for `secs` (the ring buffer overflows). Run 1: when the first drop
/// warning and the first drop alert come, and whether the per-second drop
/// counts add up. Run 2: under the same flood, how long a SIGHUP reload
/// and a SIGTERM take.
pub(crate) fn saturate(bin: &Path, secs: f64) -> Result<()> {
    println!("saturation: one unpaced open+close loop per CPU for {secs} s");
    let (mut child, lines) = flood_engine(bin)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let start = Instant::now();
    let loops = flood(&stop);
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let syscalls: u64 = loops.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    // Past the next once-a-second look, so the last second is accounted.
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "-TERM")?;
    child.wait()?;
    std::thread::sleep(Duration::from_millis(100));
    let since = |t: Option<Instant>| {
        t.map_or("never".to_string(), |t| {
            format!("{:.2} s", t.saturating_duration_since(start).as_secs_f64())
        })
    };
    let text: String = lines
        .lock()
        .unwrap()
        .iter()
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let (processed, dropped) = engine_counts(&text);
    let per_second = drop_lines(&lines);
    let consistent = per_second.windows(2).all(|w| w[1].1 == w[0].1 + w[1].0)
        && per_second.first().is_none_or(|f| f.0 == f.1);
    let logged: u64 = per_second.iter().map(|(n, _)| n).sum();
    println!(
        "  {syscalls} syscalls made; engine: {processed} processed, {dropped} dropped (exit summary)"
    );
    println!(
        "  first drop warning after {}, first drop alert after {} (from the flood's start)",
        since(first(&lines, "Syscall event drop:")),
        since(first(&lines, "Falco internal: syscall event drop"))
    );
    println!(
        "  {} per-second drop lines, {logged} records in them ({}); each line's count is the \
         difference of its totals: {consistent}",
        per_second.len(),
        if logged == dropped {
            "= the exit summary".to_string()
        } else {
            format!("exit summary says {dropped}")
        }
    );

    let (mut child, lines) = flood_engine(bin)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loops = flood(&stop);
    std::thread::sleep(Duration::from_secs_f64(secs / 2.0));
    let hup = Instant::now();
    signal(&child, "-HUP")?;
    let reloaded = loop {
        if let Some(t) = first(&lines, "Reloaded configuration and rules") {
            break Some(t.saturating_duration_since(hup));
        }
        if hup.elapsed() > Duration::from_secs(30) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(Duration::from_secs_f64(secs / 2.0));
    let term = Instant::now();
    signal(&child, "-TERM")?;
    child.wait()?;
    let exited = term.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in loops {
        let _ = h.join();
    }
    std::thread::sleep(Duration::from_millis(100));
    let summary = first(&lines, "Events detected:").map(|t| t.saturating_duration_since(term));
    let secs =
        |d: Option<Duration>| d.map_or("never".into(), |d| format!("{:.3} s", d.as_secs_f64()));
    println!(
        "  under the flood: SIGHUP reload done in {}; after SIGTERM, exit summary (alerts \
         delivered) in {}, process exit in {:.3} s",
        secs(reloaded),
        secs(summary),
        exited.as_secs_f64()
    );
    Ok(())
}
