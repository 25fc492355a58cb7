//! `cargo xtask bench outputs`: alerts per second through the output
//! pipeline to a file and to an HTTP receiver on loopback, measured from the
//! side that matters — the event loop pushing alerts must never block.
//!
//! For each channel: the producer pushes alerts at a target rate (default
//! 100,000/s) for FALCO_WASM_BENCH_SECS seconds (default 3); we report the
//! rate the producer achieved, the slowest single push, the rate the channel
//! delivered, and the drops it counted. Baseline in the same run: the
//! producer's own loop with no channel (render cost only).

use falco_wasm::outputs::Outputs;
use falco_wasm::outputs::alert::{Alert, FieldValue, FormatOptions};
use falco_wasm::outputs::sinks::{self, HttpOptions, Sink};
use falco_wasm::priority::Priority;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn alert(i: u64) -> Alert {
    Alert {
        time_ns: 1_700_000_000_000_000_000 + i as i64,
        rule: "Write below etc".into(),
        priority: Priority::Error,
        source: "syscall".into(),
        tags: vec!["filesystem".into(), "mitre_persistence".into()],
        message: format!(
            "File below /etc opened for writing | file=/etc/x{i} user=root process=touch command=touch /etc/x{i}"
        ),
        fields: vec![
            (
                "fd.name".into(),
                Some(FieldValue::Text(format!("/etc/x{i}"))),
            ),
            ("user.name".into(), Some(FieldValue::Text("root".into()))),
            ("proc.pid".into(), Some(FieldValue::Num(i as i64))),
        ],
        hostname: "bench".into(),
    }
}

/// An HTTP/1.1 keep-alive receiver counting requests.
fn receiver(count: Arc<AtomicU64>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let mut w = c.try_clone().unwrap();
                let mut r = BufReader::new(c);
                let mut line = String::new();
                loop {
                    let mut len = 0usize;
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    count.fetch_add(1, Ordering::Relaxed);
                    if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

struct Result {
    pushed_per_s: f64,
    worst_push: Duration,
    delivered_per_s: f64,
    dropped: u64,
}

fn run(sink: Option<Box<dyn Sink>>, rate: f64, secs: f64, delivered: impl Fn() -> u64) -> Result {
    let json = FormatOptions {
        json: true,
        ..FormatOptions::default()
    };
    let out = Outputs::start(sink.into_iter().collect(), json, 100_000);
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut i = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let due = (start.elapsed().as_secs_f64() * rate) as u64;
        while i < due {
            let a = alert(i);
            let t = Instant::now();
            out.push(a);
            worst = worst.max(t.elapsed());
            i += 1;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    let pushed_for = start.elapsed().as_secs_f64();
    let dropped = out
        .stats()
        .first()
        .map_or(0, |(_, s)| s.dropped.load(Ordering::Relaxed));
    out.flush();
    let done = start.elapsed().as_secs_f64();
    let n = delivered();
    drop(out);
    Result {
        pushed_per_s: i as f64 / pushed_for,
        worst_push: worst,
        delivered_per_s: n as f64 / done,
        dropped,
    }
}

fn main() {
    let secs: f64 = std::env::var("FALCO_WASM_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let rate: f64 = std::env::var("FALCO_WASM_BENCH_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000.0);
    let dir = std::env::temp_dir().join(format!("fw-bench-outputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("outputs benchmark: target {rate:.0} alerts/s for {secs} s per channel, JSON alerts");
    let r = run(None, rate, secs, || 0);
    println!(
        "  baseline (no channel): pushed {:>9.0}/s  worst push {:>6.1} µs",
        r.pushed_per_s,
        r.worst_push.as_secs_f64() * 1e6
    );
    let file = dir.join("events.json");
    let f = file.clone();
    let r = run(
        Some(Box::new(sinks::File::new(file.clone(), true, true))),
        rate,
        secs,
        move || std::fs::read(&f).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u64),
    );
    println!(
        "  file (keep_alive, buffered): pushed {:>9.0}/s  worst push {:>6.1} µs  delivered {:>9.0}/s  dropped {}",
        r.pushed_per_s,
        r.worst_push.as_secs_f64() * 1e6,
        r.delivered_per_s,
        r.dropped
    );
    let count = Arc::new(AtomicU64::new(0));
    let port = receiver(Arc::clone(&count));
    let http = sinks::Http::new(HttpOptions {
        url: format!("http://127.0.0.1:{port}/"),
        user_agent: "bench".into(),
        keep_alive: true,
        json: true,
        timeout: Duration::from_secs(2),
        attempts: 1,
        connections: 4,
        ..HttpOptions::default()
    })
    .unwrap();
    let c = Arc::clone(&count);
    let r = run(Some(Box::new(http)), rate, secs, move || {
        c.load(Ordering::Relaxed)
    });
    println!(
        "  http (keep-alive, one POST per alert): pushed {:>9.0}/s  worst push {:>6.1} µs  delivered {:>9.0}/s  dropped {}",
        r.pushed_per_s,
        r.worst_push.as_secs_f64() * 1e6,
        r.delivered_per_s,
        r.dropped
    );
    let _ = std::fs::remove_dir_all(&dir);
}
